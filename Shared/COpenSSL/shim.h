// libcrypto (Debian: libssl-dev, already pulled in by librabbitmq-dev): only HMAC-SHA256 is used, for the payment
// channels' signed callbacks. The one-shot HMAC() is not deprecated in OpenSSL 3.
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
