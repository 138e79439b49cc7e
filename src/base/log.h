/*
 * Logging through a context: a module keeps a struct sp_log pointer and never writes to
 * stderr itself. The owner (simulator node, daemon) chooses the sink, e.g. prefixing
 * virtual time and node name. A NULL log discards. Nothing is logged per packet at the
 * default level (docs/HACKING.md, "The packet path").
 */
#ifndef SP_BASE_LOG_H
#define SP_BASE_LOG_H

#include "base/sp.h"
#include "base/time.h"

#include <stdarg.h>

enum sp_log_level {
	SP_LOG_ERR = 0,
	SP_LOG_WARN = 1,
	SP_LOG_INFO = 2,
	SP_LOG_DEBUG = 3,
};

struct sp_log {
	/* Receives one formatted line without newline. */
	void (*sink)(void *arg, int level, const char *module, const char *msg);
	void *arg;
	int level; /* lines above this level are discarded before formatting */
};

void sp_logf(const struct sp_log *lg, int level, const char *module, const char *fmt, ...)
	SP_PRINTF(4, 5);
void sp_vlogf(const struct sp_log *lg, int level, const char *module, const char *fmt, va_list ap)
	SP_PRINTF(4, 0);

static inline bool sp_log_enabled(const struct sp_log *lg, int level)
{
	return lg != NULL && lg->sink != NULL && level <= lg->level;
}

/* A sink writing "LEVEL module: msg" lines to the FILE * in arg. */
void sp_log_sink_file(void *arg, int level, const char *module, const char *msg);
const char *sp_log_level_name(int level);
/* Parse "err", "warn", "info", "debug"; SP_EINVAL otherwise. */
int sp_log_level_parse(const char *s, int *level) SP_MUST_CHECK;

/*
 * A token bucket for lines that a sender on the network can cause (a bad IKE_SA_INIT, a
 * host at its NAT limit): up to burst lines at once, then one per interval. A zeroed
 * bucket uses SP_RL_BURST and SP_RL_INTERVAL, so a struct member needs no set-up.
 */
#define SP_RL_BURST    10
#define SP_RL_INTERVAL SP_SEC(1)

struct sp_ratelimit {
	sp_time interval;    /* one token per interval; 0: SP_RL_INTERVAL */
	uint32_t burst;	     /* bucket size; 0: SP_RL_BURST */
	uint32_t tokens;     /* left now */
	sp_time last;	     /* when tokens were last added */
	bool primed;	     /* tokens set once (a zeroed bucket starts full) */
	uint64_t suppressed; /* lines refused since the last one let through */
	uint64_t suppressed_total;
};

void sp_ratelimit_init(struct sp_ratelimit *rl, sp_time interval, uint32_t burst);
/* Whether a line may go at now; a refused line is counted in suppressed. */
bool sp_ratelimit_ok(struct sp_ratelimit *rl, sp_time now);
/*
 * Log through a bucket: the line goes only with a token; the first line after refusals
 * ends with how many were suppressed, so the log still says that something happened.
 * Lines above the log's level take no token.
 */
void sp_logf_rl(const struct sp_log *lg, struct sp_ratelimit *rl, sp_time now, int level,
		const char *module, const char *fmt, ...) SP_PRINTF(6, 7);

#define SP_ERR(lg, mod, ...)  sp_logf((lg), SP_LOG_ERR, (mod), __VA_ARGS__)
#define SP_WARN(lg, mod, ...) sp_logf((lg), SP_LOG_WARN, (mod), __VA_ARGS__)
#define SP_INFO(lg, mod, ...) sp_logf((lg), SP_LOG_INFO, (mod), __VA_ARGS__)
#define SP_DEBUG(lg, mod, ...)                                           \
	do {                                                             \
		if (sp_log_enabled((lg), SP_LOG_DEBUG))                  \
			sp_logf((lg), SP_LOG_DEBUG, (mod), __VA_ARGS__); \
	} while (0)

#endif
