/*
 * Writes every sample packet (tests/common/samples.c) into one pcap through io/pcap.h,
 * and a manifest of what tshark must make of each frame: tshark_decode.sh checks it.
 *
 *   tshark_pcap OUT.pcap OUT.manifest
 *
 * Manifest lines: frame number, sample name, expected frame.protocols, check (ok,
 * bad_csum or malformed), and for bad_csum the checksum status field that must say bad.
 */
#include "samples.h"
#include "io/pcap.h"

#include <stdio.h>

static const char *const check_names[] = { "ok", "bad_csum", "malformed" };

int main(int argc, char **argv)
{
	uint8_t storage[PKT_BUFSIZE];
	struct io_pcap_writer *w;
	struct pkt p;
	FILE *m;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: tshark_pcap OUT.pcap OUT.manifest\n");
		return 2;
	}
	if ((r = io_pcap_open_write(&w, argv[1])) != 0) {
		fprintf(stderr, "tshark_pcap: %s: %s\n", argv[1], sp_strerror(r));
		return 1;
	}
	if ((m = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		io_pcap_close_write(w);
		return 1;
	}
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	for (unsigned i = 0; i < samples_count(); i++) {
		const struct sample *s = samples_get(i);
		struct sample_pkt sp;

		if ((r = samples_build(i, &p, &sp)) != 0 ||
		    (r = io_pcap_write(w, (sp_time)(i + 1) * 1000000000ull, pkt_data(&p), p.len)) !=
			    0) {
			fprintf(stderr, "tshark_pcap: %s: %s\n", s->name, sp_strerror(r));
			fclose(m);
			io_pcap_close_write(w);
			return 1;
		}
		fprintf(m, "%u %s %s %s %s\n", i + 1, s->name, s->protocols, check_names[s->check],
			s->bad_field != NULL ? s->bad_field : "-");
	}
	io_pcap_close_write(w);
	if (fclose(m) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
