/*
 * Certificates for ike_strongswan.sh: a CA (ECDSA), spinat's end entity a.pem/a.key
 * (ECDSA, DNS a.example) and charon's b.pem/b.key (RSA-2048, IP 10.79.0.2).
 *
 *   ike_certgen DIR
 */
#include "certgen.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ike_certgen DIR\n");
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
