/*
 * The IKE instance: configuration, the datagram entry point (header checks, SA lookup by
 * SPI and I flag, RFC 7296 2.6), timers, control commands and `show sa`.
 */
#include "ike/ike_priv.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "proto/natt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COOKIE_ROTATE SP_SEC(120)

static const char *const ike_ctr_names[] = { SP_CTR_NAMES(foreach_ike_ctr) };

void ike_ctr(struct ike *ike, enum ike_ctr c)
{
	ike->ctr[c]++;
	if ((c >= IKE_CTR_DROP_MALFORMED && c <= IKE_CTR_DROP_RESPONSE_UNEXPECTED) ||
	    (c >= IKE_CTR_DROP_FRAG_MALFORMED && c <= IKE_CTR_DROP_FRAG_RETRANSMIT))
		SP_DEBUG(ike->p.log, IKE_MOD, "message dropped: %s", ike_ctr_names[c]);
}

int ike_new(const struct ike_params *p, struct conf *conf, struct ike **out)
{
	struct ike *ike;
	int r;

	*out = NULL;
	if (p->rng == NULL || p->output == NULL)
		return SP_EINVAL;
	if ((ike = calloc(1, sizeof(*ike))) == NULL)
		return SP_ENOMEM;
	ike->p = *p;
	if ((ike->name = strdup(p->name != NULL ? p->name : "ike")) == NULL) {
		free(ike);
		return SP_ENOMEM;
	}
	sp_ctrs_init(&ike->ctrs, "ike", ike->name, ike_ctr_names, ike->ctr, IKE_CTR_N);
	if ((r = ike_conf_read(ike, conf)) != 0) {
		ike_free(ike);
		return r;
	}
	/* RFC 7383 2.5.1: fragments must fit the owner's path, but 576 always may. */
	if (p->frag_max != 0 && p->frag_max < ike->frag_size)
		ike->frag_size = SP_MAX(p->frag_max, (uint32_t)IKE_FRAG_SIZE_MIN);
	ike->next_reqid = IKE_REQID_DYNAMIC;
	sp_rng_bytes(p->rng, ike->cookie_secret, sizeof(ike->cookie_secret));
	ike->cookie_ver = 1;
	if (p->ctrs != NULL)
		sp_ctr_register(p->ctrs, &ike->ctrs);
	*out = ike;
	return 0;
}

void ike_free(struct ike *ike)
{
	if (ike == NULL)
		return;
	while (ike->sas != NULL)
		ike_sa_free(ike->sas);
	if (ike->p.ctrs != NULL && ike->conns != NULL)
		sp_ctr_unregister(ike->p.ctrs, &ike->ctrs);
	ike_conf_free(ike);
	free(ike->lease_spi);
	free(ike->lease_ike_spi);
	crypto_wipe(ike->cookie_secret, sizeof(ike->cookie_secret));
	free(ike->name);
	free(ike);
}

static void sweep(struct ike *ike)
{
	struct ike_sa *sa, *next;

	for (sa = ike->sas; sa != NULL; sa = next) {
		next = sa->next;
		if (sa->state == IKE_SA_DEAD)
			ike_sa_free(sa);
	}
}

bool ike_log_ok(struct ike *ike, sp_time now)
{
	if (sp_ratelimit_ok(&ike->log_rl, now))
		return true;
	ike_ctr(ike, IKE_CTR_LOG_SUPPRESSED);
	return false;
}

void ike_log_limited(struct ike *ike, int level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	int len;

	if (!sp_log_enabled(ike->p.log, level))
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ike->log_rl.suppressed != 0 && len >= 0 && (size_t)len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - (size_t)len, " (%llu similar lines suppressed)",
			 (unsigned long long)ike->log_rl.suppressed);
	ike->log_rl.suppressed = 0;
	sp_logf(ike->p.log, level, IKE_MOD, "%s", msg);
}

void ike_retry_reset(struct ike *ike, const struct ike_conn *c)
{
	struct ike_retry *r = &ike->retry[c - ike->conns];

	r->tries = 0;
	r->at = SP_TIME_NEVER;
}

void ike_retry_schedule(struct ike *ike, const struct ike_conn *c, sp_time now, bool soon,
			const char *why)
{
	struct ike_retry *r = &ike->retry[c - ike->conns];
	sp_time wait = 0;

	if (c->remote == 0)
		return; /* no address to start from: the peer comes back by itself */
	if (!soon || r->tries > 0) {
		uint32_t shift = SP_MIN(r->tries, 30u);

		r->tries++;
		if (c->keyingtries != 0 && r->tries >= c->keyingtries) {
			IKE_LOG(ike, SP_LOG_WARN, "%s: giving up after %u attempts (keyingtries)",
				c->name, r->tries);
			ike_retry_reset(ike, c);
			return;
		}
		/* Exponential backoff with jitter, so peers that lost each other together do
		 * not come back in step. */
		wait = c->retry_base << shift;
		if (wait > c->retry_max || wait >> shift != c->retry_base)
			wait = c->retry_max;
		if (c->retry_jitter > 0)
			wait = wait / 100 *
			       (100 - c->retry_jitter +
				sp_rng_below(ike->p.rng, 2 * c->retry_jitter + 1));
	}
	r->at = now + wait;
	ike_ctr(ike, IKE_CTR_RETRY);
	IKE_LOG(ike, SP_LOG_INFO, "%s: %s; setting up again in %.1f s (attempt %u%s)", c->name, why,
		sp_time_sec(wait), r->tries + 1,
		c->keyingtries == 0 ? ", keyingtries %forever" : "");
}

/* Due retries: a connection with an IKE SA up or on its way needs none. */
static void retry_tick(struct ike *ike, sp_time now)
{
	for (size_t i = 0; i < ike->n_conns; i++) {
		const struct ike_conn *c = &ike->conns[i];
		bool busy = false;

		if (ike->retry[i].at == SP_TIME_NEVER || now < ike->retry[i].at)
			continue;
		ike->retry[i].at = SP_TIME_NEVER;
		for (const struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
			busy |= sa->conn == c &&
				(sa->state == IKE_SA_INIT_SENT || sa->state == IKE_SA_AUTH_SENT ||
				 sa->state == IKE_SA_ESTABLISHED);
		if (busy) {
			ike_retry_reset(ike, c);
			continue;
		}
		if (ike_sa_initiate(ike, c, now) != 0)
			ike_retry_schedule(ike, c, now, false, "cannot initiate");
	}
}

void ike_shutdown(struct ike *ike, sp_time now)
{
	/* First: whoever hears the IKE SAs go down (003's guard starts a new session) must
	 * not start new ones now. */
	ike->shut_down = true;
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->state == IKE_SA_ESTABLISHED)
			ike_sa_delete_now(sa, now, true, "shutting down");
		else
			sa->state = IKE_SA_DEAD;
	}
	for (size_t i = 0; i < ike->n_conns; i++)
		ike_retry_reset(ike, &ike->conns[i]);
	sweep(ike);
}

void ike_start(struct ike *ike, sp_time now)
{
	for (size_t i = 0; i < ike->n_conns; i++) {
		int r;

		/* SP_EAGAIN: the owner's SPI policy is still getting SPIs (a lease, 001) and
		 * brings the connection up itself when it has them. */
		if (ike->conns[i].autostart == IKE_AUTO_START &&
		    (r = ike_sa_initiate(ike, &ike->conns[i], now)) != 0)
			IKE_LOG(ike, r == SP_EAGAIN ? SP_LOG_INFO : SP_LOG_ERR, "%s: not started%s",
				ike->conns[i].name, r == SP_EAGAIN ? " yet: waiting for SPIs" : "");
	}
	ike->cookie_rotate_at = now + COOKIE_ROTATE;
	sweep(ike);
}

void ike_input(struct ike *ike, sp_time now, const struct ike_path *path, const uint8_t *msg,
	       size_t len)
{
	struct ikev2_msg *m = NULL;
	struct ikev2_pld_iter it;
	struct ike_sa *sa;
	uint8_t *buf = NULL;
	struct cur c;
	int r;

	ike_ctr(ike, IKE_CTR_RX);
	if (path->local_port != ike->port) {
		/* RFC 3948 2.2: on the NAT-T port IKE follows four zero octets. */
		if (len < NATT_MARKER_LEN || sp_load_be32(msg) != 0) {
			ike_ctr(ike, IKE_CTR_DROP_NO_MARKER);
			return;
		}
		msg += NATT_MARKER_LEN;
		len -= NATT_MARKER_LEN;
	}
	/* Decryption works in place, so the message is copied once. */
	if (len == 0 || len > IKEV2_MSG_MAX || (buf = malloc(len)) == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		goto out;
	}
	memcpy(buf, msg, len);
	cur_init(&c, buf, len);
	if ((r = ikev2_parse(&c, &m->hdr)) != 0) {
		ike_ctr(ike, r == SP_EUNSUPP ? IKE_CTR_DROP_VERSION : IKE_CTR_DROP_MALFORMED);
		SP_DEBUG(ike->p.log, IKE_MOD, "dropped datagram: %s", sp_strerror(r));
		goto out;
	}
	/* One message per datagram (2): nothing may follow it. */
	if (m->hdr.ike_len != len || ikev2_pld_iter_init(&it, &c, &m->hdr) != 0) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		goto out;
	}
	if (m->hdr.ike_exch == IKEV2_EXCH_IKE_SA_INIT && !ikev2_is_response(&m->hdr) &&
	    ikev2_is_initiator(&m->hdr) && m->hdr.ike_rspi == 0) {
		struct ikev2_pld sk;
		bool has_sk;

		if (m->hdr.ike_msgid != 0 || ikev2_msg_parse(m, &it, &sk, &has_sk) != 0 || has_sk) {
			ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
			goto out;
		}
		if (m->unsupported_critical != 0) {
			ike_ctr(ike, IKE_CTR_DROP_CRITICAL);
			goto out;
		}
		ike_sa_input_init_request(ike, now, path, buf, len, m);
		goto out;
	}
	sa = ike_sa_lookup(ike, m->hdr.ike_ispi, m->hdr.ike_rspi, ikev2_is_initiator(&m->hdr));
	if (sa == NULL) {
		/* 2.21.4: an unknown SPI; answering is optional and invites reflection. */
		ike_ctr(ike, IKE_CTR_DROP_UNKNOWN_SPI);
		goto out;
	}
	ike_sa_input(sa, now, path, buf, len, m, &it);
out:
	free(m);
	free(buf);
	sweep(ike);
}

sp_time ike_next_deadline(const struct ike *ike)
{
	sp_time t = SP_TIME_NEVER;

	for (size_t i = 0; i < ike->n_conns; i++)
		t = sp_time_min(t, ike->retry[i].at);
	for (const struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		t = sp_time_min(t, ike_sa_deadline(sa));
	return t;
}

uint32_t ike_fragment_size(const struct ike *ike)
{
	return ike->frag_size;
}

uint16_t ike_port(const struct ike *ike)
{
	return ike->port;
}

void ike_tick(struct ike *ike, sp_time now)
{
	if (ike->cookie_rotate_at != 0 && now >= ike->cookie_rotate_at) {
		/* 2.6: change the secret now and then; keep the last one for cookies in flight. */
		ike->cookie_ver++;
		sp_rng_bytes(ike->p.rng, ike->cookie_secret[ike->cookie_ver & 1], 32);
		ike->cookie_rotate_at = now + COOKIE_ROTATE;
	}
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		ike_sa_tick(sa, now);
	sweep(ike);
	retry_tick(ike, now);
}

int ike_up(struct ike *ike, sp_time now, const char *name)
{
	const struct ike_conn *c = ike_conn_find(ike, name);

	if (c == NULL)
		return SP_ENOTFOUND;
	if (c->remote == 0)
		return SP_EINVAL; /* responder only: no address to start from */
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->conn != c || sa->state == IKE_SA_DEAD || sa->state == IKE_SA_REKEYED ||
		    sa->state == IKE_SA_DELETING)
			continue;
		if (sa->state == IKE_SA_ESTABLISHED && sa->children == NULL) {
			sa->want_child = true;
			ike_sa_kick(sa, now);
		}
		return 0; /* up or on its way */
	}
	ike_retry_reset(ike, c);
	return ike_sa_initiate(ike, c, now);
}

int ike_down(struct ike *ike, sp_time now, const char *name)
{
	const struct ike_conn *c = ike_conn_find(ike, name);

	if (c == NULL)
		return SP_ENOTFOUND;
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->conn != c)
			continue;
		if (sa->state == IKE_SA_ESTABLISHED) {
			sa->want_delete = true;
			if (sa->req.kind != IKE_X_NONE && sa->req.kind != IKE_X_IKE_DELETE)
				ike_req_clear(sa); /* the delete goes first (2.25) */
			ike_sa_kick(sa, now);
		} else if (sa->state == IKE_SA_INIT_SENT || sa->state == IKE_SA_AUTH_SENT ||
			   sa->state == IKE_SA_INIT_DONE) {
			sa->no_retry = true;
			ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "taken down");
		}
	}
	ike_retry_reset(ike, c);
	sweep(ike);
	return 0;
}

int ike_rekey(struct ike *ike, sp_time now, const char *name, bool ike_sa)
{
	const struct ike_conn *c = ike_conn_find(ike, name);
	bool any = false;

	if (c == NULL)
		return SP_ENOTFOUND;
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->conn != c || sa->state != IKE_SA_ESTABLISHED)
			continue;
		any = true;
		if (ike_sa)
			sa->want_rekey = true;
		for (struct ike_child *ch = sa->children; ch != NULL; ch = ch->next)
			if (ch->state == IKE_CHILD_INSTALLED)
				ch->want_rekey = true;
		ike_sa_kick(sa, now);
	}
	return any ? 0 : SP_ESTATE;
}

void ike_child_expire(struct ike *ike, sp_time now, uint8_t proto, uint32_t spi, bool inbound,
		      uint32_t reqid, bool hard)
{
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		struct ike_child *ch = ike_child_by_spi(sa, proto, spi, inbound);

		/* Two peers may have picked the same SPI for us to send with. */
		if (ch == NULL || (!inbound && reqid != 0 && ch->reqid != reqid))
			continue;
		/* Byte and packet lifetimes of the data plane (RFC 4301 4.4.2.1). */
		if (hard)
			ch->want_delete = true;
		else if (ch->state == IKE_CHILD_INSTALLED)
			ch->want_rekey = true;
		ike_sa_kick(sa, now);
		return;
	}
}

int ike_child_delete(struct ike *ike, sp_time now, uint8_t proto, uint32_t spi_in)
{
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		struct ike_child *ch = ike_child_by_spi(sa, proto, spi_in, true);

		if (ch == NULL || sa->state == IKE_SA_DEAD)
			continue;
		if (ch->state != IKE_CHILD_DELETING)
			ch->want_delete = true;
		ike_sa_kick(sa, now);
		return 0;
	}
	return SP_ENOTFOUND;
}

int ike_conn_info(const struct ike *ike, const char *conn, struct ike_conn_info *out)
{
	const struct ike_conn *c = ike_conn_find(ike, conn);

	if (c == NULL)
		return SP_ENOTFOUND;
	memset(out, 0, sizeof(*out));
	out->local = c->local;
	out->remote = c->remote;
	out->reqid = c->reqid;
	out->keylife = c->keylife;
	out->rekeymargin = c->rekeymargin;
	out->rekeyfuzz = c->rekeyfuzz;
	out->accept_rekey = c->accept_rekey;
	out->epoch_guard = c->epoch_guard;
	memcpy(out->local_ts, c->local_ts, sizeof(out->local_ts));
	memcpy(out->remote_ts, c->remote_ts, sizeof(out->remote_ts));
	out->n_local_ts = c->n_local_ts;
	out->n_remote_ts = c->n_remote_ts;
	if (c->cred != NULL && crypto_cred_chain_der(c->cred, 0, &out->cert, &out->cert_len) != 0) {
		out->cert = NULL;
		out->cert_len = 0;
	}
	return 0;
}

int ike_conn_set_public(struct ike *ike, const char *conn, const struct ike_ts *pub, uint8_t n)
{
	for (size_t i = 0; i < ike->n_conns; i++) {
		struct ike_conn *c = &ike->conns[i];

		if (strcmp(c->name, conn) != 0)
			continue;
		if (n != 0 && n != c->n_local_ts)
			return SP_EINVAL;
		if (n != 0)
			memcpy(c->public_ts, pub, n * sizeof(*pub));
		c->n_public_ts = n;
		return 0;
	}
	return SP_ENOTFOUND;
}

void ike_peer_moved(struct ike *ike, sp_time now, uint8_t proto, uint32_t spi_in, uint32_t addr,
		    uint16_t port)
{
	(void)now;
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->state == IKE_SA_DEAD || ike_child_by_spi(sa, proto, spi_in, true) == NULL)
			continue;
		if (ike_sa_may_follow(sa) &&
		    (sa->path.remote_addr != addr || sa->path.remote_port != port))
			ike_sa_move_peer(sa, addr, port, "ESP");
		return;
	}
}

void ike_acquire(struct ike *ike, sp_time now, const char *conn)
{
	if (ike_up(ike, now, conn) != 0)
		IKE_LOG(ike, SP_LOG_INFO, "acquire for %s: cannot start", conn);
}

void ike_keylog_wireshark(FILE *f, const struct ike_keylog *k)
{
	const char *e =
		k->encr == IKEV2_ENCR_AES_GCM_16
			? (k->encr_keylen == 128 ? "AES-GCM-128 with 16 octet ICV [RFC5282]"
						 : "AES-GCM-256 with 16 octet ICV [RFC5282]")
			: (k->encr_keylen == 128 ? "AES-CBC-128 [RFC3602]"
						 : "AES-CBC-256 [RFC3602]");

	fprintf(f, "%016llx,%016llx,", (unsigned long long)k->spi_i, (unsigned long long)k->spi_r);
	for (size_t i = 0; i < k->ekey_len; i++)
		fprintf(f, "%02x", k->sk_ei[i]);
	fputc(',', f);
	for (size_t i = 0; i < k->ekey_len; i++)
		fprintf(f, "%02x", k->sk_er[i]);
	fprintf(f, ",\"%s\",", e);
	for (size_t i = 0; i < k->akey_len; i++)
		fprintf(f, "%02x", k->sk_ai[i]);
	fputc(',', f);
	for (size_t i = 0; i < k->akey_len; i++)
		fprintf(f, "%02x", k->sk_ar[i]);
	fprintf(f, ",\"%s\"\n",
		k->integ == IKEV2_INTEG_HMAC_SHA2_256_128 ? "HMAC_SHA2_256_128 [RFC4868]"
							  : "NONE [RFC4306]");
}

void ike_keylog(const struct ike_sa *sa)
{
	const struct ike *ike = sa->ike;
	const struct ike_keys *k = &sa->keys;
	struct ike_keylog l = { sa->spi_i, sa->spi_r,	k->encr,    k->encr_keylen,
				k->integ,  k->sk_ei,	k->sk_er,   k->sk_ai,
				k->sk_ar,  k->ekey_len, k->akey_len };

	if (ike->p.keylog != NULL)
		ike->p.keylog(ike->p.keylog_arg, &l);
}

unsigned ike_sa_count(const struct ike *ike, bool established_only)
{
	unsigned n = 0;

	for (const struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		if (sa->state != IKE_SA_DEAD &&
		    (!established_only || sa->state == IKE_SA_ESTABLISHED))
			n++;
	return n;
}

unsigned ike_child_count(const struct ike *ike)
{
	unsigned n = 0;

	for (const struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		for (const struct ike_child *ch = sa->children; ch != NULL; ch = ch->next)
			n++;
	return n;
}

static const char *sa_state_name(enum ike_sa_state s)
{
	static const char *const names[] = {
		[IKE_SA_INIT_SENT] = "CONNECTING",
		[IKE_SA_INIT_DONE] = "HALF-OPEN",
		[IKE_SA_AUTH_SENT] = "AUTHENTICATING",
		[IKE_SA_ESTABLISHED] = "ESTABLISHED",
		[IKE_SA_REKEYED] = "REKEYED",
		[IKE_SA_DELETING] = "DELETING",
		[IKE_SA_DEAD] = "DEAD",
	};

	return names[s];
}

static const char *child_state_name(enum ike_child_state s)
{
	static const char *const names[] = {
		[IKE_CHILD_INSTALLED] = "INSTALLED",
		[IKE_CHILD_REKEYING] = "REKEYING",
		[IKE_CHILD_REKEYED] = "REKEYED",
		[IKE_CHILD_DELETING] = "DELETING",
	};

	return names[s];
}

static void show_algs(const struct ikev2_algs *a, FILE *out)
{
	if (a->encr == IKEV2_ENCR_AES_GCM_16)
		fprintf(out, "aes%ugcm16", a->encr_keylen);
	else if (a->encr == IKEV2_ENCR_AES_CBC)
		fprintf(out, "aes%u-sha256", a->encr_keylen);
	else if (a->integ != 0)
		fprintf(out, "sha256");
	if (a->prf != 0)
		fprintf(out, "-%s", crypto_prf_name(a->prf));
	if (a->dh != 0)
		fprintf(out, "-%s", crypto_dh_name(a->dh));
}

static void show_ts(const struct ike_ts *ts, uint8_t n, FILE *out)
{
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

	for (uint8_t i = 0; i < n; i++) {
		int len = -1;

		/* a.b.c.d/len when the range is a prefix, else first-last */
		for (int l = 0; l <= 32 && len < 0; l++)
			if ((ts[i].ts_start & sp_ip4_mask((uint8_t)l)) == ts[i].ts_start &&
			    (ts[i].ts_start | ~sp_ip4_mask((uint8_t)l)) == ts[i].ts_end)
				len = l;
		fprintf(out, "%s%s", i > 0 ? "," : "", sp_ip4_fmt(ts[i].ts_start, a));
		if (len >= 0)
			fprintf(out, "/%d", len);
		else
			fprintf(out, "-%s", sp_ip4_fmt(ts[i].ts_end, b));
		if (ts[i].ts_proto != 0 || ts[i].ts_port_start != 0 || ts[i].ts_port_end != 65535)
			fprintf(out, "[%u/%u-%u]", ts[i].ts_proto, ts[i].ts_port_start,
				ts[i].ts_port_end);
	}
}

static long secs_until(sp_time when, sp_time now)
{
	if (when == SP_TIME_NEVER)
		return -1;
	return when > now ? (long)((when - now) / SP_SEC(1)) : 0;
}

void ike_show(const struct ike *ike, sp_time now, FILE *out)
{
	char l[SP_IP4_STRLEN], r[SP_IP4_STRLEN];
	unsigned n = 0;

	for (const struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->state == IKE_SA_DEAD)
			continue;
		n++;
		fprintf(out, "%s: IKE SA %016llx_i %016llx_r %s, %s[%u] <-> %s[%u], %s",
			sa->conn->name, (unsigned long long)sa->spi_i,
			(unsigned long long)sa->spi_r, sa_state_name(sa->state),
			sp_ip4_fmt(sa->path.local_addr, l), sa->path.local_port,
			sp_ip4_fmt(sa->path.remote_addr, r), sa->path.remote_port,
			sa->initiator ? "initiator" : "responder");
		if (sa->keys.prf_len != 0) {
			fprintf(out, ", ");
			show_algs(&sa->algs, out);
		}
		fprintf(out, ", NAT: %s%s%s\n", sa->nat_local ? "local" : "",
			sa->nat_local && sa->nat_remote ? "+" : "",
			sa->nat_remote	 ? "remote"
			: !sa->nat_local ? "none"
					 : "");
		if (sa->state == IKE_SA_ESTABLISHED) {
			char me[128], peer[128];

			ike_id_fmt(sa->conn->local_id.type, sa->conn->local_id.data,
				   sa->conn->local_id.len, me, sizeof(me));
			if (sa->peer_id.type != 0)
				ike_id_fmt(sa->peer_id.type, sa->peer_id.data, sa->peer_id.len,
					   peer, sizeof(peer));
			else
				snprintf(peer, sizeof(peer), "?");
			fprintf(out, "  established %lds ago, rekey in %lds, expires in %lds\n",
				(long)((now - sa->established) / SP_SEC(1)),
				secs_until(sa->rekey_at, now), secs_until(sa->expire_at, now));
			fprintf(out, "  identities: %s === %s\n", me, peer);
		}
		for (const struct ike_child *ch = sa->children; ch != NULL; ch = ch->next) {
			fprintf(out, "  CHILD %s %s%s %08x_i %08x_o %s, ",
				ch->proto == IKE_PROTO_ESP ? "esp" : "ah",
				ch->tunnel ? "tunnel" : "transport", ch->encap ? " udp-encap" : "",
				ch->spi_in, ch->spi_out, child_state_name(ch->state));
			show_algs(&ch->algs, out);
			fprintf(out, ", ");
			show_ts(ch->ts_local, ch->n_ts_local, out);
			fprintf(out, " === ");
			show_ts(ch->ts_remote, ch->n_ts_remote, out);
			fprintf(out,
				"\n    installed %lds ago, rekey in %lds, expires in "
				"%lds\n",
				(long)((now - ch->installed) / SP_SEC(1)),
				secs_until(ch->rekey_at, now), secs_until(ch->expire_at, now));
		}
	}
	if (n == 0)
		fprintf(out, "no IKE SAs\n");
}
