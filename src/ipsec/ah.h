/*
 * AH (RFC 4302) on one packet with one SA, transport or tunnel mode: the ICV covers the
 * IPv4 header with its mutable fields zeroed (3.3.3.1.1.1), mutable options zeroed whole
 * and immutable ones kept (3.3.3.1.1.2, Appendix A), the AH header with a zero ICV, the
 * payload, and with ESN the high sequence half appended (3.3.3.3). Results are IPSEC_OK
 * or a drop reason of ipsec_ctr.h.
 */
#ifndef SP_IPSEC_AH_H
#define SP_IPSEC_AH_H

#include "base/pkt.h"
#include "ipsec/ipsec_ctr.h"
#include "ipsec/sa.h"

/* Bytes AH adds to a packet for this SA. */
size_t ah_overhead(const struct sa *sa);

/* Protect p (a whole validated IPv4 packet); ip_id is the outer identification in tunnel
 * mode. The ICV is computed as if the outer source were sa->asif_src and the destination
 * sa->asif_dst when set (001 procedure step 4, FIG. 9 step 815). */
enum ipsec_ctr ah_output(struct sa *sa, struct pkt *p, uint16_t ip_id);

/* Unprotect p whose AH header follows its IPv4 header; the ICV is verified as if the
 * addresses were sa->asif_src / sa->asif_dst when set (001 step 3', FIG. 10 step 820). */
enum ipsec_ctr ah_input(struct sa *sa, struct pkt *p, uint64_t *seq);

/*
 * The ICV of the AH packet p (IPv4 header, AH header with its ICV field zeroed, payload)
 * into icv (sa->icv_len bytes), computed with the mutable fields zeroed and the "as if"
 * addresses substituted; seq is the full sequence number. Exposed for tests and tools.
 */
enum ipsec_ctr ah_icv(struct sa *sa, const struct pkt *p, uint64_t seq, uint8_t *icv);

#endif
