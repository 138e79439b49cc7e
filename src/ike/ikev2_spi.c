/*
 * The SPI policy: how this endpoint picks its inbound CHILD SA SPIs and its IKE SPIs.
 *  random  - from the rng (RFC 4303 2.1: any value from 256 up, unused).
 *  leased  - from SPIs and IKE SPIs the NAT leased to this host (001 steps 1-2, 002 FIG. 19
 *            and FIG. 21); the lease client hands them over with ike_spi_lease_add*().
 *  derived - as responder, from the originator's SPI with a spihash scheme (000 [0048]-
 *            [0050], [0068]-[0075]; crypto/spihash_scheme.h, the same code the NAT
 *            matches with); as originator the SPI is random, since the peer derives.
 */
#include "ike/ike_priv.h"

#include "crypto/spihash_scheme.h"

#include <stdlib.h>
#include <string.h>

#define SPI_TRIES 64

static bool spi_taken(struct ike *ike, uint8_t proto, uint32_t spi)
{
	if (spi < 256)
		return true; /* RFC 4303 2.1: 1-255 reserved, 0 local use */
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		for (struct ike_child *ch = sa->children; ch != NULL; ch = ch->next)
			if (ch->proto == proto && ch->spi_in == spi)
				return true;
	if (ike->p.kernel.spi_in_use != NULL &&
	    ike->p.kernel.spi_in_use(ike->p.kernel.arg, proto, spi))
		return true;
	return false;
}

/* The owner's SPI policy (ike_params.spi): SP_ENOTFOUND when it leaves the choice to c. */
static int owner_spi(struct ike *ike, const struct ike_conn *c, uint8_t proto, uint64_t peer_spi,
		     bool responder, uint64_t *out)
{
	struct ike_spi_req req = { c != NULL ? c->name : NULL, proto, responder, peer_spi };

	return ike->p.spi != NULL ? ike->p.spi(ike->p.spi_arg, &req, out) : SP_ENOTFOUND;
}

int ike_spi_child_in(struct ike *ike, const struct ike_conn *c, uint8_t proto, uint32_t peer_spi,
		     bool responder, uint32_t *out)
{
	uint64_t own;
	int r;

	if ((r = owner_spi(ike, c, proto, peer_spi, responder, &own)) != SP_ENOTFOUND) {
		if (r == 0 && (own > UINT32_MAX || spi_taken(ike, proto, (uint32_t)own)))
			r = SP_EEXIST;
		if (r == 0)
			*out = (uint32_t)own;
		return r;
	}
	if (c->spi_mode == IKE_SPI_LEASED) {
		for (size_t i = 0; i < ike->n_lease_spi; i++) {
			uint32_t spi = ike->lease_spi[i];

			if (spi_taken(ike, proto, spi))
				continue;
			memmove(&ike->lease_spi[i], &ike->lease_spi[i + 1],
				(ike->n_lease_spi - i - 1) * sizeof(uint32_t));
			ike->n_lease_spi--;
			*out = spi;
			return 0;
		}
		ike_ctr(ike, IKE_CTR_SPI_EXHAUSTED);
		return SP_EFULL;
	}
	for (int i = 0; i < SPI_TRIES; i++) {
		uint32_t spi = sp_rng_u32(ike->p.rng);

		/* 000 [0048]-[0049]: the responder derives its SPI from the originator's. A
		 * fully determined scheme that collides cannot be helped: refuse. */
		if (c->spi_mode == IKE_SPI_DERIVED && responder &&
		    nat_spihash_derive(c->spihash, peer_spi, ike->p.rng, &spi) != 0)
			break;
		if (!spi_taken(ike, proto, spi)) {
			*out = spi;
			return 0;
		}
	}
	ike_ctr(ike, IKE_CTR_SPI_EXHAUSTED);
	return SP_EFULL;
}

static bool ike_spi_taken(struct ike *ike, uint64_t spi)
{
	if (spi == 0)
		return true;
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		if ((sa->initiator ? sa->spi_i : sa->spi_r) == spi)
			return true;
	return false;
}

int ike_spi_ike(struct ike *ike, const struct ike_conn *c, uint64_t peer_spi, bool responder,
		uint64_t *out)
{
	uint64_t own;
	int r;

	if ((r = owner_spi(ike, c, IKE_PROTO_IKE, peer_spi, responder, &own)) != SP_ENOTFOUND) {
		if (r == 0 && ike_spi_taken(ike, own))
			r = SP_EEXIST;
		if (r == 0)
			*out = own;
		return r;
	}
	if (c != NULL && c->spi_mode == IKE_SPI_LEASED) {
		/* 001 step 1: the initiator cookie is leased; as responder it is our SPI too. */
		for (size_t i = 0; i < ike->n_lease_ike_spi; i++) {
			uint64_t spi = ike->lease_ike_spi[i];

			if (ike_spi_taken(ike, spi))
				continue;
			memmove(&ike->lease_ike_spi[i], &ike->lease_ike_spi[i + 1],
				(ike->n_lease_ike_spi - i - 1) * sizeof(uint64_t));
			ike->n_lease_ike_spi--;
			*out = spi;
			return 0;
		}
		ike_ctr(ike, IKE_CTR_SPI_EXHAUSTED);
		return SP_EFULL;
	}
	for (int i = 0; i < SPI_TRIES; i++) {
		uint64_t spi = sp_rng_u64(ike->p.rng);

		/* The IKE SPI (the "cookie" of 003) has 8 octets: the scheme derives the upper
		 * four from the upper four of the initiator's, the rest stay random. */
		if (c != NULL && c->spi_mode == IKE_SPI_DERIVED && responder) {
			uint32_t hi;

			if (nat_spihash_derive(c->spihash, (uint32_t)(peer_spi >> 32), ike->p.rng,
					       &hi) != 0)
				break;
			spi = (uint64_t)hi << 32 | (spi & 0xffffffffu);
		}
		if (!ike_spi_taken(ike, spi)) {
			*out = spi;
			return 0;
		}
	}
	ike_ctr(ike, IKE_CTR_SPI_EXHAUSTED);
	return SP_EFULL;
}

int ike_spi_lease_add(struct ike *ike, uint32_t first, uint32_t count)
{
	if (count == 0 || first < 256 || (uint64_t)first + count - 1 > UINT32_MAX)
		return SP_EINVAL;
	if (ike->n_lease_spi + count > ike->cap_lease_spi) {
		size_t cap = ike->n_lease_spi + count + 16;
		uint32_t *n = realloc(ike->lease_spi, cap * sizeof(*n));

		if (n == NULL)
			return SP_ENOMEM;
		ike->lease_spi = n;
		ike->cap_lease_spi = cap;
	}
	for (uint32_t i = 0; i < count; i++)
		ike->lease_spi[ike->n_lease_spi++] = first + i;
	return 0;
}

int ike_spi_lease_add_ike(struct ike *ike, uint64_t spi)
{
	if (spi == 0)
		return SP_EINVAL;
	if (ike->n_lease_ike_spi == ike->cap_lease_ike_spi) {
		size_t cap = ike->cap_lease_ike_spi * 2 + 8;
		uint64_t *n = realloc(ike->lease_ike_spi, cap * sizeof(*n));

		if (n == NULL)
			return SP_ENOMEM;
		ike->lease_ike_spi = n;
		ike->cap_lease_ike_spi = cap;
	}
	ike->lease_ike_spi[ike->n_lease_ike_spi++] = spi;
	return 0;
}
