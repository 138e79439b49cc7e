#include "ipsec/ipsec_conf.h"
#include "base/addr.h"
#include "crypto/crypto.h"
#include "proto/ipv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 64

static const char *const proto_names[] = { "esp", "ah", NULL };
static const char *const mode_names[] = { "transport", "tunnel", NULL };
static const char *const dir_names[] = { "in", "out", NULL };
static const char *const both_names[] = { "in", "out", "both", NULL };
static const char *const action_names[] = { "esp", "ah", "bypass", "discard", NULL };

/* A hex key whose length the transform decides: read its length first. */
static int get_key(struct conf_sec *s, const char *key, uint8_t *buf, size_t *len)
{
	const char *v = conf_get(s, key), *p;

	*len = 0;
	if (v == NULL)
		return 0;
	p = v[0] == '0' && (v[1] == 'x' || v[1] == 'X') ? v + 2 : v;
	if (strlen(p) % 2 != 0 || strlen(p) / 2 > KEY_MAX)
		return conf_fail(s, "%s: expected an even number of hex digits, at most %d bytes",
				 key, KEY_MAX);
	*len = strlen(p) / 2;
	return conf_get_hex(s, key, buf, *len, false);
}

static int get_transform(struct conf_sec *s, const char *key, bool enc, uint16_t def, uint16_t *out)
{
	const char *v;
	int r;

	if ((r = conf_get_str(s, key, NULL, &v)) != 0)
		return r;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	if ((enc ? sa_enc_parse(v, out) : sa_auth_parse(v, out)) != 0)
		return conf_fail(s, "%s = '%s': unknown transform (docs/CONFIG.md lists them)", key,
				 v);
	return 0;
}

static int get_lifetimes(struct conf_sec *s, struct sa_params *p)
{
	int r;

	if ((r = conf_get_size(s, "soft_bytes", 0, &p->soft.bytes)) != 0 ||
	    (r = conf_get_size(s, "hard_bytes", 0, &p->hard.bytes)) != 0 ||
	    (r = conf_get_u64(s, "soft_packets", 0, 0, UINT64_MAX, &p->soft.packets)) != 0 ||
	    (r = conf_get_u64(s, "hard_packets", 0, 0, UINT64_MAX, &p->hard.packets)) != 0 ||
	    (r = conf_get_time(s, "soft_time", 0, &p->soft.add_time)) != 0 ||
	    (r = conf_get_time(s, "hard_time", 0, &p->hard.add_time)) != 0 ||
	    (r = conf_get_time(s, "soft_use_time", 0, &p->soft.use_time)) != 0 ||
	    (r = conf_get_time(s, "hard_use_time", 0, &p->hard.use_time)) != 0)
		return r;
	return 0;
}

static bool is_aead(uint16_t enc)
{
	return enc == SA_ENC_AES_GCM_8 || enc == SA_ENC_AES_GCM_12 || enc == SA_ENC_AES_GCM_16 ||
	       enc == SA_ENC_NULL_AUTH_AES_GMAC;
}

/*
 * What static keys may not be used with. RFC 4106 3.1 (and RFC 4543 for GMAC): the IV must
 * never repeat under a key, and the sequence number restarts at 1 whenever the daemon
 * does, so GCM and GMAC are refused unless the owner persists a count of its starts that
 * goes into the IV (sa_params.iv_epoch); one start may then send at most 2^32 - 1 packets
 * under the key (the low half of the IV). Unauthenticated ESP and HMAC-MD5 need
 * allow_weak = yes.
 */
static int check_manual(struct ipsec *e, struct conf_sec *s, bool esp, bool weak_ok,
			struct sa_params *p)
{
	if (esp && is_aead(p->enc)) {
		if (ipsec_iv_epoch(e) == 0)
			return conf_fail(
				s,
				"enc = %s with a static key: the IV would repeat after a restart "
				"(RFC 4106 3.1 forbids it); set boot_counter_file in [ipsec] so "
				"spinatd counts its starts, or use aes-cbc with an hmac",
				sa_enc_name(p->enc));
		p->iv_epoch = ipsec_iv_epoch(e);
		if (p->hard.packets == 0 || p->hard.packets > UINT32_MAX)
			p->hard.packets = UINT32_MAX;
	}
	if (weak_ok)
		return 0;
	if (p->auth == SA_AUTH_HMAC_MD5_96)
		return conf_fail(s, "auth = hmac-md5-96 is weak; set allow_weak = yes to use it");
	if (esp && !is_aead(p->enc) && p->auth == SA_AUTH_NONE)
		return conf_fail(s,
				 "enc = %s with auth = none leaves ESP unauthenticated; set "
				 "allow_weak = yes to use it",
				 sa_enc_name(p->enc));
	return 0;
}

static int load_sa(struct ipsec *e, struct conf_sec *s, sp_time now)
{
	uint8_t ekey[KEY_MAX], akey[KEY_MAX];
	struct sa_params p = { 0 };
	int proto, mode, dir, r;
	uint32_t spi, port_s, port_d;
	bool encap, weak_ok;
	const char *why = NULL;

	if ((r = conf_require(s, "spi")) != 0 || (r = conf_require(s, "src")) != 0 ||
	    (r = conf_require(s, "dst")) != 0 || (r = conf_require(s, "dir")) != 0 ||
	    (r = conf_get_enum(s, "proto", proto_names, 0, &proto)) != 0 ||
	    (r = conf_get_enum(s, "mode", mode_names, SA_MODE_TRANSPORT, &mode)) != 0 ||
	    (r = conf_get_enum(s, "dir", dir_names, 0, &dir)) != 0 ||
	    (r = conf_get_u32(s, "spi", 0, 256, UINT32_MAX, &spi)) != 0 ||
	    (r = conf_get_ip4(s, "src", 0, &p.src)) != 0 ||
	    (r = conf_get_ip4(s, "dst", 0, &p.dst)) != 0 ||
	    (r = get_transform(s, "enc", true, proto == 0 ? SA_ENC_AES_GCM_16 : SA_ENC_NONE,
			       &p.enc)) != 0 ||
	    (r = get_transform(s, "auth", false,
			       proto == 0 ? SA_AUTH_NONE : SA_AUTH_HMAC_SHA2_256_128, &p.auth)) !=
		    0 ||
	    (r = get_key(s, "enc_key", ekey, &p.enc_key_len)) != 0 ||
	    (r = get_key(s, "auth_key", akey, &p.auth_key_len)) != 0 ||
	    (r = conf_get_bool(s, "esn", false, &p.esn)) != 0 ||
	    (r = conf_get_u32(s, "replay_window", REPLAY_DEFAULT, 0, REPLAY_MAX,
			      &p.replay_window)) != 0 ||
	    (r = conf_get_bool(s, "udp_encap", false, &encap)) != 0 ||
	    (r = conf_get_u32(s, "encap_sport", IPSEC_DEFAULT_NATT_PORT, 1, 65535, &port_s)) != 0 ||
	    (r = conf_get_u32(s, "encap_dport", IPSEC_DEFAULT_NATT_PORT, 1, 65535, &port_d)) != 0 ||
	    (r = conf_get_u32(s, "reqid", 0, 0, UINT32_MAX, &p.reqid)) != 0 ||
	    (r = conf_get_ip4(s, "asif_src", 0, &p.asif_src)) != 0 ||
	    (r = conf_get_ip4(s, "asif_dst", 0, &p.asif_dst)) != 0 ||
	    (r = conf_get_bool(s, "copy_dscp", false, &p.copy_dscp)) != 0 ||
	    (r = conf_get_bool(s, "allow_weak", false, &weak_ok)) != 0 ||
	    (r = get_lifetimes(s, &p)) != 0 ||
	    (r = check_manual(e, s, proto == 0, weak_ok, &p)) != 0)
		goto out;
	{
		uint32_t ttl;

		if ((r = conf_get_u32(s, "ttl", 64, 1, 255, &ttl)) != 0)
			goto out;
		p.ttl = (uint8_t)ttl;
	}
	p.spi = spi;
	p.proto = proto == 0 ? IPV4_PROTO_ESP : IPV4_PROTO_AH;
	p.mode = (uint8_t)mode;
	p.dir = (uint8_t)dir;
	p.enc_key = ekey;
	p.auth_key = akey;
	if (encap) {
		p.encap_sport = (uint16_t)port_s;
		p.encap_dport = (uint16_t)port_d;
	}
	if ((r = ipsec_sa_add(e, now, &p, &why)) != 0)
		r = conf_fail(s, "%s", why ? why : sp_strerror(r));
out:
	crypto_wipe(ekey, sizeof(ekey));
	crypto_wipe(akey, sizeof(akey));
	return r;
}

/* "any", a port, or "lo-hi". */
static int get_ports(struct conf_sec *s, const char *key, uint16_t *lo, uint16_t *hi)
{
	const char *v;
	unsigned a, b;
	char end;
	int r;

	*lo = 0;
	*hi = 65535;
	if ((r = conf_get_str(s, key, "any", &v)) != 0 || strcmp(v, "any") == 0)
		return r;
	if (sscanf(v, "%u-%u%c", &a, &b, &end) == 2 && a <= b && b <= 65535) {
		*lo = (uint16_t)a;
		*hi = (uint16_t)b;
		return 0;
	}
	if (sscanf(v, "%u%c", &a, &end) == 1 && a <= 65535) {
		*lo = *hi = (uint16_t)a;
		return 0;
	}
	return conf_fail(s, "%s = '%s': expected any, a port, or a range LO-HI", key, v);
}

static int get_ulproto(struct conf_sec *s, uint8_t *proto)
{
	const char *v;
	unsigned n;
	char end;
	int r;

	if ((r = conf_get_str(s, "protocol", "any", &v)) != 0)
		return r;
	if (strcmp(v, "any") == 0)
		*proto = 0;
	else if (strcmp(v, "icmp") == 0)
		*proto = IPV4_PROTO_ICMP;
	else if (strcmp(v, "tcp") == 0)
		*proto = IPV4_PROTO_TCP;
	else if (strcmp(v, "udp") == 0)
		*proto = IPV4_PROTO_UDP;
	else if (sscanf(v, "%u%c", &n, &end) == 1 && n >= 1 && n <= 255)
		*proto = (uint8_t)n;
	else
		return conf_fail(s, "protocol = '%s': expected any, icmp, tcp, udp or 1-255", v);
	return 0;
}

static int get_prefix(struct conf_sec *s, const char *key, uint32_t *net, uint8_t *len)
{
	const char *v;
	int r;

	if ((r = conf_get_str(s, key, "0.0.0.0/0", &v)) != 0)
		return r;
	if (sp_ip4_prefix_parse(v, net, len, false) != 0)
		return conf_fail(s, "%s = '%s': expected an address or a prefix a.b.c.d/len", key,
				 v);
	return 0;
}

static int load_policy(struct ipsec *e, struct conf_sec *s)
{
	struct spd_policy_params p = { .name = s->name };
	int action, mode, dir, r;
	uint32_t prio;

	if ((r = get_prefix(s, "src", &p.sel.src, &p.sel.src_len)) != 0 ||
	    (r = get_prefix(s, "dst", &p.sel.dst, &p.sel.dst_len)) != 0 ||
	    (r = get_ulproto(s, &p.sel.proto)) != 0 ||
	    (r = get_ports(s, "sport", &p.sel.sport_lo, &p.sel.sport_hi)) != 0 ||
	    (r = get_ports(s, "dport", &p.sel.dport_lo, &p.sel.dport_hi)) != 0 ||
	    (r = conf_require(s, "action")) != 0 ||
	    (r = conf_get_enum(s, "action", action_names, 0, &action)) != 0 ||
	    (r = conf_get_enum(s, "mode", mode_names, SA_MODE_TRANSPORT, &mode)) != 0 ||
	    (r = conf_get_enum(s, "dir", both_names, 2, &dir)) != 0 ||
	    (r = conf_get_u32(s, "reqid", 0, 0, UINT32_MAX, &p.reqid)) != 0 ||
	    (r = conf_get_u32(s, "priority", 100, 0, UINT32_MAX, &prio)) != 0 ||
	    (r = conf_get_ip4(s, "tunnel_src", 0, &p.tun_src)) != 0 ||
	    (r = conf_get_ip4(s, "tunnel_dst", 0, &p.tun_dst)) != 0)
		return r;
	p.priority = prio;
	p.mode = (uint8_t)mode;
	switch (action) {
	case 0:
		p.action = SPD_PROTECT;
		p.proto = IPV4_PROTO_ESP;
		break;
	case 1:
		p.action = SPD_PROTECT;
		p.proto = IPV4_PROTO_AH;
		break;
	case 2:
		p.action = SPD_BYPASS;
		break;
	default:
		p.action = SPD_DISCARD;
		break;
	}
	if (dir != SA_DIR_IN) {
		p.dir = SA_DIR_OUT;
		if ((r = ipsec_policy_add(e, &p, NULL)) != 0)
			return conf_fail(s, "%s", sp_strerror(r));
	}
	if (dir != SA_DIR_OUT) {
		/* Inbound traffic runs the other way: the selector turned around. */
		struct spd_sel in = { .src = p.sel.dst,
				      .dst = p.sel.src,
				      .src_len = p.sel.dst_len,
				      .dst_len = p.sel.src_len,
				      .proto = p.sel.proto,
				      .sport_lo = p.sel.dport_lo,
				      .sport_hi = p.sel.dport_hi,
				      .dport_lo = p.sel.sport_lo,
				      .dport_hi = p.sel.sport_hi };

		if (dir == SA_DIR_IN)
			in = p.sel; /* dir = in: the selector as written */
		p.dir = SA_DIR_IN;
		p.sel = in;
		if ((r = ipsec_policy_add(e, &p, NULL)) != 0)
			return conf_fail(s, "%s", sp_strerror(r));
	}
	return 0;
}

int ipsec_conf_load(struct ipsec *e, struct conf *c, sp_time now)
{
	struct conf_sec *s;
	int r;

	/* Policies first: SAs installed afterwards attach to them by reqid. */
	for (s = conf_next(c, NULL, "policy"); s != NULL; s = conf_next(c, s, "policy")) {
		s->used = true;
		if ((r = load_policy(e, s)) != 0)
			return r;
	}
	for (s = conf_next(c, NULL, "sa"); s != NULL; s = conf_next(c, s, "sa")) {
		s->used = true;
		if ((r = load_sa(e, s, now)) != 0)
			return r;
	}
	return 0;
}

int ipsec_conf_engine(struct conf *c, struct ipsec_cfg *cfg)
{
	struct conf_sec *s = conf_find(c, "ipsec", NULL);
	uint32_t port, max;
	sp_time ka;
	bool bypass;
	int r;

	if (s == NULL)
		return 0;
	s->used = true;
	if ((r = conf_get_u32(s, "natt_port", IPSEC_DEFAULT_NATT_PORT, 1, 65535, &port)) != 0 ||
	    (r = conf_get_time(s, "natt_keepalive", IPSEC_DEFAULT_NATT_KEEPALIVE, &ka)) != 0 ||
	    (r = conf_get_u32(s, "max_sa", IPSEC_DEFAULT_MAX_SA, 1, 1u << 20, &max)) != 0 ||
	    (r = conf_get_bool(s, "bypass_unmatched", cfg->bypass_unmatched, &bypass)) != 0 ||
	    (r = conf_get_str(s, "boot_counter_file", NULL, &cfg->boot_counter_file)) != 0)
		return r;
	if (cfg->boot_counter_file != NULL && cfg->boot_counter_file[0] != '/')
		return conf_fail(s, "boot_counter_file: an absolute path, got '%s'",
				 cfg->boot_counter_file);
	cfg->natt_port = (uint16_t)port;
	cfg->natt_keepalive = ka == 0 ? SP_TIME_NEVER : ka;
	cfg->max_sa = max;
	cfg->bypass_unmatched = bypass;
	return 0;
}
