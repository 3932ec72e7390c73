#ifndef CHTTP_HTTP_SEND_H
#define CHTTP_HTTP_SEND_H

#include <stddef.h>

/// The size `error_buffer` must have (libcurl's CURL_ERROR_SIZE).
#define CREFUND_HTTP_ERROR_SIZE 256

/// What came back: the body and the raw header lines of the last response (malloc'd; free with
/// `crefund_http_answer_free`). Both are capped (`max_body`): a server cannot make us hold more than that.
typedef struct {
    char *body;
    size_t body_length;
    char *headers;
    size_t headers_length;
    long status;
    int truncated;
} crefund_http_answer;

/// A reusable HTTP client (a libcurl easy handle and its connection cache: keep-alive connections to the servers it
/// talked to). One thread at a time; NULL if libcurl cannot make one.
void *crefund_http_session_new(void);
void crefund_http_session_free(void *session);

/// One request: `method` ("GET", "POST", …), `headers` as "Name: value" lines, `body` of `body_length` bytes (NULL
/// for none). Returns the CURLcode (0: an answer came; its status is in `answer->status`). Redirects are not
/// followed; no signals are used (timeouts are safe on any thread).
int crefund_http_perform(void *session, const char *method, const char *url, const char *const *headers,
                         size_t header_count, const char *body, size_t body_length, long timeout_millis,
                         size_t max_body, crefund_http_answer *answer, char *error_buffer);

void crefund_http_answer_free(crefund_http_answer *answer);

#endif
