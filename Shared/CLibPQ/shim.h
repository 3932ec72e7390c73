#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
// pkg-config libpq puts /usr/include/postgresql on the include path.
#include <libpq-fe.h>
#include <poll.h>
#endif
