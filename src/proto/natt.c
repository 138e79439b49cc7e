#include "proto/natt.h"
#include "proto/esp.h"
#include "proto/ikev2.h"
#include "proto/udp.h"

int natt_classify(struct cur *c, enum natt_kind *kind)
{
	uint32_t word;
	uint8_t first;

	if (cur_peek_u8(c, 0, &first) != 0)
		return SP_EMALFORMED; /* an empty datagram is none of the three */
	/* RFC 3948 2.3: NAT-keepalive, one octet 0xFF. */
	if (cur_left(c) == NATT_KEEPALIVE_LEN) {
		if (first != NATT_KEEPALIVE_OCTET)
			return SP_EMALFORMED;
		cur_skip_all(c);
		*kind = NATT_KEEPALIVE;
		return 0;
	}
	if (cur_peek_u32(c, 0, &word) != 0)
		return SP_EMALFORMED;
	if (word == 0) {
		/* RFC 3948 2.2: the marker sits where an ESP SPI would be; SPI 0 is never sent. */
		if (cur_left(c) < NATT_MARKER_LEN + IKEV2_HDR_LEN)
			return SP_EMALFORMED;
		if (cur_skip(c, NATT_MARKER_LEN) != 0)
			return SP_EMALFORMED;
		*kind = NATT_IKE;
		return 0;
	}
	/* RFC 3948 2.1: the ESP header follows the UDP header directly. */
	if (cur_left(c) < ESP_HDR_LEN)
		return SP_EMALFORMED;
	*kind = NATT_ESP;
	return 0;
}

const char *natt_kind_name(enum natt_kind kind)
{
	switch (kind) {
	case NATT_KEEPALIVE:
		return "keepalive";
	case NATT_IKE:
		return "ike";
	case NATT_ESP:
		return "esp";
	}
	return "unknown";
}

int natt_build_keepalive(struct pkt *p)
{
	uint8_t *b;

	if (p->len != 0)
		return SP_EINVAL;
	if ((b = pkt_put(p, NATT_KEEPALIVE_LEN)) == NULL)
		return SP_ENOSPACE;
	b[0] = NATT_KEEPALIVE_OCTET;
	return 0;
}

int natt_push_marker(struct pkt *p)
{
	uint8_t *b = pkt_push(p, NATT_MARKER_LEN);

	if (b == NULL)
		return SP_ENOSPACE;
	sp_store_be32(b, 0);
	return 0;
}

int natt_ike_frame(struct pkt *p, uint16_t port)
{
	if (port == UDP_PORT_IKE)
		return 0;
	if (port == UDP_PORT_IKE_NATT)
		return natt_push_marker(p);
	return SP_EINVAL;
}

int natt_ike_unframe(struct cur *c, uint16_t port)
{
	struct cur t = *c;
	enum natt_kind kind;
	int r;

	if (port == UDP_PORT_IKE)
		return 0;
	if (port != UDP_PORT_IKE_NATT)
		return SP_EINVAL;
	if ((r = natt_classify(&t, &kind)) != 0)
		return r;
	if (kind != NATT_IKE)
		return SP_EMALFORMED;
	*c = t;
	return 0;
}
