/*
 * Time in spinat: nanoseconds since an arbitrary origin, as a plain integer. Modules never
 * read a clock; they are handed `now` (virtual in the simulator, monotonic in the daemons).
 */
#ifndef SP_BASE_TIME_H
#define SP_BASE_TIME_H

#include <stdint.h>

typedef uint64_t sp_time;

#define SP_TIME_NEVER UINT64_MAX
#define SP_NSEC(x)    ((sp_time)(x))
#define SP_USEC(x)    ((sp_time)(x)*1000ull)
#define SP_MSEC(x)    ((sp_time)(x)*1000000ull)
#define SP_SEC(x)     ((sp_time)(x)*1000000000ull)

static inline sp_time sp_time_min(sp_time a, sp_time b)
{
	return a < b ? a : b;
}

/* Seconds as a double, for printing. */
static inline double sp_time_sec(sp_time t)
{
	return (double)t / 1e9;
}

#endif
