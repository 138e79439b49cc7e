/*
 * The anti-replay window of an inbound SA (RFC 4303 3.4.3 and Appendix A): a bitmap of the
 * last `size` sequence numbers below the highest one authenticated, with the high half of
 * extended sequence numbers inferred as Appendix A2.2 says. Checking happens before the
 * ICV; the window moves only after the ICV verified (3.4.3, 3.4.4).
 */
#ifndef SP_IPSEC_REPLAY_H
#define SP_IPSEC_REPLAY_H

#include "base/sp.h"

#define REPLAY_DEFAULT	64    /* RFC 4303 3.4.3: "a minimum window size of 32 ... 64 SHOULD" */
#define REPLAY_MAX	65536 /* largest configurable window */
#define REPLAY_ESN_WIND 64    /* window used for ESN inference when checking is off */

struct replay {
	uint64_t top;	/* highest sequence number authenticated so far, 0 before any */
	uint32_t size;	/* window size W; 0 disables the check (RFC 4303 3.4.3 "MAY") */
	uint32_t words; /* bitmap words (a ring indexed by seq mod 64*words) */
	uint64_t *bits;
};

/* size 0 (no checking) or 1..REPLAY_MAX. top starts at initial_top (normally 0). */
int replay_init(struct replay *r, uint32_t size, uint64_t initial_top) SP_MUST_CHECK;
void replay_destroy(struct replay *r);

/*
 * The full sequence number of a packet carrying seq_lo, and whether it may be accepted.
 * Without ESN the high half is 0. Returns 0 (*seq set), or SP_EREPLAY for a duplicate, a
 * packet left of the window, or sequence number 0.
 */
int replay_check(const struct replay *r, uint32_t seq_lo, bool esn, uint64_t *seq) SP_MUST_CHECK;

/* Record seq (already checked and authenticated): moves the window right if needed. */
void replay_accept(struct replay *r, uint64_t seq);

#endif
