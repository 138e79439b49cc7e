/*
 * Sample packets: one real, meaningful IPv4 packet of every kind proto/ can build, made
 * with proto/'s own builders. The same table feeds the unit tests (build, parse back), the
 * fuzz seed corpora (tests/fuzz/gen_corpus.c) and the tshark decode test
 * (tests/interop/tshark_pcap.c), so what tshark accepts is what the parsers are fuzzed from.
 */
#ifndef SP_TESTS_SAMPLES_H
#define SP_TESTS_SAMPLES_H

#include "base/pkt.h"

/* Layers a sample may contain; samples_layer() finds each one in the built packet. */
enum sample_layer {
	SL_IP,	 /* the whole IPv4 packet */
	SL_ICMP, /* ICMP message */
	SL_UDP,	 /* UDP datagram (header + payload) */
	SL_TCP,	 /* TCP segment */
	SL_ESP,	 /* ESP packet (in IP or in UDP 4500) */
	SL_AH,	 /* AH header and what it protects */
	SL_NATT, /* the payload of a UDP 4500 datagram */
	SL_IKE,	 /* an IKE message (after the non-ESP marker on 4500) */
	SL_L2TP, /* an L2TP message (UDP 1701 payload) */
	SL_PPP,	 /* a PPP frame in an L2TP data message */
	SL_PCP,	 /* a PCP message (UDP 5351 payload) */
	SL_N
};

/* What tshark must make of a sample (tests/interop/tshark_decode.sh). */
enum sample_check {
	SC_OK,	      /* decodes cleanly: no malformed packet, every checksum good */
	SC_BAD_CSUM,  /* a corrupted checksum tshark must flag (negative control) */
	SC_MALFORMED, /* a length that lies, which tshark must call malformed */
};

struct sample {
	const char *name;      /* file name stem in the corpora */
	const char *protocols; /* tshark's frame.protocols for it */
	enum sample_check check;
	const char *bad_field; /* SC_BAD_CSUM: the checksum status field that must say bad */
};

struct sample_pkt {
	const struct sample *s;
	uint32_t tail[SL_N]; /* bytes from each layer's start to the end; 0 when absent */
};

unsigned samples_count(void);
const struct sample *samples_get(unsigned i);

/* Build sample i into p (emptied first, PKT_HEADROOM headroom). Returns 0 or an SP_E*. */
int samples_build(unsigned i, struct pkt *p, struct sample_pkt *sp);

/* The bytes of layer k of a built sample; false when the sample has no such layer. */
bool samples_layer(const struct sample_pkt *sp, const struct pkt *p, enum sample_layer k,
		   const uint8_t **data, size_t *len);

/*
 * 002's worked example, octet for octet (host 10.0.0.1, router 10.0.0.7, global address
 * 198.10.20.30, server 192.200.20.3; TCP port 1234 translated to 1032, port 80): the
 * router's (test_nat_dnat) and the host's (test_host_dnat) tests both check against it.
 */
#define SAMPLE_002_IP_LEN    40 /* the TCP packets: IPv4 and TCP headers, no payload */
#define SAMPLE_002_OUTER_LEN 20 /* the tunnel headers: IPv4, protocol 4 */
/* Table 6: 198.10.20.30:1234 -> 192.200.20.3:80, the SYN as the host's TCP sends it. */
extern const uint8_t sample_002_table6[SAMPLE_002_IP_LEN];
/* Table 2: the same from port 1032 (Table 3's and Table 8's inner packet). */
extern const uint8_t sample_002_table2[SAMPLE_002_IP_LEN];
/* Table 4: the SYN-ACK, 192.200.20.3:80 -> 198.10.20.30:1032 (and Table 10). */
extern const uint8_t sample_002_table4[SAMPLE_002_IP_LEN];
/* Table 12: what the host's stack receives, port 1234 again. */
extern const uint8_t sample_002_table12[SAMPLE_002_IP_LEN];
/* The outer header of Tables 3 and 8: 10.0.0.1 -> 10.0.0.7, around a 40-octet packet. */
extern const uint8_t sample_002_outer_to_router[SAMPLE_002_OUTER_LEN];
/* The outer header of Tables 5 and 11: 10.0.0.7 -> 10.0.0.1. */
extern const uint8_t sample_002_outer_to_host[SAMPLE_002_OUTER_LEN];

/* A packet from pool holding the len bytes at b (PKT_HEADROOM headroom), or NULL. */
struct pkt *samples_bytes(struct pkt_pool *pool, const uint8_t *b, size_t len);

#endif
