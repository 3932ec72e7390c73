#ifndef CSMTP_SMTP_SEND_H
#define CSMTP_SMTP_SEND_H

#include <stddef.h>

/// The size `error_buffer` must have (libcurl's CURL_ERROR_SIZE).
#define CREFUND_SMTP_ERROR_SIZE 256

/// Sends one message (`message`: headers, blank line, body; CRLF line ends) to one recipient. Returns the CURLcode
/// (0: sent); `*smtp_code` receives the server's last reply code (e.g. 250, 421, 550) when there was one.
/// TLS: `smtps://` is TLS from the first byte; `require_starttls` makes an `smtp://` session upgrade with STARTTLS or
/// fail. Either way the server's certificate and name are verified (libcurl's default), against `ca_file` when given.
/// `session` (from `crefund_smtp_session_new`, one per thread) keeps the SMTP connection open between sends, so a
/// sender pays the greeting, EHLO and TLS handshake once, not per message; NULL: a connection for this send only.
int crefund_smtp_send(void *session, const char *url, const char *from, const char *to, const char *message, size_t length,
                      long timeout_seconds, long *smtp_code, char *error_buffer, const char *ca_file,
                      int require_starttls);

/// A reusable sending session (a libcurl easy handle and its connection cache); NULL if libcurl cannot make one.
void *crefund_smtp_session_new(void);
/// Closes the session's connection (QUIT) and frees it; NULL is ignored.
void crefund_smtp_session_free(void *session);

#endif
