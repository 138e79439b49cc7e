#include "crypto/spihash_scheme.h"
#include "base/cursor.h"
#include "proto/esp.h"

#include <openssl/evp.h>
#include <string.h>

static const struct nat_spihash_scheme schemes[NAT_SPIHASH_N] = {
#define _(sym, name, mask, help) [NAT_SPIHASH_##sym] = { NAT_SPIHASH_##sym, name, help, mask },
	foreach_nat_spihash_scheme(_)
#undef _
};

const char *const nat_spihash_scheme_names[] = {
#define _(sym, name, mask, help) name,
	foreach_nat_spihash_scheme(_)
#undef _
		NULL,
};

const struct nat_spihash_scheme *nat_spihash_scheme_get(enum nat_spihash_scheme_id id)
{
	if ((unsigned)id >= NAT_SPIHASH_N)
		return NULL;
	return &schemes[id];
}

const struct nat_spihash_scheme *nat_spihash_scheme_by_name(const char *name)
{
	for (unsigned i = 0; i < NAT_SPIHASH_N; i++)
		if (strcmp(schemes[i].name, name) == 0)
			return &schemes[i];
	return NULL;
}

/* 000 [0044]: MD5 over the four-byte SPI gives sixteen bytes. */
static void md5_spi(uint32_t spi, uint8_t out[16])
{
	uint8_t in[4];
	unsigned len = 0;

	sp_store_be32(in, spi);
	/* MD5 cannot fail on four bytes short of a broken library; zeros then match nothing
	 * the responder would derive with a working one. */
	if (EVP_Digest(in, sizeof(in), out, &len, EVP_md5(), NULL) != 1 || len != 16)
		memset(out, 0, 16);
}

uint32_t nat_spihash_result(const struct nat_spihash_scheme *s, uint32_t orig)
{
	uint8_t h[16];

	switch (s->id) {
	case NAT_SPIHASH_MD5: /* [0050], [0101]: the first four bytes */
		md5_spi(orig, h);
		return sp_load_be32(h);
	case NAT_SPIHASH_MD5_RAND: /* [0049]: first two hash bytes as the last two SPI bytes */
		md5_spi(orig, h);
		return sp_load_be16(h);
	case NAT_SPIHASH_REVERSE: /* [0061], [0077] */
		return __builtin_bswap32(orig);
	case NAT_SPIHASH_PLUS1: /* [0061] */
		return orig + 1;
	case NAT_SPIHASH_MD5_BYTE9: /* [0050]: the ninth hash byte as the second SPI byte */
		md5_spi(orig, h);
		return (uint32_t)h[8] << 16;
	case NAT_SPIHASH_N:
		break;
	}
	return 0;
}

int nat_spihash_derive(const struct nat_spihash_scheme *s, uint32_t orig, struct sp_rng *rng,
		       uint32_t *resp)
{
	uint32_t fixed, spi;

	if (s == NULL)
		return SP_EINVAL;
	fixed = nat_spihash_result(s, orig);
	if (s->mask == 0xffffffffu) {
		if (fixed < ESP_SPI_MIN)
			return SP_EINVAL;
		*resp = fixed;
		return 0;
	}
	if (rng == NULL)
		return SP_EINVAL;
	/* The free bits are random ([0049]); at least one of them is above bit 8 for every
	 * scheme here, so the loop ends. */
	do {
		spi = (sp_rng_u32(rng) & ~s->mask) | fixed;
	} while (spi < ESP_SPI_MIN);
	*resp = spi;
	return 0;
}

int nat_spihash_match(const struct nat_spihash_scheme *s, uint32_t stored, uint32_t recv)
{
	if (nat_spihash_answers(s, stored, recv))
		return NAT_SPIHASH_STORED_ORIG; /* [0073] */
	if (nat_spihash_answers(s, recv, stored))
		return NAT_SPIHASH_RECV_ORIG; /* [0074] */
	return NAT_SPIHASH_NO_MATCH;
}
