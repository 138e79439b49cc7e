/*
 * IKEv2 message framing (RFC 7296 3.1 and 3.2): the fixed header, the generic payload
 * header, an iterator over a payload chain and a writer that appends one. Payload bodies
 * (SA, KE, Notify, ...) are the IKE module's (ike/ikev2_pld.c); this file owns the framing.
 */
#ifndef SP_PROTO_IKEV2_H
#define SP_PROTO_IKEV2_H

#include "base/cursor.h"
#include "base/pkt.h"

/* RFC 7296 3.1, Figure 4: two 8-octet SPIs, four octets of type fields, Message ID, Length. */
#define IKEV2_HDR_LEN	 28
#define IKEV2_OFF_ISPI	 0
#define IKEV2_OFF_RSPI	 8
#define IKEV2_OFF_NP	 16
#define IKEV2_OFF_VER	 17
#define IKEV2_OFF_EXCH	 18
#define IKEV2_OFF_FLAGS	 19
#define IKEV2_OFF_MSGID	 20
#define IKEV2_OFF_LEN	 24
#define IKEV2_MJVER	 2 /* "MUST set the major version to 2" */
#define IKEV2_MNVER	 0
#define IKEV2_ISAKMP_VER 1 /* IKEv1 / ISAKMP (RFC 2408 3.1): same header layout */
/*
 * Largest message spinat accepts or builds: one IKE message per UDP datagram (RFC 7296 2),
 * and a datagram carries at most 65535 - 20 - 8 octets. The Length field is 32 bits, so a
 * larger value is a lie about the datagram.
 */
#define IKEV2_MSG_MAX	 65507

/* Flags (RFC 7296 3.1): |X|X|R|V|I|X|X|X|; X bits are cleared when sending, ignored on receipt. */
#define IKEV2_FLAG_I	  0x08 /* sent by the original initiator of the IKE SA */
#define IKEV2_FLAG_V	  0x10 /* can speak a higher major version; IKEv2 clears it, ignores it */
#define IKEV2_FLAG_R	  0x20 /* response */
#define IKEV2_FLAGS_KNOWN (IKEV2_FLAG_I | IKEV2_FLAG_V | IKEV2_FLAG_R)

/* Exchange types (RFC 7296 3.1; IANA "IKEv2 Exchange Types"). */
#define IKEV2_EXCH_IKE_SA_INIT	      34
#define IKEV2_EXCH_IKE_AUTH	      35
#define IKEV2_EXCH_CREATE_CHILD_SA    36
#define IKEV2_EXCH_INFORMATIONAL      37
#define IKEV2_EXCH_IKE_SESSION_RESUME 38 /* RFC 5723 */
#define IKEV2_EXCH_IKE_INTERMEDIATE   43 /* RFC 9242 */

/* Payload types (RFC 7296 3.2; IANA "IKEv2 Payload Types"). */
#define IKEV2_PLD_NONE	  0 /* No Next Payload: the chain ends */
#define IKEV2_PLD_SA	  33
#define IKEV2_PLD_KE	  34
#define IKEV2_PLD_IDI	  35
#define IKEV2_PLD_IDR	  36
#define IKEV2_PLD_CERT	  37
#define IKEV2_PLD_CERTREQ 38
#define IKEV2_PLD_AUTH	  39
#define IKEV2_PLD_NONCE	  40
#define IKEV2_PLD_NOTIFY  41
#define IKEV2_PLD_DELETE  42
#define IKEV2_PLD_VENDOR  43
#define IKEV2_PLD_TSI	  44
#define IKEV2_PLD_TSR	  45
#define IKEV2_PLD_SK	  46 /* Encrypted and Authenticated (RFC 7296 3.14) */
#define IKEV2_PLD_CP	  47
#define IKEV2_PLD_EAP	  48
#define IKEV2_PLD_SKF	  53 /* Encrypted and Authenticated Fragment (RFC 7383 2.5) */

/* Generic payload header (RFC 7296 3.2, Figure 5): Next Payload, C + RESERVED, Length. */
#define IKEV2_PLD_HDR_LEN  4
#define IKEV2_PLD_CRITICAL 0x80

/*
 * The header, host order. The SPIs are the 8 octets read as one big-endian number, so
 * a NAT can hash and compare them (the IKE "cookies" of 003).
 */
struct ikev2_hdr {
	uint64_t ike_ispi;
	uint64_t ike_rspi; /* 0 in the first message of IKE_SA_INIT */
	uint8_t ike_np;	   /* type of the first payload */
	uint8_t ike_mjver;
	uint8_t ike_mnver;
	uint8_t ike_exch;
	uint8_t ike_flags;
	uint32_t ike_msgid;
	uint32_t ike_len; /* header + payloads */
};

static inline bool ikev2_is_response(const struct ikev2_hdr *h)
{
	return (h->ike_flags & IKEV2_FLAG_R) != 0;
}

static inline bool ikev2_is_initiator(const struct ikev2_hdr *h)
{
	return (h->ike_flags & IKEV2_FLAG_I) != 0;
}

/*
 * Parse and consume the 28-octet header of the message that starts at the cursor. Checks
 * IKEV2_HDR_LEN <= ike_len <= IKEV2_MSG_MAX (else SP_EMALFORMED), ike_len <= bytes
 * available (else SP_ESHORT, as for fewer than 28), a non-zero initiator SPI (RFC 7296 3.1),
 * and major version 2: any other version is SP_EUNSUPP, which RFC 7296 2.5 answers with
 * INVALID_MAJOR_VERSION for a higher one; ikev2_parse_anyver() then gives the fields to
 * answer with. The cursor is left at the first payload; the chain is the next
 * ike_len - 28 octets (ikev2_pld_iter_init() takes them).
 */
int ikev2_parse(struct cur *c, struct ikev2_hdr *h) SP_MUST_CHECK;

/* The same checks except the version: for a NAT that demultiplexes IKEv1 and IKEv2 alike
 * by their SPIs, whose header layout ISAKMP (RFC 2408 3.1) shares. */
int ikev2_parse_anyver(struct cur *c, struct ikev2_hdr *h) SP_MUST_CHECK;

/*
 * Push the header in front of the packet's data, which is the payload chain. The version
 * is set to 2.0 and ike_len to 28 + data length (h's are ignored); only the I and R flags
 * are kept: V and the X bits are cleared when sending (RFC 7296 3.1). SP_EINVAL for a
 * zero initiator SPI or a message over IKEV2_MSG_MAX.
 */
int ikev2_build(struct pkt *p, const struct ikev2_hdr *h) SP_MUST_CHECK;

/* One payload of a chain. */
struct ikev2_pld {
	uint8_t pld_type; /* from the previous Next Payload field (or the IKE header's) */
	uint8_t pld_np;	  /* this payload's Next Payload; for SK/SKF: the first inner type */
	bool pld_critical;
	uint16_t pld_len;    /* including the 4-octet generic header */
	size_t pld_off;	     /* offset of the generic header from the start of the chain */
	struct cur pld_body; /* the pld_len - 4 octets after the generic header */
};

/* Walks a chain: ikev2_pld_iter_init() or _init_chain(), then ikev2_pld_next() until it
 * says SP_ENOTFOUND. */
struct ikev2_pld_iter {
	struct cur it_c;
	uint8_t it_np; /* type of the next payload */
	int it_end;    /* 0 while walking, then what every further call returns */
};

/* The chain of a message whose header ikev2_parse() just consumed from c: takes (consumes)
 * the ike_len - 28 octets that follow. SP_ESHORT if c does not hold them. */
int ikev2_pld_iter_init(struct ikev2_pld_iter *it, struct cur *c,
			const struct ikev2_hdr *h) SP_MUST_CHECK;

/* A chain held by a cursor of its own (e.g. the decrypted content of an SK payload, whose
 * first type is the SK payload's pld_np). */
void ikev2_pld_iter_init_chain(struct ikev2_pld_iter *it, const struct cur *chain,
			       uint8_t first_type);

/*
 * Next payload into *pl: 0, or SP_ENOTFOUND at the end of the chain. SP_EMALFORMED when a
 * payload length is under 4 or runs past the chain, when bytes follow the last payload,
 * when the chain ends while a Next Payload field promises more, or when anything follows
 * an SK or SKF payload, which must be last (RFC 7296 3.14, RFC 7383 2.5). Once it has
 * ended or failed, every further call returns the same code.
 */
int ikev2_pld_next(struct ikev2_pld_iter *it, struct ikev2_pld *pl) SP_MUST_CHECK;

/* Payload types RFC 7296 defines (plus SKF): others are unknown, skipped unless critical
 * (RFC 7296 2.5). */
bool ikev2_pld_type_known(uint8_t type);
const char *ikev2_pld_type_name(uint8_t type);
const char *ikev2_exch_name(uint8_t exch);

/*
 * Appends a payload chain at the tail of a packet, front to back, patching each payload's
 * Next Payload field when the following payload is begun:
 *
 *	ikev2_pw_init(&w, p);
 *	ikev2_pw_begin(&w, IKEV2_PLD_SA, false); pkt_append(p, ...); ikev2_pw_end(&w);
 *	ikev2_pw_begin(&w, IKEV2_PLD_KE, false); ...;                ikev2_pw_end(&w);
 *	h.ike_np = ikev2_pw_first(&w);
 *	ikev2_build(p, &h);
 *
 * Positions are kept as offsets into p->buf, so headers may be pushed in front meanwhile.
 */
#define IKEV2_PW_NONE UINT32_MAX
struct ikev2_pld_writer {
	struct pkt *pw_p;
	uint8_t pw_first;     /* type of the first payload begun */
	uint8_t pw_open_type; /* type of the open payload */
	uint8_t pw_last_type; /* type of the last payload closed */
	uint32_t pw_open;     /* buf offset of the open payload's header, or IKEV2_PW_NONE */
	uint32_t pw_last;     /* buf offset of the last payload's header, or IKEV2_PW_NONE */
};

void ikev2_pw_init(struct ikev2_pld_writer *w, struct pkt *p);
/* Start a payload: append its generic header (length filled by _end). SP_ESTATE if one is
 * open or the last one was SK/SKF (which end a chain), SP_ENOSPACE without tailroom. */
int ikev2_pw_begin(struct ikev2_pld_writer *w, uint8_t type, bool critical) SP_MUST_CHECK;
/* Close the open payload: its length is everything appended since _begin (SP_EINVAL above
 * 65535). */
int ikev2_pw_end(struct ikev2_pld_writer *w) SP_MUST_CHECK;
/* Set the Next Payload field of the SK or SKF payload just closed to the type of the first
 * payload inside it (RFC 7296 3.14); SP_ESTATE for any other payload. */
int ikev2_pw_set_next(struct ikev2_pld_writer *w, uint8_t np) SP_MUST_CHECK;
/* Type of the first payload (IKEV2_PLD_NONE when there is none): the header's ike_np. */
static inline uint8_t ikev2_pw_first(const struct ikev2_pld_writer *w)
{
	return w->pw_first;
}

#endif
