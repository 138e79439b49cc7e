/*
 * Named scenario parameters: each scenario and technique declares its keys with a default
 * and a line of help; `spinat-sim --set key=value` overrides them. Getters parse on use and
 * leave a message naming the key and the value in ps->err, so a bad value is an error that
 * says which.
 */
#ifndef SP_SIM_PARAM_H
#define SP_SIM_PARAM_H

#include "base/sp.h"
#include "base/time.h"

#include <stdio.h>

#define SIM_PARAMS_MAX	 128
#define SIM_PARAM_KEYLEN 48
#define SIM_PARAM_VALLEN 256

/* A declaration; arrays of them end with { NULL }. */
struct sim_param {
	const char *key;
	const char *def;
	const char *help;
};

struct sim_params {
	struct {
		char key[SIM_PARAM_KEYLEN];
		const char *help;
		char val[SIM_PARAM_VALLEN];
		bool set; /* overridden on the command line */
	} v[SIM_PARAMS_MAX];
	unsigned n;
	char err[320];
};

void sim_params_init(struct sim_params *ps);
/* Declare defs with their defaults, keys prefixed "prefix." when prefix is non-NULL. */
int sim_params_add(struct sim_params *ps, const struct sim_param *defs,
		   const char *prefix) SP_MUST_CHECK;
/* "key=value": SP_ENOTFOUND for an undeclared key, SP_EINVAL without '=' (err says). */
int sim_params_set(struct sim_params *ps, const char *kv) SP_MUST_CHECK;

/* The value (default or set), NULL for an undeclared key. */
const char *sim_params_get(const struct sim_params *ps, const char *key);
int sim_params_str(struct sim_params *ps, const char *key, const char **out) SP_MUST_CHECK;
int sim_params_u32(struct sim_params *ps, const char *key, uint32_t min, uint32_t max,
		   uint32_t *out) SP_MUST_CHECK;
int sim_params_u64(struct sim_params *ps, const char *key, uint64_t min, uint64_t max,
		   uint64_t *out) SP_MUST_CHECK;
/* Durations as in the config: 500ms, 30s, 5m; a bare number is seconds. */
int sim_params_time(struct sim_params *ps, const char *key, sp_time *out) SP_MUST_CHECK;
int sim_params_double(struct sim_params *ps, const char *key, double min, double max,
		      double *out) SP_MUST_CHECK;
int sim_params_bool(struct sim_params *ps, const char *key, bool *out) SP_MUST_CHECK;
int sim_params_ip4(struct sim_params *ps, const char *key, uint32_t *out) SP_MUST_CHECK;

/* "key=value" for every key starting with prefix (NULL: all), wrapped to width. */
void sim_params_print(const struct sim_params *ps, FILE *f, const char *prefix, unsigned width);
/* One "  key  default  help" line per declaration (for --list). */
void sim_params_print_help(const struct sim_param *defs, const char *prefix, FILE *f);

#endif
