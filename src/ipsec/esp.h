/*
 * ESP (RFC 4303) on one packet with one SA, in transport or tunnel mode, with optional UDP
 * encapsulation (RFC 3948). The engine (ipsec.h) chose the SA and owns counting; these
 * functions transform the packet in place and answer IPSEC_OK or a drop reason from
 * ipsec_ctr.h. Nothing is allocated and the payload is never copied: headers are pushed
 * and pulled around it and the cipher runs over it where it lies.
 */
#ifndef SP_IPSEC_ESP_H
#define SP_IPSEC_ESP_H

#include "base/pkt.h"
#include "base/rand.h"
#include "ipsec/ipsec_ctr.h"
#include "ipsec/sa.h"

/* Bytes ESP adds around a payload of len bytes for this SA (headers, IV, padding, ICV). */
size_t esp_overhead(const struct sa *sa, size_t len);

/*
 * The cryptography of one ESP message, done apart from the rest of its processing (the
 * engine's crypto lanes, ipsec.h): sealing the message at esp (n bytes, SPI to trailer)
 * of packet p with sequence number seq, or opening it (n bytes with the ICV), r the result.
 */
struct esp_job {
	struct sa *sa;
	struct pkt *p;
	uint8_t *esp;
	uint32_t n;
	uint32_t gen; /* open: sa->gen, to tell the SA from a later one at its address */
	uint64_t seq;
	enum ipsec_ctr r;
	bool done; /* sealed already (its SA was about to go), or opened */
};

/*
 * Protect p, a whole IPv4 packet whose header the caller validated and whose length is its
 * total length. rng gives CBC IVs; ip_id is the outer identification in tunnel mode.
 * The SA's sequence number is advanced. On IPSEC_OK p is the ESP packet. With defer
 * non-NULL the ciphertext and ICV are left for esp_seal_lane() on *defer, which is filled:
 * the rest of p (headers, sequence number, IV, trailer, length) is final already.
 */
enum ipsec_ctr esp_output(struct sa *sa, struct pkt *p, struct sp_rng *rng, uint16_t ip_id,
			  struct esp_job *defer);

/*
 * Unprotect p, an IPv4 packet (header validated) whose ESP header starts esp_off bytes in
 * (after the UDP header when encapsulated); sa matches its SPI. Checks the anti-replay
 * window, the ICV, the padding; moves the window. On IPSEC_OK p is the inner packet
 * (transport mode: the outer header restored with the next header) and *seq its full
 * sequence number. IPSEC_DROP_DUMMY means an authenticated dummy packet (next header 59).
 * pre non-NULL: the message was opened already (a crypto lane ran esp_open_lane() on it for
 * sa) and pre->r is what that answered; the window is checked here all the same, in order.
 */
enum ipsec_ctr esp_input(struct sa *sa, struct pkt *p, size_t esp_off, uint64_t *seq,
			 const struct esp_job *pre);

/* The cryptographic core on an ESP message at esp (SPI .. trailer, n bytes, followed by
 * icv_len bytes of room): fills SPI, sequence number and IV, encrypts, writes the ICV.
 * For callers and tests that build the payload and trailer themselves. iv may be NULL
 * (then AEAD transforms use the sequence number and CBC draws from rng). */
enum ipsec_ctr esp_seal(struct sa *sa, uint8_t *esp, size_t n, uint64_t seq, const uint8_t *iv,
			struct sp_rng *rng);
/* Verify and decrypt an ESP message of n bytes (ICV included) in place. */
enum ipsec_ctr esp_open(struct sa *sa, uint8_t *esp, size_t n, uint64_t seq);
/* The same with the contexts of crypto lane (< sa->nlanes), whose thread alone may use
 * them; esp_seal_lane() encrypts and writes the ICV of a message whose header and IV are
 * in place (esp_output() with defer). */
enum ipsec_ctr esp_seal_lane(struct sa *sa, unsigned lane, uint8_t *esp, size_t n, uint64_t seq);
enum ipsec_ctr esp_open_lane(struct sa *sa, unsigned lane, uint8_t *esp, size_t n, uint64_t seq);

#endif
