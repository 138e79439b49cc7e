/*
 * IKE configuration: the [ike] section (instance settings) and one [conn NAME] section per
 * connection (docs/IKE.md). Proposals are written as in strongSwan ("aes256gcm16-prfsha256-
 * ecp256"), lifetimes as in 003 (keylife 8h, rekeymargin 9m, rekeyfuzz 100%).
 */
#include "ike/ike_priv.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "crypto/spihash_scheme.h"
#include "crypto/x509.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

static const char *const auto_names[] = { "add", "start", NULL };
static const char *const auth_names[] = { "psk", "pubkey", NULL };
static const char *const mode_names[] = { "tunnel", "transport", NULL };
static const char *const encap_names[] = { "auto", "no", "force", NULL };
static const char *const spi_names[] = { "random", "leased", "derived", NULL };
static const char *const dpd_names[] = { "clear", "restart", NULL };
static const char *const close_names[] = { "none", "restart", NULL };
static const char *const unique_names[] = { "replace", "keep", "no", "never", NULL };
static const char *const revocation_names[] = { "relaxed", "strict", NULL };
static const char *const proto_names[] = { "esp", "ah", NULL };
/* 003: the epoch guard (host/host_guard.h) of a client (FIG. 6A/6B) or a server (FIG. 7). */
static const char *const guard_names[] = { "no", "client", "server", NULL };

/* One token of a proposal string into a; false when unknown. */
static bool prop_token(const char *t, struct ikev2_algs *a, bool *integ_given)
{
	static const struct {
		const char *name;
		uint8_t type;
		uint16_t id, keylen;
	} toks[] = {
		{ "aes128", IKEV2_XF_ENCR, IKEV2_ENCR_AES_CBC, 128 },
		{ "aes256", IKEV2_XF_ENCR, IKEV2_ENCR_AES_CBC, 256 },
		{ "aes128gcm16", IKEV2_XF_ENCR, IKEV2_ENCR_AES_GCM_16, 128 },
		{ "aes256gcm16", IKEV2_XF_ENCR, IKEV2_ENCR_AES_GCM_16, 256 },
		{ "aes128gcm", IKEV2_XF_ENCR, IKEV2_ENCR_AES_GCM_16, 128 },
		{ "aes256gcm", IKEV2_XF_ENCR, IKEV2_ENCR_AES_GCM_16, 256 },
		{ "sha256", IKEV2_XF_INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0 },
		{ "prfsha256", IKEV2_XF_PRF, CRYPTO_PRF_HMAC_SHA2_256, 0 },
		{ "modp2048", IKEV2_XF_DH, CRYPTO_DH_MODP2048, 0 },
		{ "ecp256", IKEV2_XF_DH, CRYPTO_DH_ECP256, 0 },
		{ "ecp384", IKEV2_XF_DH, CRYPTO_DH_ECP384, 0 },
		{ "ecp521", IKEV2_XF_DH, CRYPTO_DH_ECP521, 0 },
		{ "x25519", IKEV2_XF_DH, CRYPTO_DH_X25519, 0 },
		{ "curve25519", IKEV2_XF_DH, CRYPTO_DH_X25519, 0 },
		{ "esn", IKEV2_XF_ESN, IKEV2_ESN_YES, 0 },
		{ "noesn", IKEV2_XF_ESN, IKEV2_ESN_NO, 0 },
	};

	for (size_t i = 0; i < SP_NELEM(toks); i++) {
		if (strcmp(t, toks[i].name) != 0)
			continue;
		switch (toks[i].type) {
		case IKEV2_XF_ENCR:
			a->encr = toks[i].id;
			a->encr_keylen = toks[i].keylen;
			break;
		case IKEV2_XF_INTEG:
			a->integ = toks[i].id;
			*integ_given = true;
			break;
		case IKEV2_XF_PRF:
			a->prf = toks[i].id;
			break;
		case IKEV2_XF_DH:
			a->dh = toks[i].id;
			break;
		case IKEV2_XF_ESN:
			a->esn = toks[i].id;
			break;
		}
		return true;
	}
	return false;
}

/* "p1, p2, ..." where each p is tokens joined by '-'. */
static int parse_props(struct conf_sec *s, const char *key, const char *val, uint8_t proto,
		       struct ikev2_algs *out, size_t *n)
{
	char buf[CONF_MAX_LINE], *save = NULL, *p;

	*n = 0;
	if (strlen(val) >= sizeof(buf))
		return conf_fail(s, "%s: too long", key);
	strcpy(buf, val);
	for (p = strtok_r(buf, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save)) {
		struct ikev2_algs a = { .proto = proto };
		char *save2 = NULL, *t;
		bool integ = false;

		if (*n >= IKE_PROPS_MAX)
			return conf_fail(s, "%s: more than %d proposals", key, IKE_PROPS_MAX);
		for (t = strtok_r(p, "-", &save2); t != NULL; t = strtok_r(NULL, "-", &save2))
			if (!prop_token(t, &a, &integ))
				return conf_fail(
					s,
					"%s: unknown algorithm '%s' (known: aes128, aes256, "
					"aes128gcm16, aes256gcm16, sha256, prfsha256, "
					"modp2048, ecp256, ecp384, ecp521, x25519, esn, noesn)",
					key, t);
		if (proto == IKE_PROTO_IKE) {
			if (a.encr == 0)
				return conf_fail(s, "%s: proposal '%s' has no encryption", key, p);
			if (a.prf == 0)
				a.prf = CRYPTO_PRF_HMAC_SHA2_256;
			if (a.dh == 0)
				return conf_fail(s, "%s: proposal has no key exchange group", key);
		} else if (proto == IKE_PROTO_ESP) {
			if (a.encr == 0)
				return conf_fail(s, "%s: proposal has no encryption", key);
			if (a.prf != 0)
				return conf_fail(s, "%s: a CHILD SA has no PRF", key);
		} else {
			if (a.encr != 0 || a.integ == 0)
				return conf_fail(s, "%s: AH takes an integrity algorithm only",
						 key);
		}
		if (a.encr == IKEV2_ENCR_AES_GCM_16 && integ)
			return conf_fail(s, "%s: AES-GCM carries its own integrity", key);
		if (a.encr == IKEV2_ENCR_AES_CBC && !integ)
			return conf_fail(s, "%s: AES-CBC needs an integrity algorithm (sha256)",
					 key);
		out[(*n)++] = a;
	}
	if (*n == 0)
		return conf_fail(s, "%s: no proposal", key);
	return 0;
}

/*
 * An identity: an IPv4 address (or ip:A), fqdn:NAME, email:ADDR or any text with an '@'
 * (RFC 822), keyid:TEXT, dn:TEXT or any text with an '=' (a DN, "C=CH, O=Example,
 * CN=host"), else an FQDN.
 */
static int parse_id(struct conf_sec *s, const char *key, const char *v, struct ike_id *id)
{
	uint32_t a;
	size_t len;

	if (strncmp(v, "ip:", 3) == 0 || sp_ip4_parse(v, &a) == 0) {
		if (sp_ip4_parse(v[0] == 'i' && v[1] == 'p' ? v + 3 : v, &a) != 0)
			return conf_fail(s, "%s: bad IPv4 address '%s'", key, v);
		id->type = IKEV2_ID_IPV4_ADDR;
		id->len = 4;
		sp_store_be32(id->data, a);
		return 0;
	}
	if (strncmp(v, "dn:", 3) == 0 ||
	    (strchr(v, '=') != NULL && strncmp(v, "fqdn:", 5) != 0 &&
	     strncmp(v, "email:", 6) != 0 && strncmp(v, "keyid:", 6) != 0)) {
		size_t dlen;
		int e;

		if ((e = crypto_dn_parse(v[0] == 'd' && v[1] == 'n' && v[2] == ':' ? v + 3 : v,
					 id->data, sizeof(id->data), &dlen)) != 0)
			return conf_fail(s,
					 "%s: '%s' is not a distinguished name (\"C=CH, O=Example, "
					 "CN=host\": known attribute names, each with a value)%s",
					 key, v, e == SP_ENOSPACE ? ": too long" : "");
		id->type = IKEV2_ID_DER_DN;
		id->len = (uint8_t)dlen;
		return 0;
	}
	if (strncmp(v, "keyid:", 6) == 0) {
		id->type = IKEV2_ID_KEY_ID;
		v += 6;
	} else if (strncmp(v, "email:", 6) == 0) {
		id->type = IKEV2_ID_RFC822;
		v += 6;
	} else if (strncmp(v, "fqdn:", 5) == 0) {
		id->type = IKEV2_ID_FQDN;
		v += 5;
	} else {
		id->type = strchr(v, '@') != NULL ? IKEV2_ID_RFC822 : IKEV2_ID_FQDN;
	}
	len = strlen(v);
	if (len == 0 || len > IKEV2_ID_MAX)
		return conf_fail(s, "%s: identity must be 1-%d characters", key, IKEV2_ID_MAX);
	memcpy(id->data, v, len);
	id->len = (uint8_t)len;
	return 0;
}

/* A selector's "[proto/port]" suffix as in strongSwan (RFC 7296 3.13.1: IP Protocol ID,
 * Start Port, End Port): proto tcp, udp, icmp or 1-255; port a number, LO-HI or %any. */
static int parse_ts_proto(struct conf_sec *s, const char *key, char *p, struct ike_ts *ts)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = { { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 } };
	char *end = strchr(p, ']'), *port = strchr(p, '/');
	uint64_t lo = 0, hi = 65535;

	if (end == NULL || end[1] != '\0')
		return conf_fail(s, "%s: '[' without a closing ']'", key);
	*end = '\0';
	if (port != NULL)
		*port++ = '\0';
	ts->ts_proto = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(p, names[i].name) == 0)
			ts->ts_proto = names[i].proto;
	if (ts->ts_proto == 0 && (conf_parse_u64(p, &lo) != 0 || lo < 1 || lo > 255))
		return conf_fail(s, "%s: '%s' is not a protocol (tcp, udp, icmp, 1-255)", key, p);
	if (ts->ts_proto == 0)
		ts->ts_proto = (uint8_t)lo;
	lo = 0;
	if (port != NULL && strcmp(port, "%any") != 0) {
		char *dash = strchr(port, '-');

		if (dash != NULL)
			*dash++ = '\0';
		if (conf_parse_u64(port, &lo) != 0 ||
		    conf_parse_u64(dash != NULL ? dash : port, &hi) != 0 || lo > hi || hi > 65535)
			return conf_fail(s, "%s: '%s' is not a port or LO-HI", key, port);
	}
	ts->ts_port_start = (uint16_t)lo;
	ts->ts_port_end = (uint16_t)hi;
	return 0;
}

static int parse_ts(struct conf_sec *s, const char *key, uint32_t own, struct ike_ts *ts,
		    uint8_t *n)
{
	struct conf_kv *kv = NULL;

	*n = 0;
	while ((kv = conf_next_kv(s, key, kv)) != NULL) {
		char buf[CONF_MAX_LINE], *save = NULL, *p;

		if (strlen(kv->val) >= sizeof(buf))
			return conf_fail(s, "%s: too long", key);
		strcpy(buf, kv->val);
		for (p = strtok_r(buf, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save)) {
			char *bracket = strchr(p, '[');
			struct ike_ts pp = { .ts_port_end = 65535 };
			uint32_t net;
			uint8_t len;
			int e;

			if (*n >= IKE_TS_MAX)
				return conf_fail(s, "%s: more than %d selectors", key, IKE_TS_MAX);
			if (bracket != NULL) {
				*bracket = '\0';
				if ((e = parse_ts_proto(s, key, bracket + 1, &pp)) != 0)
					return e;
			}
			if (strcmp(p, "dynamic") == 0) {
				net = own;
				len = 32;
			} else if (sp_ip4_prefix_parse(p, &net, &len, true) != 0) {
				return conf_fail(s, "%s: '%s' is not a prefix (a.b.c.d/len)", key,
						 p);
			}
			ts[*n] = (struct ike_ts){ .ts_start = net,
						  .ts_end = net | ~sp_ip4_mask(len),
						  .ts_port_start = pp.ts_port_start,
						  .ts_port_end = pp.ts_port_end,
						  .ts_proto = pp.ts_proto };
			(*n)++;
		}
	}
	if (*n == 0) {
		/* The default is the host itself ("dynamic"): transport mode, host-to-host. */
		ts[0] = (struct ike_ts){ .ts_start = own, .ts_end = own, .ts_port_end = 65535 };
		*n = 1;
	}
	return 0;
}

/* local, remote (or %any), remote_port, auto. */
static int read_conn_peer(struct conf_sec *s, struct ike_conn *c)
{
	const char *v;
	int e, i;
	uint64_t u;

	if ((e = conf_require(s, "local")) != 0 ||
	    (e = conf_get_ip4(s, "local", 0, &c->local)) != 0)
		return e;
	if ((v = conf_get(s, "remote")) != NULL && strcmp(v, "%any") == 0)
		c->remote = 0;
	else if ((e = conf_require(s, "remote")) != 0 ||
		 (e = conf_get_ip4(s, "remote", 0, &c->remote)) != 0)
		return e;
	if ((e = conf_get_u64(s, "remote_port", UDP_PORT_IKE, 1, 65535, &u)) != 0)
		return e;
	c->remote_port = (uint16_t)u;
	if ((e = conf_get_enum(s, "auto", auto_names, IKE_AUTO_ADD, &i)) != 0)
		return e;
	c->autostart = (enum ike_auto)i;
	if (c->autostart == IKE_AUTO_START && c->remote == 0)
		return conf_fail(s, "auto = start needs a remote address");
	return 0;
}

/* A PSK's text: 0xHEX, or at least 8 characters taken as they are. */
static int psk_value(struct conf_sec *s, const char *key, const uint8_t *v, size_t n,
		     struct ike_conn *c)
{
	if (n >= 2 && v[0] == '0' && v[1] == 'x') {
		size_t hn = (n - 2) / 2;

		if (hn == 0 || (n - 2) % 2 != 0)
			return conf_fail(s, "%s: bad hex", key);
		if ((c->psk = malloc(hn)) == NULL)
			return SP_ENOMEM;
		c->psk_len = hn;
		for (size_t i = 0; i < hn; i++) {
			unsigned hi, lo;
			char h[3] = { (char)v[2 + 2 * i], (char)v[3 + 2 * i], 0 };

			if (sscanf(h, "%1x%1x", &hi, &lo) != 2)
				return conf_fail(s, "%s: bad hex", key);
			c->psk[i] = (uint8_t)(hi << 4 | lo);
		}
		return 0;
	}
	if (n < 8)
		return conf_fail(s, "%s: at least 8 characters", key);
	if ((c->psk = malloc(n)) == NULL)
		return SP_ENOMEM;
	memcpy(c->psk, v, n);
	c->psk_len = n;
	return 0;
}

/* psk = 0xHEX or at least 8 characters, or psk_file = PATH holding the same. */
static int read_conn_psk(struct conf_sec *s, struct ike_conn *c)
{
	const char *v, *path;
	uint8_t buf[1024];
	size_t n;
	char err[512];
	int e;

	if ((e = conf_get_str(s, "psk_file", NULL, &path)) != 0 ||
	    (e = conf_get_str(s, "psk", NULL, &v)) != 0)
		return e;
	if (path != NULL && v != NULL)
		return conf_fail(s, "psk and psk_file: one of them, not both");
	if (path == NULL) {
		if ((e = conf_require(s, "psk")) != 0)
			return e;
		return psk_value(s, "psk", (const uint8_t *)v, strlen(v), c);
	}
	if ((e = crypto_secret_read(path, buf, sizeof(buf), &n, err, sizeof(err))) != 0)
		return conf_fail(s, "psk_file: %s", err);
	e = psk_value(s, "psk_file", buf, n, c);
	crypto_wipe(buf, sizeof(buf));
	return e;
}

/* auth = pubkey: cert, key, ca; intermediates, crl, revocation, crl_fetch. */
static int read_conn_cred(struct ike *ike, struct conf_sec *s, struct ike_conn *c)
{
	struct crypto_cred_paths p = { 0 };
	char err[CRYPTO_WHY_MAX + 64];
	bool fetch;
	int e, i;

	if ((e = conf_require(s, "cert")) != 0 || (e = conf_require(s, "key")) != 0 ||
	    (e = conf_require(s, "ca")) != 0 || (e = conf_get_str(s, "cert", NULL, &p.cert)) != 0 ||
	    (e = conf_get_str(s, "key", NULL, &p.key)) != 0 ||
	    (e = conf_get_str(s, "ca", NULL, &p.ca)) != 0 ||
	    (e = conf_get_str(s, "intermediates", NULL, &p.intermediates)) != 0 ||
	    (e = conf_get_str(s, "crl", NULL, &p.crl)) != 0 ||
	    (e = conf_get_enum(s, "revocation", revocation_names, CRYPTO_REV_RELAXED, &i)) != 0 ||
	    (e = conf_get_bool(s, "crl_fetch", false, &fetch)) != 0 ||
	    (e = conf_get_time(s, "crl_refetch", SP_SEC(300), &p.crl_refetch)) != 0)
		return e;
	p.revocation = (enum crypto_revocation)i;
	if (fetch) {
		if (ike->p.crl_fetch == NULL)
			return conf_fail(s, "crl_fetch = yes: this program cannot fetch CRLs");
		p.crl_fetch = ike->p.crl_fetch;
		p.crl_fetch_arg = ike->p.crl_fetch_arg;
	}
	if ((e = crypto_cred_open(&p, &c->cred, err, sizeof(err))) != 0)
		return conf_fail(s, "%s", err);
	return 0;
}

/* auth = psk (psk) or pubkey (cert, key, ca); local_id, remote_id. */
static int read_conn_auth(struct ike *ike, struct conf_sec *s, struct ike_conn *c)
{
	const char *v;
	int e, i;

	if ((e = conf_get_enum(s, "auth", auth_names, 0, &i)) != 0)
		return e;
	c->auth = i == 0 ? IKEV2_AUTH_PSK : IKEV2_AUTH_SIG;
	if (c->auth == IKEV2_AUTH_PSK) {
		if ((e = read_conn_psk(s, c)) != 0)
			return e;
	} else if ((e = read_conn_cred(ike, s, c)) != 0) {
		return e;
	}
	if ((v = conf_get(s, "local_id")) != NULL) {
		if ((e = parse_id(s, "local_id", v, &c->local_id)) != 0)
			return e;
	} else {
		c->local_id.type = IKEV2_ID_IPV4_ADDR;
		c->local_id.len = 4;
		sp_store_be32(c->local_id.data, c->local);
	}
	if (c->local_id.type == IKEV2_ID_DER_DN) {
		const uint8_t *subj;
		size_t slen;
		char a[256], b[256];

		/* RFC 4945 3.1.5: the DN sent must be the certificate's subject; send its exact
		 * encoding, so no peer compares two spellings of one name. */
		if (c->auth != IKEV2_AUTH_SIG)
			return conf_fail(s, "local_id: a DN identity needs auth = pubkey");
		crypto_cred_subject_der(c->cred, &subj, &slen);
		if (!crypto_dn_equal(c->local_id.data, c->local_id.len, subj, slen)) {
			crypto_dn_format(c->local_id.data, c->local_id.len, a, sizeof(a));
			crypto_dn_format(subj, slen, b, sizeof(b));
			return conf_fail(
				s, "local_id \"%s\" is not the certificate's subject \"%s\"", a, b);
		}
		if (slen > sizeof(c->local_id.data))
			return conf_fail(s, "local_id: the certificate's subject is too long");
		memcpy(c->local_id.data, subj, slen);
		c->local_id.len = (uint8_t)slen;
	}
	if ((v = conf_get(s, "remote_id")) != NULL &&
	    (e = parse_id(s, "remote_id", v, &c->remote_id)) != 0)
		return e;
	if (c->auth == IKEV2_AUTH_SIG && c->remote_id.type == 0)
		return conf_fail(s, "auth = pubkey needs remote_id (checked against the "
				    "peer's certificate)");
	return 0;
}

/* ike, proto, esp or ah, mode, local_ts, remote_ts. */
static int read_conn_algs(struct conf_sec *s, struct ike_conn *c)
{
	const char *v, *key;
	int e, i;

	if ((e = conf_get_str(s, "ike",
			      "aes256gcm16-prfsha256-x25519, "
			      "aes256gcm16-prfsha256-ecp256, aes256-sha256-modp2048",
			      &v)) != 0 ||
	    (e = parse_props(s, "ike", v, IKE_PROTO_IKE, c->ike_props, &c->n_ike_props)) != 0)
		return e;
	if ((e = conf_get_enum(s, "proto", proto_names, 0, &i)) != 0)
		return e;
	c->child_proto = i == 0 ? IKE_PROTO_ESP : IKE_PROTO_AH;
	key = c->child_proto == IKE_PROTO_ESP ? "esp" : "ah";
	if ((e = conf_get_str(s, key,
			      c->child_proto == IKE_PROTO_ESP ? "aes256gcm16, aes256-sha256"
							      : "sha256",
			      &v)) != 0 ||
	    (e = parse_props(s, key, v, c->child_proto, c->child_props, &c->n_child_props)) != 0)
		return e;
	if ((e = conf_get_enum(s, "mode", mode_names, 0, &i)) != 0)
		return e;
	c->tunnel = i == 0;
	if ((e = parse_ts(s, "local_ts", c->local, c->local_ts, &c->n_local_ts)) != 0 ||
	    (e = parse_ts(s, "remote_ts", c->remote, c->remote_ts, &c->n_remote_ts)) != 0)
		return e;
	return 0;
}

/* close_action, unique, keyingtries and the backoff between attempts. */
static int read_conn_retry(struct conf_sec *s, struct ike_conn *c)
{
	const char *v;
	char *end;
	int e, i;

	if ((e = conf_get_enum(s, "close_action", close_names, 0, &i)) != 0)
		return e;
	c->close_restart = i == 1;
	if ((e = conf_get_enum(s, "unique", unique_names, IKE_UNIQUE_REPLACE, &i)) != 0)
		return e;
	c->unique = (enum ike_unique)i;
	if ((e = conf_get_str(s, "keyingtries", "%forever", &v)) != 0)
		return e;
	if (strcmp(v, "%forever") == 0) {
		c->keyingtries = 0;
	} else {
		unsigned long n = strtoul(v, &end, 10);

		if (*v < '0' || *v > '9' || *end != 0 || n == 0 || n > 1000000)
			return conf_fail(s,
					 "keyingtries: '%s' is neither a number 1-1000000 nor "
					 "%%forever",
					 v);
		c->keyingtries = (uint32_t)n;
	}
	if ((e = conf_get_time(s, "retry_base", SP_SEC(2), &c->retry_base)) != 0 ||
	    (e = conf_get_time(s, "retry_max", SP_SEC(120), &c->retry_max)) != 0 ||
	    (e = conf_get_u32(s, "retry_jitter", 20, 0, 100, &c->retry_jitter)) != 0)
		return e;
	if (c->retry_base == 0 || c->retry_max < c->retry_base)
		return conf_fail(s, "retry_base must be positive and at most retry_max");
	return 0;
}

/* Lifetimes, rekeying, the epoch guard, encapsulation, liveness, retransmission. */
static int read_conn_timers(struct conf_sec *s, struct ike_conn *c)
{
	int e, i;

	/* 003: keylife 8h, rekeymargin 9m, rekeyfuzz 100%; ikelifetime 1h (FreeS/WAN's). */
	if ((e = conf_get_time(s, "keylife", SP_SEC(8 * 3600), &c->keylife)) != 0 ||
	    (e = conf_get_time(s, "rekeymargin", SP_SEC(9 * 60), &c->rekeymargin)) != 0 ||
	    (e = conf_get_u32(s, "rekeyfuzz", 100, 0, 1000, &c->rekeyfuzz)) != 0 ||
	    (e = conf_get_time(s, "ikelifetime", SP_SEC(3600), &c->ikelifetime)) != 0 ||
	    (e = conf_get_bool(s, "rekey", true, &c->rekey)) != 0 ||
	    (e = conf_get_bool(s, "accept_rekey", true, &c->accept_rekey)) != 0 ||
	    (e = conf_get_enum(s, "epoch_guard", guard_names, 0, &i)) != 0)
		return e;
	c->epoch_guard = i != 0;
	/* The rekey window must lie inside the lifetime, fuzz included (003). */
	if (c->rekeymargin * (100 + (uint64_t)c->rekeyfuzz) / 100 >= c->keylife)
		return conf_fail(s, "keylife must exceed rekeymargin * (1 + rekeyfuzz)");
	if (c->rekeymargin * (100 + (uint64_t)c->rekeyfuzz) / 100 >= c->ikelifetime)
		return conf_fail(s, "ikelifetime must exceed rekeymargin * (1 + rekeyfuzz)");
	if ((e = conf_get_enum(s, "encap", encap_names, IKE_ENCAP_AUTO, &i)) != 0)
		return e;
	c->encap = (enum ike_encap)i;
	/* RFC 7383: announce IKEV2_FRAGMENTATION_SUPPORTED and fragment when both did. */
	if ((e = conf_get_bool(s, "fragmentation", true, &c->fragmentation)) != 0)
		return e;
	/* RFC 7296 2.23: a host not behind a NAT SHOULD follow its peer's new address. */
	if ((e = conf_get_bool(s, "dynamic_update", true, &c->dynamic_update)) != 0)
		return e;
	if ((e = conf_get_time(s, "dpd_delay", SP_SEC(30), &c->dpd_delay)) != 0 ||
	    (e = conf_get_enum(s, "dpd_action", dpd_names, 0, &i)) != 0)
		return e;
	c->dpd_restart = i == 1;
	if ((e = read_conn_retry(s, c)) != 0)
		return e;
	if ((e = conf_get_time(s, "retransmit_timeout", SP_SEC(2), &c->retransmit_timeout)) != 0 ||
	    (e = conf_get_u32(s, "retransmit_tries", 5, 0, 20, &c->retransmit_tries)) != 0)
		return e;
	if (c->retransmit_timeout == 0)
		return conf_fail(s, "retransmit_timeout must be positive");
	return 0;
}

/* spi, spihash, spi_lease, ike_spi_lease. */
static int read_conn_spi(struct ike *ike, struct conf_sec *s, struct ike_conn *c)
{
	struct conf_kv *kv = NULL;
	int e, i;

	if ((e = conf_get_enum(s, "spi", spi_names, IKE_SPI_RANDOM, &i)) != 0)
		return e;
	c->spi_mode = (enum ike_spi_mode)i;
	/* The gateway's spihash_scheme default (000's worked example [0101]): with defaults on
	 * both sides the responder derives what the NAT expects. */
	if ((e = conf_get_enum(s, "spihash", nat_spihash_scheme_names, NAT_SPIHASH_DEFAULT, &i)) !=
	    0)
		return e;
	c->spihash = nat_spihash_scheme_get((enum nat_spihash_scheme_id)i);
	/* spi_lease = FIRST-LAST: SPIs leased by hand or by a static NAT setup. */
	while ((kv = conf_next_kv(s, "spi_lease", kv)) != NULL) {
		unsigned long a, b;
		char *end;

		a = strtoul(kv->val, &end, 0);
		b = *end == '-' ? strtoul(end + 1, &end, 0) : a;
		if (*end != 0 || a < 256 || b < a || b > UINT32_MAX)
			return conf_fail(s, "spi_lease: '%s' is not FIRST-LAST (>= 256)", kv->val);
		if ((e = ike_spi_lease_add(ike, (uint32_t)a, (uint32_t)(b - a + 1))) != 0)
			return e;
	}
	/* ike_spi_lease = SPI: an IKE SPI (cookie) leased the same way (001 step 1). */
	while ((kv = conf_next_kv(s, "ike_spi_lease", kv)) != NULL) {
		unsigned long long ispi;
		char *end;

		ispi = strtoull(kv->val, &end, 0);
		if (*end != 0 || ispi == 0)
			return conf_fail(s, "ike_spi_lease: '%s' is not a non-zero 64-bit SPI",
					 kv->val);
		if ((e = ike_spi_lease_add_ike(ike, (uint64_t)ispi)) != 0)
			return e;
	}
	return 0;
}

static int read_conn(struct ike *ike, struct conf_sec *s, struct ike_conn *c)
{
	int e;

	if (s->name == NULL)
		return conf_fail(s, "[conn] needs a name: [conn NAME]");
	if ((c->name = strdup(s->name)) == NULL)
		return SP_ENOMEM;
	if ((e = read_conn_peer(s, c)) != 0 || (e = read_conn_auth(ike, s, c)) != 0 ||
	    (e = read_conn_algs(s, c)) != 0 || (e = read_conn_timers(s, c)) != 0 ||
	    (e = read_conn_spi(ike, s, c)) != 0)
		return e;
	return 0;
}

int ike_conf_read(struct ike *ike, struct conf *conf)
{
	struct conf_sec *g = conf_find(conf, "ike", NULL), *s;
	uint64_t u;
	size_t n = 0;
	int e;

	ike->port = UDP_PORT_IKE;
	ike->natt_port = UDP_PORT_IKE_NATT;
	ike->cookie_threshold = 32;
	ike->half_open_timeout = SP_SEC(30);
	ike->frag_size = IKE_FRAG_SIZE_DEFAULT;
	if (g != NULL) {
		if ((e = conf_get_u64(g, "port", UDP_PORT_IKE, 1, 65535, &u)) != 0)
			return e;
		ike->port = (uint16_t)u;
		if ((e = conf_get_u64(g, "natt_port", UDP_PORT_IKE_NATT, 1, 65535, &u)) != 0)
			return e;
		ike->natt_port = (uint16_t)u;
		if ((e = conf_get_u32(g, "cookie_threshold", 32, 0, 1000000,
				      &ike->cookie_threshold)) != 0 ||
		    (e = conf_get_time(g, "half_open_timeout", SP_SEC(30),
				       &ike->half_open_timeout)) != 0 ||
		    /* RFC 7383 2.5.1: the IP datagram of one fragment; 576 is IPv4's least. */
		    (e = conf_get_u32(g, "fragment_size", IKE_FRAG_SIZE_DEFAULT, IKE_FRAG_SIZE_MIN,
				      65535, &ike->frag_size)) != 0)
			return e;
		if (ike->port == ike->natt_port)
			return conf_fail(g, "port and natt_port must differ");
	}
	for (s = conf_next(conf, NULL, "conn"); s != NULL; s = conf_next(conf, s, "conn"))
		n++;
	if (n == 0)
		return SP_ENOTFOUND;
	if ((ike->conns = calloc(n, sizeof(*ike->conns))) == NULL)
		return SP_ENOMEM;
	for (s = conf_next(conf, NULL, "conn"); s != NULL; s = conf_next(conf, s, "conn")) {
		struct ike_conn *c = &ike->conns[ike->n_conns++];

		for (size_t i = 0; i + 1 < ike->n_conns; i++)
			if (s->name != NULL && strcmp(ike->conns[i].name, s->name) == 0)
				return conf_fail(s, "connection '%s' defined twice", s->name);
		if ((e = read_conn(ike, s, c)) != 0)
			return e;
		c->reqid = (uint32_t)ike->n_conns;
	}
	if ((ike->retry = calloc(n, sizeof(*ike->retry))) == NULL)
		return SP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		ike->retry[i].at = SP_TIME_NEVER;
	return 0;
}

void ike_conf_free(struct ike *ike)
{
	for (size_t i = 0; i < ike->n_conns; i++) {
		struct ike_conn *c = &ike->conns[i];

		free(c->name);
		if (c->psk != NULL) {
			crypto_wipe(c->psk, c->psk_len);
			free(c->psk);
		}
		crypto_cred_free(c->cred);
	}
	free(ike->conns);
	free(ike->retry);
	ike->retry = NULL;
	ike->conns = NULL;
	ike->n_conns = 0;
}

const struct ike_conn *ike_conn_find(const struct ike *ike, const char *name)
{
	for (size_t i = 0; i < ike->n_conns; i++)
		if (strcmp(ike->conns[i].name, name) == 0)
			return &ike->conns[i];
	return NULL;
}

const struct ike_conn *ike_conn_match(const struct ike *ike, uint32_t local, uint32_t remote)
{
	const struct ike_conn *any = NULL;

	for (size_t i = 0; i < ike->n_conns; i++) {
		const struct ike_conn *c = &ike->conns[i];

		if (c->local != local && c->local != 0)
			continue;
		if (c->remote == remote)
			return c;
		if (c->remote == 0 && any == NULL)
			any = c;
	}
	return any;
}
