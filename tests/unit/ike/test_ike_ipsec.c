/*
 * IKE driving spinat's own data plane (ike/ike_ipsec.h): after IKE_AUTH, after a CHILD SA
 * rekey and after an IKE SA rekey, a packet sent into one ipsec engine comes out of the
 * other's local side, so the keys, SPIs, selectors and policies IKE installed agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/addr.h"
#include "base/conf.h"
#include "base/rand.h"
#include "ike/ike_ipsec.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define QMAX 64

struct node {
	struct ike *ike;
	struct ipsec *ipsec;
	struct conf *conf;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	int idx;
	struct world *w;
	unsigned delivered; /* cleartext packets out of local_out */
	uint32_t last_src, last_dst;
};

struct msg {
	int to;
	bool ike;
	struct ike_path path;
	uint8_t b[4096];
	size_t len;
};

struct world {
	struct node n[2];
	struct msg q[QMAX];
	unsigned nq;
	sp_time now;
	struct pkt_pool pool;
};

static void ike_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct node *n = arg;
	struct msg *m = &n->w->q[n->w->nq++];

	assert_true(n->w->nq <= QMAX && len <= sizeof(m->b));
	m->to = 1 - n->idx;
	m->ike = true;
	m->path = (struct ike_path){ path->remote_addr, path->local_addr, path->remote_port,
				     path->local_port };
	memcpy(m->b, msg, len);
	m->len = len;
}

static void net_out(void *arg, struct pkt *p)
{
	struct node *n = arg;
	struct msg *m = &n->w->q[n->w->nq++];

	assert_true(n->w->nq <= QMAX && p->len <= sizeof(m->b));
	m->to = 1 - n->idx;
	m->ike = false;
	memcpy(m->b, pkt_data(p), p->len);
	m->len = p->len;
	pkt_free(p);
}

static void local_out(void *arg, struct pkt *p)
{
	struct node *n = arg;
	struct ipv4_hdr h;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, &h) == 0) {
		n->last_src = h.ip_src;
		n->last_dst = h.ip_dst;
		n->delivered++;
	}
	pkt_free(p);
}

static void ipsec_ev(void *arg, const struct ipsec_event *ev)
{
	struct node *n = arg;

	ike_ipsec_event(n->ike, n->w->now, ev);
}

static const char *const confs[2] = {
	"[conn c]\nlocal = 198.51.100.1\nremote = 198.51.100.2\nauto = start\n"
	"psk = sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
	"esp = aes128-sha256-x25519\n",
	"[conn c]\nlocal = 198.51.100.2\nremote = %any\npsk = sharedsecret1\n"
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\nesp = aes128-sha256-x25519\n",
};

static void setup_world(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->now = SP_SEC(100);
	assert_int_equal(pkt_pool_init(&w->pool, 256, PKT_BUFSIZE), 0);
	for (int i = 0; i < 2; i++) {
		struct node *n = &w->n[i];
		struct ipsec_cfg ic = { 0 };
		struct ike_params p = { 0 };

		n->idx = i;
		n->w = w;
		sp_xoshiro_seed(&n->rng, 40 + (uint64_t)i);
		sp_ctr_registry_init(&n->ctrs);
		ic.name = i == 0 ? "a" : "b";
		ic.rng = &n->rng.rng;
		ic.ctrs = &n->ctrs;
		ic.pool = &w->pool;
		ic.natt_keepalive = SP_TIME_NEVER;
		ic.net_out = net_out;
		ic.local_out = local_out;
		ic.event = ipsec_ev;
		ic.arg = n;
		assert_int_equal(ipsec_new(&n->ipsec, &ic), 0);
		assert_int_equal(conf_parse_string(confs[i], "c", &n->conf), 0);
		p.name = ic.name;
		p.rng = &n->rng.rng;
		p.ctrs = &n->ctrs;
		p.output = ike_out;
		p.output_arg = n;
		ike_ipsec_ops(n->ipsec, &p.kernel);
		assert_int_equal(ike_new(&p, n->conf, &n->ike), 0);
	}
	ike_start(w->n[0].ike, w->now);
}

static void run(struct world *w, sp_time span)
{
	sp_time until = w->now + span;

	for (;;) {
		if (w->nq > 0) {
			struct msg m = w->q[0];
			struct node *n = &w->n[m.to];

			memmove(&w->q[0], &w->q[1], --w->nq * sizeof(w->q[0]));
			w->now += SP_MSEC(1);
			if (m.ike) {
				ike_input(n->ike, w->now, &m.path, m.b, m.len);
			} else {
				struct pkt *p = pkt_alloc(&w->pool);

				assert_non_null(p);
				assert_int_equal(pkt_append(p, m.b, (uint32_t)m.len), 0);
				ipsec_input(n->ipsec, w->now, p);
			}
			continue;
		}
		sp_time t =
			sp_time_min(ike_next_deadline(w->n[0].ike), ike_next_deadline(w->n[1].ike));
		if (t > until)
			break;
		w->now = SP_MAX(w->now, t);
		for (int i = 0; i < 2; i++)
			ike_tick(w->n[i].ike, w->now);
	}
	w->now = until;
}

/* A UDP packet from the inside network of node i through its engine. */
static void send_inner(struct world *w, int i, uint32_t src, uint32_t dst)
{
	struct pkt *p = pkt_alloc(&w->pool);
	struct ipv4_hdr h = { 0 };
	static const char data[] = "through the tunnel";

	assert_non_null(p);
	assert_int_equal(pkt_append(p, data, sizeof(data)), 0);
	assert_int_equal(udp_build(p, 1234, 5678, src, dst, true), 0);
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_UDP;
	h.ip_src = src;
	h.ip_dst = dst;
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	ipsec_output(w->n[i].ipsec, w->now, p);
}

static void both_ways(struct world *w)
{
	unsigned a = w->n[0].delivered, b = w->n[1].delivered;

	send_inner(w, 0, SP_IP4(10, 1, 0, 5), SP_IP4(10, 2, 0, 7));
	run(w, SP_MSEC(10));
	assert_int_equal(w->n[1].delivered, b + 1);
	assert_int_equal(w->n[1].last_dst, SP_IP4(10, 2, 0, 7));
	send_inner(w, 1, SP_IP4(10, 2, 0, 7), SP_IP4(10, 1, 0, 5));
	run(w, SP_MSEC(10));
	assert_int_equal(w->n[0].delivered, a + 1);
	assert_int_equal(w->n[0].last_src, SP_IP4(10, 2, 0, 7));
}

static void traffic_after_every_step(void **state)
{
	struct world w;

	(void)state;
	setup_world(&w);
	run(&w, SP_SEC(5));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	both_ways(&w);
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	run(&w, SP_SEC(5));
	both_ways(&w);
	assert_int_equal(ike_rekey(w.n[1].ike, w.now, "c", true), 0);
	run(&w, SP_SEC(5));
	both_ways(&w);
	/* the old SAs are gone from both databases: 2 SAs each */
	for (int i = 0; i < 2; i++) {
		unsigned n = 0;

		for (const struct sa *s = ipsec_sa_next(w.n[i].ipsec, NULL); s != NULL;
		     s = ipsec_sa_next(w.n[i].ipsec, s))
			n++;
		assert_int_equal(n, 2);
	}
	/* down: SAs and policies removed; traffic no longer protected */
	assert_int_equal(ike_down(w.n[0].ike, w.now, "c"), 0);
	run(&w, SP_SEC(5));
	for (int i = 0; i < 2; i++) {
		assert_null(ipsec_sa_next(w.n[i].ipsec, NULL));
		assert_null(ipsec_policy_next(w.n[i].ipsec, NULL));
	}
	for (int i = 0; i < 2; i++) {
		ike_free(w.n[i].ike);
		ipsec_free(w.n[i].ipsec);
		conf_free(w.n[i].conf);
	}
	pkt_pool_destroy(&w.pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(traffic_after_every_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
