// libcrypto (Debian: libssl-dev, already pulled in by librabbitmq-dev): HMAC-SHA256 for the payment channels'
// signed callbacks and HS256 tokens, SHA-256 digests of API tokens, random bytes for issuing them. The one-shot
// HMAC() and SHA256() are not deprecated in OpenSSL 3.
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
