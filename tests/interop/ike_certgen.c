/*
 * Certificates for the strongSwan tests.
 *
 *   ike_certgen DIR        ike_strongswan.sh: a CA (ECDSA), spinat's end entity a.pem/a.key
 *                          (ECDSA, DNS a.example) and charon's b.pem/b.key (RSA-2048, IP
 *                          10.79.0.2)
 *   ike_certgen DIR pki    ike_strongswan_pki.sh: a root, an intermediate CA under it with
 *                          name constraints (DNS .example, IP 10.79.0.0/24), and under the
 *                          intermediate spinat's a.pem (DN "C=CH, O=spinat, CN=a.example",
 *                          DNS a.example), charon's b.pem (DN "C=CH, O=spinat, CN=b", IP
 *                          10.79.0.2) and brev.pem (the same name, revoked); the
 *                          intermediate's CRL inter.crl (PEM) and inter.crl.der, which the
 *                          certificates name as their distribution point
 *                          http://10.79.0.2:8080/inter.crl
 */
#include "certgen.h"

#include <stdio.h>
#include <string.h>

#define CDP "http://10.79.0.2:8080/inter.crl"

static int pki(const char *dir)
{
	struct certgen_opts root = { .ca = true, .subject = "C=CH, O=spinat, CN=spinat test root" };
	struct certgen_opts inter = { .subject = "C=CH, O=spinat, CN=spinat intermediate CA",
				      .name_constraints = "permitted;DNS:.example,permitted;DNS:"
							  "a.example,permitted;IP:10.79.0.0/"
							  "255.255.255.0" };
	struct certgen_opts b = { .subject = "C=CH, O=spinat, CN=b",
				  .rsa = true,
				  .ip = "10.79.0.2" };
	const struct certgen_peer peers[] = {
		{ "a", { .subject = "C=CH, O=spinat, CN=a.example", .dns = "a.example" } },
		{ "b", b },
		{ "brev", b, true },
	};

	return certgen(dir, "root", &root) != 0 ||
			       certgen_chain(dir, "root", &inter, CDP, peers, 3) != 0
		       ? -1
		       : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[2], "pki") == 0) {
		if (pki(argv[1]) != 0) {
			fprintf(stderr, "ike_certgen: failed\n");
			return 1;
		}
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: ike_certgen DIR [pki]\n");
		return 2;
	}
	if (certgen_ca(argv[1], "ca", false) != 0 ||
	    certgen_ee(argv[1], "ca", "a", false, NULL, "a.example") != 0 ||
	    certgen_ee(argv[1], "ca", "b", true, "10.79.0.2", NULL) != 0) {
		fprintf(stderr, "ike_certgen: failed\n");
		return 1;
	}
	return 0;
}
