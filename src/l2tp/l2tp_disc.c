#include "l2tp/l2tp_disc.h"

#include <string.h>

#define CTR(d, c) ((d)->ctr[L2TP_DISC_CTR_##c]++)
#define NS_PER_S  1000000000ull

static const char *const disc_ctr_names[] = { SP_CTR_NAMES(foreach_l2tp_disc_ctr) };

void l2tp_disc_cfg_defaults(struct l2tp_disc_cfg *c)
{
	c->rate = 1000;
	c->burst = 100;
	c->fingerprint = true;
}

void l2tp_disc_init(struct l2tp_disc *d, const struct l2tp_disc_cfg *cfg)
{
	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->tokens = (uint64_t)cfg->burst * NS_PER_S;
	sp_ctrs_init(&d->ctrs, "disc", NULL, disc_ctr_names, d->ctr, L2TP_DISC_CTR_N);
}

/* A token bucket of burst answers refilled at rate per second. */
static bool rate_ok(struct l2tp_disc *d, sp_time now)
{
	uint64_t cap = (uint64_t)d->cfg.burst * NS_PER_S;

	if (d->cfg.rate == 0)
		return true;
	if (now > d->last) {
		uint64_t add = (now - d->last) * d->cfg.rate;

		d->tokens = add / d->cfg.rate != now - d->last ? cap : SP_MIN(cap, d->tokens + add);
		d->last = now;
	}
	if (d->tokens < NS_PER_S)
		return false;
	d->tokens -= NS_PER_S;
	return true;
}

/* RFC 8489 7.3.1: attributes a server must understand (comprehension-required, below
 * 0x8000) and the ones it may simply not act on. */
static bool attr_understood(uint16_t t)
{
	switch (t) {
	case STUN_A_MAPPED_ADDRESS:
	case STUN_A_USERNAME:
	case STUN_A_MESSAGE_INTEGRITY:
	case STUN_A_ERROR_CODE:
	case STUN_A_UNKNOWN_ATTRIBUTES:
	case STUN_A_REALM:
	case STUN_A_NONCE:
	case STUN_A_MI_SHA256:
	case STUN_A_PASSWORD_ALGORITHM:
	case STUN_A_USERHASH:
	case STUN_A_XOR_MAPPED_ADDRESS:
	case STUN_A_PRIORITY:
	case STUN_A_USE_CANDIDATE:
		return true;
	default:
		return t >= 0x8000;
	}
}

static int answer_rfc8489(struct l2tp_disc *d, const struct stun_hdr *h, uint32_t src,
			  uint16_t sport, struct pkt *out)
{
	struct cur attrs = h->stun_attrs;
	struct stun_attr a;
	uint8_t unknown[8];
	uint16_t nunk = 0;
	int r;

	while ((r = stun_attr_next(&attrs, &a)) == 0)
		if (!attr_understood(a.sa_type) && nunk < 4) {
			sp_store_be16(unknown + 2 * nunk, a.sa_type);
			nunk++;
		}
	if (r != SP_ENOTFOUND) {
		CTR(d, DROP_MALFORMED);
		return SP_EMALFORMED;
	}
	if (nunk > 0) {
		/* 420 with UNKNOWN-ATTRIBUTES (RFC 8489 6.3.1.1). */
		if (stun_put_hdr(out, STUN_BINDING_ERR, h->stun_tid) != 0 ||
		    stun_put_error(out, 420, "Unknown Attribute") != 0 ||
		    stun_put_attr(out, STUN_A_UNKNOWN_ATTRIBUTES, unknown, 2 * nunk) != 0)
			goto nospace;
		stun_finish(out);
		CTR(d, TX_ERROR);
		return 0;
	}
	if (stun_put_hdr(out, STUN_BINDING_OK, h->stun_tid) != 0 ||
	    stun_put_xor_addr(out, src, sport) != 0 ||
	    stun_put_attr(out, STUN_A_SOFTWARE, "spinat", 6) != 0)
		goto nospace;
	stun_finish(out);
	if (d->cfg.fingerprint && stun_put_fingerprint(out) != 0)
		goto nospace;
	CTR(d, TX_RFC8489);
	return 0;
nospace:
	CTR(d, DROP_NO_SPACE);
	return SP_ENOSPACE;
}

/* RFC 3489 8.2: MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS. */
static int answer_rfc3489(struct l2tp_disc *d, const struct stun_hdr *h, uint32_t local,
			  uint16_t lport, uint32_t src, uint16_t sport, struct pkt *out)
{
	struct cur attrs = h->stun_attrs;
	struct stun_attr a;
	int r;

	while ((r = stun_attr_next(&attrs, &a)) == 0) {
		uint32_t flags;
		struct cur v = a.sa_val;

		if (a.sa_type == STUN_A_CHANGE_REQUEST) {
			/* One address and port here: a change cannot be honoured, and an answer
			 * from the same place would make the client misjudge its NAT. */
			if (cur_get_u32(&v, &flags) == 0 && (flags & 0x6) != 0) {
				CTR(d, DROP_CHANGE_REQUEST);
				return SP_EUNSUPP;
			}
		} else if (a.sa_type == STUN_A_RESPONSE_ADDRESS) {
			/* Answering elsewhere would make this a reflector. */
			CTR(d, DROP_RESPONSE_ADDR);
			return SP_EPOLICY;
		}
	}
	if (r != SP_ENOTFOUND) {
		CTR(d, DROP_MALFORMED);
		return SP_EMALFORMED;
	}
	if (stun_put_hdr(out, STUN_BINDING_OK, h->stun_tid) != 0 ||
	    stun_put_addr(out, STUN_A_MAPPED_ADDRESS, src, sport) != 0 ||
	    stun_put_addr(out, STUN_A_SOURCE_ADDRESS, local, lport) != 0 ||
	    stun_put_addr(out, STUN_A_CHANGED_ADDRESS, local, lport) != 0) {
		CTR(d, DROP_NO_SPACE);
		return SP_ENOSPACE;
	}
	stun_finish(out);
	CTR(d, TX_RFC3489);
	return 0;
}

int l2tp_disc_input(struct l2tp_disc *d, sp_time now, uint32_t local, uint16_t lport, uint32_t src,
		    uint16_t sport, const uint8_t *in, size_t len, struct pkt *out)
{
	struct stun_hdr h;
	struct cur c;

	CTR(d, RX);
	cur_init(&c, in, len);
	if (stun_parse(&c, &h) != 0 || cur_left(&c) != 0) {
		CTR(d, DROP_MALFORMED);
		return SP_EMALFORMED;
	}
	if ((h.stun_type & STUN_CLASS_MASK) != STUN_CLASS_REQUEST) {
		CTR(d, DROP_NOT_REQUEST); /* indications and answers get no answer */
		return SP_ESTATE;
	}
	if (h.stun_type != STUN_BINDING_REQ) {
		CTR(d, DROP_NOT_BINDING);
		return SP_EUNSUPP;
	}
	/* A FINGERPRINT, when present, must be right (RFC 8489 7.3). */
	if (!h.stun_classic && len >= STUN_HDR_LEN + 8 &&
	    sp_load_be16(in + len - 8) == STUN_A_FINGERPRINT && !stun_fingerprint_ok(in, len)) {
		CTR(d, DROP_FINGERPRINT);
		return SP_EAUTH;
	}
	if (!rate_ok(d, now)) {
		CTR(d, DROP_RATE_LIMITED);
		return SP_EAGAIN;
	}
	if (h.stun_classic)
		return answer_rfc3489(d, &h, local, lport, src, sport, out);
	return answer_rfc8489(d, &h, src, sport, out);
}

int l2tp_disc_request(struct pkt *out, const uint8_t tid[12])
{
	uint8_t t[STUN_TID_LEN];
	int r;

	sp_store_be32(t, STUN_MAGIC);
	memcpy(t + 4, tid, 12);
	if ((r = stun_put_hdr(out, STUN_BINDING_REQ, t)) != 0)
		return r;
	stun_finish(out);
	return stun_put_fingerprint(out);
}

int l2tp_disc_response(const uint8_t *in, size_t len, const uint8_t tid[12], uint32_t *addr,
		       uint16_t *port)
{
	struct stun_hdr h;
	struct stun_attr a;
	struct cur c;
	bool got = false;
	int r;

	cur_init(&c, in, len);
	if ((r = stun_parse(&c, &h)) != 0)
		return r;
	if (h.stun_classic || memcmp(h.stun_tid + 4, tid, 12) != 0 ||
	    h.stun_type != STUN_BINDING_OK)
		return SP_ENOTFOUND;
	while ((r = stun_attr_next(&h.stun_attrs, &a)) == 0) {
		if (a.sa_type == STUN_A_XOR_MAPPED_ADDRESS) {
			if ((r = stun_get_xor_addr(&a, addr, port)) != 0)
				return r;
			return 0;
		}
		if (a.sa_type == STUN_A_MAPPED_ADDRESS && !got)
			got = stun_get_addr(&a, addr, port) == 0;
	}
	if (r != SP_ENOTFOUND)
		return r;
	return got ? 0 : SP_EMALFORMED;
}
