#include "sim/flow.h"
#include "sim/ipnode.h"
#include "sim/sim_int.h"
#include "base/cursor.h"

#include <stdlib.h>
#include <string.h>

#define FLOW_SIZE_MAX 1472 /* a 1500-byte packet */

struct flow {
	struct sim *sim;
	uint32_t id;
	struct sim_flow_spec spec;
	char name[SIM_NAME_MAX * 2];
	struct sim_flow_stats st;
	uint8_t *seen; /* one bit per sequence number */
	uint32_t next_seq;
	struct sim_timer timer;
};

struct ping {
	struct sim *sim;
	struct sim_ping_spec spec;
	struct sim_ping_stats st;
	uint8_t *seen;
	uint32_t next_seq;
	struct sim_timer timer;
};

struct sim_flows {
	struct flow **flows;
	uint32_t nflows, capflows;
	struct ping **pings;
	uint32_t npings, cappings;
	sp_time mark;
	bool has_mark;
};

void sim_flows_free(struct sim_flows *f)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; i < f->nflows; i++) {
		free(f->flows[i]->seen);
		free(f->flows[i]);
	}
	for (uint32_t i = 0; i < f->npings; i++) {
		free(f->pings[i]->seen);
		free(f->pings[i]);
	}
	free(f->flows);
	free(f->pings);
	free(f);
}

static struct sim_flows *flows_get(struct sim *sim)
{
	if (sim->flows == NULL)
		sim->flows = calloc(1, sizeof(*sim->flows));
	return sim->flows;
}

static bool bit_test_set(uint8_t *bm, uint32_t i)
{
	uint8_t m = (uint8_t)(1u << (i & 7));
	bool was = (bm[i >> 3] & m) != 0;

	bm[i >> 3] |= m;
	return was;
}

static int grow(void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
	void *a;
	uint32_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if ((a = realloc(*arr, c * elem)) == NULL)
		return SP_ENOMEM;
	*arr = a;
	*cap = c;
	return 0;
}

/* ---- flows -------------------------------------------------------------------------- */

static void flow_send(struct flow *f, sp_time now)
{
	struct sim_node *n = f->spec.src;
	uint8_t buf[FLOW_SIZE_MAX];
	uint32_t dst = f->spec.dst_addr;
	uint16_t dport = f->spec.dport ? f->spec.dport : f->spec.sport;
	struct sim_flows *fl = f->sim->flows;

	if (dst == 0 && f->spec.reply_to < fl->nflows) {
		const struct flow *peer = fl->flows[f->spec.reply_to];

		dst = peer->st.learned_addr;
		dport = peer->st.learned_port;
	}
	if (!n->up || dst == 0) {
		f->st.not_sent++;
		return;
	}
	memset(buf, 0, f->spec.size);
	sp_store_be32(buf, SIM_FLOW_MAGIC);
	sp_store_be32(buf + 4, f->id);
	sp_store_be32(buf + 8, f->next_seq);
	sp_store_be32(buf + 12, n->id);
	sp_store_be64(buf + 16, now);
	if (sim_ip_send_udp_tag(n, now, dst, f->spec.sport, dport, buf, f->spec.size, f->id + 1) !=
	    0) {
		f->st.not_sent++;
		return;
	}
	f->st.sent++;
	f->st.last_tx = now;
	sim_node_resched(n);
}

static void flow_timer(struct sim *sim, struct sim_timer *t, sp_time now)
{
	struct flow *f = t->arg;

	flow_send(f, now);
	if (++f->next_seq < f->spec.count &&
	    sim_timer_arm(sim, t, f->spec.start + (sp_time)f->next_seq * f->spec.interval) != 0)
		SP_ERR(sim_log(sim), "sim", "flow %s: event queue full, flow stops", f->name);
}

int sim_flow_add(struct sim *sim, const struct sim_flow_spec *spec, uint32_t *id)
{
	struct sim_flows *fl = flows_get(sim);
	struct flow *f;
	int r;

	if (fl == NULL)
		return SP_ENOMEM;
	if (spec->src == NULL || spec->dst == NULL || !sim_is_ip(spec->src) ||
	    spec->size < SIM_FLOW_HDR_LEN || spec->size > FLOW_SIZE_MAX || spec->count == 0 ||
	    (spec->dst_addr == 0 && spec->reply_to >= fl->nflows) ||
	    (spec->count > 1 && spec->interval == 0))
		return SP_EINVAL;
	if ((r = grow((void **)&fl->flows, &fl->capflows, fl->nflows, sizeof(*fl->flows))) != 0)
		return r;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return SP_ENOMEM;
	if ((f->seen = calloc((spec->count + 7) / 8, 1)) == NULL) {
		free(f);
		return SP_ENOMEM;
	}
	f->sim = sim;
	f->id = fl->nflows;
	f->spec = *spec;
	snprintf(f->name, sizeof(f->name), "%s", spec->name ? spec->name : "flow");
	f->spec.name = f->name;
	f->st.first_rx = f->st.last_rx = f->st.mark_rx = SP_TIME_NEVER;
	sim_timer_init(&f->timer, flow_timer, f);
	if ((r = sim_timer_arm(sim, &f->timer, spec->start)) != 0) {
		free(f->seen);
		free(f);
		return r;
	}
	fl->flows[fl->nflows++] = f;
	if (id != NULL)
		*id = f->id;
	return 0;
}

const struct sim_flow_stats *sim_flow_stats(struct sim *sim, uint32_t id)
{
	if (sim->flows == NULL || id >= sim->flows->nflows)
		return NULL;
	return &sim->flows->flows[id]->st;
}

const char *sim_flow_name(struct sim *sim, uint32_t id)
{
	if (sim->flows == NULL || id >= sim->flows->nflows)
		return NULL;
	return sim->flows->flows[id]->name;
}

uint32_t sim_flow_count(struct sim *sim)
{
	return sim->flows != NULL ? sim->flows->nflows : 0;
}

void sim_flows_mark(struct sim *sim, sp_time t)
{
	struct sim_flows *fl = flows_get(sim);

	if (fl == NULL)
		return;
	fl->mark = t;
	fl->has_mark = true;
}

bool sim_flow_rx(struct sim_node *n, sp_time now, const uint8_t *payload, size_t len, uint32_t src,
		 uint16_t sport)
{
	struct sim_flows *fl = n->sim->flows;
	struct sim_flow_stats *st;
	uint32_t id, seq;
	sp_time sent, d;
	struct flow *f;

	if (fl == NULL || len < SIM_FLOW_HDR_LEN || sp_load_be32(payload) != SIM_FLOW_MAGIC)
		return false;
	id = sp_load_be32(payload + 4);
	seq = sp_load_be32(payload + 8);
	if (id >= fl->nflows || seq >= fl->flows[id]->spec.count)
		return false;
	f = fl->flows[id];
	st = &f->st;
	if (n != f->spec.dst) {
		st->misdelivered++;
		SP_DEBUG(&n->log, "flow", "%s seq %u misdelivered here", f->name, seq);
		return true;
	}
	st->learned_addr = src;
	st->learned_port = sport;
	if (bit_test_set(f->seen, seq)) {
		st->duplicated++;
		return true;
	}
	st->delivered++;
	sent = sp_load_be64(payload + 16);
	d = now >= sent ? now - sent : 0;
	st->delay_sum += d;
	if (d > st->delay_max)
		st->delay_max = d;
	if (st->first_rx == SP_TIME_NEVER)
		st->first_rx = now;
	st->last_rx = now;
	if (fl->has_mark && now >= fl->mark && st->mark_rx == SP_TIME_NEVER)
		st->mark_rx = now;
	return true;
}

void sim_flows_finish(struct sim *sim, struct sim_flow_totals *t)
{
	struct sim_flows *fl = sim->flows;
	sp_time delay_sum = 0;

	memset(t, 0, sizeof(*t));
	t->recovered = true;
	if (fl == NULL)
		return;
	for (uint32_t i = 0; i < fl->nflows; i++) {
		struct flow *f = fl->flows[i];
		struct sim_flow_stats *st = &f->st;

		st->lost = st->sent > st->delivered ? st->sent - st->delivered : 0;
		t->sent += st->sent;
		t->not_sent += st->not_sent;
		t->delivered += st->delivered;
		t->misdelivered += st->misdelivered;
		t->duplicated += st->duplicated;
		t->lost += st->lost;
		t->payload_bytes_sent += st->sent * f->spec.size;
		delay_sum += st->delay_sum;
		if (st->delay_max > t->delay_max)
			t->delay_max = st->delay_max;
		if (!fl->has_mark || st->sent == 0 || st->last_tx < fl->mark)
			continue;
		t->flows_after_mark++;
		if (st->mark_rx == SP_TIME_NEVER)
			t->recovered = false;
		else if (st->mark_rx - fl->mark > t->recovery)
			t->recovery = st->mark_rx - fl->mark;
	}
	if (t->delivered > 0)
		t->delay_avg = (double)delay_sum / 1e9 / (double)t->delivered;
}

/* ---- ping --------------------------------------------------------------------------- */

static void ping_timer(struct sim *sim, struct sim_timer *t, sp_time now)
{
	struct ping *pg = t->arg;
	struct sim_node *n = pg->spec.src;
	uint8_t buf[FLOW_SIZE_MAX];

	memset(buf, 0, pg->spec.size);
	sp_store_be64(buf, now);
	if (!n->up || sim_ip_send_echo(n, now, pg->spec.dst, pg->spec.id, (uint16_t)pg->next_seq,
				       buf, pg->spec.size) != 0) {
		pg->st.not_sent++;
	} else {
		pg->st.sent++;
		sim_node_resched(n);
	}
	if (++pg->next_seq < pg->spec.count &&
	    sim_timer_arm(sim, t, pg->spec.start + (sp_time)pg->next_seq * pg->spec.interval) != 0)
		SP_ERR(sim_log(sim), "sim", "ping: event queue full, ping stops");
}

int sim_ping_add(struct sim *sim, const struct sim_ping_spec *spec, uint32_t *id)
{
	struct sim_flows *fl = flows_get(sim);
	struct ping *pg;
	int r;

	if (fl == NULL)
		return SP_ENOMEM;
	if (spec->src == NULL || !sim_is_ip(spec->src) || spec->size < 8 ||
	    spec->size > FLOW_SIZE_MAX || spec->count == 0 || spec->count > 65536 ||
	    (spec->count > 1 && spec->interval == 0))
		return SP_EINVAL;
	if ((r = grow((void **)&fl->pings, &fl->cappings, fl->npings, sizeof(*fl->pings))) != 0)
		return r;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return SP_ENOMEM;
	if ((pg->seen = calloc((spec->count + 7) / 8, 1)) == NULL) {
		free(pg);
		return SP_ENOMEM;
	}
	pg->sim = sim;
	pg->spec = *spec;
	pg->st.rtt_min = SP_TIME_NEVER;
	sim_timer_init(&pg->timer, ping_timer, pg);
	if ((r = sim_timer_arm(sim, &pg->timer, spec->start)) != 0) {
		free(pg->seen);
		free(pg);
		return r;
	}
	if (id != NULL)
		*id = fl->npings;
	fl->pings[fl->npings++] = pg;
	return 0;
}

const struct sim_ping_stats *sim_ping_stats(struct sim *sim, uint32_t id)
{
	if (sim->flows == NULL || id >= sim->flows->npings)
		return NULL;
	return &sim->flows->pings[id]->st;
}

bool sim_ping_rx(struct sim_node *n, sp_time now, uint16_t id, uint16_t seq, const uint8_t *payload,
		 size_t len)
{
	struct sim_flows *fl = n->sim->flows;

	if (fl == NULL || len < 8)
		return false;
	for (uint32_t i = 0; i < fl->npings; i++) {
		struct ping *pg = fl->pings[i];
		sp_time sent, rtt;

		if (pg->spec.src != n || pg->spec.id != id || seq >= pg->spec.count)
			continue;
		if (bit_test_set(pg->seen, seq)) {
			pg->st.duplicated++;
			return true;
		}
		sent = sp_load_be64(payload);
		rtt = now >= sent ? now - sent : 0;
		pg->st.received++;
		pg->st.rtt_sum += rtt;
		if (rtt < pg->st.rtt_min)
			pg->st.rtt_min = rtt;
		if (rtt > pg->st.rtt_max)
			pg->st.rtt_max = rtt;
		return true;
	}
	return false;
}
