#include "sim/param.h"
#include "base/addr.h"
#include "base/conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sim_params_init(struct sim_params *ps)
{
	memset(ps, 0, sizeof(*ps));
}

static int find(const struct sim_params *ps, const char *key)
{
	for (unsigned i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].key, key) == 0)
			return (int)i;
	return -1;
}

int sim_params_add(struct sim_params *ps, const struct sim_param *defs, const char *prefix)
{
	for (; defs != NULL && defs->key != NULL; defs++) {
		char key[SIM_PARAM_KEYLEN];
		int n = prefix ? snprintf(key, sizeof(key), "%s.%s", prefix, defs->key)
			       : snprintf(key, sizeof(key), "%s", defs->key);

		if (n < 0 || (size_t)n >= sizeof(key) || strlen(defs->def) >= SIM_PARAM_VALLEN) {
			snprintf(ps->err, sizeof(ps->err), "parameter %s: name or default too long",
				 defs->key);
			return SP_EINVAL;
		}
		if (find(ps, key) >= 0)
			continue; /* declared twice (shared declarations): keep the first */
		if (ps->n == SIM_PARAMS_MAX) {
			snprintf(ps->err, sizeof(ps->err), "more than %d parameters",
				 SIM_PARAMS_MAX);
			return SP_EFULL;
		}
		strcpy(ps->v[ps->n].key, key);
		strcpy(ps->v[ps->n].val, defs->def);
		ps->v[ps->n].help = defs->help;
		ps->v[ps->n].set = false;
		ps->n++;
	}
	return 0;
}

int sim_params_set(struct sim_params *ps, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[SIM_PARAM_KEYLEN];
	size_t klen;
	int i;

	if (eq == NULL || eq == kv) {
		snprintf(ps->err, sizeof(ps->err), "'%s': expected KEY=VALUE", kv);
		return SP_EINVAL;
	}
	klen = (size_t)(eq - kv);
	if (klen >= sizeof(key)) {
		snprintf(ps->err, sizeof(ps->err), "'%.40s...': no such parameter", kv);
		return SP_ENOTFOUND;
	}
	memcpy(key, kv, klen);
	key[klen] = '\0';
	if ((i = find(ps, key)) < 0) {
		snprintf(ps->err, sizeof(ps->err),
			 "no parameter '%s' in this scenario (spinat-sim --list shows them)", key);
		return SP_ENOTFOUND;
	}
	if (strlen(eq + 1) >= SIM_PARAM_VALLEN) {
		snprintf(ps->err, sizeof(ps->err), "parameter %s: value too long", key);
		return SP_EINVAL;
	}
	strcpy(ps->v[i].val, eq + 1);
	ps->v[i].set = true;
	return 0;
}

const char *sim_params_get(const struct sim_params *ps, const char *key)
{
	int i = find(ps, key);

	return i < 0 ? NULL : ps->v[i].val;
}

static int lookup(struct sim_params *ps, const char *key, const char **val)
{
	if ((*val = sim_params_get(ps, key)) == NULL) {
		snprintf(ps->err, sizeof(ps->err), "parameter %s is not declared", key);
		return SP_ENOTFOUND;
	}
	return 0;
}

static int bad(struct sim_params *ps, const char *key, const char *val, const char *want)
{
	snprintf(ps->err, sizeof(ps->err), "parameter %s: '%s' is not %s", key, val, want);
	return SP_ECONFIG;
}

int sim_params_str(struct sim_params *ps, const char *key, const char **out)
{
	return lookup(ps, key, out);
}

int sim_params_u64(struct sim_params *ps, const char *key, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	const char *val;
	uint64_t v;
	int r;

	if ((r = lookup(ps, key, &val)) != 0)
		return r;
	if (conf_parse_u64(val, &v) != 0 || v < min || v > max) {
		char want[96];

		snprintf(want, sizeof(want), "a whole number in [%llu, %llu]",
			 (unsigned long long)min, (unsigned long long)max);
		return bad(ps, key, val, want);
	}
	*out = v;
	return 0;
}

int sim_params_u32(struct sim_params *ps, const char *key, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	uint64_t v;
	int r;

	if ((r = sim_params_u64(ps, key, min, max, &v)) != 0)
		return r;
	*out = (uint32_t)v;
	return 0;
}

int sim_params_time(struct sim_params *ps, const char *key, sp_time *out)
{
	const char *val;
	int r;

	if ((r = lookup(ps, key, &val)) != 0)
		return r;
	if (conf_parse_time(val, out) != 0)
		return bad(ps, key, val, "a duration such as 250ms, 10s, 5m");
	return 0;
}

int sim_params_double(struct sim_params *ps, const char *key, double min, double max, double *out)
{
	const char *val;
	char *end;
	double v;
	int r;

	if ((r = lookup(ps, key, &val)) != 0)
		return r;
	errno = 0;
	v = strtod(val, &end);
	if (errno != 0 || end == val || *end != '\0' || !(v >= min && v <= max)) {
		char want[96];

		snprintf(want, sizeof(want), "a number in [%g, %g]", min, max);
		return bad(ps, key, val, want);
	}
	*out = v;
	return 0;
}

int sim_params_bool(struct sim_params *ps, const char *key, bool *out)
{
	const char *val;
	int r;

	if ((r = lookup(ps, key, &val)) != 0)
		return r;
	if (conf_parse_bool(val, out) != 0)
		return bad(ps, key, val, "yes or no");
	return 0;
}

int sim_params_ip4(struct sim_params *ps, const char *key, uint32_t *out)
{
	const char *val;
	int r;

	if ((r = lookup(ps, key, &val)) != 0)
		return r;
	if (sp_ip4_parse(val, out) != 0)
		return bad(ps, key, val, "an IPv4 address");
	return 0;
}

void sim_params_print(const struct sim_params *ps, FILE *f, const char *prefix, unsigned width)
{
	unsigned col = 0;

	for (unsigned i = 0; i < ps->n; i++) {
		size_t len;

		if (prefix != NULL && strncmp(ps->v[i].key, prefix, strlen(prefix)) != 0)
			continue;
		len = strlen(ps->v[i].key) + strlen(ps->v[i].val) + 2;
		if (col > 0 && col + len > width) {
			fputc('\n', f);
			col = 0;
		}
		col += (unsigned)fprintf(f, "%s%s=%s", col ? " " : "  ", ps->v[i].key,
					 ps->v[i].val);
	}
	if (col > 0)
		fputc('\n', f);
}

void sim_params_print_help(const struct sim_param *defs, const char *prefix, FILE *f)
{
	for (; defs != NULL && defs->key != NULL; defs++) {
		char key[SIM_PARAM_KEYLEN + 8];

		if (prefix != NULL)
			snprintf(key, sizeof(key), "%s.%s", prefix, defs->key);
		else
			snprintf(key, sizeof(key), "%s", defs->key);
		fprintf(f, "    %-22s %-18s %s\n", key, defs->def, defs->help);
	}
}
