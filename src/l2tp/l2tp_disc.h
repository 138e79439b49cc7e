/*
 * The NAT discovery service of 004 [0025], "a UDP service that echoes the source address
 * and port it sees", as a STUN Binding server (RFC 8489) so any STUN client can use it:
 * XOR-MAPPED-ADDRESS for RFC 8489 requests, MAPPED-ADDRESS (with SOURCE- and
 * CHANGED-ADDRESS) for classic RFC 3489 ones. Sans-IO: handed a datagram with both
 * addresses, it writes the answer into a packet. Answers are rate limited (an
 * unauthenticated service must not become a reflector). The client half builds a request
 * and reads the reflected address out of the answer.
 */
#ifndef SP_L2TP_L2TP_DISC_H
#define SP_L2TP_L2TP_DISC_H

#include "base/counter.h"
#include "base/pkt.h"
#include "base/time.h"
#include "proto/stun.h"

#define foreach_l2tp_disc_ctr(_)                       \
	_(RX, "rx")                                    \
	_(TX_RFC8489, "tx_rfc8489")                    \
	_(TX_RFC3489, "tx_rfc3489")                    \
	_(TX_ERROR, "tx_error_420")                    \
	_(DROP_MALFORMED, "drop_malformed")            \
	_(DROP_NOT_REQUEST, "drop_not_request")        \
	_(DROP_NOT_BINDING, "drop_not_binding")        \
	_(DROP_FINGERPRINT, "drop_bad_fingerprint")    \
	_(DROP_CHANGE_REQUEST, "drop_change_request")  \
	_(DROP_RESPONSE_ADDR, "drop_response_address") \
	_(DROP_RATE_LIMITED, "drop_rate_limited")      \
	_(DROP_NO_SPACE, "drop_no_space")

enum l2tp_disc_ctr {
#define _(sym, str) L2TP_DISC_CTR_##sym,
	foreach_l2tp_disc_ctr(_)
#undef _
		L2TP_DISC_CTR_N
};

struct l2tp_disc_cfg {
	uint32_t rate;	  /* answers per second on average (1000; 0: unlimited) */
	uint32_t burst;	  /* answers at once (100) */
	bool fingerprint; /* add FINGERPRINT to RFC 8489 answers (yes) */
};

void l2tp_disc_cfg_defaults(struct l2tp_disc_cfg *c);

struct l2tp_disc {
	struct l2tp_disc_cfg cfg;
	uint64_t tokens; /* in 1e-9 answers */
	sp_time last;
	uint64_t ctr[L2TP_DISC_CTR_N];
	struct sp_ctrs ctrs;
};

void l2tp_disc_init(struct l2tp_disc *d, const struct l2tp_disc_cfg *cfg);

/*
 * A datagram to the service at local:lport from src:sport. 0 with the answer in out (sent
 * back to src:sport), or a negative code when nothing is to be sent (counted).
 */
int l2tp_disc_input(struct l2tp_disc *d, sp_time now, uint32_t local, uint16_t lport, uint32_t src,
		    uint16_t sport, const uint8_t *in, size_t len, struct pkt *out) SP_MUST_CHECK;

/* Client: an RFC 8489 Binding request with transaction ID tid (12 octets). */
int l2tp_disc_request(struct pkt *out, const uint8_t tid[12]) SP_MUST_CHECK;
/* Client: the reflected address of a success answer to tid (XOR-MAPPED-ADDRESS, else
 * MAPPED-ADDRESS). SP_ENOTFOUND when it is not an answer to tid. */
int l2tp_disc_response(const uint8_t *in, size_t len, const uint8_t tid[12], uint32_t *addr,
		       uint16_t *port) SP_MUST_CHECK;

#endif
