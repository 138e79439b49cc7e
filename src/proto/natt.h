/*
 * UDP encapsulation of IPsec for NAT traversal (RFC 3948): what a UDP 4500 payload is
 * (NAT-keepalive, IKE behind the non-ESP marker, or ESP), the builders for the keepalive and
 * the marker, and the framing of IKE on port 500 (bare) and 4500 (marked).
 */
#ifndef SP_PROTO_NATT_H
#define SP_PROTO_NATT_H

#include "base/cursor.h"
#include "base/pkt.h"

#define NATT_MARKER_LEN	     4	  /* non-ESP marker: four zero octets (RFC 3948 2.2) */
#define NATT_KEEPALIVE_LEN   1	  /* RFC 3948 2.3 */
#define NATT_KEEPALIVE_OCTET 0xff /* the keepalive's one octet */

enum natt_kind {
	NATT_KEEPALIVE, /* one 0xFF octet: refreshes the NAT mapping, then is ignored */
	NATT_IKE,	/* non-ESP marker, then an IKE message */
	NATT_ESP,	/* an ESP packet: the first four octets are its non-zero SPI */
};

/*
 * Classify a UDP payload of port 4500 that fills the cursor (RFC 3948 2.1-2.3). A single
 * 0xFF octet is a keepalive (consumed). Four zero octets are the non-ESP marker: the
 * cursor is moved past it to the IKE message, which must leave room for an IKE header
 * (RFC 7296 3.1). Anything else is ESP when it holds at least an ESP header (SPI and
 * sequence number); the cursor stays at the SPI. Other payloads are SP_EMALFORMED.
 */
int natt_classify(struct cur *c, enum natt_kind *kind) SP_MUST_CHECK;
const char *natt_kind_name(enum natt_kind kind);

/* Append the keepalive octet to an empty packet; the sender "SHOULD use a one-octet long
 * payload with the value 0xFF" (RFC 3948 2.3). */
int natt_build_keepalive(struct pkt *p) SP_MUST_CHECK;

/* Push the non-ESP marker in front of an IKE message. */
int natt_push_marker(struct pkt *p) SP_MUST_CHECK;

/*
 * IKE framing by UDP port (RFC 7296 2.23, RFC 3948 2.2): on UDP_PORT_IKE_NATT the message
 * follows the non-ESP marker, on UDP_PORT_IKE it starts the payload. natt_ike_frame()
 * pushes the marker when port is 4500; natt_ike_unframe() positions the cursor (a whole
 * UDP payload) at the IKE message: on 4500 a payload that is not marked IKE is
 * SP_EMALFORMED. Other ports are SP_EINVAL.
 */
int natt_ike_frame(struct pkt *p, uint16_t port) SP_MUST_CHECK;
int natt_ike_unframe(struct cur *c, uint16_t port) SP_MUST_CHECK;

#endif
