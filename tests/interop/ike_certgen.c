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
	struct certgen_opts inter = { .ca = true,
				      .issuer = "root",
				      .subject = "C=CH, O=spinat, CN=spinat intermediate CA",
				      .name_constraints = "permitted;DNS:.example,permitted;DNS:"
							  "a.example,permitted;IP:10.79.0.0/"
							  "255.255.255.0" };
	struct certgen_opts a = { .issuer = "inter",
				  .subject = "C=CH, O=spinat, CN=a.example",
				  .dns = "a.example",
				  .crl_uri = CDP };
	struct certgen_opts b = { .issuer = "inter",
				  .subject = "C=CH, O=spinat, CN=b",
				  .rsa = true,
				  .ip = "10.79.0.2",
				  .crl_uri = CDP };
	struct certgen_opts brev = b;
	const char *revoked[] = { "brev" };

	return certgen(dir, "root", &root) != 0 || certgen(dir, "inter", &inter) != 0 ||
			       certgen(dir, "a", &a) != 0 || certgen(dir, "b", &b) != 0 ||
			       certgen(dir, "brev", &brev) != 0 ||
			       certgen_crl(dir, "inter", "inter", revoked, 1) != 0
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
