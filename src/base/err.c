#include "base/sp.h"

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
