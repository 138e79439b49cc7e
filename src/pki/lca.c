/* The Local Certificate Authority of 002 (pki/lca.h). */
#include "pki/lca.h"

#include <stdlib.h>
#include <string.h>

const char *const lca_ctr_names[] = { SP_CTR_NAMES(foreach_lca_ctr) };

void lca_conf_defaults(struct lca_conf *c)
{
	c->global = 0xc60a141eu; /* 198.10.20.30, 002 FIG. 1 */
	c->lifetime = 86400;
	c->crl_next = 3600;
}

int lca_new(struct lca **out, struct crypto_ca *ca, const struct lca_conf *c)
{
	struct lca *l;

	*out = NULL;
	if (c->lifetime <= 0 || c->crl_next <= 0) {
		crypto_ca_free(ca);
		return SP_EINVAL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->certs = calloc(LCA_CERTS_MAX, sizeof(*l->certs))) == NULL) {
		free(l);
		crypto_ca_free(ca);
		return SP_ENOMEM;
	}
	l->ca = ca;
	l->c = *c;
	/* Serial 1 and 2 are the root's and the LCA's in the examples: start above. */
	l->next_serial = 0x100;
	*out = l;
	return 0;
}

void lca_free(struct lca *l)
{
	if (l == NULL)
		return;
	crypto_ca_free(l->ca);
	free(l->certs);
	free(l);
}

static bool valid(const struct lca_cert *e, int64_t now)
{
	return !e->revoked && now >= e->not_before && now < e->not_after;
}

/* Forget certificates past their notAfter: they are neither valid nor owed a CRL entry
 * (RFC 5280 5: an entry may be removed after the certificate expires). */
static void prune(struct lca *l, int64_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < l->n; i++) {
		if (now >= l->certs[i].not_after) {
			l->ctr[LCA_CTR_PRUNED]++;
			continue;
		}
		l->certs[j++] = l->certs[i];
	}
	l->n = j;
}

int lca_issue(struct lca *l, int64_t now, uint32_t host, uint16_t lowest, uint16_t count,
	      const uint8_t *spki, size_t spki_len, uint8_t **der, size_t *der_len,
	      uint64_t *serial)
{
	struct crypto_ee_profile p = { 0 };
	unsigned held = 0;
	int r;

	*der = NULL;
	*der_len = 0;
	*serial = 0;
	if (lowest == 0 || count == 0 || (uint32_t)lowest + count - 1 > 65535) {
		l->ctr[LCA_CTR_REFUSED_BAD]++;
		return SP_EINVAL;
	}
	prune(l, now);
	for (unsigned i = 0; i < l->n; i++)
		held += l->certs[i].host == host && valid(&l->certs[i], now);
	if (held >= LCA_HOST_MAX) {
		l->ctr[LCA_CTR_REFUSED_HOST_MAX]++;
		return SP_EFULL;
	}
	if (l->n == LCA_CERTS_MAX) {
		l->ctr[LCA_CTR_REFUSED_FULL]++;
		return SP_EFULL;
	}
	p.ip = l->c.global;
	p.port_lowest = lowest;
	p.port_count = count;
	p.serial = l->next_serial;
	p.not_before = now;
	p.not_after = now + l->c.lifetime;
	if ((r = crypto_ca_issue(l->ca, spki, spki_len, &p, der, der_len)) != 0) {
		l->ctr[LCA_CTR_REFUSED_BAD]++;
		return r;
	}
	l->certs[l->n++] =
		(struct lca_cert){ p.serial, host, lowest, count, now, p.not_after, 0, false };
	*serial = l->next_serial++;
	l->ctr[LCA_CTR_ISSUED]++;
	return 0;
}

bool lca_port_bound(const struct lca *l, int64_t now, uint32_t host, uint16_t port)
{
	for (unsigned i = 0; i < l->n; i++) {
		const struct lca_cert *e = &l->certs[i];

		if (e->host == host && valid(e, now) && port >= e->lowest &&
		    port - e->lowest < e->count)
			return true;
	}
	return false;
}

int lca_revoke(struct lca *l, int64_t now, uint64_t serial)
{
	for (unsigned i = 0; i < l->n; i++) {
		struct lca_cert *e = &l->certs[i];

		if (e->serial != serial)
			continue;
		if (e->revoked)
			return SP_ESTATE;
		e->revoked = true;
		e->revoked_at = now;
		l->ctr[LCA_CTR_REVOKED]++;
		return 0;
	}
	return SP_ENOTFOUND;
}

unsigned lca_revoke_port(struct lca *l, int64_t now, uint32_t host, uint16_t port)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++) {
		struct lca_cert *e = &l->certs[i];

		if (e->host == host && valid(e, now) && port >= e->lowest &&
		    port - e->lowest < e->count && lca_revoke(l, now, e->serial) == 0)
			n++;
	}
	return n;
}

int lca_crl(struct lca *l, int64_t now, uint8_t **der, size_t *len)
{
	struct crypto_revoked *rv;
	unsigned n = 0;
	int r;

	*der = NULL;
	*len = 0;
	prune(l, now);
	if ((rv = calloc(l->n ? l->n : 1, sizeof(*rv))) == NULL)
		return SP_ENOMEM;
	for (unsigned i = 0; i < l->n; i++)
		if (l->certs[i].revoked)
			rv[n++] = (struct crypto_revoked){ l->certs[i].serial,
							   l->certs[i].revoked_at };
	r = crypto_ca_crl(l->ca, rv, n, ++l->crl_number, now, now + l->c.crl_next, der, len);
	free(rv);
	if (r == 0)
		l->ctr[LCA_CTR_CRLS]++;
	return r;
}

void lca_show(const struct lca *l, int64_t now, FILE *f)
{
	fprintf(f, "%-10s %-15s %-13s %-10s %s\n", "Serial", "Host", "Ports", "State",
		"Expires in");
	for (unsigned i = 0; i < l->n; i++) {
		const struct lca_cert *e = &l->certs[i];
		char host[16], ports[16];

		snprintf(host, sizeof(host), "%u.%u.%u.%u", e->host >> 24, (e->host >> 16) & 0xff,
			 (e->host >> 8) & 0xff, e->host & 0xff);
		snprintf(ports, sizeof(ports), "%u-%u", e->lowest,
			 (unsigned)e->lowest + e->count - 1);
		fprintf(f, "0x%-8llx %-15s %-13s %-10s %llds\n", (unsigned long long)e->serial,
			host, ports,
			e->revoked	? "revoked"
			: valid(e, now) ? "valid"
					: "not-yet",
			(long long)(e->not_after - now));
	}
}
