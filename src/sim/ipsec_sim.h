/*
 * The IPsec engine as a simulator endpoint engine (sim/engine.h): a host or gateway node
 * protects what it sends and unprotects what it receives with the SAs and policies of a
 * manual-keying configuration text, the same [sa]/[policy]/[ipsec] sections spinatd's
 * endpoint role reads (docs/CONFIG.md).
 *
 * An engine that runs beside IPsec on the same node (IKE, sim/ike_sim.c) extends this
 * adapter rather than repeating it: it creates the context with ipsec_sim_create_ext() and
 * a struct ipsec_sim_hooks, and uses ipsec_sim_ops' functions for everything else.
 */
#ifndef SP_SIM_IPSEC_SIM_H
#define SP_SIM_IPSEC_SIM_H

#include "base/conf.h"
#include "ipsec/ipsec.h"
#include "sim/engine.h"

struct ipsec_sim_cfg {
	const char *conf; /* configuration text; copied */
};

extern const struct sim_ep_ops ipsec_sim_ops;

/* The engine behind a context of ipsec_sim_ops, or of an extension (NULL after a crash
 * until the restart). */
struct ipsec *ipsec_sim_engine(void *ctx);

/* One endpoint: the context of ipsec_sim_ops and of every extension. */
struct ipsec_sim {
	struct sim_ep_env *env;
	struct ipsec *e;   /* NULL after a crash until the restart */
	struct conf *conf; /* the parsed text while the engine lives (IKE keeps pointers) */
	char *text;	   /* the configuration text */
	sp_time now;	   /* of the call in progress, for the callbacks */
	unsigned ifi;	   /* arrival interface of the packet in progress */
	const struct ipsec_sim_hooks *hooks;
	void *ext; /* the extension's state (malloc'd; freed with the context) */
};

/*
 * What an extension adds. Every hook may be NULL; the engine callbacks (ike_in, event,
 * post_unprotect) are struct ipsec_cfg's with the struct ipsec_sim as their arg.
 */
struct ipsec_sim_hooks {
	const char *mod; /* module of the adapter's log lines ("ipsec" without hooks) */
	void (*ike_in)(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		       uint16_t dport);
	void (*event)(void *arg, const struct ipsec_event *ev); /* NULL: logged */
	int (*post_unprotect)(void *arg, const struct sa *sa, struct pkt *p);
	/* A decapsulated packet before the node gets it: true if the extension took it. */
	bool (*local_in)(struct ipsec_sim *s, struct pkt *p);
	/* After the engine is made and its configuration loaded: make what runs beside it,
	 * reading its own sections of s->conf (unknown keys are refused after this). */
	int (*attach)(struct ipsec_sim *s, sp_time now);
	/* The configuration is complete: start (may send). */
	void (*start)(struct ipsec_sim *s, sp_time now);
	/* Free what attach made (a crash, a failed build, the end); before the engine goes. */
	void (*stop)(struct ipsec_sim *s);
	/* A packet for the node before the engine sees it: true if the extension took it. */
	bool (*input)(struct ipsec_sim *s, sp_time now, struct pkt *p);
	sp_time (*next_deadline)(const struct ipsec_sim *s);
	void (*tick)(struct ipsec_sim *s, sp_time now);		      /* after the engine's */
	void (*report)(struct ipsec_sim *s, struct sim_ep_report *r); /* adds to the engine's */
	void (*show)(struct ipsec_sim *s, FILE *f); /* NULL: the engine's SAs and policies */
};

/*
 * Make an extended endpoint (from the extension's create op): conf is copied; ext (may be
 * NULL) becomes s->ext and is freed with the context, also when this fails.
 */
int ipsec_sim_create_ext(void **ctx, struct sim_ep_env *env, sp_time now, const char *conf,
			 const struct ipsec_sim_hooks *hooks, void *ext) SP_MUST_CHECK;

/* The adapter's ops, for an extension's struct sim_ep_ops: IPSEC_SIM_OPS("ike", create). */
enum sim_verdict ipsec_sim_output(void *ctx, sp_time now, struct pkt *p,
				  const struct sim_route_hit *rt);
enum sim_verdict ipsec_sim_input(void *ctx, sp_time now, struct pkt *p, unsigned ifi);
sp_time ipsec_sim_next_deadline(void *ctx);
void ipsec_sim_tick(void *ctx, sp_time now);
void ipsec_sim_reset(void *ctx, sp_time now);
void ipsec_sim_restart(void *ctx, sp_time now);
void ipsec_sim_report(void *ctx, struct sim_ep_report *r);
void ipsec_sim_show(void *ctx, FILE *f);
void ipsec_sim_destroy(void *ctx);

#define IPSEC_SIM_OPS(name_, create_)                                                             \
	{                                                                                         \
		.name = (name_), .create = (create_), .output = ipsec_sim_output,                 \
		.input = ipsec_sim_input, .next_deadline = ipsec_sim_next_deadline,               \
		.tick = ipsec_sim_tick, .reset = ipsec_sim_reset, .restart = ipsec_sim_restart,   \
		.report = ipsec_sim_report, .show = ipsec_sim_show, .destroy = ipsec_sim_destroy, \
	}

#endif
