/*
 * SPI-hash schemes (000): how a responder derives its SPI from the originator's, and how a
 * NAT recognises the pair without knowing which side originated. Shared by the `spihash`
 * NAT strategy and by the responder endpoint's SPI policy; pure functions, no state.
 *
 * Terms follow 000: the "originator SPI" is the initial identifier ([0059]), the "responder
 * SPI" the subsequent identifier derived from it ([0064]). A scheme fixes some bits of the
 * responder SPI (its mask) as a function of the originator SPI (its result value) and lets
 * the others be random ([0105]). MD5 is taken over the originator SPI's four bytes in
 * network byte order, as they stand in the ESP header.
 *
 * For IKEv2 endpoints: the SPI in a packet is the receiver's inbound SPI. An initiator
 * proposes its inbound CHILD SA SPI (SAi); a responder using a scheme picks its own inbound
 * SPI as nat_spihash_derive(scheme, that SPI). The inside host's outbound ESP then carries
 * the derived SPI and the server's carries the originator SPI, or the other way round when
 * the server initiated (000 [0070]); nat_spihash_match() accepts both ([0072]-[0075]).
 */
#ifndef SP_CRYPTO_SPIHASH_SCHEME_H
#define SP_CRYPTO_SPIHASH_SCHEME_H

#include "base/rand.h"
#include "base/sp.h"

/* Schemes, in the order of nat_spihash_scheme_names[]. */
#define foreach_nat_spihash_scheme(_)                                                           \
	_(MD5, "md5", 0xffffffffu,                                                              \
	  "the first four bytes of MD5(originator SPI) (000 [0050], [0101])")                   \
	_(MD5_RAND, "md5-rand", 0x0000ffffu,                                                    \
	  "two random bytes, then the first two bytes of MD5(originator SPI) (000 [0049], "     \
	  "[0064], [0076])")                                                                    \
	_(REVERSE, "reverse", 0xffffffffu,                                                      \
	  "the originator SPI's bytes in reverse order (000 [0061], [0077])")                   \
	_(PLUS1, "plus1", 0xffffffffu, "the originator SPI plus one, modulo 2^32 (000 [0061])") \
	_(MD5_BYTE9, "md5-byte9", 0x00ff0000u,                                                  \
	  "random, with the second byte replaced by the ninth byte of MD5(originator SPI) "     \
	  "(000 [0050])")

enum nat_spihash_scheme_id {
#define _(sym, name, mask, help) NAT_SPIHASH_##sym,
	foreach_nat_spihash_scheme(_)
#undef _
		NAT_SPIHASH_N
};

/* The scheme the gateway (spihash_scheme) and a deriving responder (spihash) use unless
 * told otherwise: one default for both, or every packet of a default setup is lost. The
 * worked example's, 000 [0101]. */
#define NAT_SPIHASH_DEFAULT NAT_SPIHASH_MD5

/* Which side of a matched pair the stored (inside host's) SPI is; 000 [0073]-[0074]. */
enum nat_spihash_match_e {
	NAT_SPIHASH_NO_MATCH = 0,
	NAT_SPIHASH_STORED_ORIG = 1, /* stored is the originator SPI, received derived from it */
	NAT_SPIHASH_RECV_ORIG = 2,   /* received is the originator SPI, stored derived from it */
};

struct nat_spihash_scheme {
	enum nat_spihash_scheme_id id;
	const char *name;
	const char *help;
	/* Bits of the responder SPI that the originator SPI determines ([0067]). */
	uint32_t mask;
};

/* NULL-terminated, for conf_get_enum(); index == enum nat_spihash_scheme_id. */
extern const char *const nat_spihash_scheme_names[];

/* The scheme with this id or name, or NULL. */
const struct nat_spihash_scheme *nat_spihash_scheme_get(enum nat_spihash_scheme_id id);
const struct nat_spihash_scheme *nat_spihash_scheme_by_name(const char *name);

/*
 * The result value of the scheme for an originator SPI, already placed where the scheme
 * puts it in the responder SPI: bits outside s->mask are zero ([0060], [0064]).
 */
uint32_t nat_spihash_result(const struct nat_spihash_scheme *s, uint32_t orig_spi);

/*
 * The responder SPI for orig_spi (000 [0048]-[0049]). Schemes with random bytes draw them
 * from rng (may be NULL for the others) and redraw until the SPI is outside the reserved
 * range 0-255 (RFC 4303 2.1). For a fully determined scheme whose result is reserved (e.g.
 * "plus1" of 0xffffffff, "reverse" of 0x12000000) the result is SP_EINVAL and the caller
 * chooses a random SPI instead, which a NAT using this scheme cannot match.
 */
int nat_spihash_derive(const struct nat_spihash_scheme *s, uint32_t orig_spi, struct sp_rng *rng,
		       uint32_t *resp_spi) SP_MUST_CHECK;

/* Whether resp_spi could have been derived from orig_spi: its masked bits agree ([0076]). */
static inline bool nat_spihash_answers(const struct nat_spihash_scheme *s, uint32_t orig_spi,
				       uint32_t resp_spi)
{
	return (resp_spi & s->mask) == nat_spihash_result(s, orig_spi);
}

/*
 * 000 [0075]: the NAT does not know whether the SPI an inside host sent with (stored) is the
 * originator or the responder SPI, so it tries both directions against the SPI received
 * from outside. Returns enum nat_spihash_match_e; STORED_ORIG is tried first.
 */
int nat_spihash_match(const struct nat_spihash_scheme *s, uint32_t stored_spi, uint32_t recv_spi);

#endif
