/*
 * Common definitions for all of spinat: error codes, attributes and small helpers.
 * Every function that can fail returns 0 or a negative SP_E* code (docs/HACKING.md, "Errors and ownership").
 */
#ifndef SP_BASE_SP_H
#define SP_BASE_SP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A result the caller must look at: short input is an error, never a silent zero. */
#define SP_MUST_CHECK	__attribute__((warn_unused_result))
#define SP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SP_UNUSED	__attribute__((unused))
#define SP_LIKELY(x)	__builtin_expect(!!(x), 1)
#define SP_UNLIKELY(x)	__builtin_expect(!!(x), 0)

#define SP_NELEM(a)  (sizeof(a) / sizeof((a)[0]))
#define SP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SP_MAX(a, b) ((a) > (b) ? (a) : (b))

/* X-macro list of error codes: the enum and sp_strerror() cannot drift apart. */
#define foreach_sp_error(_)                             \
	_(ENOMEM, 1, "out of memory")                   \
	_(ESHORT, 2, "truncated input")                 \
	_(EINVAL, 3, "invalid argument")                \
	_(ENOSPACE, 4, "no room in buffer")             \
	_(EMALFORMED, 5, "malformed message")           \
	_(ENOTFOUND, 6, "not found")                    \
	_(EEXIST, 7, "already exists")                  \
	_(EAUTH, 8, "authentication failed")            \
	_(EREPLAY, 9, "replayed packet")                \
	_(ECRYPTO, 10, "cryptographic library failure") \
	_(EIO, 11, "input/output error")                \
	_(ESTATE, 12, "not allowed in this state")      \
	_(EUNSUPP, 13, "not supported")                 \
	_(EAGAIN, 14, "try again")                      \
	_(ETIMEOUT, 15, "timed out")                    \
	_(ECONFIG, 16, "configuration error")           \
	_(EPOLICY, 17, "refused by policy")             \
	_(EFULL, 18, "table full")                      \
	_(EEXPIRED, 19, "lifetime expired")             \
	_(EPERM, 20, "permission denied")               \
	_(EBUSY, 21, "in use by another process")

enum sp_error {
	SP_OK = 0,
#define _(sym, num, str) SP_##sym = -(num),
	foreach_sp_error(_)
#undef _
};

/* Text for a code from enum sp_error; never NULL. */
const char *sp_strerror(int err);
/* The code for a system call's errno: permission (EPERM, EACCES), memory, in use (EBUSY,
 * EEXIST, EADDRINUSE), not found (ENODEV, ENOENT, ENXIO), not supported (EOPNOTSUPP,
 * EAFNOSUPPORT, EPROTONOSUPPORT), EINVAL, EAGAIN (EWOULDBLOCK, EINTR); SP_EIO otherwise. */
int sp_errno(int e);

#endif
