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
