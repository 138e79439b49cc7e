/*
 * Writes a pcap of every kind of IKE message spinat sends, with Wireshark's IKEv2
 * decryption table for it: two instances in memory (tests/unit/ike/ike_harness.h) go
 * through IKE_SA_INIT with COOKIE and INVALID_KE_PAYLOAD, IKE_AUTH with PSK, CREATE_CHILD_SA
 * (CHILD SA rekey with PFS, IKE SA rekey), INFORMATIONAL (liveness, deletes), in AES-GCM and
 * AES-CBC + HMAC, on port 500 and behind a NAT on 4500 with the non-ESP marker.
 *
 *   ike_tshark_pcap OUT.pcap OUT_KEYTABLE
 */
#include "certgen.h"
#include "ike_harness.h"

#include "io/pcap.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct io_pcap_writer *pw;
static unsigned frames;

static bool capture(struct h_world *w, struct h_msg *m)
{
	static uint8_t store[PKT_HEADROOM + 20000];
	struct ipv4_hdr h = { 0 };
	struct pkt p;

	pkt_init(&p, store, sizeof(store), PKT_HEADROOM);
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_UDP;
	h.ip_src = m->path.remote_addr;
	h.ip_dst = m->path.local_addr;
	if (pkt_append(&p, m->data, (uint32_t)m->len) != 0 ||
	    udp_build(&p, m->path.remote_port, m->path.local_port, h.ip_src, h.ip_dst, true) != 0 ||
	    ipv4_build(&p, &h, NULL, 0) != 0 ||
	    io_pcap_write(pw, w->now, pkt_data(&p), p.len) != 0) {
		fprintf(stderr, "ike_tshark_pcap: cannot write a frame\n");
		exit(1);
	}
	frames++;
	return true;
}

static void scenario(const char *ci, const char *cr, bool nat, FILE *keys, uint64_t seed)
{
	struct h_world w;

	if (h_init(&w, ci, cr, seed) != 0)
		exit(1);
	w.nat = nat;
	w.filter = capture;
	w.keylog = keys;
	h_run(&w, w.now + SP_SEC(5));
	if (ike_child_count(w.n[0].ike) != 1) {
		fprintf(stderr, "ike_tshark_pcap: no CHILD SA\n");
		exit(1);
	}
	if (ike_rekey(w.n[0].ike, w.now, "c", false) != 0 ||
	    ike_rekey(w.n[1].ike, w.now + SP_SEC(1), "c", true) != 0) {
		fprintf(stderr, "ike_tshark_pcap: rekey refused\n");
		exit(1);
	}
	h_run(&w, w.now + SP_SEC(5));
	h_run(&w, w.now + SP_SEC(40)); /* a liveness check each way */
	if (ike_down(w.n[0].ike, w.now, "c") != 0)
		exit(1);
	h_run(&w, w.now + SP_SEC(5));
	h_free(&w);
}

int main(int argc, char **argv)
{
	static const char i1[] = "[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\n"
				 "psk = sharedsecret1\nlocal_ts = 10.1.0.0/24\n"
				 "remote_ts = 10.2.0.0/24\ndpd_delay = 30s\n"
				 "esp = aes256gcm16-ecp256\n";
	static const char r1[] = "[conn c]\nlocal = 10.0.0.2\nremote = %any\n"
				 "psk = sharedsecret1\nlocal_ts = 10.2.0.0/24\n"
				 "remote_ts = 10.1.0.0/24\nesp = aes256gcm16-ecp256\n";
	static const char i2[] = "[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\n"
				 "psk = sharedsecret1\nlocal_ts = 10.1.0.0/24\n"
				 "remote_ts = 10.2.0.0/24\ndpd_delay = 30s\n"
				 "ike = aes128-sha256-x25519, aes256-sha256-ecp256\n"
				 "esp = aes128-sha256\nmode = transport\n";
	static const char r2[] = "[ike]\ncookie_threshold = 0\n"
				 "[conn c]\nlocal = 10.0.0.2\nremote = %any\n"
				 "psk = sharedsecret1\nlocal_ts = 10.2.0.0/24\n"
				 "remote_ts = 10.1.0.0/24\nike = aes256-sha256-ecp256\n"
				 "esp = aes128-sha256\nmode = transport\n";
	FILE *keys;

	if (argc != 3) {
		fprintf(stderr, "usage: ike_tshark_pcap OUT.pcap OUT_KEYTABLE\n");
		return 2;
	}
	if (io_pcap_open_write(&pw, argv[1]) != 0 || (keys = fopen(argv[2], "w")) == NULL) {
		fprintf(stderr, "ike_tshark_pcap: cannot open the outputs\n");
		return 1;
	}
	scenario(i1, r1, false, keys, 1);
	scenario(i2, r2, true, keys, 2);
	{
		/* Certificates: RSA initiator, ECDSA responder (CERT, CERTREQ, RFC 7427 AUTH). */
		char dir[256], ci[2048], cr[2048];

		snprintf(dir, sizeof(dir), "%s.certs", argv[2]);
		if (mkdir(dir, 0700) != 0 || certgen_ca(dir, "ca", false) != 0 ||
		    certgen_ee(dir, "ca", "a", true, "10.0.0.1", "a.example") != 0 ||
		    certgen_ee(dir, "ca", "b", false, "10.0.0.2", "b.example") != 0) {
			fprintf(stderr, "ike_tshark_pcap: cannot make certificates\n");
			return 1;
		}
		snprintf(ci, sizeof(ci),
			 "[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\n"
			 "auth = pubkey\ncert = %s/a.pem\nkey = %s/a.key\nca = %s/ca.pem\n"
			 "local_id = a.example\nremote_id = 10.0.0.2\nlocal_ts = 10.1.0.0/24\n"
			 "remote_ts = 10.2.0.0/24\ndpd_delay = 30s\n",
			 dir, dir, dir);
		snprintf(cr, sizeof(cr),
			 "[conn c]\nlocal = 10.0.0.2\nremote = %%any\nauth = pubkey\n"
			 "cert = %s/b.pem\nkey = %s/b.key\nca = %s/ca.pem\nlocal_id = 10.0.0.2\n"
			 "remote_id = a.example\nlocal_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n",
			 dir, dir, dir);
		scenario(ci, cr, false, keys, 3);
		/* The same in IKE fragments (RFC 7383) of 576 octets: IKE_AUTH goes in pieces
		 * both ways, with AES-GCM and with AES-CBC + HMAC. */
		for (int cbc = 0; cbc < 2; cbc++) {
			const char *x = cbc ? "ike = aes256-sha256-ecp256\n" : "";

			snprintf(ci, sizeof(ci),
				 "[ike]\nfragment_size = 576\n[conn c]\nlocal = 10.0.0.1\n"
				 "remote = 10.0.0.2\nauto = start\nauth = pubkey\ncert = %s/a.pem\n"
				 "key = %s/a.key\nca = %s/ca.pem\nlocal_id = a.example\n"
				 "remote_id = 10.0.0.2\nlocal_ts = 10.1.0.0/24\n"
				 "remote_ts = 10.2.0.0/24\ndpd_delay = 30s\n%s",
				 dir, dir, dir, x);
			snprintf(cr, sizeof(cr),
				 "[ike]\nfragment_size = 576\n[conn c]\nlocal = 10.0.0.2\n"
				 "remote = %%any\nauth = pubkey\ncert = %s/b.pem\nkey = %s/b.key\n"
				 "ca = %s/ca.pem\nlocal_id = 10.0.0.2\nremote_id = a.example\n"
				 "local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n%s",
				 dir, dir, dir, x);
			scenario(ci, cr, cbc == 1, keys, 4 + (uint64_t)cbc);
		}
	}
	fclose(keys);
	io_pcap_close_write(pw);
	printf("ike_tshark_pcap: %u frames\n", frames);
	return 0;
}
