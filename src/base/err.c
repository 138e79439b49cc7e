#include "base/sp.h"

#include <errno.h>

const char *sp_strerror(int err)
{
	switch (err) {
	case SP_OK:
		return "success";
#define _(sym, num, str) \
	case SP_##sym:   \
		return str;
		foreach_sp_error(_)
#undef _
	}
	return "unknown error";
}

int sp_errno(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return SP_EPERM;
	case ENOMEM:
		return SP_ENOMEM;
	case EBUSY:
	case EEXIST:
	case EADDRINUSE:
		return SP_EBUSY;
	case ENODEV:
	case ENOENT:
	case ENXIO:
		return SP_ENOTFOUND;
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return SP_EUNSUPP;
	case EINVAL:
		return SP_EINVAL;
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
		return SP_EAGAIN;
	default:
		return SP_EIO;
	}
}
