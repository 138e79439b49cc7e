#include "sim/fault.h"
#include "sim/link.h"
#include "sim/node.h"
#include "base/conf.h"

#include <string.h>

static const char *const kind_names[] = { "crash", "cut", "unplug" };

static int fail(char *err, size_t errlen, const char *item, const char *why)
{
	snprintf(err, errlen,
		 "fault '%s': %s (expected KIND:TARGET@TIME[+DURATION], KIND one "
		 "of crash, cut, unplug)",
		 item, why);
	return SP_EINVAL;
}

static int parse_one(const char *item, struct sim_fault *f, char *err, size_t errlen)
{
	char buf[160], *colon, *at, *plus;
	unsigned k;

	if (strlen(item) >= sizeof(buf))
		return fail(err, errlen, item, "too long");
	strcpy(buf, item);
	memset(f, 0, sizeof(*f));
	if ((colon = strchr(buf, ':')) == NULL)
		return fail(err, errlen, item, "no ':'");
	*colon = '\0';
	for (k = 0; k < SP_NELEM(kind_names); k++)
		if (strcmp(buf, kind_names[k]) == 0)
			break;
	if (k == SP_NELEM(kind_names))
		return fail(err, errlen, item, "unknown kind");
	f->kind = (enum sim_fault_kind)k;
	if ((at = strchr(colon + 1, '@')) == NULL)
		return fail(err, errlen, item, "no '@TIME'");
	*at = '\0';
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(f->target))
		return fail(err, errlen, item, "bad target name");
	strcpy(f->target, colon + 1);
	if ((plus = strchr(at + 1, '+')) != NULL)
		*plus = '\0';
	if (conf_parse_time(at + 1, &f->at) != 0)
		return fail(err, errlen, item, "bad time (e.g. 4s, 250ms)");
	if (plus != NULL && (conf_parse_time(plus + 1, &f->dur) != 0 || f->dur == 0))
		return fail(err, errlen, item, "bad duration (e.g. 1s, 500ms)");
	if (f->kind == SIM_FAULT_CUT && strchr(f->target, '/') != NULL)
		return fail(err, errlen, item, "cut takes a link name");
	return 0;
}

int sim_fault_parse(const char *spec, struct sim_faults *out, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *item;
	int r;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || spec[0] == '\0' || strcmp(spec, "none") == 0)
		return 0;
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "fault list too long");
		return SP_EINVAL;
	}
	strcpy(buf, spec);
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		if (out->n == SIM_FAULT_MAX) {
			snprintf(err, errlen, "more than %d faults", SIM_FAULT_MAX);
			return SP_EINVAL;
		}
		if ((r = parse_one(item, &out->f[out->n], err, errlen)) != 0)
			return r;
		out->n++;
	}
	return 0;
}

/* Queued fault actions: arg is the node or link, u says what to do. */
enum { ACT_CRASH, ACT_RESTART, ACT_CUT, ACT_REPAIR };

static void act_node(struct sim *sim, void *arg, uint64_t u)
{
	(void)sim;
	if (u == ACT_CRASH)
		sim_node_crash(arg);
	else
		sim_node_restart(arg);
}

static void act_link(struct sim *sim, void *arg, uint64_t u)
{
	(void)sim;
	sim_link_set_up(arg, u == ACT_REPAIR);
}

/* Unplug: u = up << 32 | port. */
static void act_port(struct sim *sim, void *arg, uint64_t u)
{
	(void)sim;
	sim_link_port_set_up(arg, (unsigned)(u & 0xffffffffu), (u >> 32) != 0);
}

static int schedule_unplug(struct sim *sim, const struct sim_fault *f, char *err, size_t errlen)
{
	char name[sizeof(f->target)], *slash;
	struct sim_node *n;
	unsigned done = 0;
	int r;

	strcpy(name, f->target);
	if ((slash = strchr(name, '/')) != NULL)
		*slash++ = '\0';
	if ((n = sim_node_find(sim, name)) == NULL) {
		snprintf(err, errlen, "fault unplug: no node '%s'", name);
		return SP_ENOTFOUND;
	}
	for (unsigned i = 0; i < n->nifs; i++) {
		const struct sim_iface *ifc = &n->ifs[i];

		if (ifc->link == NULL || (slash != NULL && strcmp(ifc->name, slash) != 0))
			continue;
		if ((r = sim_at(sim, f->at, act_port, ifc->link, ifc->port)) != 0)
			return r;
		if (f->dur != 0 && (r = sim_at(sim, f->at + f->dur, act_port, ifc->link,
					       1ull << 32 | ifc->port)) != 0)
			return r;
		done++;
	}
	if (done == 0) {
		snprintf(err, errlen, "fault unplug: node '%s' has no attached interface '%s'",
			 name, slash ? slash : "");
		return SP_ENOTFOUND;
	}
	return 0;
}

int sim_fault_schedule(struct sim *sim, const struct sim_faults *fs, char *err, size_t errlen)
{
	int r;

	for (unsigned i = 0; i < fs->n; i++) {
		const struct sim_fault *f = &fs->f[i];
		struct sim_node *n;
		struct sim_link *l;

		switch (f->kind) {
		case SIM_FAULT_CRASH:
			if ((n = sim_node_find(sim, f->target)) == NULL) {
				snprintf(err, errlen, "fault crash: no node '%s'", f->target);
				return SP_ENOTFOUND;
			}
			if ((r = sim_at(sim, f->at, act_node, n, ACT_CRASH)) != 0 ||
			    (f->dur != 0 &&
			     (r = sim_at(sim, f->at + f->dur, act_node, n, ACT_RESTART)) != 0))
				return r;
			break;
		case SIM_FAULT_CUT:
			if ((l = sim_link_find(sim, f->target)) == NULL) {
				snprintf(err, errlen, "fault cut: no link '%s'", f->target);
				return SP_ENOTFOUND;
			}
			if ((r = sim_at(sim, f->at, act_link, l, ACT_CUT)) != 0 ||
			    (f->dur != 0 &&
			     (r = sim_at(sim, f->at + f->dur, act_link, l, ACT_REPAIR)) != 0))
				return r;
			break;
		case SIM_FAULT_UNPLUG:
			if ((r = schedule_unplug(sim, f, err, errlen)) != 0)
				return r;
			break;
		}
	}
	return 0;
}

sp_time sim_fault_repair(const struct sim_faults *fs)
{
	sp_time t = SP_TIME_NEVER;

	for (unsigned i = 0; i < fs->n; i++) {
		sp_time r = fs->f[i].at + fs->f[i].dur;

		if (t == SP_TIME_NEVER || r > t)
			t = r;
	}
	return t;
}

static void fmt_time(sp_time t, char *buf, size_t len)
{
	if (t % SP_SEC(1) == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(t / SP_SEC(1)));
	else if (t % SP_MSEC(1) == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(t / SP_MSEC(1)));
	else
		snprintf(buf, len, "%lluus", (unsigned long long)(t / SP_USEC(1)));
}

void sim_fault_fmt(const struct sim_faults *fs, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (fs->n == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (unsigned i = 0; i < fs->n && off < len; i++) {
		char at[32], dur[32] = "";

		fmt_time(fs->f[i].at, at, sizeof(at));
		if (fs->f[i].dur != 0) {
			dur[0] = '+';
			fmt_time(fs->f[i].dur, dur + 1, sizeof(dur) - 1);
		}
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%s@%s%s", i ? "," : "",
					kind_names[fs->f[i].kind], fs->f[i].target, at, dur);
	}
}
