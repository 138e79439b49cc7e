/*
 * The sample packets (tests/common/samples.c) parse back with proto/'s parsers layer by
 * layer, with every checksum right; each negative control fails exactly the check it
 * was built to fail. The same packets are the fuzz seeds and the tshark decode test's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "samples.h"
#include "base/csum.h"
#include "proto/ah.h"
#include "proto/esp.h"
#include "proto/icmp.h"
#include "proto/ikev2.h"
#include "proto/ipv4.h"
#include "proto/l2tp.h"
#include "proto/natt.h"
#include "proto/pcp.h"
#include "proto/ppp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

struct verdict {
	bool ip_ok, l4_ok;    /* checksums */
	bool l4_seen;	      /* a checksum-bearing L4 header was checked */
	bool ike_ok, l2tp_ok; /* chains walked to their end */
};

/* Walk an IKE message: header, then every payload to the end of the chain. */
static bool ike_walks(const uint8_t *d, size_t len)
{
	struct ikev2_pld_iter it;
	struct ikev2_hdr h;
	struct ikev2_pld pl;
	struct cur c;
	int r;

	cur_init(&c, d, len);
	if (ikev2_parse(&c, &h) != 0 || ikev2_pld_iter_init(&it, &c, &h) != 0)
		return false;
	while ((r = ikev2_pld_next(&it, &pl)) == 0)
		;
	return r == SP_ENOTFOUND && cur_left(&c) == 0;
}

static bool l2tp_walks(const uint8_t *d, size_t len)
{
	struct l2tp_avp_iter it;
	struct l2tp_avp a;
	struct l2tp_hdr h;
	struct cur c, body;
	struct ppp_hdr ph;
	uint16_t type;
	int r;

	cur_init(&c, d, len);
	if (l2tp_parse(&c, &h) != 0 || cur_get_sub(&c, h.l2tp_plen, &body) != 0)
		return false;
	if (!l2tp_is_control(&h))
		return ppp_parse(&body, &ph) == 0;
	if (l2tp_ctrl_msg_type(&body, &type) != 0 || type != L2TP_MSG_SCCRQ)
		return false;
	l2tp_avp_iter_init(&it, &body);
	while ((r = l2tp_avp_next(&it, &a)) == 0)
		;
	return r == SP_ENOTFOUND;
}

static void check_sample(const struct sample_pkt *sp, const struct pkt *p, struct verdict *v)
{
	const uint8_t *d, *ip;
	size_t len, iplen;
	struct ipv4_hdr h;
	struct cur c;

	memset(v, 0, sizeof(*v));
	v->ike_ok = v->l2tp_ok = true;
	assert_true(samples_layer(sp, p, SL_IP, &ip, &iplen));
	assert_int_equal(iplen, p->len);
	cur_init(&c, ip, iplen);
	assert_int_equal(ipv4_parse(&c, &h), 0);
	assert_int_equal(h.ip_len, iplen);
	v->ip_ok = h.ip_csum_ok;
	if (samples_layer(sp, p, SL_ICMP, &d, &len)) {
		struct icmp_hdr ih;

		assert_ptr_equal(d, ip + h.ip_hl);
		cur_init(&c, d, len);
		assert_int_equal(icmp_parse(&c, &ih), 0);
		v->l4_ok = ih.icmp_csum_ok;
		v->l4_seen = true;
	}
	if (samples_layer(sp, p, SL_UDP, &d, &len)) {
		struct udp_hdr uh;

		cur_init(&c, d, len);
		assert_int_equal(udp_parse(&c, &uh), 0);
		assert_int_equal(uh.udp_len, len);
		v->l4_ok = udp_csum_ok(d, len, h.ip_src, h.ip_dst);
		v->l4_seen = true;
	}
	if (samples_layer(sp, p, SL_TCP, &d, &len)) {
		struct tcp_hdr th;

		cur_init(&c, d, len);
		assert_int_equal(tcp_parse(&c, &th), 0);
		v->l4_ok = tcp_csum_ok(d, len, h.ip_src, h.ip_dst);
		v->l4_seen = true;
	}
	if (samples_layer(sp, p, SL_ESP, &d, &len)) {
		struct esp_hdr eh;

		cur_init(&c, d, len);
		assert_int_equal(esp_parse(&c, &eh), 0);
	}
	if (samples_layer(sp, p, SL_AH, &d, &len)) {
		struct ipv4_hdr in;
		struct icmp_hdr ih;
		struct ah_hdr ah;

		cur_init(&c, d, len);
		assert_int_equal(ah_parse(&c, &ah), 0);
		if (ah.ah_nh == IPV4_PROTO_IPIP) { /* tunnel mode: a whole packet inside */
			assert_int_equal(ipv4_parse(&c, &in), 0);
			assert_true(in.ip_csum_ok);
			ah.ah_nh = in.ip_proto;
		}
		assert_int_equal(ah.ah_nh, IPV4_PROTO_ICMP);
		assert_int_equal(icmp_parse(&c, &ih), 0);
		assert_true(ih.icmp_csum_ok);
	}
	if (samples_layer(sp, p, SL_NATT, &d, &len)) {
		enum natt_kind kind;

		cur_init(&c, d, len);
		assert_int_equal(natt_classify(&c, &kind), 0);
		if (kind == NATT_IKE)
			assert_true(samples_layer(sp, p, SL_IKE, &d, &len) && cur_ptr(&c) == d);
		else if (kind == NATT_ESP)
			assert_true(samples_layer(sp, p, SL_ESP, &d, &len) && cur_ptr(&c) == d);
	}
	if (samples_layer(sp, p, SL_PCP, &d, &len)) {
		struct pcp_msg m;
		uint8_t res;

		cur_init(&c, d, len);
		assert_true(len >= 2);
		assert_int_equal(pcp_parse(&c, (d[1] & PCP_R_BIT) != 0, &m, &res), 0);
		assert_int_equal(res, PCP_R_SUCCESS);
	}
	if (samples_layer(sp, p, SL_IKE, &d, &len))
		v->ike_ok = ike_walks(d, len);
	if (samples_layer(sp, p, SL_L2TP, &d, &len))
		v->l2tp_ok = l2tp_walks(d, len);
}

static void every_sample_parses_back(void **state)
{
	uint8_t storage[PKT_BUFSIZE];
	struct pkt p;

	(void)state;
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	assert_true(samples_count() >= 18);
	for (unsigned i = 0; i < samples_count(); i++) {
		const struct sample *s = samples_get(i);
		struct sample_pkt sp;
		struct verdict v;

		assert_int_equal(samples_build(i, &p, &sp), 0);
		check_sample(&sp, &p, &v);
		switch (s->check) {
		case SC_OK:
			assert_true(v.ip_ok && (!v.l4_seen || v.l4_ok) && v.ike_ok && v.l2tp_ok);
			break;
		case SC_BAD_CSUM:
			/* Exactly one checksum is wrong, and the packet is otherwise sound. */
			assert_true(v.ip_ok != v.l4_ok);
			assert_true(v.ike_ok && v.l2tp_ok);
			break;
		case SC_MALFORMED:
			assert_true(v.ip_ok && v.l4_ok);
			assert_true(!v.ike_ok || !v.l2tp_ok);
			break;
		}
	}
}

/* Every layer a sample names is really there: the kinds the decode test promises. */
static void samples_cover_every_kind(void **state)
{
	uint8_t storage[PKT_BUFSIZE];
	unsigned seen[SL_N] = { 0 };
	struct pkt p;

	(void)state;
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	for (unsigned i = 0; i < samples_count(); i++) {
		struct sample_pkt sp;
		const uint8_t *d;
		size_t len;

		assert_int_equal(samples_build(i, &p, &sp), 0);
		for (int k = 0; k < SL_N; k++)
			seen[k] += samples_layer(&sp, &p, (enum sample_layer)k, &d, &len);
	}
	for (int k = 0; k < SL_N; k++)
		assert_true(seen[k] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_sample_parses_back),
		cmocka_unit_test(samples_cover_every_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
