#include "samples.h"

#include "base/csum.h"
#include "base/cursor.h"
#include "ipsec/asif.h"
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

#include <string.h>

/* Documentation addresses (RFC 5737): a client, the NAT's public side, the VPN gateway. */
#define A_CLIENT  0xc000020au /* 192.0.2.10 */
#define A_NAT	  0xc6336401u /* 198.51.100.1 */
#define A_GATEWAY 0xcb007105u /* 203.0.113.5 */
#define A_INNER_C 0x0a000002u /* 10.0.0.2, inside a PPP link */
#define A_INNER_S 0x0a000001u

#define PORT_APP_C 49152
#define PORT_APP_S 5001

/* IKEv2 Notify types used by the samples (RFC 7296 3.10.1). */
#define N_NAT_DETECTION_SOURCE_IP      16388
#define N_NAT_DETECTION_DESTINATION_IP 16389

#define TRY(x)                     \
	do {                       \
		int r_ = (x);      \
		if (r_ != 0)       \
			return r_; \
	} while (0)

static void mark(struct sample_pkt *sp, enum sample_layer k, const struct pkt *p)
{
	sp->tail[k] = p->len;
}

/* Deterministic filler: what goes in nonces, keys, ciphertext and application data. */
static int put_pattern(struct pkt *p, size_t n, uint8_t seed)
{
	uint8_t *b = pkt_put(p, (uint32_t)n);

	if (b == NULL)
		return SP_ENOSPACE;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
	return 0;
}

static int put_bytes(struct pkt *p, const void *d, size_t n)
{
	return pkt_append(p, d, (uint32_t)n);
}

static int ip4(struct pkt *p, struct sample_pkt *sp, uint8_t proto, uint32_t src, uint32_t dst,
	       uint16_t id)
{
	struct ipv4_hdr h = {
		.ip_id = id,
		.ip_frag = IPV4_FLAG_DF,
		.ip_ttl = 64,
		.ip_proto = proto,
		.ip_src = src,
		.ip_dst = dst,
	};

	TRY(ipv4_build(p, &h, NULL, 0));
	mark(sp, SL_IP, p);
	return 0;
}

static int udp4(struct pkt *p, struct sample_pkt *sp, uint16_t sport, uint16_t dport, uint32_t src,
		uint32_t dst, bool csum, uint16_t id)
{
	TRY(udp_build(p, sport, dport, src, dst, csum));
	mark(sp, SL_UDP, p);
	return ip4(p, sp, IPV4_PROTO_UDP, src, dst, id);
}

static int b_ipv4_options(struct pkt *p, struct sample_pkt *sp)
{
	/* Router Alert (RFC 2113): type 148, length 4, value 0. */
	static const uint8_t ra[] = { 0x94, 0x04, 0x00, 0x00 };
	struct ipv4_hdr h = {
		.ip_id = 0x0101,
		.ip_ttl = 1,
		.ip_proto = IPV4_PROTO_ICMP,
		.ip_src = A_CLIENT,
		.ip_dst = A_GATEWAY,
	};

	TRY(put_pattern(p, 24, 0x30));
	TRY(icmp_build_echo(p, ICMP_ECHO_REQUEST, 0x0b0b, 1));
	mark(sp, SL_ICMP, p);
	TRY(ipv4_build(p, &h, ra, sizeof(ra)));
	mark(sp, SL_IP, p);
	return 0;
}

static int echo(struct pkt *p, struct sample_pkt *sp, uint8_t type, uint32_t src, uint32_t dst)
{
	TRY(put_pattern(p, 56, 0x10));
	TRY(icmp_build_echo(p, type, 0x1234, 7));
	mark(sp, SL_ICMP, p);
	return ip4(p, sp, IPV4_PROTO_ICMP, src, dst, 0x0200 + type);
}

static int b_icmp_echo_request(struct pkt *p, struct sample_pkt *sp)
{
	return echo(p, sp, ICMP_ECHO_REQUEST, A_CLIENT, A_GATEWAY);
}

static int b_icmp_echo_reply(struct pkt *p, struct sample_pkt *sp)
{
	return echo(p, sp, ICMP_ECHO_REPLY, A_GATEWAY, A_CLIENT);
}

static int b_udp(struct pkt *p, struct sample_pkt *sp)
{
	TRY(put_pattern(p, 32, 0x41));
	return udp4(p, sp, PORT_APP_C, PORT_APP_S, A_CLIENT, A_GATEWAY, true, 0x0300);
}

static int b_icmp_port_unreach(struct pkt *p, struct sample_pkt *sp)
{
	uint8_t storage[PKT_BUFSIZE];
	struct sample_pkt orig_sp;
	struct pkt orig;

	/* The datagram b_udp() sends, refused by the gateway: the error quotes it. */
	pkt_init(&orig, storage, sizeof(storage), PKT_HEADROOM);
	memset(&orig_sp, 0, sizeof(orig_sp));
	TRY(b_udp(&orig, &orig_sp));
	TRY(icmp_build_error(p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, pkt_data(&orig),
			     orig.len));
	mark(sp, SL_ICMP, p);
	return ip4(p, sp, IPV4_PROTO_ICMP, A_GATEWAY, A_CLIENT, 0x0400);
}

/* A UDP datagram in two fragments (RFC 791 3.2): 40 octets, then the rest. */
#define FRAG_DATA  72
#define FRAG_FIRST 40
static int frag(struct pkt *p, struct sample_pkt *sp, bool second)
{
	uint8_t storage[PKT_BUFSIZE];
	struct sample_pkt dsp;
	struct pkt d;
	struct ipv4_hdr h = {
		.ip_id = 0x0500,
		.ip_ttl = 64,
		.ip_proto = IPV4_PROTO_UDP,
		.ip_src = A_CLIENT,
		.ip_dst = A_GATEWAY,
	};

	pkt_init(&d, storage, sizeof(storage), PKT_HEADROOM);
	memset(&dsp, 0, sizeof(dsp));
	TRY(put_pattern(&d, FRAG_DATA - UDP_HDR_LEN, 0x55));
	TRY(udp_build(&d, PORT_APP_C, PORT_APP_S, A_CLIENT, A_GATEWAY, true));
	if (!second) {
		TRY(put_bytes(p, pkt_data(&d), FRAG_FIRST));
		h.ip_frag = IPV4_FLAG_MF;
	} else {
		TRY(put_bytes(p, pkt_data(&d) + FRAG_FIRST, FRAG_DATA - FRAG_FIRST));
		h.ip_frag = FRAG_FIRST / 8;
	}
	TRY(ipv4_build(p, &h, NULL, 0));
	mark(sp, SL_IP, p);
	return 0;
}

static int b_frag1(struct pkt *p, struct sample_pkt *sp)
{
	return frag(p, sp, false);
}

static int b_frag2(struct pkt *p, struct sample_pkt *sp)
{
	return frag(p, sp, true);
}

static int b_tcp_syn(struct pkt *p, struct sample_pkt *sp)
{
	/* SYN options as Linux sends them (RFC 9293 3.2, RFC 7323, RFC 2018). */
	/* clang-format off */
	static const uint8_t opts[] = {
		TCP_OPT_MSS, 4, 0x05, 0xb4,			/* 1460 */
		TCP_OPT_SACK_PERM, 2,
		TCP_OPT_TS, 10, 0, 0, 0x10, 0, 0, 0, 0, 0,	/* TSval 4096, TSecr 0 */
		TCP_OPT_NOP, TCP_OPT_WSCALE, 3, 7,		/* shift 7 */
	};
	/* clang-format on */
	struct tcp_hdr h = {
		.tcp_sport = PORT_APP_C,
		.tcp_dport = PORT_APP_S,
		.tcp_seq = 0x1000,
		.tcp_flags = TCP_SYN,
		.tcp_win = 64240,
	};

	TRY(tcp_build(p, &h, opts, sizeof(opts), A_CLIENT, A_GATEWAY));
	mark(sp, SL_TCP, p);
	return ip4(p, sp, IPV4_PROTO_TCP, A_CLIENT, A_GATEWAY, 0x0600);
}

static int b_tcp_data(struct pkt *p, struct sample_pkt *sp)
{
	static const char msg[] = "GET /status HTTP/1.0\r\n\r\n";
	struct tcp_hdr h = {
		.tcp_sport = PORT_APP_C,
		.tcp_dport = PORT_APP_S,
		.tcp_seq = 0x1001,
		.tcp_ack = 0x2001,
		.tcp_flags = TCP_ACK | TCP_PSH,
		.tcp_win = 502,
	};

	TRY(put_bytes(p, msg, sizeof(msg) - 1));
	TRY(tcp_build(p, &h, NULL, 0, A_CLIENT, A_GATEWAY));
	mark(sp, SL_TCP, p);
	return ip4(p, sp, IPV4_PROTO_TCP, A_CLIENT, A_GATEWAY, 0x0601);
}

/* 001 steps 810-812 then the NAT's 707: the client at 10.0.0.2:49152 compensates its TCP
 * segment for the global address and leased port 198.51.100.1:61000 before protection;
 * the NAT rewrites only the address. tshark must find the checksum right. */
static int b_tcp_compensated(struct pkt *p, struct sample_pkt *sp)
{
	uint8_t *ip;

	TRY(b_tcp_data(p, sp));
	ip = pkt_data(p);
	ipv4_set_src(ip, A_INNER_C);
	TRY(asif_l4_csum(ip, p->len, A_CLIENT, A_INNER_C));   /* the client's own checksum */
	TRY(asif_l4_csum(ip, p->len, A_INNER_C, A_NAT));      /* 812 (a) */
	TRY(asif_port(ip, p->len, false, PORT_APP_C, 61000)); /* 810, 812 (b) */
	ipv4_set_src(ip, A_NAT);			      /* 707 */
	return 0;
}

/* ESP with a 16-octet IV, 48 octets of ciphertext and a 16-octet ICV (RFC 4303 2). */
static int esp_body(struct pkt *p, struct sample_pkt *sp, uint32_t spi, uint32_t seq)
{
	TRY(put_pattern(p, 16 + 48 + 16, (uint8_t)seq));
	TRY(esp_build_hdr(p, spi, seq));
	mark(sp, SL_ESP, p);
	return 0;
}

static int b_esp(struct pkt *p, struct sample_pkt *sp)
{
	TRY(esp_body(p, sp, 0xc0de0001, 1));
	return ip4(p, sp, IPV4_PROTO_ESP, A_CLIENT, A_GATEWAY, 0x0700);
}

static int b_ah(struct pkt *p, struct sample_pkt *sp)
{
	uint8_t *icv;

	/* Transport mode over an echo request; a 12-octet ICV as HMAC-SHA1-96 has. */
	TRY(put_pattern(p, 32, 0x20));
	TRY(icmp_build_echo(p, ICMP_ECHO_REQUEST, 0x4141, 1));
	TRY(ah_build_hdr(p, IPV4_PROTO_ICMP, 0xa0a00001, 1, 12, &icv));
	for (int i = 0; i < 12; i++)
		icv[i] = (uint8_t)(0xa0 + i);
	mark(sp, SL_AH, p);
	return ip4(p, sp, IPV4_PROTO_AH, A_CLIENT, A_GATEWAY, 0x0800);
}

/* Tunnel mode (RFC 4302 3.1.2): AH with a 16-octet ICV over a whole inner packet. */
static int b_ah_tunnel(struct pkt *p, struct sample_pkt *sp)
{
	struct sample_pkt inner = { 0 };
	uint8_t *icv;

	TRY(echo(p, &inner, ICMP_ECHO_REQUEST, A_INNER_C, A_INNER_S));
	TRY(ah_build_hdr(p, IPV4_PROTO_IPIP, 0xa0a00002, 9, 16, &icv));
	for (int i = 0; i < 16; i++)
		icv[i] = (uint8_t)(0xb0 + i);
	mark(sp, SL_AH, p);
	return ip4(p, sp, IPV4_PROTO_AH, A_CLIENT, A_GATEWAY, 0x0801);
}

static int natt_udp(struct pkt *p, struct sample_pkt *sp, bool csum, uint16_t id)
{
	mark(sp, SL_NATT, p);
	/* RFC 3948 2.1: the UDP checksum of ESP-in-UDP SHOULD be zero; IKE's is computed. */
	return udp4(p, sp, UDP_PORT_IKE_NATT, UDP_PORT_IKE_NATT, A_NAT, A_GATEWAY, csum, id);
}

static int b_esp_in_udp(struct pkt *p, struct sample_pkt *sp)
{
	TRY(esp_body(p, sp, 0xc0de0002, 5));
	return natt_udp(p, sp, false, 0x0900);
}

static int b_natt_keepalive(struct pkt *p, struct sample_pkt *sp)
{
	TRY(natt_build_keepalive(p));
	return natt_udp(p, sp, true, 0x0a00);
}

/* RFC 7296 3.3: one IKE proposal, AES-CBC-128 / HMAC-SHA2-256 / MODP-2048. */
static int ike_sa_body(struct pkt *p)
{
	static const uint8_t prop[] = {
		0, 0, 0, 44, 1, 1, 0, 4,		    /* last, proposal 1, IKE, no SPI, 4 */
		3, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 0, 128, /* ENCR AES_CBC, Key Length 128 */
		3, 0, 0, 8,  2, 0, 0, 5,		    /* PRF HMAC_SHA2_256 */
		3, 0, 0, 8,  3, 0, 0, 12,		    /* INTEG HMAC_SHA2_256_128 */
		0, 0, 0, 8,  4, 0, 0, 14,		    /* D-H 2048-bit MODP */
	};

	return put_bytes(p, prop, sizeof(prop));
}

static int ike_notify(struct ikev2_pld_writer *w, struct pkt *p, uint16_t type, uint8_t seed)
{
	uint8_t h[4] = { 0, 0, 0, 0 }; /* Protocol ID 0, SPI Size 0, Notify Message Type */

	sp_store_be16(h + 2, type);
	TRY(ikev2_pw_begin(w, IKEV2_PLD_NOTIFY, false));
	TRY(put_bytes(p, h, sizeof(h)));
	TRY(put_pattern(p, 20, seed)); /* SHA-1 of SPIs, address and port (RFC 7296 2.23) */
	return ikev2_pw_end(w);
}

static int ike_sa_init(struct pkt *p)
{
	struct ikev2_hdr h = {
		.ike_ispi = 0x1122334455667788ull,
		.ike_exch = IKEV2_EXCH_IKE_SA_INIT,
		.ike_flags = IKEV2_FLAG_I,
	};
	struct ikev2_pld_writer w;
	uint8_t ke[4] = { 0, 14, 0, 0 }; /* D-H group 14, RESERVED */

	ikev2_pw_init(&w, p);
	TRY(ikev2_pw_begin(&w, IKEV2_PLD_SA, false));
	TRY(ike_sa_body(p));
	TRY(ikev2_pw_end(&w));
	TRY(ikev2_pw_begin(&w, IKEV2_PLD_KE, false));
	TRY(put_bytes(p, ke, sizeof(ke)));
	TRY(put_pattern(p, 256, 0x01));
	TRY(ikev2_pw_end(&w));
	TRY(ikev2_pw_begin(&w, IKEV2_PLD_NONCE, false));
	TRY(put_pattern(p, 32, 0x77));
	TRY(ikev2_pw_end(&w));
	TRY(ike_notify(&w, p, N_NAT_DETECTION_SOURCE_IP, 0x90));
	TRY(ike_notify(&w, p, N_NAT_DETECTION_DESTINATION_IP, 0xa0));
	h.ike_np = ikev2_pw_first(&w);
	return ikev2_build(p, &h);
}

static int b_ike_sa_init_500(struct pkt *p, struct sample_pkt *sp)
{
	TRY(ike_sa_init(p));
	mark(sp, SL_IKE, p);
	return udp4(p, sp, UDP_PORT_IKE, UDP_PORT_IKE, A_CLIENT, A_GATEWAY, true, 0x0b00);
}

static int b_ike_auth_4500(struct pkt *p, struct sample_pkt *sp)
{
	struct ikev2_hdr h = {
		.ike_ispi = 0x1122334455667788ull,
		.ike_rspi = 0x99aabbccddeeff00ull,
		.ike_exch = IKEV2_EXCH_IKE_AUTH,
		.ike_flags = IKEV2_FLAG_I,
		.ike_msgid = 1,
	};
	struct ikev2_pld_writer w;

	/* RFC 7296 3.14: IV, encrypted IDi/AUTH/SA/TSi/TSr, ICV. */
	ikev2_pw_init(&w, p);
	TRY(ikev2_pw_begin(&w, IKEV2_PLD_SK, false));
	TRY(put_pattern(p, 16 + 176 + 16, 0x5a));
	TRY(ikev2_pw_end(&w));
	TRY(ikev2_pw_set_next(&w, IKEV2_PLD_IDI));
	h.ike_np = ikev2_pw_first(&w);
	TRY(ikev2_build(p, &h));
	mark(sp, SL_IKE, p);
	TRY(natt_ike_frame(p, UDP_PORT_IKE_NATT));
	return natt_udp(p, sp, true, 0x0c00);
}

/* RFC 2661 6.1: an SCCRQ with its mandatory AVPs and a few optional ones. */
static int b_l2tp_sccrq(struct pkt *p, struct sample_pkt *sp)
{
	static const char host[] = "lac.example";
	static const char vendor[] = "spinat";

	TRY(l2tp_avp_put_msg_type(p, L2TP_MSG_SCCRQ));
	TRY(l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_PROTO_VERSION, L2TP_PROTO_VERSION));
	TRY(l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_FRAMING_CAP,
			     L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC));
	TRY(l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_BEARER_CAP,
			     L2TP_BEARER_DIGITAL | L2TP_BEARER_ANALOG));
	TRY(l2tp_avp_put_u16(p, 0, L2TP_AVP_FIRMWARE_REV, 0x0100));
	TRY(l2tp_avp_put(p, L2TP_AVP_F_M, L2TP_VENDOR_IETF, L2TP_AVP_HOST_NAME, host,
			 sizeof(host) - 1));
	TRY(l2tp_avp_put(p, 0, L2TP_VENDOR_IETF, L2TP_AVP_VENDOR_NAME, vendor, sizeof(vendor) - 1));
	TRY(l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_ASSIGNED_TID, 0x2a2a));
	TRY(l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_RECV_WINDOW, 4));
	TRY(l2tp_build_ctrl(p, 0, 0, 0, 0));
	mark(sp, SL_L2TP, p);
	return udp4(p, sp, UDP_PORT_L2TP, UDP_PORT_L2TP, A_CLIENT, A_GATEWAY, true, 0x0d00);
}

/* An LCP Configure-Request (RFC 1661 5.1): MRU 1400, a Magic-Number. */
static int b_l2tp_ppp_lcp(struct pkt *p, struct sample_pkt *sp)
{
	static const uint8_t mru[] = { 0x05, 0x78 }, magic[] = { 0x5a, 0x17, 0x3c, 0x01 };

	TRY(ppp_opt_put(p, PPP_LCP_OPT_MRU, mru, sizeof(mru)));
	TRY(ppp_opt_put(p, PPP_LCP_OPT_MAGIC, magic, sizeof(magic)));
	TRY(ppp_cp_build(p, PPP_CP_CONF_REQ, 1));
	TRY(ppp_build(p, PPP_PROTO_LCP, true));
	mark(sp, SL_PPP, p);
	TRY(l2tp_build_data(p, 0x2a2a, 0x0101));
	mark(sp, SL_L2TP, p);
	return udp4(p, sp, UDP_PORT_L2TP, UDP_PORT_L2TP, A_CLIENT, A_GATEWAY, true, 0x0e00);
}

/* An IP packet over PPP in a data message using every optional field (L, S, O + pad). */
static int b_l2tp_ppp_ip(struct pkt *p, struct sample_pkt *sp)
{
	struct l2tp_hdr h = {
		.l2tp_flags = L2TP_F_L | L2TP_F_S | L2TP_F_O,
		.l2tp_tid = 0x2a2a,
		.l2tp_sid = 0x0101,
		.l2tp_ns = 3,
		.l2tp_off_size = 2,
	};
	struct sample_pkt inner = { 0 };

	TRY(echo(p, &inner, ICMP_ECHO_REQUEST, A_INNER_C, A_INNER_S));
	TRY(ppp_build(p, PPP_PROTO_IP, true));
	mark(sp, SL_PPP, p);
	TRY(l2tp_build(p, &h));
	mark(sp, SL_L2TP, p);
	return udp4(p, sp, UDP_PORT_L2TP, UDP_PORT_L2TP, A_CLIENT, A_GATEWAY, true, 0x0f00);
}

/* Negative controls: each breaks one thing that the decode test must see flagged. */

static uint8_t *layer_ptr(struct pkt *p, const struct sample_pkt *sp, enum sample_layer k)
{
	return pkt_data(p) + (p->len - sp->tail[k]);
}

static int b_bad_ip_csum(struct pkt *p, struct sample_pkt *sp)
{
	TRY(b_udp(p, sp));
	layer_ptr(p, sp, SL_IP)[IPV4_OFF_CSUM] ^= 0x5a;
	return 0;
}

static int b_bad_udp_csum(struct pkt *p, struct sample_pkt *sp)
{
	TRY(b_udp(p, sp));
	layer_ptr(p, sp, SL_UDP)[UDP_OFF_CSUM] ^= 0x5a;
	return 0;
}

static int b_bad_tcp_csum(struct pkt *p, struct sample_pkt *sp)
{
	TRY(b_tcp_data(p, sp));
	layer_ptr(p, sp, SL_TCP)[TCP_OFF_CSUM] ^= 0x5a;
	return 0;
}

static int b_bad_icmp_csum(struct pkt *p, struct sample_pkt *sp)
{
	TRY(b_icmp_echo_request(p, sp));
	layer_ptr(p, sp, SL_ICMP)[ICMP_OFF_CSUM] ^= 0x5a;
	return 0;
}

/* Rewrite the UDP checksum after a change inside the datagram, so only that change is
 * wrong. */
static void udp_recsum(struct pkt *p, const struct sample_pkt *sp)
{
	const uint8_t *ip = layer_ptr(p, sp, SL_IP);
	uint8_t *u = layer_ptr(p, sp, SL_UDP);

	sp_store_be16(u + UDP_OFF_CSUM, 0);
	sp_store_be16(u + UDP_OFF_CSUM,
		      csum_udp(sp_load_be32(ip + IPV4_OFF_SRC), sp_load_be32(ip + IPV4_OFF_DST), u,
			       sp->tail[SL_UDP]));
}

static int b_bad_ike_len(struct pkt *p, struct sample_pkt *sp)
{
	uint8_t *ike;

	TRY(b_ike_sa_init_500(p, sp));
	/* The last payload (a 28-octet Notify) claims more than the message holds. */
	ike = layer_ptr(p, sp, SL_IKE);
	sp_store_be16(ike + sp->tail[SL_IKE] - 28 + 2, 400);
	udp_recsum(p, sp);
	return 0;
}

static int b_bad_l2tp_avp(struct pkt *p, struct sample_pkt *sp)
{
	uint8_t *l2tp;

	TRY(b_l2tp_sccrq(p, sp));
	/* The first AVP (Message Type, 8 octets) claims 1000. */
	l2tp = layer_ptr(p, sp, SL_L2TP);
	sp_store_be16(l2tp + L2TP_HDR_CTRL, L2TP_AVP_F_M | 1000);
	udp_recsum(p, sp);
	return 0;
}

/* PCP (RFC 6887) between the client and the NAT's inside address: a MAP for a TCP port
 * used inside ESP, a PEER lease of an incoming ESP SPI with spinat's GPN option (001 step
 * 802), the NAT's answer to an IKE initiator cookie lease (step 801), and an error. */
#define A_NAT_IN 0xc0000201u /* 192.0.2.1, the NAT's inside address */

static void pcp_base(struct pcp_msg *m, uint8_t op, bool response)
{
	memset(m, 0, sizeof(*m));
	m->pcp_opcode = op;
	m->pcp_response = response;
	m->pcp_lifetime = 600;
	m->pcp_client = A_CLIENT;
	for (unsigned i = 0; i < PCP_NONCE_LEN; i++)
		m->pcp_nonce[i] = (uint8_t)(0xa0 + i);
}

static int pcp_udp(struct pkt *p, struct sample_pkt *sp, const struct pcp_msg *m, uint16_t id)
{
	uint8_t buf[PCP_MSG_MAX];
	struct wcur w;

	wcur_init(&w, buf, sizeof(buf));
	TRY(pcp_build(&w, m));
	TRY(put_bytes(p, buf, w.off));
	mark(sp, SL_PCP, p);
	if (m->pcp_response)
		return udp4(p, sp, PCP_PORT, 40100, A_NAT_IN, A_CLIENT, true, id);
	return udp4(p, sp, 40100, PCP_PORT, A_CLIENT, A_NAT_IN, true, id);
}

static int b_pcp_map_tcp(struct pkt *p, struct sample_pkt *sp)
{
	struct pcp_msg m;

	pcp_base(&m, PCP_OP_MAP, false);
	m.pcp_proto = IPV4_PROTO_TCP;
	m.pcp_int_port = PORT_APP_C;
	m.pcp_prefer_failure = false;
	return pcp_udp(p, sp, &m, 0x1100);
}

static int b_pcp_peer_esp_spi(struct pkt *p, struct sample_pkt *sp)
{
	struct pcp_msg m;

	pcp_base(&m, PCP_OP_PEER, false);
	m.pcp_proto = IPV4_PROTO_ESP;
	m.pcp_peer_ip = A_GATEWAY;
	m.pcp_has_gpn = true;
	m.pcp_gpn.pcp_gpn_bits = 32;
	m.pcp_gpn.pcp_gpn_flags = PCP_GPN_F_RECEIVER | PCP_GPN_F_DEFAULT_LIFETIME;
	m.pcp_gpn.pcp_gpn_min = 256; /* RFC 4303 2.1: 1-255 reserved */
	m.pcp_gpn.pcp_gpn_max = 0xffffffff;
	return pcp_udp(p, sp, &m, 0x1101);
}

static int b_pcp_peer_ike_answer(struct pkt *p, struct sample_pkt *sp)
{
	struct pcp_msg m;

	pcp_base(&m, PCP_OP_PEER, true);
	m.pcp_epoch = 4711;
	m.pcp_proto = IPV4_PROTO_UDP;
	m.pcp_int_port = UDP_PORT_IKE;
	m.pcp_ext_port = UDP_PORT_IKE;
	m.pcp_ext_ip = A_NAT;
	m.pcp_peer_port = UDP_PORT_IKE;
	m.pcp_peer_ip = A_GATEWAY;
	m.pcp_has_gpn = true;
	m.pcp_gpn.pcp_gpn_bits = 64;
	m.pcp_gpn.pcp_gpn_flags = PCP_GPN_F_TRANSPORT;
	m.pcp_gpn.pcp_gpn_min = 1;
	m.pcp_gpn.pcp_gpn_max = UINT64_MAX;
	m.pcp_gpn.pcp_gpn_private = 0x1122334455667788ull;
	m.pcp_gpn.pcp_gpn_global = 0x1122334455667788ull;
	return pcp_udp(p, sp, &m, 0x1102);
}

static int b_pcp_error(struct pkt *p, struct sample_pkt *sp)
{
	uint8_t req[PCP_MSG_MAX], out[PCP_MSG_MAX];
	struct wcur w, o;
	struct pcp_msg m;

	pcp_base(&m, PCP_OP_MAP, false);
	m.pcp_proto = IPV4_PROTO_UDP;
	m.pcp_int_port = PORT_APP_C;
	wcur_init(&w, req, sizeof(req));
	TRY(pcp_build(&w, &m));
	wcur_init(&o, out, sizeof(out));
	TRY(pcp_build_error(&o, req, w.off, PCP_R_USER_EX_QUOTA, 1800, 4711));
	TRY(put_bytes(p, out, o.off));
	mark(sp, SL_PCP, p);
	return udp4(p, sp, PCP_PORT, 40100, A_NAT_IN, A_CLIENT, true, 0x1103);
}

struct sample_def {
	struct sample s;
	int (*build)(struct pkt *p, struct sample_pkt *sp);
};

static const struct sample_def defs[] = {
	{ { "ipv4_options", "raw:ip:icmp:data", SC_OK, NULL }, b_ipv4_options },
	{ { "icmp_echo_request", "raw:ip:icmp:data", SC_OK, NULL }, b_icmp_echo_request },
	{ { "icmp_echo_reply", "raw:ip:icmp:data", SC_OK, NULL }, b_icmp_echo_reply },
	{ { "icmp_port_unreach", "raw:ip:icmp:ip:udp:data", SC_OK, NULL }, b_icmp_port_unreach },
	{ { "udp", "raw:ip:udp:data", SC_OK, NULL }, b_udp },
	{ { "frag1", "raw:ip:data", SC_OK, NULL }, b_frag1 },
	{ { "frag2", "raw:ip:udp:data", SC_OK, NULL }, b_frag2 },
	{ { "tcp_syn", "raw:ip:tcp", SC_OK, NULL }, b_tcp_syn },
	{ { "tcp_data", "raw:ip:tcp:http", SC_OK, NULL }, b_tcp_data },
	{ { "tcp_compensated", "raw:ip:tcp:http", SC_OK, NULL }, b_tcp_compensated },
	{ { "esp", "raw:ip:esp", SC_OK, NULL }, b_esp },
	{ { "ah", "raw:ip:ah:icmp:data", SC_OK, NULL }, b_ah },
	{ { "ah_tunnel", "raw:ip:ah:ip:icmp:data", SC_OK, NULL }, b_ah_tunnel },
	{ { "esp_in_udp", "raw:ip:udp:udpencap:esp", SC_OK, NULL }, b_esp_in_udp },
	{ { "natt_keepalive", "raw:ip:udp:udpencap", SC_OK, NULL }, b_natt_keepalive },
	{ { "ike_sa_init_500", "raw:ip:udp:isakmp", SC_OK, NULL }, b_ike_sa_init_500 },
	{ { "ike_auth_4500", "raw:ip:udp:udpencap:isakmp", SC_OK, NULL }, b_ike_auth_4500 },
	{ { "l2tp_sccrq", "raw:ip:udp:l2tp", SC_OK, NULL }, b_l2tp_sccrq },
	{ { "l2tp_ppp_lcp", "raw:ip:udp:l2tp:ppp:lcp", SC_OK, NULL }, b_l2tp_ppp_lcp },
	{ { "l2tp_ppp_ip", "raw:ip:udp:l2tp:ppp:ip:icmp:data", SC_OK, NULL }, b_l2tp_ppp_ip },
	{ { "pcp_map_tcp", "raw:ip:udp:portcontrol", SC_OK, NULL }, b_pcp_map_tcp },
	{ { "pcp_peer_esp_spi", "raw:ip:udp:portcontrol", SC_OK, NULL }, b_pcp_peer_esp_spi },
	{ { "pcp_peer_ike_answer", "raw:ip:udp:portcontrol", SC_OK, NULL }, b_pcp_peer_ike_answer },
	{ { "pcp_error", "raw:ip:udp:portcontrol", SC_OK, NULL }, b_pcp_error },
	{ { "bad_ip_csum", "raw:ip:udp:data", SC_BAD_CSUM, "ip.checksum.status" }, b_bad_ip_csum },
	{ { "bad_udp_csum", "raw:ip:udp:data", SC_BAD_CSUM, "udp.checksum.status" },
	  b_bad_udp_csum },
	/* tshark hands no segment with a bad checksum to the layer above. */
	{ { "bad_tcp_csum", "raw:ip:tcp", SC_BAD_CSUM, "tcp.checksum.status" }, b_bad_tcp_csum },
	{ { "bad_icmp_csum", "raw:ip:icmp:data", SC_BAD_CSUM, "icmp.checksum.status" },
	  b_bad_icmp_csum },
	{ { "bad_ike_len", "raw:ip:udp:isakmp", SC_MALFORMED, NULL }, b_bad_ike_len },
	{ { "bad_l2tp_avp", "raw:ip:udp:l2tp", SC_MALFORMED, NULL }, b_bad_l2tp_avp },
};

unsigned samples_count(void)
{
	return SP_NELEM(defs);
}

const struct sample *samples_get(unsigned i)
{
	return i < SP_NELEM(defs) ? &defs[i].s : NULL;
}

int samples_build(unsigned i, struct pkt *p, struct sample_pkt *sp)
{
	if (i >= SP_NELEM(defs))
		return SP_EINVAL;
	memset(sp, 0, sizeof(*sp));
	sp->s = &defs[i].s;
	pkt_reset(p, PKT_HEADROOM);
	return defs[i].build(p, sp);
}

bool samples_layer(const struct sample_pkt *sp, const struct pkt *p, enum sample_layer k,
		   const uint8_t **data, size_t *len)
{
	if (k >= SL_N || sp->tail[k] == 0 || sp->tail[k] > p->len)
		return false;
	*data = pkt_data(p) + (p->len - sp->tail[k]);
	*len = sp->tail[k];
	return true;
}

/* 002's worked example (samples.h). */

const uint8_t sample_002_table6[SAMPLE_002_IP_LEN] = {
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0xb9, 0xa8, 0xc6, 0x0a,
	0x14, 0x1e, 0xc0, 0xc8, 0x14, 0x03, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0xf7, 0xe4, 0x00, 0x00,
};
const uint8_t sample_002_table2[SAMPLE_002_IP_LEN] = {
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0xb9, 0xa8, 0xc6, 0x0a,
	0x14, 0x1e, 0xc0, 0xc8, 0x14, 0x03, 0x04, 0x08, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0xf8, 0xae, 0x00, 0x00,
};
const uint8_t sample_002_table4[SAMPLE_002_IP_LEN] = {
	0x45, 0x00, 0x00, 0x28, 0x56, 0x78, 0x00, 0x00, 0x40, 0x06, 0x75, 0x64, 0xc0, 0xc8,
	0x14, 0x03, 0xc6, 0x0a, 0x14, 0x1e, 0x00, 0x50, 0x04, 0x08, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x12, 0xff, 0xff, 0xf8, 0x9e, 0x00, 0x00,
};
const uint8_t sample_002_table12[SAMPLE_002_IP_LEN] = {
	0x45, 0x00, 0x00, 0x28, 0x56, 0x78, 0x00, 0x00, 0x40, 0x06, 0x75, 0x64, 0xc0, 0xc8,
	0x14, 0x03, 0xc6, 0x0a, 0x14, 0x1e, 0x00, 0x50, 0x04, 0xd2, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x12, 0xff, 0xff, 0xf7, 0xd4, 0x00, 0x00,
};
const uint8_t sample_002_outer_to_router[SAMPLE_002_OUTER_LEN] = {
	0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x04,
	0x66, 0xb7, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x07,
};
const uint8_t sample_002_outer_to_host[SAMPLE_002_OUTER_LEN] = {
	0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x04,
	0x66, 0xb7, 0x0a, 0x00, 0x00, 0x07, 0x0a, 0x00, 0x00, 0x01,
};

struct pkt *samples_bytes(struct pkt_pool *pool, const uint8_t *b, size_t len)
{
	struct pkt *p = pkt_alloc(pool);

	if (p != NULL && pkt_append(p, b, (uint32_t)len) != 0) {
		pkt_free(p);
		p = NULL;
	}
	return p;
}
