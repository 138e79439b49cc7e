/*
 * The gateway's fast path: the engine decides, the kernel applies what it has settled
 * (nat/nat_offload.h). This file lends the engine its nat_offload_ops over the maps of
 * io/bpf_nat.h, attaches the tc programs to the inside and outside interfaces and beats
 * the heartbeat without which the program stops translating (so the translations of a
 * crashed spinatd stop within fastpath_stale, and the next start removes its filters).
 * The iptables rule letting marked packets pass the NFQUEUE rules is gw_rules.c's, as all
 * the gateway's rules are.
 */
#include "gw_fastpath.h"
#include "base/addr.h"
#include "io/bpf_nat.h"
#include "nat/nat_offload.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GW_FP_IFS_MAX 8

enum { FP_AUTO = 0, FP_ON = 1, FP_OFF = 2 };
static const char *const fp_modes[] = { "auto", "on", "off", NULL };
enum { FWD_STACK = 0, FWD_REDIRECT = 1 };
static const char *const fwd_modes[] = { "stack", "redirect", NULL };
enum { ATT_AUTO = 0, ATT_TC = 1 };
static const char *const att_modes[] = { "auto", "tc", NULL };

struct gw_fastpath {
	struct spinatd *d;
	struct nat *nat;
	struct io_bpf_nat *bpf;
	struct io_timer timer;
	struct fp_cfg cfg;
	bool redirect;
	bool tc; /* tc filters even where tcx links exist */
	bool registered;
	uint64_t ctr[FP_CTR_N];
	struct sp_ctrs ctrs;
};

static void to_key(const struct nat_offload_item *it, struct fp_key *k)
{
	memset(k, 0, sizeof(*k));
	k->a = it->a;
	k->b = it->b;
	k->id = it->id;
	k->proto = it->proto;
	k->dir = it->from == NAT_INSIDE ? FP_IN2OUT : FP_OUT2IN;
}

static int op_install(void *arg, uint32_t idx, const struct nat_offload_desc *dsc)
{
	struct gw_fastpath *f = arg;
	int r;

	for (unsigned i = 0; i < dsc->n; i++) {
		const struct nat_offload_item *it = &dsc->item[i];
		struct fp_val v = { .addr = it->addr,
				    .port = it->port,
				    .flags = it->rewrite_port ? FP_F_PORT : 0,
				    .handle = idx };
		struct fp_key k;

		to_key(it, &k);
		if ((r = io_bpf_nat_put(f->bpf, &k, &v)) != 0) {
			for (unsigned j = 0; j < i; j++) {
				to_key(&dsc->item[j], &k);
				io_bpf_nat_del(f->bpf, &k, idx);
			}
			return r;
		}
	}
	return 0;
}

static void op_remove(void *arg, uint32_t idx, const struct nat_offload_desc *dsc)
{
	struct gw_fastpath *f = arg;
	struct fp_key k;

	for (unsigned i = 0; i < dsc->n; i++) {
		to_key(&dsc->item[i], &k);
		io_bpf_nat_del(f->bpf, &k, idx);
	}
}

static int op_use(void *arg, uint32_t idx, const struct nat_offload_desc *dsc,
		  struct nat_offload_use *u)
{
	struct gw_fastpath *f = arg;
	struct fp_key k;
	struct fp_val v;

	memset(u, 0, sizeof(*u));
	for (unsigned i = 0; i < dsc->n; i++) {
		to_key(&dsc->item[i], &k);
		if (io_bpf_nat_get(f->bpf, &k, &v) != 0 || v.handle != idx)
			continue;
		u->last = SP_MAX(u->last, (sp_time)v.last_ns);
		u->packets += v.packets;
		u->bytes += v.bytes;
	}
	return 0;
}

static void op_flush(void *arg)
{
	struct gw_fastpath *f = arg;

	io_bpf_nat_flush(f->bpf);
}

/* Every second: the heartbeat, and the program's counters into ours. */
static void on_timer(struct io_loop *loop, void *arg)
{
	struct gw_fastpath *f = arg;
	sp_time now = io_now();

	f->cfg.heartbeat_ns = now;
	if (io_bpf_nat_set_cfg(f->bpf, &f->cfg) != 0)
		SP_ERR(&f->d->log, "gateway", "fast path: cannot beat the heartbeat");
	(void)io_bpf_nat_counters(f->bpf, f->ctr);
	if (io_timer_arm(loop, &f->timer, now + SP_SEC(1)) != 0)
		SP_ERR(&f->d->log, "gateway", "fast path: cannot arm the timer");
}

/* The gateway's own addresses and the pool: inside packets to them are not the fast
 * path's (the stack's, or hairpinning for the engine). */
static int add_locals(struct gw_fastpath *f)
{
	const struct nat_config *c = nat_config_of(f->nat);
	struct ifaddrs *ifa, *i;
	int r;

	for (unsigned p = 0; p < c->npool; p++)
		if ((r = io_bpf_nat_add_local(f->bpf, c->pool[p])) != 0)
			return r;
	if (getifaddrs(&ifa) != 0)
		return SP_EIO;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		r = io_bpf_nat_add_local(
			f->bpf,
			ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr));
		if (r != 0)
			break;
	}
	freeifaddrs(ifa);
	return r;
}

static int setup(struct gw_fastpath *f, const unsigned *in_if, unsigned nin, const unsigned *out_if,
		 unsigned nout, bool verbose, char *why, size_t whylen)
{
	const struct nat_config *c = nat_config_of(f->nat);
	struct nat_offload_ops ops = { op_install, op_remove, op_use, op_flush, f };
	int r;

	if ((r = io_bpf_nat_open(&f->bpf, c->max_entries * 2u, verbose, why, whylen)) != 0)
		return r;
	if (f->tc)
		io_bpf_nat_use_tc(f->bpf);
	f->cfg.heartbeat_ns = io_now();
	f->cfg.ike_cookies = c->ike_mode == NAT_IKE_COOKIES;
	f->cfg.redirect = f->redirect;
	if ((r = io_bpf_nat_set_cfg(f->bpf, &f->cfg)) != 0 || (r = add_locals(f)) != 0) {
		snprintf(why, whylen, "cannot fill the BPF maps");
		return r;
	}
	for (unsigned i = 0; i < nin + nout; i++) {
		bool inside = i < nin;
		unsigned ifi = inside ? in_if[i] : out_if[i - nin];

		if ((r = io_bpf_nat_attach(f->bpf, ifi, inside)) != 0) {
			snprintf(why, whylen, "cannot attach to interface %u: %s", ifi,
				 sp_strerror(r));
			return r;
		}
	}
	if ((r = nat_offload_enable(f->nat, &ops)) != 0) {
		snprintf(why, whylen, "the engine refused: %s", sp_strerror(r));
		return r;
	}
	return 0;
}

static void teardown(struct gw_fastpath *f)
{
	if (f->nat != NULL && nat_offload_enabled(f->nat))
		nat_offload_disable(f->nat);
	io_bpf_nat_close(f->bpf);
	f->bpf = NULL;
}

int gw_fastpath_start(struct spinatd *d, struct conf_sec *s, struct nat *nat, uint32_t mark,
		      const unsigned *in_if, unsigned nin, const unsigned *out_if, unsigned nout,
		      struct gw_fastpath **out)
{
	struct gw_fastpath *f;
	sp_time stale;
	char why[160];
	int mode, fwd, att, r;

	*out = NULL;
	if ((r = conf_get_enum(s, "fastpath", fp_modes, FP_AUTO, &mode)) != 0 ||
	    (r = conf_get_time(s, "fastpath_stale", SP_SEC(3), &stale)) != 0 ||
	    (r = conf_get_enum(s, "fastpath_forward", fwd_modes, FWD_STACK, &fwd)) != 0 ||
	    (r = conf_get_enum(s, "fastpath_attach", att_modes, ATT_AUTO, &att)) != 0)
		return r;
	if (stale < SP_SEC(2))
		return conf_fail(s, "fastpath_stale must be at least 2s (the heartbeat is 1s)");
	if (d->check)
		return 0;
	/* What a crashed spinatd left: its filters (they would translate with a dead
	 * engine's table until their heartbeat ran out); its rules are gw_rules.c's. */
	for (unsigned i = 0; i < nin; i++)
		io_bpf_nat_detach_stale(in_if[i]);
	for (unsigned i = 0; i < nout; i++)
		io_bpf_nat_detach_stale(out_if[i]);
	if (mode == FP_OFF) {
		SP_INFO(&d->log, "gateway", "fast path off (fastpath = off): NFQUEUE alone");
		return 0;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return SP_ENOMEM;
	f->d = d;
	f->nat = nat;
	f->cfg.mark = mark;
	f->cfg.stale_ns = stale;
	f->redirect = fwd == FWD_REDIRECT;
	f->tc = att == ATT_TC;
	io_timer_init(&f->timer, on_timer, f);
	why[0] = 0;
	/* fastpath = on: the operator wants it, so the verifier's words are worth showing */
	if ((r = setup(f, in_if, nin, out_if, nout, mode == FP_ON, why, sizeof(why))) != 0) {
		teardown(f);
		free(f);
		if (mode == FP_ON) {
			SP_ERR(&d->log, "gateway", "fast path: %s (fastpath = on)", why);
			return r;
		}
		SP_INFO(&d->log, "gateway", "no fast path in the kernel (%s): NFQUEUE alone", why);
		return 0;
	}
	sp_ctrs_init(&f->ctrs, "fastpath", d->name, io_bpf_nat_ctr_names, f->ctr, FP_CTR_N);
	sp_ctr_register(&d->ctrs, &f->ctrs);
	f->registered = true;
	if ((r = io_timer_arm(d->loop, &f->timer, io_now() + SP_SEC(1))) != 0) {
		gw_fastpath_stop(d, f);
		return r;
	}
	SP_INFO(&d->log, "gateway",
		"fast path in the kernel: tc on %u inside, %u outside interface(s), mark 0x%x, "
		"forwarded by %s",
		nin, nout, mark, f->redirect ? "the program (redirect)" : "the stack");
	*out = f;
	return 0;
}

void gw_fastpath_stop(struct spinatd *d, struct gw_fastpath *f)
{
	if (f == NULL)
		return;
	if (d->loop != NULL)
		io_timer_cancel(d->loop, &f->timer);
	if (f->registered)
		sp_ctr_unregister(&d->ctrs, &f->ctrs);
	teardown(f);
	free(f);
}
