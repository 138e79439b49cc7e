/*
 * Writes the fuzz seed corpora from the sample packets (tests/common/samples.c): each
 * target's directory gets the layer it parses, cut from every sample that has one, so the
 * seeds are the packets tshark accepts, plus the negative controls.
 *
 *   gen_corpus DIR          write DIR/<target>/<sample> (meson: ninja fuzz-corpus)
 *   gen_corpus --check DIR  fail unless every file it would write is in DIR, identical
 */
#include "samples.h"
#include "ipsec_fuzz.h"
#include "proto/pap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
	const char *dir;
	enum sample_layer layer;
} targets[] = {
	{ "ipv4", SL_IP },   { "packet", SL_IP }, { "icmp", SL_ICMP }, { "udp", SL_UDP },
	{ "tcp", SL_TCP },   { "esp", SL_ESP },	  { "ah", SL_AH },     { "natt", SL_NATT },
	{ "ikev2", SL_IKE }, { "l2tp", SL_L2TP }, { "ppp", SL_PPP },   { "pcp", SL_PCP },
};

/* Configuration seeds: the documented example, every value syntax, and broken files. */
static const struct {
	const char *name;
	const char *text;
} confs[] = {
	{ "example", "# A comment. Blank lines are ignored.\n"
		     "[spinatd]\n"
		     "role = gateway          # a comment after white space\n"
		     "name = gw0\n\n"
		     "[conn office]\n"
		     "remote = 198.51.100.1\n"
		     "lifetime = 8h\n"
		     "ts = 10.0.0.0/8\n"
		     "ts = 192.168.0.0/16\n"
		     "note = \"a # inside quotes is kept\"\n" },
	{ "values", "[gateway]\n"
		    "strategy = masq\n"
		    "timeout = 250ms\n"
		    "idle = 5m\n"
		    "table = 64K\n"
		    "enabled = yes\n"
		    "debug = off\n"
		    "count = 4294967295\n"
		    "key = 0x00112233445566778899aabbccddeeff\n"
		    "addr = 203.0.113.5\n" },
	{ "broken", "[conn\nkey value\n= empty key\nnote = \"unterminated\n[a b c]\n" },
};

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* 0 when path holds exactly data. */
static int same_file(const char *path, const void *data, size_t len)
{
	static uint8_t buf[PKT_BUFSIZE + 1];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "gen_corpus: missing %s (run: ninja fuzz-corpus)\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n != len || memcmp(buf, data, len) != 0) {
		fprintf(stderr, "gen_corpus: %s differs from what the samples build\n", path);
		return -1;
	}
	return 0;
}

static int emit(const char *root, const char *dir, const char *name, const void *data, size_t len,
		bool check)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, dir);
	if (!check && mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	return check ? same_file(path, data, len) : write_file(path, data, len);
}

struct ipsec_seed_ctx {
	const char *root;
	bool check;
	unsigned files;
};

static int ipsec_seed(const char *name, const void *data, size_t len, void *arg)
{
	struct ipsec_seed_ctx *c = arg;

	c->files++;
	return emit(c->root, "ipsec", name, data, len, c->check);
}

/* fuzz_pap: the first octet is the direction (fuzz_pap.c), then one message of each
 * kind with the worked example's values (002 FIG. 8 row 126, FIG. 21 row 300). */
static int pap_seeds(const char *root, bool check, unsigned *files)
{
	struct {
		const char *name;
		uint8_t dir;
		struct pap_msg m;
	} seeds[6];
	int bad = 0;

	pap_port_request(&seeds[0].m, 32, false);
	pap_port_response(&seeds[1].m, true, 1026, 32);
	pap_port_invalidate(&seeds[2].m, 1026);
	pap_spi_request(&seeds[3].m, 32);
	pap_spi_response(&seeds[4].m, true, 280, 32);
	pap_spi_invalidate(&seeds[5].m, 280);
	for (size_t i = 0; i < SP_NELEM(seeds); i++) {
		uint8_t buf[1 + PAP_MAX_LEN];
		struct wcur w;

		seeds[i].name = pap_kind_name(seeds[i].m.pap_kind);
		seeds[i].dir = seeds[i].m.pap_kind == PAP_PORT_RESPONSE ||
			       seeds[i].m.pap_kind == PAP_SPI_RESPONSE;
		buf[0] = seeds[i].dir;
		wcur_init(&w, buf + 1, sizeof(buf) - 1);
		if (pap_build(&w, &seeds[i].m) != 0)
			return -1;
		bad |= emit(root, "pap", seeds[i].name, buf, 1 + w.off, check);
		(*files)++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	uint8_t storage[PKT_BUFSIZE];
	bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
	const char *root = argv[argc - 1];
	unsigned files = 0;
	int bad = 0;
	struct pkt p;

	if (argc != 2 && !check) {
		fprintf(stderr, "usage: gen_corpus [--check] DIR\n");
		return 2;
	}
	if (!check && mkdir(root, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_corpus: %s: %s\n", root, strerror(errno));
		return 1;
	}
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	for (unsigned i = 0; i < samples_count(); i++) {
		struct sample_pkt sp;
		const uint8_t *d;
		size_t len;

		if (samples_build(i, &p, &sp) != 0) {
			fprintf(stderr, "gen_corpus: sample %s does not build\n",
				samples_get(i)->name);
			return 1;
		}
		for (size_t t = 0; t < SP_NELEM(targets); t++) {
			if (!samples_layer(&sp, &p, targets[t].layer, &d, &len))
				continue;
			bad |= emit(root, targets[t].dir, sp.s->name, d, len, check);
			files++;
		}
	}
	for (size_t i = 0; i < SP_NELEM(confs); i++) {
		bad |= emit(root, "conf", confs[i].name, confs[i].text, strlen(confs[i].text),
			    check);
		files++;
	}
	bad |= pap_seeds(root, check, &files);
	{
		/* fuzz_ipsec: packets protected with its SAs (ipsec_fuzz.h). */
		struct ipsec_seed_ctx ic = { root, check, 0 };

		if (ipsec_fuzz_write_seeds(ipsec_seed, &ic) != 0)
			bad = 1;
		files += ic.files;
	}
	printf("gen_corpus: %u seed files %s %s\n", files, check ? "checked in" : "written to",
	       root);
	return bad != 0;
}
