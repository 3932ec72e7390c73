// libcurl (Debian: libcurl4-openssl-dev): notification's e-mail goes through a maintained SMTP client rather than a
// hand-written protocol. The send itself is C code of its own target (Shared/CSMTP); this module only links libcurl.
#include <curl/curl.h>
