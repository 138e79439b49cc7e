/* The AH ICV input (RFC 4302 3.3.3.1) and its "as if" addresses (001). */
#include "ipsec/ah.h"
#include "base/cursor.h"
#include "crypto/hmac.h"
#include "proto/ah.h"
#include "proto/ipv4.h"

#include <string.h>

#define OPT_LSRR 131
#define OPT_SSRR 137

/* RFC 4302 Appendix A.1: options whose content does not change in transit (by number,
 * the low five bits): EOL, NOP, Security, Extended Security, Commercial Security, Router
 * Alert, Sender Directed Multi-Destination Delivery. All others are zeroed whole. */
static bool option_immutable(uint8_t type)
{
	switch (type & 0x1f) {
	case 0:
	case 1:
	case 2:
	case 5:
	case 6:
	case 20:
	case 21:
		return true;
	}
	return false;
}

/*
 * Zero the mutable options of the header copy h (hl bytes). With a source route the
 * destination is "mutable but predictable" (3.3.3.1.1.1): the ICV uses the final one, as
 * the receiver will see it. Malformed options make the packet malformed.
 */
static enum ipsec_ctr zero_options(uint8_t *h, size_t hl)
{
	size_t i = IPV4_HDR_MIN;

	while (i < hl) {
		uint8_t type = h[i];
		size_t len;

		if (type == IPV4_OPT_EOL)
			break;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (hl - i < 2 || (len = h[i + 1]) < 2 || len > hl - i)
			return IPSEC_DROP_MALFORMED;
		/* A route not yet completed (pointer within the option, RFC 791) still holds
		 * the final destination in its last slot; at the receiver it is complete. */
		if ((type == OPT_LSRR || type == OPT_SSRR) && len >= 7 && h[i + 2] <= len)
			memcpy(h + IPV4_OFF_DST, h + i + len - 4, 4);
		if (!option_immutable(type))
			memset(h + i, 0, len);
		i += len;
	}
	return IPSEC_OK;
}

enum ipsec_ctr ah_icv(struct sa *sa, const struct pkt *p, uint64_t seq, uint8_t *icv)
{
	const uint8_t *ip = pkt_data(p);
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	uint8_t h[IPV4_HDR_MAX];
	enum ipsec_ctr r;

	if (hl < IPV4_HDR_MIN || hl > p->len)
		return IPSEC_DROP_MALFORMED;
	memcpy(h, ip, hl);
	/* 3.3.3.1.1.1: DSCP/ECN, flags and fragment offset, TTL, checksum are mutable. */
	h[IPV4_OFF_TOS] = 0;
	sp_store_be16(h + IPV4_OFF_FRAG, 0);
	h[IPV4_OFF_TTL] = 0;
	sp_store_be16(h + IPV4_OFF_CSUM, 0);
	if ((r = zero_options(h, hl)) != IPSEC_OK)
		return r;
	if (sa->asif_src)
		sp_store_be32(h + IPV4_OFF_SRC, sa->asif_src);
	if (sa->asif_dst)
		sp_store_be32(h + IPV4_OFF_DST, sa->asif_dst);
	crypto_hmac_begin(sa->xf.hmac);
	crypto_hmac_update(sa->xf.hmac, h, hl);
	crypto_hmac_update(sa->xf.hmac, ip + hl, p->len - hl);
	if (sa->esn) {
		uint8_t hi[4];

		/* 3.3.3.3.1: the high-order bits are appended, never sent. */
		sp_store_be32(hi, (uint32_t)(seq >> 32));
		crypto_hmac_update(sa->xf.hmac, hi, sizeof(hi));
	}
	crypto_hmac_final(sa->xf.hmac, icv);
	return IPSEC_OK;
}
