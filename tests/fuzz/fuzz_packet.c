/*
 * A whole IPv4 packet through every parser it leads to, as a gateway sees it: IPv4, then
 * ICMP (and the header an error quotes), TCP, UDP with checksum, ESP, AH and what it
 * protects, IKE on 500, NAT-T on 4500 (keepalive, marker + IKE, ESP), L2TP on 1701 with
 * its AVPs or its PPP frame, and an IPv4 packet carried in PPP, one level deep.
 */
#include "fuzz.h"
#include "proto/ah.h"
#include "proto/esp.h"
#include "proto/icmp.h"
#include "proto/ikev2.h"
#include "proto/ipv4.h"
#include "proto/l2tp.h"
#include "proto/natt.h"
#include "proto/ppp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

static void dissect_ip(struct cur *c, int depth, bool quoted);

static void dissect_ike(struct cur *c)
{
	struct ikev2_pld_iter it;
	struct ikev2_hdr h;
	struct ikev2_pld pl;
	int r;

	if (ikev2_parse(c, &h) != 0 || ikev2_pld_iter_init(&it, c, &h) != 0)
		return;
	while ((r = ikev2_pld_next(&it, &pl)) == 0)
		FUZZ_CHECK(pl.pld_len >= IKEV2_PLD_HDR_LEN);
	FUZZ_CHECK(r == SP_ENOTFOUND || r == SP_EMALFORMED);
}

static void dissect_ppp(struct cur *c, int depth)
{
	struct ppp_hdr h;
	struct ppp_cp cp;
	struct ppp_opt o;

	if (ppp_parse(c, &h) != 0)
		return;
	if (h.ppp_proto == PPP_PROTO_IP) {
		dissect_ip(c, depth + 1, false);
	} else if (h.ppp_proto == PPP_PROTO_LCP || h.ppp_proto == PPP_PROTO_IPCP) {
		if (ppp_cp_parse(c, &cp) != 0)
			return;
		while (ppp_opt_next(&cp.cp_data, &o) == 0)
			FUZZ_CHECK(o.opt_len >= PPP_OPT_HDR_LEN);
	}
}

static void dissect_l2tp(struct cur *c, int depth)
{
	struct l2tp_avp_iter it;
	struct l2tp_avp a;
	struct l2tp_hdr h;
	struct cur body;
	uint16_t type;

	if (l2tp_parse(c, &h) != 0 || cur_get_sub(c, h.l2tp_plen, &body) != 0)
		return;
	if (!l2tp_is_control(&h)) {
		dissect_ppp(&body, depth);
		return;
	}
	if (l2tp_ctrl_msg_type(&body, &type) != 0)
		return;
	l2tp_avp_iter_init(&it, &body);
	while (l2tp_avp_next(&it, &a) == 0)
		FUZZ_CHECK(a.avp_len >= L2TP_AVP_HDR_LEN);
}

static void dissect_udp(struct cur *c, const struct ipv4_hdr *ip, int depth)
{
	const uint8_t *start = cur_ptr(c);
	enum natt_kind kind;
	struct udp_hdr h;
	struct esp_hdr eh;
	struct cur pl;

	if (udp_parse(c, &h) != 0 || cur_get_sub(c, h.udp_len - UDP_HDR_LEN, &pl) != 0)
		return;
	(void)udp_csum_ok(start, h.udp_len, ip->ip_src, ip->ip_dst);
	if (h.udp_dport == UDP_PORT_IKE || h.udp_sport == UDP_PORT_IKE) {
		dissect_ike(&pl);
	} else if (h.udp_dport == UDP_PORT_IKE_NATT || h.udp_sport == UDP_PORT_IKE_NATT) {
		if (natt_classify(&pl, &kind) != 0)
			return;
		if (kind == NATT_IKE)
			dissect_ike(&pl);
		else if (kind == NATT_ESP)
			FUZZ_CHECK(esp_parse(&pl, &eh) == 0);
	} else if (h.udp_dport == UDP_PORT_L2TP || h.udp_sport == UDP_PORT_L2TP) {
		dissect_l2tp(&pl, depth);
	}
}

static void dissect_l4(struct cur *c, uint8_t proto, const struct ipv4_hdr *ip, int depth)
{
	const uint8_t *start = cur_ptr(c);
	size_t len = cur_left(c);
	struct icmp_hdr ih;
	struct tcp_hdr th;
	struct esp_hdr eh;
	struct ah_hdr ah;
	struct cur in;

	switch (proto) {
	case IPV4_PROTO_ICMP:
		if (icmp_parse(c, &ih) != 0 || ih.icmp_inner == NULL)
			return;
		cur_init(&in, ih.icmp_inner, ih.icmp_inner_len);
		dissect_ip(&in, depth + 1, true);
		break;
	case IPV4_PROTO_TCP:
		if (tcp_parse(c, &th) == 0)
			(void)tcp_csum_ok(start, len, ip->ip_src, ip->ip_dst);
		break;
	case IPV4_PROTO_UDP:
		dissect_udp(c, ip, depth);
		break;
	case IPV4_PROTO_ESP:
		(void)esp_parse(c, &eh);
		break;
	case IPV4_PROTO_AH:
		if (ah_parse(c, &ah) == 0 && ah.ah_nh != IPV4_PROTO_AH)
			dissect_l4(c, ah.ah_nh, ip, depth);
		break;
	case IPV4_PROTO_IPIP:
		dissect_ip(c, depth + 1, false);
		break;
	}
}

static void dissect_ip(struct cur *c, int depth, bool quoted)
{
	struct ipv4_hdr h;
	struct cur pl;

	if (depth > 3)
		return;
	if (quoted) {
		/* The packet an ICMP error quotes: a header and 8 octets, cut short of ip_len. */
		if (ipv4_parse_embedded(c, &h) != 0)
			return;
		FUZZ_CHECK(h.ip_len >= h.ip_hl && cur_left(c) >= 8);
		pl = *c;
	} else {
		if (ipv4_parse(c, &h) != 0)
			return;
		/* The payload is ip_len - ip_hl octets, even when the link padded the frame. */
		FUZZ_CHECK(cur_get_sub(c, h.ip_len - h.ip_hl, &pl) == 0);
	}
	if (ipv4_frag_offset(&h) != 0)
		return; /* only the first fragment carries the transport header */
	dissect_l4(&pl, h.ip_proto, &h, depth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cur c;

	cur_init(&c, data, size);
	dissect_ip(&c, 0, false);
	return 0;
}
