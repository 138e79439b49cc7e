/*
 * What the PPP link's files share: frame building, counters, and the hand-over between
 * the link (LCP, IPCP: ppp_link.c) and authentication (CHAP, PAP: ppp_auth.c).
 */
#ifndef SP_L2TP_PPP_PRIV_H
#define SP_L2TP_PPP_PRIV_H

#include "l2tp/ppp_link.h"
#include "proto/ppp.h"

#define PPP_CTR(k, c) ((k)->st->v[PPP_CTR_##c]++)

/* CHAP codes (RFC 1994 4) and PAP codes (RFC 1334 2.2). */
#define PPP_CHAP_CHALLENGE 1
#define PPP_CHAP_RESPONSE  2
#define PPP_CHAP_SUCCESS   3
#define PPP_CHAP_FAILURE   4
#define PPP_CHAP_MD5	   5 /* Algorithm in the LCP Authentication-Protocol option */
#define PPP_PAP_REQ	   1
#define PPP_PAP_ACK	   2
#define PPP_PAP_NAK	   3

/* An empty frame over the link's buffer, with headroom for PPP, L2TP, UDP and IP. */
void ppp_frame_begin(struct ppp_link *k, struct pkt *p);
/* Push the control header and the framing, then send. */
void ppp_frame_send(struct ppp_link *k, struct pkt *p, uint16_t proto, uint8_t code, uint8_t id);

/* LCP opened: start authentication (or go to the network phase when there is none). */
void ppp_auth_start(struct ppp_link *k, sp_time now);
void ppp_auth_input(struct ppp_link *k, sp_time now, uint16_t proto, const struct ppp_cp *cp);
void ppp_auth_tick(struct ppp_link *k, sp_time now);
/* Authentication is done: the network phase begins. */
void ppp_network_start(struct ppp_link *k, sp_time now);
/* Give up on the link with a reason (logged once, reported down). */
void ppp_fail(struct ppp_link *k, sp_time now, const char *why);

#endif
