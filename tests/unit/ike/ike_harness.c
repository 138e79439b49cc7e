#include "ike_harness.h"

#include "base/addr.h"
#include "base/cursor.h"
#include "ike/ike_priv.h"
#include "proto/ikev2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAT_INSIDE  SP_IP4(10, 0, 0, 1)
#define NAT_OUTSIDE SP_IP4(192, 0, 2, 1)

static void h_output(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct h_node *n = arg;
	struct h_world *w = n->w;
	struct h_msg *m;

	if (w->nq >= H_MAX_MSG || len > sizeof(m->data))
		return;
	m = &w->q[w->nq];
	m->to = 1 - n->idx;
	/* The receiver sees the sender's path mirrored. */
	m->path.local_addr = path->remote_addr;
	m->path.local_port = path->remote_port;
	m->path.remote_addr = path->local_addr;
	m->path.remote_port = path->local_port;
	memcpy(m->data, msg, len);
	m->len = len;
	w->nq++;
	w->sent[n->idx]++;
}

static void h_event(void *arg, const struct ike_event *ev)
{
	struct h_node *n = arg;

	if (n->nev < H_MAX_EV)
		n->ev[n->nev++] = *ev;
}

static int h_sa_add(void *arg, sp_time now, const struct ike_child_sa *sa, bool current)
{
	struct h_node *n = arg;

	(void)now;

	for (int i = 0; i < H_MAX_SA; i++) {
		struct h_sa *s = &n->sas[i];

		if (s->used)
			continue;
		s->used = true;
		s->sa = *sa;
		s->current = current;
		memcpy(s->ekey, sa->encr_key, sa->encr_key_len);
		memcpy(s->akey, sa->integ_key, sa->integ_key_len);
		memcpy(s->tsl, sa->ts_local, sa->n_ts_local * sizeof(struct ike_ts));
		memcpy(s->tsr, sa->ts_remote, sa->n_ts_remote * sizeof(struct ike_ts));
		s->sa.encr_key = s->ekey;
		s->sa.integ_key = s->akey;
		s->sa.ts_local = s->tsl;
		s->sa.ts_remote = s->tsr;
		s->sa.conn = NULL;
		return 0;
	}
	return SP_EFULL;
}

static int h_sa_del(void *arg, uint8_t proto, uint32_t spi, bool inbound, uint32_t dst,
		    uint32_t reqid)
{
	struct h_node *n = arg;

	(void)dst;
	for (int i = 0; i < H_MAX_SA; i++) {
		struct h_sa *s = &n->sas[i];

		if (s->used && s->sa.proto == proto && s->sa.spi == spi &&
		    s->sa.inbound == inbound && s->sa.reqid == reqid) {
			s->used = false;
			return 0;
		}
	}
	return SP_ENOTFOUND;
}

static int h_sa_move(void *arg, const struct ike_child_sa *sa)
{
	struct h_node *n = arg;

	for (int i = 0; i < H_MAX_SA; i++) {
		struct h_sa *s = &n->sas[i];

		if (s->used && s->sa.proto == sa->proto && s->sa.spi == sa->spi &&
		    s->sa.inbound == sa->inbound && s->sa.reqid == sa->reqid) {
			s->sa.src = sa->src;
			s->sa.dst = sa->dst;
			s->sa.encap_sport = sa->encap_sport;
			s->sa.encap_dport = sa->encap_dport;
			n->moves++;
			return 0;
		}
	}
	return SP_ENOTFOUND;
}

static bool h_spi_in_use(void *arg, uint8_t proto, uint32_t spi)
{
	struct h_node *n = arg;

	for (int i = 0; i < H_MAX_SA; i++)
		if (n->sas[i].used && n->sas[i].sa.inbound && n->sas[i].sa.proto == proto &&
		    n->sas[i].sa.spi == spi)
			return true;
	return false;
}

static void h_keylog(void *arg, const struct ike_keylog *k)
{
	struct h_node *n = arg;

	if (n->w->keylog != NULL)
		ike_keylog_wireshark(n->w->keylog, k);
}

static void h_sink(void *arg, int level, const char *module, const char *msg)
{
	struct h_node *n = arg;

	if (level >= 0 && level < 4)
		n->nlog[level]++;
	snprintf(n->logs[n->nlogs++ % 64], sizeof(n->logs[0]), "%s %s: %s",
		 sp_log_level_name(level), module, msg);
	if (getenv("IKE_TEST_LOG") != NULL)
		fprintf(stderr, "[%.3f] node%d %s %s: %s\n", (double)n->w->now / 1e9, n->idx,
			sp_log_level_name(level), module, msg);
}

/* The IKE instance of node i on its configuration (parsed already). */
static int node_ike(struct h_world *w, int i)
{
	struct h_node *n = &w->n[i];
	struct ike_params p = { 0 };
	int r;

	p.name = i == 0 ? "n0" : "n1";
	p.log = &n->log;
	p.ctrs = &n->ctrs;
	p.rng = &n->rng.rng;
	p.output = h_output;
	p.output_arg = n;
	p.event = h_event;
	p.event_arg = n;
	p.kernel.sa_add = h_sa_add;
	p.kernel.sa_del = h_sa_del;
	p.kernel.sa_move = h_sa_move;
	p.kernel.spi_in_use = h_spi_in_use;
	p.kernel.arg = n;
	if (i == 0) {
		p.keylog = h_keylog;
		p.keylog_arg = n;
	}
	p.crl_fetch = w->crl_fetch;
	p.crl_fetch_arg = w->crl_fetch_arg;
	if ((r = ike_new(&p, n->conf, &n->ike)) != 0) {
		fprintf(stderr, "ike_new: %s: %s\n", sp_strerror(r), conf_error(n->conf));
		return r;
	}
	return 0;
}

int h_init(struct h_world *w, const char *conf0, const char *conf1, uint64_t seed)
{
	return h_init_with(w, conf0, conf1, seed, NULL, NULL);
}

int h_init_with(struct h_world *w, const char *conf0, const char *conf1, uint64_t seed,
		int (*crl_fetch)(void *arg, const char *uri, uint8_t **crl, size_t *len),
		void *crl_fetch_arg)
{
	const char *confs[2] = { conf0, conf1 };
	int r;

	memset(w, 0, sizeof(*w));
	if ((w->q = calloc(H_MAX_MSG, sizeof(*w->q))) == NULL)
		return SP_ENOMEM;
	w->crl_fetch = crl_fetch;
	w->crl_fetch_arg = crl_fetch_arg;
	w->now = SP_SEC(1000);
	for (int i = 0; i < 2; i++) {
		struct h_node *n = &w->n[i];

		n->idx = i;
		n->w = w;
		sp_xoshiro_seed(&n->rng, seed * 2 + (uint64_t)i);
		n->log.sink = h_sink;
		n->log.arg = n;
		n->log.level = SP_LOG_DEBUG;
		sp_ctr_registry_init(&n->ctrs);
		if ((r = conf_parse_string(confs[i], i == 0 ? "node0" : "node1", &n->conf)) != 0) {
			fprintf(stderr, "%s\n", n->conf ? conf_error(n->conf) : "conf");
			return r;
		}
		if ((r = node_ike(w, i)) != 0)
			return r;
		if ((r = conf_check_unused(n->conf)) != 0) {
			fprintf(stderr, "%s\n", conf_error(n->conf));
			return r;
		}
	}
	for (int i = 0; i < 2; i++)
		ike_start(w->n[i].ike, w->now);
	return 0;
}

int h_restart(struct h_world *w, int i, bool crash)
{
	struct h_node *n = &w->n[i];
	int r;

	if (!crash)
		ike_shutdown(n->ike, w->now);
	ike_free(n->ike);
	n->ike = NULL;
	/* A crash loses the data plane too; an orderly stop has emptied it already. */
	memset(n->sas, 0, sizeof(n->sas));
	/* What was on its way to the node finds nobody. */
	for (unsigned k = 0; k < w->nq;) {
		if (w->q[k].to == i) {
			memmove(&w->q[k], &w->q[k + 1], (w->nq - k - 1) * sizeof(*w->q));
			w->nq--;
		} else {
			k++;
		}
	}
	if ((r = node_ike(w, i)) != 0)
		return r;
	ike_start(n->ike, w->now);
	return 0;
}

void h_free(struct h_world *w)
{
	for (int i = 0; i < 2; i++) {
		ike_free(w->n[i].ike);
		conf_free(w->n[i].conf);
	}
	free(w->q);
}

void h_run(struct h_world *w, sp_time until)
{
	for (int guard = 0; guard < 100000; guard++) {
		if (w->nq > 0) {
			struct h_msg m = w->q[0];

			memmove(&w->q[0], &w->q[1], (w->nq - 1) * sizeof(*w->q));
			w->nq--;
			w->now += SP_MSEC(1);
			if (w->nat) {
				/* NAPT in front of node 0: its source becomes the outside address
				 * with the port moved up by nat_shift; the reverse on the way in,
				 * where only node 0's ports 500 and 4500 are mapped. */
				uint16_t shift = w->nat_shift != 0 ? w->nat_shift : 10000;

				if (m.to == 1 && m.path.remote_addr == NAT_INSIDE) {
					m.path.remote_addr = NAT_OUTSIDE;
					m.path.remote_port = (uint16_t)(m.path.remote_port + shift);
				} else if (m.to == 0 && m.path.local_addr == NAT_OUTSIDE) {
					uint16_t in = (uint16_t)(m.path.local_port - shift);

					if (in != 500 && in != 4500) {
						w->nat_dropped++;
						continue;
					}
					m.path.local_addr = NAT_INSIDE;
					m.path.local_port = in;
				}
			}
			if (w->filter == NULL || w->filter(w, &m))
				ike_input(w->n[m.to].ike, w->now, &m.path, m.data, m.len);
			continue;
		}
		sp_time t =
			sp_time_min(ike_next_deadline(w->n[0].ike), ike_next_deadline(w->n[1].ike));
		if (t == SP_TIME_NEVER || t > until)
			break;
		if (t > w->now)
			w->now = t;
		for (int i = 0; i < 2; i++)
			ike_tick(w->n[i].ike, w->now);
	}
	if (w->now < until && until != SP_TIME_NEVER)
		w->now = until;
}

unsigned h_events(const struct h_node *n, enum ike_event_type t)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n->nev; i++)
		c += n->ev[i].type == t;
	return c;
}

unsigned h_sa_count(const struct h_node *n)
{
	unsigned c = 0;

	for (int i = 0; i < H_MAX_SA; i++)
		c += n->sas[i].used;
	return c;
}

const struct h_sa *h_sa_find(const struct h_node *n, uint32_t spi, bool inbound)
{
	for (int i = 0; i < H_MAX_SA; i++)
		if (n->sas[i].used && n->sas[i].sa.spi == spi && n->sas[i].sa.inbound == inbound)
			return &n->sas[i];
	return NULL;
}

bool h_keys_pair(const struct h_node *a, const struct h_node *b)
{
	for (int k = 0; k < 2; k++) {
		const struct h_node *x = k == 0 ? a : b, *y = k == 0 ? b : a;

		for (int i = 0; i < H_MAX_SA; i++) {
			const struct h_sa *s = &x->sas[i], *t;

			if (!s->used || s->sa.inbound)
				continue;
			if ((t = h_sa_find(y, s->sa.spi, true)) == NULL)
				return false;
			if (s->sa.encr != t->sa.encr || s->sa.integ != t->sa.integ ||
			    s->sa.encr_key_len != t->sa.encr_key_len ||
			    s->sa.integ_key_len != t->sa.integ_key_len ||
			    memcmp(s->ekey, t->ekey, s->sa.encr_key_len) != 0 ||
			    memcmp(s->akey, t->akey, s->sa.integ_key_len) != 0 ||
			    s->sa.tunnel != t->sa.tunnel || s->sa.encap != t->sa.encap)
				return false;
		}
	}
	return true;
}

uint64_t h_ctr(const struct h_node *n, const char *name)
{
	return sp_ctr_get(&n->ctrs, "ike", name);
}

bool h_logged(const struct h_node *n, const char *text)
{
	for (unsigned i = 0; i < 64 && i < n->nlogs; i++)
		if (strstr(n->logs[i], text) != NULL)
			return true;
	return false;
}

struct ike_sa *h_ike_sa(const struct h_node *n, uint64_t spi_i)
{
	for (struct ike_sa *sa = n->ike->sas; sa != NULL; sa = sa->next)
		if (sa->spi_i == spi_i && sa->keys.prf_len != 0)
			return sa;
	return NULL;
}

size_t h_skf_seal(struct ike_sa *sa, const struct h_skf *f, const uint8_t *content, size_t clen,
		  uint8_t *out)
{
	struct ike_keys *k = &sa->keys;
	size_t blk = k->encr == IKEV2_ENCR_AES_CBC ? 16 : 1;
	size_t pad = (blk - (clen + 1) % blk) % blk;
	/* IKE header | SKF header | Fragment Number | Total Fragments | IV | ... | ICV */
	size_t iv_off = IKEV2_HDR_LEN + IKEV2_PLD_HDR_LEN + 4, ctlen = clen + pad + 1;
	size_t len = iv_off + k->iv_len + ctlen + k->icv_len;
	uint8_t *iv = out + iv_off, *ct = iv + k->iv_len;

	sp_store_be64(out, sa->spi_i);
	sp_store_be64(out + 8, sa->spi_r);
	out[IKEV2_OFF_NP] = IKEV2_PLD_SKF;
	out[IKEV2_OFF_VER] = 0x20;
	out[IKEV2_OFF_EXCH] = f->exch;
	out[IKEV2_OFF_FLAGS] = f->flags;
	sp_store_be32(out + IKEV2_OFF_MSGID, f->msgid);
	sp_store_be32(out + IKEV2_OFF_LEN, (uint32_t)len);
	out[IKEV2_HDR_LEN] = f->np;
	out[IKEV2_HDR_LEN + 1] = 0; /* C and RESERVED */
	sp_store_be16(out + IKEV2_HDR_LEN + 2, (uint16_t)(len - IKEV2_HDR_LEN + f->len_adj));
	sp_store_be16(out + IKEV2_HDR_LEN + 4, f->num);
	sp_store_be16(out + IKEV2_HDR_LEN + 6, f->total);
	memset(iv, 0, k->iv_len);
	sp_store_be64(iv, ++k->iv_ctr); /* unique under the key (RFC 5282 3.1) */
	memcpy(ct, content, clen);
	memset(ct + clen, 0, pad);
	ct[clen + pad] = f->pad_255 ? 255 : (uint8_t)pad;
	/* the associated data runs through Total Fragments: the header is protected too */
	if (ike_sk_seal(k, 0, out, iv_off, ct, ctlen, ct + ctlen) != 0)
		return 0;
	return len;
}
