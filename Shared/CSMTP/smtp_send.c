// The SMTP send of notification's e-mail, through libcurl: curl_easy_setopt is variadic, which Swift cannot call,
// so the whole send is this one C function (declared in include/smtp_send.h). Mechanics only: what to send, to whom
// and when to retry is decided in Swift (Services/notification).
#include "smtp_send.h"

#include <curl/curl.h>
#include <string.h>

_Static_assert(CREFUND_SMTP_ERROR_SIZE >= CURL_ERROR_SIZE, "the error buffer must hold what libcurl writes");

struct crefund_mail_source {
    const char *data;
    size_t length;
    size_t offset;
};

static size_t crefund_mail_read(char *buffer, size_t size, size_t count, void *userdata) {
    struct crefund_mail_source *src = (struct crefund_mail_source *)userdata;
    size_t room = size * count;
    size_t left = src->length - src->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, src->data + src->offset, n);
    src->offset += n;
    return n;
}

void *crefund_smtp_session_new(void) { return curl_easy_init(); }

void crefund_smtp_session_free(void *session) {
    if (session) curl_easy_cleanup((CURL *)session);
}

int crefund_smtp_send(void *session, const char *url, const char *from, const char *to, const char *message,
                                    size_t length, long timeout_seconds, long *smtp_code, char *error_buffer,
                                    const char *ca_file, int require_starttls) {
    // curl_easy_reset clears the options of the last send but keeps the handle's open connection, which libcurl
    // reuses for the same server (a new MAIL FROM on the same session).
    CURL *curl = session ? (CURL *)session : curl_easy_init();
    if (!curl) return CURLE_FAILED_INIT;
    if (session) curl_easy_reset(curl);
    struct crefund_mail_source src = { message, length, 0 };
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    error_buffer[0] = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, crefund_mail_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &src);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    if (ca_file && ca_file[0]) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    if (require_starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    CURLcode rc = curl_easy_perform(curl);
    *smtp_code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, smtp_code);
    curl_slist_free_all(rcpt);
    if (!session) curl_easy_cleanup(curl);
    return (int)rc;
}
