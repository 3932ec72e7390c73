// HTTP requests through libcurl for the stages' blocking calls (payout's channel API, notification's SMS gateway)
// and the tools: curl_easy_setopt is variadic, which Swift cannot call, so the request is this one C function.
// Mechanics only: what to send and what an answer means is decided in Swift (StageRuntime's BlockingHTTP).
#include "http_send.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CREFUND_HTTP_ERROR_SIZE >= CURL_ERROR_SIZE, "the error buffer must hold what libcurl writes");

static pthread_once_t crefund_http_once = PTHREAD_ONCE_INIT;
static void crefund_http_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

struct crefund_sink {
    char **data;
    size_t *length;
    size_t capacity;
    size_t max;
    int *truncated;
};

static size_t crefund_sink_append(struct crefund_sink *sink, const char *bytes, size_t n) {
    size_t room = *sink->length + n > sink->max ? sink->max - *sink->length : n;
    if (room < n) *sink->truncated = 1;
    if (room == 0) return n;
    if (*sink->length + room + 1 > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 1024;
        while (capacity < *sink->length + room + 1) capacity *= 2;
        char *grown = realloc(*sink->data, capacity);
        if (!grown) return 0;  // tells libcurl to stop: the request fails with CURLE_WRITE_ERROR
        *sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(*sink->data + *sink->length, bytes, room);
    *sink->length += room;
    (*sink->data)[*sink->length] = 0;
    return n;
}

static size_t crefund_body_write(char *bytes, size_t size, size_t count, void *userdata) {
    return crefund_sink_append((struct crefund_sink *)userdata, bytes, size * count);
}

// Header lines of every response on the way (a 100 Continue, then the real one): a status line starts afresh, so
// only the last response's headers are kept.
static size_t crefund_header_write(char *bytes, size_t size, size_t count, void *userdata) {
    struct crefund_sink *sink = (struct crefund_sink *)userdata;
    size_t n = size * count;
    if (n >= 5 && memcmp(bytes, "HTTP/", 5) == 0) *sink->length = 0;
    return crefund_sink_append(sink, bytes, n);
}

void *crefund_http_session_new(void) {
    pthread_once(&crefund_http_once, crefund_http_global_init);
    return curl_easy_init();
}

void crefund_http_session_free(void *session) {
    if (session) curl_easy_cleanup((CURL *)session);
}

int crefund_http_perform(void *session, const char *method, const char *url, const char *const *headers,
                         size_t header_count, const char *body, size_t body_length, long timeout_millis,
                         size_t max_body, crefund_http_answer *answer, char *error_buffer) {
    CURL *curl = (CURL *)session;
    if (!curl) return CURLE_FAILED_INIT;
    // curl_easy_reset clears the last request's options but keeps the handle's open connections for reuse.
    curl_easy_reset(curl);
    memset(answer, 0, sizeof *answer);
    error_buffer[0] = 0;
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
    // No "Expect: 100-continue" round trip before a larger body.
    list = curl_slist_append(list, "Expect:");
    struct crefund_sink body_sink = { &answer->body, &answer->body_length, 0, max_body, &answer->truncated };
    struct crefund_sink header_sink = { &answer->headers, &answer->headers_length, 0, 64 * 1024, &answer->truncated };
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
        if (strcmp(method, "POST") != 0) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, crefund_body_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body_sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, crefund_header_write);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &header_sink);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_millis);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_millis);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer->status);
    curl_slist_free_all(list);
    return (int)rc;
}

void crefund_http_answer_free(crefund_http_answer *answer) {
    free(answer->body);
    free(answer->headers);
    answer->body = NULL;
    answer->headers = NULL;
}
