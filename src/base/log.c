#include "base/log.h"

#include <stdio.h>
#include <string.h>

static const char *const level_names[] = { "err", "warn", "info", "debug" };

const char *sp_log_level_name(int level)
{
	if (level < 0 || (size_t)level >= SP_NELEM(level_names))
		return "?";
	return level_names[level];
}

int sp_log_level_parse(const char *s, int *level)
{
	for (size_t i = 0; i < SP_NELEM(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*level = (int)i;
			return 0;
		}
	}
	return SP_EINVAL;
}

void sp_vlogf(const struct sp_log *lg, int level, const char *module, const char *fmt, va_list ap)
{
	char msg[512];

	if (!sp_log_enabled(lg, level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	lg->sink(lg->arg, level, module, msg);
}

void sp_logf(const struct sp_log *lg, int level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_vlogf(lg, level, module, fmt, ap);
	va_end(ap);
}

void sp_log_sink_file(void *arg, int level, const char *module, const char *msg)
{
	FILE *f = arg != NULL ? arg : stderr;

	fprintf(f, "%-5s %s: %s\n", sp_log_level_name(level), module, msg);
	fflush(f);
}

void sp_ratelimit_init(struct sp_ratelimit *rl, sp_time interval, uint32_t burst)
{
	memset(rl, 0, sizeof(*rl));
	rl->interval = interval;
	rl->burst = burst;
}

bool sp_ratelimit_ok(struct sp_ratelimit *rl, sp_time now)
{
	sp_time iv = rl->interval != 0 ? rl->interval : SP_RL_INTERVAL;
	uint32_t burst = rl->burst != 0 ? rl->burst : SP_RL_BURST;

	if (!rl->primed) {
		rl->primed = true;
		rl->tokens = burst;
		rl->last = now;
	} else if (now > rl->last) {
		uint64_t add = (now - rl->last) / iv;

		if (add >= burst - rl->tokens) {
			rl->tokens = burst;
			rl->last = now;
		} else {
			rl->tokens += (uint32_t)add;
			rl->last += add * iv;
		}
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		rl->suppressed_total++;
		return false;
	}
	rl->tokens--;
	return true;
}

void sp_logf_rl(const struct sp_log *lg, struct sp_ratelimit *rl, sp_time now, int level,
		const char *module, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int len;

	if (!sp_log_enabled(lg, level) || !sp_ratelimit_ok(rl, now))
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rl->suppressed != 0 && len >= 0 && (size_t)len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - (size_t)len, " (%llu similar lines suppressed)",
			 (unsigned long long)rl->suppressed);
	rl->suppressed = 0;
	lg->sink(lg->arg, level, module, msg);
}
