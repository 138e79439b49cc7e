/*
 * The epoch guard's settings (host_guard.h): the documented defaults, the [conn NAME] keys,
 * and 003's inequalities between the ping timing and the NAT's T_out, N_out and T_ei,
 * refused with the numbers named.
 */
#include "host/host_guard.h"

#include <inttypes.h>
#include <string.h>

static const char *const mode_names[] = { "no", "client", "server", NULL };

void host_guard_cfg_defaults(struct host_guard_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = HOST_GUARD_OFF;
	/* 003 leaves these open. maxidle stays below masq's T_ei (30m); pingtime meets
	 * T_out / N_out = 10s / 5; 2s * 11 / 10s = 2.2 > N = 2. */
	c->maxidle = SP_SEC(600);
	c->pingtime = SP_SEC(2);
	c->pingtries = 11;
	c->ping_jitter = 25;
	c->epoch_timeout = SP_SEC(10);
	c->elimit = 2;
	c->keylife = SP_SEC(8 * 3600);	 /* 003 */
	c->rekeymargin = SP_SEC(9 * 60); /* 003 */
	c->probe = HOST_GUARD_PROBE_ICMP;
	c->probe_port = 7; /* RFC 862 echo */
	c->ping_answer = true;
	c->masq_t_out = SP_SEC(10);
	c->masq_n_out = 5;
	c->masq_t_ei = SP_SEC(1800);
	c->ping_collisions = 2;
}

static void fmt_time(sp_time t, char *buf, size_t len)
{
	if (t % SP_SEC(1) == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(t / SP_SEC(1)));
	else if (t % SP_MSEC(1) == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(t / SP_MSEC(1)));
	else
		snprintf(buf, len, "%.6fs", sp_time_sec(t));
}

int host_guard_cfg_check(const struct host_guard_cfg *c, char *err, size_t len)
{
	char a[32], b[32], d[32];

	if (c->mode == HOST_GUARD_OFF)
		return 0;
	if (c->keylife <= c->rekeymargin) {
		fmt_time(c->keylife, a, sizeof(a));
		fmt_time(c->rekeymargin, b, sizeof(b));
		snprintf(err, len, "keylife %s must exceed rekeymargin %s", a, b);
		return SP_ECONFIG;
	}
	if (c->mode != HOST_GUARD_CLIENT)
		return 0;
	if (c->pingtime == 0 || c->maxidle == 0 || c->epoch_timeout == 0) {
		snprintf(err, len, "pingtime, maxidle and epoch_timeout must be positive");
		return SP_ECONFIG;
	}
	if (c->ping_dst == 0) {
		snprintf(err, len,
			 "ping_dst: the address to ping inside the peer's traffic "
			 "selector must be set");
		return SP_ECONFIG;
	}
	if (c->masq_n_out == 0 || c->masq_t_out == 0) {
		snprintf(err, len, "masq_t_out and masq_n_out must be positive");
		return SP_ECONFIG;
	}
	/* 003: pingtime >= T_out / N_out, so a retry is not dropped while the item is
	 * outstanding even when that item blocks other tunnels' pings. */
	if ((uint64_t)c->pingtime * c->masq_n_out < c->masq_t_out) {
		fmt_time(c->pingtime, a, sizeof(a));
		fmt_time(c->masq_t_out, b, sizeof(b));
		fmt_time(c->masq_t_out / c->masq_n_out, d, sizeof(d));
		snprintf(err, len,
			 "pingtime %s is below T_out / N_out = %s / %" PRIu32 " = %s (003: "
			 "pingtime >= T_out / N_out)",
			 a, b, c->masq_n_out, d);
		return SP_ECONFIG;
	}
	/* 003: pingtime * pingtries / T_out > N: a ping gets through even after colliding
	 * with N other tunnels' unanswered pings. */
	if ((double)c->pingtime * c->pingtries / (double)c->masq_t_out <=
	    (double)c->ping_collisions) {
		fmt_time(c->pingtime, a, sizeof(a));
		fmt_time(c->masq_t_out, b, sizeof(b));
		snprintf(err, len,
			 "pingtime %s * pingtries %" PRIu32 " / T_out %s = %.2f is not above N = "
			 "%" PRIu32 " (003: pingtime * pingtries / T_out > N)",
			 a, c->pingtries, b,
			 (double)c->pingtime * c->pingtries / (double)c->masq_t_out,
			 c->ping_collisions);
		return SP_ECONFIG;
	}
	/* 003: maxidle < T_ei keeps established items from timing out (race condition 4). */
	if (c->maxidle >= c->masq_t_ei) {
		fmt_time(c->maxidle, a, sizeof(a));
		fmt_time(c->masq_t_ei, b, sizeof(b));
		snprintf(err, len, "maxidle %s is not below T_ei %s (003: maxidle < T_ei)", a, b);
		return SP_ECONFIG;
	}
	return 0;
}

static int read_probe(struct conf_sec *s, struct host_guard_cfg *c)
{
	const char *v;
	int r;

	if ((r = conf_get_str(s, "ping", "icmp", &v)) != 0)
		return r;
	if (strcmp(v, "icmp") == 0) {
		c->probe = HOST_GUARD_PROBE_ICMP;
		return 0;
	}
	if (strncmp(v, "udp", 3) == 0) {
		uint64_t port = c->probe_port;

		if (v[3] == ':' && (conf_parse_u64(v + 4, &port) != 0 || port == 0 || port > 65535))
			return conf_fail(s, "ping = '%s': the port must be 1-65535", v);
		if (v[3] != ':' && v[3] != 0)
			return conf_fail(s, "ping = '%s': expected icmp, udp or udp:PORT", v);
		c->probe = HOST_GUARD_PROBE_UDP;
		c->probe_port = (uint16_t)port;
		return 0;
	}
	return conf_fail(s, "ping = '%s': expected icmp, udp or udp:PORT", v);
}

int host_guard_cfg_read(struct conf_sec *s, struct host_guard_cfg *c)
{
	char err[256];
	int mode, r;

	if ((r = conf_get_enum(s, "epoch_guard", mode_names, (int)c->mode, &mode)) != 0 ||
	    (r = conf_get_time(s, "maxidle", c->maxidle, &c->maxidle)) != 0 ||
	    (r = conf_get_time(s, "pingtime", c->pingtime, &c->pingtime)) != 0 ||
	    (r = conf_get_u32(s, "pingtries", c->pingtries, 0, 1000, &c->pingtries)) != 0 ||
	    (r = conf_get_u32(s, "ping_jitter", c->ping_jitter, 0, 100, &c->ping_jitter)) != 0 ||
	    (r = conf_get_time(s, "epoch_timeout", c->epoch_timeout, &c->epoch_timeout)) != 0 ||
	    (r = conf_get_u32(s, "elimit", c->elimit, 0, 1000, &c->elimit)) != 0 ||
	    (r = read_probe(s, c)) != 0 ||
	    (r = conf_get_ip4(s, "ping_src", c->ping_src, &c->ping_src)) != 0 ||
	    (r = conf_get_ip4(s, "ping_dst", c->ping_dst, &c->ping_dst)) != 0 ||
	    (r = conf_get_bool(s, "ping_answer", c->ping_answer, &c->ping_answer)) != 0 ||
	    (r = conf_get_time(s, "masq_t_out", c->masq_t_out, &c->masq_t_out)) != 0 ||
	    (r = conf_get_u32(s, "masq_n_out", c->masq_n_out, 1, 1000000, &c->masq_n_out)) != 0 ||
	    (r = conf_get_time(s, "masq_t_ei", c->masq_t_ei, &c->masq_t_ei)) != 0 ||
	    (r = conf_get_u32(s, "ping_collisions", c->ping_collisions, 0, 1000000,
			      &c->ping_collisions)) != 0)
		return r;
	c->mode = (enum host_guard_mode)mode;
	if (host_guard_cfg_check(c, err, sizeof(err)) != 0)
		return conf_fail(s, "epoch_guard = %s: %s", mode_names[c->mode], err);
	return 0;
}
