#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H
// rabbitmq-c 0.11 (Debian 12) ships flat headers; 0.12+ moved them under <rabbitmq-c/...> and warns on the old names.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#include <rabbitmq-c/framing.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <amqp_framing.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/time.h>

// The method-number macros carry casts, which Swift does not import: re-export them as plain constants.
enum {
    CRMQ_BASIC_ACK = (int)AMQP_BASIC_ACK_METHOD,
    CRMQ_BASIC_NACK = (int)AMQP_BASIC_NACK_METHOD,
    CRMQ_BASIC_RETURN = (int)AMQP_BASIC_RETURN_METHOD,
    CRMQ_BASIC_CANCEL = (int)AMQP_BASIC_CANCEL_METHOD,
    CRMQ_CHANNEL_CLOSE = (int)AMQP_CHANNEL_CLOSE_METHOD,
    CRMQ_CONNECTION_CLOSE = (int)AMQP_CONNECTION_CLOSE_METHOD,
};

// Swift cannot call C-variadic functions: amqp_login is one.
static inline amqp_rpc_reply_t crmq_login(amqp_connection_state_t conn, const char *vhost, int channel_max,
                                          int frame_max, int heartbeat, const char *user, const char *password) {
    return amqp_login(conn, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

static inline amqp_bytes_t crmq_bytes(const void *data, size_t len) {
    amqp_bytes_t b;
    b.len = len;
    b.bytes = (void *)data;
    return b;
}

static inline amqp_table_entry_t crmq_str_entry(const char *key, const char *value) {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(value);
    return e;
}

static inline amqp_table_entry_t crmq_int_entry(const char *key, int64_t value) {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = value;
    return e;
}

/// Declares a durable queue with the given arguments (string-valued, then integer-valued; which ones is the Swift
/// side's business). Returns 0 on success.
static inline int crmq_declare_queue(amqp_connection_state_t conn, amqp_channel_t ch, const char *name,
                                     const char **string_keys, const char **string_values, int nstrings,
                                     const char **int_keys, const int64_t *int_values, int nints) {
    int n = nstrings + nints;
    amqp_table_entry_t *entries = n > 0 ? calloc((size_t)n, sizeof *entries) : NULL;
    if (n > 0 && !entries) return -1;
    for (int i = 0; i < nstrings; i++) entries[i] = crmq_str_entry(string_keys[i], string_values[i]);
    for (int i = 0; i < nints; i++) entries[nstrings + i] = crmq_int_entry(int_keys[i], int_values[i]);
    amqp_table_t args;
    args.num_entries = n;
    args.entries = entries;
    amqp_queue_declare(conn, ch, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
    free(entries);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    return r.reply_type == AMQP_RESPONSE_NORMAL ? 0 : -1;
}

/// Publishes one persistent message with the envelope's properties and string headers (`nheaders` key/value pairs,
/// all of them). Returns an amqp_status_enum.
static inline int crmq_publish(amqp_connection_state_t conn, amqp_channel_t ch, const char *exchange,
                               const char *routing_key, int mandatory, const char *message_id, const char *type,
                               const char *correlation_id, const char *user_id, int64_t timestamp, const char **header_keys,
                               const char **header_values, int nheaders, const void *body, size_t body_len) {
    amqp_table_entry_t *entries = nheaders > 0 ? calloc((size_t)nheaders, sizeof *entries) : NULL;
    if (nheaders > 0 && !entries) return AMQP_STATUS_NO_MEMORY;
    for (int i = 0; i < nheaders; i++) entries[i] = crmq_str_entry(header_keys[i], header_values[i]);
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    p.delivery_mode = 2;
    p.content_type = amqp_cstring_bytes("application/json");
    p.timestamp = (uint64_t)timestamp;
    if (message_id && message_id[0]) { p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG; p.message_id = amqp_cstring_bytes(message_id); }
    if (type && type[0]) { p._flags |= AMQP_BASIC_TYPE_FLAG; p.type = amqp_cstring_bytes(type); }
    if (correlation_id && correlation_id[0]) {
        p._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        p.correlation_id = amqp_cstring_bytes(correlation_id);
    }
    if (user_id && user_id[0]) { p._flags |= AMQP_BASIC_USER_ID_FLAG; p.user_id = amqp_cstring_bytes(user_id); }
    if (nheaders > 0) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers.num_entries = nheaders;
        p.headers.entries = entries;
    }
    // The frame is written before this returns, so the table may go.
    int rc = amqp_basic_publish(conn, ch, amqp_cstring_bytes(exchange), amqp_cstring_bytes(routing_key), mandatory, 0,
                                &p, crmq_bytes(body, body_len));
    free(entries);
    return rc;
}

// Wrappers taking C strings: an amqp_bytes_t built from a Swift String in Swift would point at a temporary buffer
// that is gone before rabbitmq-c reads it.
static inline void crmq_exchange_declare(amqp_connection_state_t conn, amqp_channel_t ch, const char *name,
                                         const char *type) {
    amqp_exchange_declare(conn, ch, amqp_cstring_bytes(name), amqp_cstring_bytes(type), 0, 1, 0, 0, amqp_empty_table);
}

static inline void crmq_queue_bind(amqp_connection_state_t conn, amqp_channel_t ch, const char *queue,
                                   const char *exchange, const char *key) {
    amqp_queue_bind(conn, ch, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
                    amqp_empty_table);
}

static inline void crmq_basic_consume(amqp_connection_state_t conn, amqp_channel_t ch, const char *queue,
                                      const char *tag) {
    amqp_basic_consume(conn, ch, amqp_cstring_bytes(queue), amqp_cstring_bytes(tag), 0, 0, 0, amqp_empty_table);
}

static inline void crmq_basic_cancel(amqp_connection_state_t conn, amqp_channel_t ch, const char *tag) {
    amqp_basic_cancel(conn, ch, amqp_cstring_bytes(tag));
}

/// Returns the number of messages purged, or -1 (read the RPC reply).
static inline long crmq_queue_purge(amqp_connection_state_t conn, amqp_channel_t ch, const char *queue) {
    amqp_queue_purge_ok_t *ok = amqp_queue_purge(conn, ch, amqp_cstring_bytes(queue));
    return ok ? (long)ok->message_count : -1;
}

static inline void crmq_queue_delete(amqp_connection_state_t conn, amqp_channel_t ch, const char *queue) {
    amqp_queue_delete(conn, ch, amqp_cstring_bytes(queue), 0, 0);
}

static inline struct timeval crmq_timeval(long millis) {
    struct timeval tv;
    tv.tv_sec = millis / 1000;
    tv.tv_usec = (millis % 1000) * 1000;
    return tv;
}
#endif
