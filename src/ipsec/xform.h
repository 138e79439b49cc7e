/*
 * The steps ESP and AH take around their transforms alike: the outer IPv4 header of tunnel
 * mode (RFC 4301 5.1.2.1), the IPv4 header of transport mode set aside and put back, and
 * the "as if" checksum corrections of 001 through the SA's asif_src/asif_dst.
 */
#ifndef SP_IPSEC_XFORM_H
#define SP_IPSEC_XFORM_H

#include "base/pkt.h"
#include "ipsec/ipsec_ctr.h"
#include "ipsec/sa.h"

/* 001 step 3(iii): correct the transport checksum of ip (len bytes, header validated) to
 * what the receiver will see after the NAT, as if the addresses were sa's asif_src and
 * asif_dst. SP_ESHORT when the transport header is cut short. */
int xform_asif_out(const struct sa *sa, uint8_t *ip, size_t len) SP_MUST_CHECK;

/* 001 step 4'(iv'), RFC 3948 3.1.2: the reverse, from the "as if" addresses the sender
 * computed the checksum over to the addresses ip carries. */
int xform_asif_in(const struct sa *sa, uint8_t *ip, size_t len) SP_MUST_CHECK;

/* Tunnel mode: push the outer header with protocol proto. DF and ECN are copied from the
 * inner header (in_frag, in_tos; RFC 6040 normal mode), DSCP when sa->copy_dscp. */
int xform_tunnel_push(const struct sa *sa, struct pkt *p, uint8_t proto, uint8_t in_tos,
		      uint16_t in_frag, uint16_t ip_id) SP_MUST_CHECK;

/* Transport mode: push back the IPv4 header hdr (hl bytes) set aside before the transform,
 * with protocol proto, the packet's new total length and checksum. */
int xform_transport_push(struct pkt *p, const uint8_t *hdr, size_t hl, uint8_t proto) SP_MUST_CHECK;

/* Tunnel mode, inbound: p must now be a whole inner IPv4 packet; anything after its total
 * length is TFC padding (RFC 4303 2.7) and is cut. */
enum ipsec_ctr xform_inner_ipv4(struct pkt *p);

#endif
