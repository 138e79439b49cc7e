/*
 * The endpoint stack (host/endpoint.h) with two stub host modules, A nearer the host and
 * B nearer the wire, between two stacks keyed by hand: the order in which each hook runs
 * on the way out and in, a packet a module holds and lets go on, a module's own packet,
 * a drop, and the modules' timers in the stack's deadline. Then between two stacks that
 * run IKE: the SPI policy asked module by module, and IKE's events in module order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "host/endpoint.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#define KEY_AB "0x101112131415161718191a1b1c1d1e1f20212223"
#define KEY_BA "0x303132333435363738393a3b3c3d3e3f40414243"
#define ADDR_1 "10.0.1.2"
#define ADDR_2 "10.0.2.2"

/* What every hook of every stub wrote, in order: "A.out_clear B.out_clear ...". */
static char trace[2048];

static void note(const char *who, const char *what)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%s%s.%s", n > 0 ? " " : "", who, what);
}

struct stub {
	const char *name;
	struct endpoint *ep;
	bool hold_out; /* out_clear keeps the packet in held */
	bool drop_in;  /* in_wire drops */
	struct pkt *held;
	sp_time deadline;
	unsigned ticks;
	uint32_t esp_spi; /* spi(): this inbound ESP SPI; 0: not this module's */
	enum ike_event_type ev[8];
	unsigned nev;
};

/* create() hands out these, by the order the stack asks: A, then B. */
static struct stub stubs[2];
static unsigned made;

static int stub_create(struct endpoint *ep, struct conf *conf, void **ctx)
{
	struct stub *s = &stubs[made++ % 2];

	(void)conf;
	s->ep = ep;
	*ctx = s;
	return 0;
}

static void stub_destroy(void *ctx)
{
	struct stub *s = ctx;

	pkt_free(s->held);
	s->held = NULL;
}

static enum endpoint_verdict stub_out_clear(void *ctx, sp_time now, struct pkt *p)
{
	struct stub *s = ctx;

	(void)now;
	note(s->name, "out_clear");
	if (s->hold_out) {
		s->held = p;
		return EP_CONSUMED;
	}
	return EP_PASS;
}

static int stub_pre_protect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	(void)now;
	(void)p;
	assert_int_equal(sa->dir, SA_DIR_OUT);
	note(((struct stub *)ctx)->name, "pre_protect");
	return 0;
}

static enum endpoint_verdict stub_out_wire(void *ctx, sp_time now, struct pkt *p)
{
	(void)now;
	(void)p;
	note(((struct stub *)ctx)->name, "out_wire");
	return EP_PASS;
}

static enum endpoint_verdict stub_in_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct stub *s = ctx;

	(void)now;
	(void)p;
	note(s->name, "in_wire");
	return s->drop_in ? EP_DROP : EP_PASS;
}

static int stub_post_unprotect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	(void)now;
	(void)p;
	assert_int_equal(sa->dir, SA_DIR_IN);
	note(((struct stub *)ctx)->name, "post_unprotect");
	return 0;
}

static enum endpoint_verdict stub_in_clear(void *ctx, sp_time now, struct pkt *p)
{
	(void)now;
	(void)p;
	note(((struct stub *)ctx)->name, "in_clear");
	return EP_PASS;
}

static sp_time stub_deadline(const void *ctx)
{
	return ((const struct stub *)ctx)->deadline;
}

static void stub_tick(void *ctx, sp_time now)
{
	struct stub *s = ctx;

	note(s->name, "tick");
	if (now >= s->deadline) {
		s->ticks++;
		s->deadline = SP_TIME_NEVER;
	}
}

static int stub_spi(void *ctx, sp_time now, const struct ike_spi_req *req, uint64_t *spi)
{
	struct stub *s = ctx;

	(void)now;
	note(s->name, req->proto == IKE_PROTO_IKE ? "spi(ike)" : "spi(esp)");
	if (req->proto != IKE_PROTO_ESP || s->esp_spi == 0)
		return SP_ENOTFOUND;
	*spi = s->esp_spi;
	return 0;
}

static void stub_ike_event(void *ctx, sp_time now, const struct ike_event *ev)
{
	struct stub *s = ctx;

	(void)now;
	note(s->name, "ike_event");
	if (s->nev < 8)
		s->ev[s->nev++] = ev->type;
}

static const struct endpoint_module_ops stub_ops = {
	.name = "stub",
	.create = stub_create,
	.destroy = stub_destroy,
	.out_clear = stub_out_clear,
	.pre_protect = stub_pre_protect,
	.out_wire = stub_out_wire,
	.in_wire = stub_in_wire,
	.post_unprotect = stub_post_unprotect,
	.in_clear = stub_in_clear,
	.next_deadline = stub_deadline,
	.tick = stub_tick,
	.spi = stub_spi,
	.ike_event = stub_ike_event,
};

static const struct endpoint_module_ops *const two_stubs[] = { &stub_ops, &stub_ops };

/* What the owner got: packets for the network and for the host. */
struct owner {
	struct pkt *net[8];
	unsigned nnet;
	struct pkt *local[4];
	unsigned nlocal;
};

static void own_net_out(void *arg, sp_time now, struct pkt *p)
{
	struct owner *o = arg;

	(void)now;
	note("io", "net_out");
	assert_true(o->nnet < 8);
	o->net[o->nnet++] = p;
}

static void own_local_out(void *arg, sp_time now, struct pkt *p)
{
	struct owner *o = arg;

	(void)now;
	note("io", "local_out");
	assert_true(o->nlocal < 4);
	o->local[o->nlocal++] = p;
}

struct world {
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	struct conf *conf1, *conf2;
	struct endpoint *ep1, *ep2; /* ep1 has the stubs; ep2 is a plain peer */
	struct owner o1, o2;
};

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sp_ip4_parse(s, &a), 0);
	return a;
}

static void side_conf(char *buf, size_t len, const char *me, const char *peer, uint32_t spi_out,
		      uint32_t spi_in, const char *key_out, const char *key_in)
{
	snprintf(buf, len,
		 "[policy t]\nsrc = %s\ndst = %s\naction = esp\nmode = transport\nreqid = 1\n"
		 "[sa out]\ndir = out\nspi = %u\nsrc = %s\ndst = %s\nmode = transport\n"
		 "enc = aes-gcm-16\nenc_key = %s\nreqid = 1\n"
		 "[sa in]\ndir = in\nspi = %u\nsrc = %s\ndst = %s\nmode = transport\n"
		 "enc = aes-gcm-16\nenc_key = %s\nreqid = 1\n",
		 me, peer, spi_out, me, peer, key_out, spi_in, peer, me, key_in);
}

/* An IKE message the stack could not fit in a packet buffer, on the owner's own socket. */
static struct {
	struct ike_path path;
	uint8_t msg[4096];
	size_t len;
	unsigned n;
	int ret; /* what the owner answers: 0 taken, SP_ENOTFOUND no socket */
} long_ike;

static int own_ike_send(void *arg, sp_time now, const struct ike_path *path, const uint8_t *msg,
			size_t len)
{
	(void)arg;
	(void)now;
	assert_true(len <= sizeof(long_ike.msg));
	long_ike.path = *path;
	memcpy(long_ike.msg, msg, len);
	long_ike.len = len;
	long_ike.n++;
	return long_ike.ret;
}

static void make(struct world *w, const char *text, struct conf **conf, struct owner *o,
		 bool stubs_on, struct endpoint **ep)
{
	struct endpoint_params p = {
		.name = stubs_on ? "ep1" : "ep2",
		.ctrs = &w->ctrs,
		.rng = &w->rng.rng,
		.pool = &w->pool,
		.iv_epoch = 1, /* static AES-GCM keys need one (RFC 4106 3.1) */
		.modules = stubs_on ? two_stubs : NULL,
		.nmodules = stubs_on ? 2 : 0,
		.io = { .net_out = own_net_out,
			.local_out = own_local_out,
			.ike_send = stubs_on ? own_ike_send : NULL,
			.arg = o },
	};

	assert_int_equal(conf_parse_string(text, p.name, conf), 0);
	assert_int_equal(endpoint_new(&p, *conf, 0, ep), 0);
}

static struct world the_world;

static uint32_t pool_bufsize = 4096;

static void reset_world(struct world *w)
{
	memset(w, 0, sizeof(*w));
	memset(stubs, 0, sizeof(stubs));
	stubs[0] = (struct stub){ .name = "A", .deadline = SP_TIME_NEVER };
	stubs[1] = (struct stub){ .name = "B", .deadline = SP_TIME_NEVER };
	made = 0;
	trace[0] = 0;
	assert_int_equal(pkt_pool_init(&w->pool, 64, pool_bufsize), 0);
	memset(&long_ike, 0, sizeof(long_ike));
	sp_xoshiro_seed(&w->rng, 11);
	sp_ctr_registry_init(&w->ctrs);
}

static int setup(void **state)
{
	struct world *w = &the_world;
	char c1[1024], c2[1024];

	reset_world(w);
	side_conf(c1, sizeof(c1), ADDR_1, ADDR_2, 0x1000, 0x2000, KEY_AB, KEY_BA);
	side_conf(c2, sizeof(c2), ADDR_2, ADDR_1, 0x2000, 0x1000, KEY_BA, KEY_AB);
	make(w, c1, &w->conf1, &w->o1, true, &w->ep1);
	make(w, c2, &w->conf2, &w->o2, false, &w->ep2);
	*state = w;
	return 0;
}

/* Two stacks running IKE: ep1 initiates (auto = start), ep2 answers any peer. */
static int setup_ike(void **state)
{
	struct world *w = &the_world;

	reset_world(w);
	make(w,
	     "[conn c]\nlocal = " ADDR_1 "\nremote = " ADDR_2 "\nauto = start\n"
	     "psk = sharedsecret1\nencap = no\nmode = transport\n",
	     &w->conf1, &w->o1, true, &w->ep1);
	make(w,
	     "[conn c]\nlocal = " ADDR_2 "\nremote = %any\npsk = sharedsecret1\n"
	     "encap = no\nmode = transport\nremote_ts = " ADDR_1 "/32\n",
	     &w->conf2, &w->o2, false, &w->ep2);
	*state = w;
	return 0;
}

/* Carry each side's packets to the other until both are quiet. */
static void exchange(struct world *w, sp_time now)
{
	for (int round = 0; round < 16 && (w->o1.nnet > 0 || w->o2.nnet > 0); round++) {
		struct owner a = w->o1, b = w->o2;

		memset(&w->o1, 0, sizeof(w->o1));
		memset(&w->o2, 0, sizeof(w->o2));
		w->o1.nlocal = a.nlocal;
		w->o2.nlocal = b.nlocal;
		memcpy(w->o1.local, a.local, sizeof(a.local));
		memcpy(w->o2.local, b.local, sizeof(b.local));
		for (unsigned i = 0; i < a.nnet; i++)
			endpoint_input(w->ep2, now, a.net[i]);
		for (unsigned i = 0; i < b.nnet; i++)
			endpoint_input(w->ep1, now, b.net[i]);
	}
	assert_int_equal(w->o1.nnet + w->o2.nnet, 0);
}

static bool has_sa(const struct endpoint *ep, enum sa_dir dir, uint32_t spi)
{
	const struct ipsec *e = endpoint_ipsec(ep);

	for (const struct sa *s = ipsec_sa_next(e, NULL); s != NULL; s = ipsec_sa_next(e, s))
		if (s->dir == dir && s->spi == spi)
			return true;
	return false;
}

/*
 * IKE asks the modules for its SPIs in module order: A passes, B hands out the inbound ESP
 * SPI (a leased one, say), and the CHILD SA is made with it on both sides. IKE's events
 * reach A, then B.
 */
static void test_spi_policy_and_events(void **state)
{
	struct world *w = *state;

	stubs[1].esp_spi = 0x5a5a0101;
	endpoint_start(w->ep1, SP_SEC(1));
	assert_non_null(strstr(trace, "A.spi(ike) B.spi(ike)"));
	exchange(w, SP_SEC(1));
	assert_non_null(strstr(trace, "A.spi(esp) B.spi(esp)"));
	assert_int_equal(ike_child_count(endpoint_ike(w->ep1)), 1);
	assert_true(has_sa(w->ep1, SA_DIR_IN, 0x5a5a0101));
	assert_true(has_sa(w->ep2, SA_DIR_OUT, 0x5a5a0101));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(stubs[i].nev, 2);
		assert_int_equal(stubs[i].ev[0], IKE_EV_IKE_UP);
		assert_int_equal(stubs[i].ev[1], IKE_EV_CHILD_UP);
	}
	assert_non_null(strstr(trace, "A.ike_event B.ike_event"));
}

static void drop_all(struct owner *o)
{
	for (unsigned i = 0; i < o->nnet; i++)
		pkt_free(o->net[i]);
	for (unsigned i = 0; i < o->nlocal; i++)
		pkt_free(o->local[i]);
	memset(o, 0, sizeof(*o));
}

static int teardown(void **state)
{
	struct world *w = *state;

	drop_all(&w->o1);
	drop_all(&w->o2);
	endpoint_free(w->ep1);
	endpoint_free(w->ep2);
	conf_free(w->conf1);
	conf_free(w->conf2);
	pkt_pool_destroy(&w->pool);
	return 0;
}

/* A UDP datagram from src to dst, as the host would send it. */
static struct pkt *udp(struct world *w, const char *src, const char *dst)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	struct pkt *p = pkt_alloc(&w->pool);

	assert_non_null(p);
	h.ip_src = ip(src);
	h.ip_dst = ip(dst);
	assert_int_equal(pkt_append(p, "hello", 5), 0);
	assert_int_equal(udp_build(p, 1234, 5678, h.ip_src, h.ip_dst, true), 0);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	return p;
}

static uint8_t proto_of(const struct pkt *p)
{
	return pkt_data(p)[9];
}

/* Out: A then B before IPsec, A then B around protection and after it; in: B then A. */
static void test_hook_order(void **state)
{
	struct world *w = *state;

	endpoint_output(w->ep1, SP_SEC(1), udp(w, ADDR_1, ADDR_2));
	assert_string_equal(trace, "A.out_clear B.out_clear A.pre_protect B.pre_protect "
				   "A.out_wire B.out_wire io.net_out");
	assert_int_equal(w->o1.nnet, 1);
	assert_int_equal(proto_of(w->o1.net[0]), IPV4_PROTO_ESP);

	/* The peer answers; its ESP comes up through ep1's modules, wire end first. */
	endpoint_output(w->ep2, SP_SEC(1), udp(w, ADDR_2, ADDR_1));
	assert_int_equal(w->o2.nnet, 1);
	trace[0] = 0;
	endpoint_input(w->ep1, SP_SEC(1), w->o2.net[0]);
	w->o2.nnet = 0;
	assert_string_equal(trace, "B.in_wire A.in_wire B.post_unprotect A.post_unprotect "
				   "B.in_clear A.in_clear io.local_out");
	assert_int_equal(w->o1.nlocal, 1);
	assert_int_equal(proto_of(w->o1.local[0]), IPV4_PROTO_UDP);
}

/* A holds a packet (before a lease exists, say); resumed after A it meets B, not A. */
static void test_hold_and_resume(void **state)
{
	struct world *w = *state;
	struct pkt *p;

	stubs[0].hold_out = true;
	endpoint_output(w->ep1, SP_SEC(1), udp(w, ADDR_1, ADDR_2));
	assert_string_equal(trace, "A.out_clear");
	assert_int_equal(w->o1.nnet, 0);
	assert_non_null(stubs[0].held);

	trace[0] = 0;
	p = stubs[0].held;
	stubs[0].held = NULL;
	endpoint_resume(w->ep1, &stubs[0], EP_STAGE_OUT_CLEAR, SP_SEC(2), p);
	assert_string_equal(trace, "B.out_clear A.pre_protect B.pre_protect A.out_wire "
				   "B.out_wire io.net_out");
	assert_int_equal(w->o1.nnet, 1);

	/* Inbound, resumed after B (the wire end) it meets A only. */
	trace[0] = 0;
	endpoint_resume(w->ep1, &stubs[1], EP_STAGE_IN_CLEAR, SP_SEC(2), udp(w, ADDR_2, ADDR_1));
	assert_string_equal(trace, "A.in_clear io.local_out");
}

/* A module's own packet goes towards the wire from where the module stands. */
static void test_send(void **state)
{
	struct world *w = *state;

	endpoint_send(w->ep1, &stubs[0], SP_SEC(1), udp(w, ADDR_1, ADDR_2));
	assert_string_equal(trace, "B.out_wire io.net_out");
	trace[0] = 0;
	endpoint_send(w->ep1, &stubs[1], SP_SEC(1), udp(w, ADDR_1, ADDR_2));
	assert_string_equal(trace, "io.net_out");
	assert_int_equal(w->o1.nnet, 2);
	/* Not protected: a module's control packet is its own business. */
	assert_int_equal(proto_of(w->o1.net[0]), IPV4_PROTO_UDP);
}

/* B drops at the wire: A and IPsec never see it, and the stack counts it. */
static void test_drop(void **state)
{
	struct world *w = *state;

	stubs[1].drop_in = true;
	endpoint_input(w->ep1, SP_SEC(1), udp(w, ADDR_2, ADDR_1));
	assert_string_equal(trace, "B.in_wire");
	assert_int_equal(w->o1.nlocal, 0);
	assert_int_equal(sp_ctr_get(&w->ctrs, "host", "drop_module"), 1);
}

/* The stack's deadline is the earliest of IPsec's and the modules'; tick runs them all. */
static void test_deadline_and_tick(void **state)
{
	struct world *w = *state;
	sp_time before = endpoint_next_deadline(w->ep1);

	stubs[1].deadline = SP_MSEC(1500);
	assert_true(endpoint_next_deadline(w->ep1) <= SP_MSEC(1500));
	assert_true(before > SP_MSEC(1500));
	stubs[0].deadline = SP_MSEC(700);
	assert_int_equal(endpoint_next_deadline(w->ep1), SP_MSEC(700));
	endpoint_tick(w->ep1, SP_MSEC(700));
	assert_string_equal(trace, "A.tick B.tick");
	assert_int_equal(stubs[0].ticks, 1);
	assert_int_equal(stubs[1].ticks, 0);
	assert_int_equal(endpoint_next_deadline(w->ep1), SP_MSEC(1500));
}

/*
 * Packet buffers too small for IKE_SA_INIT: ep1's owner has a socket of its own for the IKE
 * port and gets the message whole; ep2's has none, and its answer is counted, not lost
 * silently; nor is ep1's retransmission once its owner has no socket for the port.
 */
static void test_long_ike_message(void **state)
{
	struct world *w;

	pool_bufsize = 384; /* 256 of headroom: not enough for a KE, a nonce and NAT-D */
	setup_ike(state);
	pool_bufsize = 4096;
	w = *state;
	endpoint_start(w->ep1, SP_SEC(1));
	assert_int_equal(w->o1.nnet, 0);
	assert_int_equal(long_ike.n, 1);
	assert_int_equal(long_ike.path.local_port, 500);
	assert_true(long_ike.len > 384 - 256 - 28);
	endpoint_ike_input(
		w->ep2, SP_SEC(1),
		&(struct ike_path){ long_ike.path.remote_addr, long_ike.path.local_addr, 500, 500 },
		long_ike.msg, long_ike.len);
	assert_int_equal(w->o2.nnet, 0);
	assert_int_equal(sp_ctr_get(&w->ctrs, "host", "drop_ike_too_long"), 1);
	long_ike.ret = SP_ENOTFOUND;
	endpoint_tick(w->ep1, endpoint_next_deadline(w->ep1));
	assert_int_equal(long_ike.n, 2);
	assert_int_equal(w->o1.nnet, 0);
	assert_int_equal(sp_ctr_get(&w->ctrs, "host", "drop_ike_too_long"), 2);
}

/* IKE fragments (RFC 7383) are cut to what a packet buffer holds, and never below 576. */
static void test_ike_fragment_size(void **state)
{
	struct world *w;

	setup_ike(state); /* buffers of 4096: [ike] fragment_size's 1280 */
	w = *state;
	assert_int_equal(ike_fragment_size(endpoint_ike(w->ep1)), 1280);
	teardown(state);
	pool_bufsize = 1024; /* 768 after the headroom */
	setup_ike(state);
	w = *state;
	assert_int_equal(ike_fragment_size(endpoint_ike(w->ep1)), 1024 - 256);
	teardown(state);
	pool_bufsize = 600;
	setup_ike(state);
	pool_bufsize = 4096;
	w = *state;
	assert_int_equal(ike_fragment_size(endpoint_ike(w->ep1)), 576);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hook_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_and_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spi_policy_and_events, setup_ike, teardown),
		cmocka_unit_test_teardown(test_long_ike_message, teardown),
		cmocka_unit_test_teardown(test_ike_fragment_size, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
