/*
 * IKE_SA_INIT + IKE_AUTH between two instances (RFC 7296 1.2): each group and cipher,
 * PSK, NAT detection and the move to UDP 4500 (2.23), encap = no, COOKIE (2.6),
 * INVALID_KE_PAYLOAD (2.7), the SPI policies, transport mode and AH, wrong PSK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_harness.h"

#include "base/addr.h"
#include "base/cursor.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONF_I                                                                \
	"[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\npsk = " \
	"sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
#define CONF_R                                                              \
	"[conn c]\nlocal = 10.0.0.2\nremote = %%any\npsk = sharedsecret1\n" \
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/16\n"

static void up(const char *extra_i, const char *extra_r, struct h_world *w)
{
	char ci[2048], cr[2048];

	snprintf(ci, sizeof(ci), CONF_I "%s", extra_i);
	snprintf(cr, sizeof(cr), CONF_R "%s", extra_r);
	assert_int_equal(h_init(w, ci, cr, 7), 0);
	h_run(w, w->now + SP_SEC(10));
}

static void assert_up(struct h_world *w)
{
	assert_int_equal(ike_sa_count(w->n[0].ike, true), 1);
	assert_int_equal(ike_sa_count(w->n[1].ike, true), 1);
	assert_int_equal(ike_child_count(w->n[0].ike), 1);
	assert_int_equal(ike_child_count(w->n[1].ike), 1);
	assert_int_equal(h_events(&w->n[0], IKE_EV_IKE_UP), 1);
	assert_int_equal(h_events(&w->n[1], IKE_EV_IKE_UP), 1);
	assert_int_equal(h_events(&w->n[0], IKE_EV_CHILD_UP), 1);
	assert_int_equal(h_events(&w->n[1], IKE_EV_CHILD_UP), 1);
	assert_int_equal(h_sa_count(&w->n[0]), 2);
	assert_int_equal(h_sa_count(&w->n[1]), 2);
	/* Both ends derived the same keys for each direction (2.17). */
	assert_true(h_keys_pair(&w->n[0], &w->n[1]));
}

static void psk_groups_and_ciphers(void **state)
{
	static const char *const ike[] = {
		"aes256gcm16-prfsha256-ecp256",
		"aes128gcm16-prfsha256-x25519",
		"aes256-sha256-modp2048",
		"aes128-sha256-prfsha256-ecp256",
	};
	static const char *const esp[] = { "aes256gcm16", "aes128-sha256", "aes256-sha256",
					   "aes128gcm16" };

	(void)state;
	for (size_t i = 0; i < SP_NELEM(ike); i++) {
		struct h_world w;
		char x[256];

		snprintf(x, sizeof(x), "ike = %s\nesp = %s\n", ike[i], esp[i]);
		up(x, x, &w);
		assert_up(&w);
		/* narrowed: the responder's remote_ts 10.1/16 cut down to the initiator's /24 */
		for (int k = 0; k < 64; k++) {
			const struct h_sa *s = &w.n[1].sas[k];

			if (s->used && s->sa.inbound) {
				assert_int_equal(s->sa.n_ts_remote, 1);
				assert_int_equal(s->sa.ts_remote[0].ts_start, SP_IP4(10, 1, 0, 0));
				assert_int_equal(s->sa.ts_remote[0].ts_end, SP_IP4(10, 1, 0, 255));
				assert_true(s->sa.tunnel);
				assert_false(s->sa.encap);
			}
		}
		assert_int_equal(h_ctr(&w.n[0], "drop_integrity"), 0);
		h_free(&w);
	}
}

static void same_seed_same_run(void **state)
{
	struct h_world a, b;

	(void)state;
	up("", "", &a);
	up("", "", &b);
	assert_up(&a);
	/* The simulator's promise: every key and SPI from the handed rng. */
	for (int k = 0; k < 64; k++) {
		assert_int_equal(a.n[0].sas[k].used, b.n[0].sas[k].used);
		if (a.n[0].sas[k].used) {
			assert_int_equal(a.n[0].sas[k].sa.spi, b.n[0].sas[k].sa.spi);
			assert_memory_equal(a.n[0].sas[k].ekey, b.n[0].sas[k].ekey, 32);
		}
	}
	h_free(&a);
	h_free(&b);
}

/* IDs of each type (RFC 7296 3.5): the responder checks the initiator's against
 * remote_id and picks the connection by it. */
static void key_id_and_fqdn_identities(void **state)
{
	struct h_world w;

	(void)state;
	up("local_id = keyid:branch-17\nremote_id = fqdn:gw.example\n",
	   "local_id = fqdn:gw.example\nremote_id = keyid:branch-17\n", &w);
	assert_up(&w);
	h_free(&w);
	/* an identity the responder does not expect is refused */
	up("local_id = keyid:branch-18\n", "remote_id = keyid:branch-17\n", &w);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 0);
	h_free(&w);
}

static void wrong_psk_fails_both_sides(void **state)
{
	struct h_world w;
	char cr[512];

	(void)state;
	snprintf(cr, sizeof(cr),
		 "[conn c]\nlocal = 10.0.0.2\nremote = %%any\npsk = otherpassword\n"
		 "local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/16\n");
	assert_int_equal(h_init(&w, CONF_I, cr, 3), 0);
	h_run(&w, w.now + SP_SEC(10));
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	assert_int_equal(h_events(&w.n[1], IKE_EV_AUTH_FAILED), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	assert_int_equal(h_sa_count(&w.n[0]), 0);
	assert_int_equal(h_sa_count(&w.n[1]), 0);
	assert_true(h_ctr(&w.n[1], "auth_failed") >= 1);
	h_free(&w);
}

static void invalid_ke_retries_with_named_group(void **state)
{
	struct h_world w;

	(void)state;
	/* The initiator leads with X25519; the responder only takes ECP-256 (2.7). */
	up("ike = aes256gcm16-prfsha256-x25519, aes256gcm16-prfsha256-ecp256\n",
	   "ike = aes256gcm16-prfsha256-ecp256\n", &w);
	assert_up(&w);
	assert_int_equal(h_ctr(&w.n[1], "invalid_ke_payload"), 1);
	assert_int_equal(h_ctr(&w.n[0], "invalid_ke_payload"), 1);
	h_free(&w);
}

static void no_common_proposal(void **state)
{
	struct h_world w;

	(void)state;
	up("ike = aes128-sha256-modp2048\n", "ike = aes256gcm16-prfsha256-ecp256\n", &w);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	assert_int_equal(h_events(&w.n[0], IKE_EV_CONNECT_FAILED), 1);
	assert_int_equal(h_ctr(&w.n[1], "no_proposal_chosen"), 1);
	/* both ends say what was offered; a configuration mismatch is not retried */
	assert_true(h_logged(&w.n[1], "c: IKE_SA_INIT from 10.0.0.1: no acceptable proposal: "
				      "peer offered aes128-sha256-prfsha256-modp2048; ours (ike "
				      "=): aes256gcm16-prfsha256-ecp256"));
	assert_true(h_logged(&w.n[0], "NO_PROPOSAL_CHOSEN: the peer took none of ours: "
				      "aes128-sha256-prfsha256-modp2048"));
	assert_int_equal(h_ctr(&w.n[0], "retry"), 0);
	h_free(&w);
}

static void cookie_under_load(void **state)
{
	struct h_world w;
	char cr[512];

	(void)state;
	/* threshold 0: every IKE_SA_INIT must bring a cookie (2.6) */
	snprintf(cr, sizeof(cr), "[ike]\ncookie_threshold = 0\n" CONF_R);
	assert_int_equal(h_init(&w, CONF_I, cr, 5), 0);
	h_run(&w, w.now + SP_SEC(10));
	assert_up(&w);
	assert_int_equal(h_ctr(&w.n[1], "cookie_sent"), 1);
	assert_int_equal(h_ctr(&w.n[1], "drop_bad_cookie"), 0);
	h_free(&w);
}

static void nat_detected_moves_to_4500(void **state)
{
	struct h_world w;
	char ci[2048], cr[2048];

	(void)state;
	snprintf(ci, sizeof(ci), CONF_I);
	snprintf(cr, sizeof(cr), CONF_R);
	assert_int_equal(h_init(&w, ci, cr, 9), 0);
	w.nat = true;
	h_run(&w, w.now + SP_SEC(10));
	assert_up(&w);
	for (int k = 0; k < 64; k++) {
		const struct h_sa *s = &w.n[1].sas[k];

		if (!s->used)
			continue;
		/* the responder sees the initiator at the NAT's outside address and port */
		assert_true(s->sa.encap);
		assert_int_equal(s->sa.inbound ? s->sa.src : s->sa.dst, SP_IP4(192, 0, 2, 1));
		assert_int_equal(s->sa.inbound ? s->sa.encap_sport : s->sa.encap_dport, 14500);
		assert_int_equal(s->sa.inbound ? s->sa.encap_dport : s->sa.encap_sport, 4500);
	}
	h_free(&w);
}

static void encap_no_keeps_raw_esp_through_nat(void **state)
{
	struct h_world w;
	char ci[2048], cr[2048];

	(void)state;
	snprintf(ci, sizeof(ci), CONF_I "encap = no\n");
	snprintf(cr, sizeof(cr), CONF_R);
	assert_int_equal(h_init(&w, ci, cr, 9), 0);
	w.nat = true;
	h_run(&w, w.now + SP_SEC(10));
	assert_up(&w);
	for (int k = 0; k < 64; k++)
		if (w.n[1].sas[k].used)
			assert_false(w.n[1].sas[k].sa.encap);
	h_free(&w);
}

static void encap_force_without_nat(void **state)
{
	struct h_world w;

	(void)state;
	up("encap = force\n", "", &w);
	assert_up(&w);
	for (int k = 0; k < 64; k++)
		if (w.n[1].sas[k].used)
			assert_true(w.n[1].sas[k].sa.encap);
	h_free(&w);
}

static void derived_spi_for_responder(void **state)
{
	struct h_world w;
	int checked = 0;

	(void)state;
	up("", "spi = derived\nspihash = md5-rand\n", &w);
	assert_up(&w);
	/* 000 [0049]: the responder SPI's last two bytes are the first two of MD5(originator
	 * SPI). The originator here is the initiator; its inbound SPI is the responder's
	 * outbound one. */
	for (int k = 0; k < 64; k++) {
		const struct h_sa *s = &w.n[1].sas[k];
		uint8_t spi[4], md[16];
		unsigned mdlen;

		if (!s->used || s->sa.inbound)
			continue;
		spi[0] = (uint8_t)(s->sa.spi >> 24);
		spi[1] = (uint8_t)(s->sa.spi >> 16);
		spi[2] = (uint8_t)(s->sa.spi >> 8);
		spi[3] = (uint8_t)s->sa.spi;
		assert_true(EVP_Digest(spi, 4, md, &mdlen, EVP_md5(), NULL));
		for (int j = 0; j < 64; j++) {
			const struct h_sa *in = &w.n[1].sas[j];

			if (in->used && in->sa.inbound) {
				assert_int_equal(in->sa.spi & 0xffff,
						 (uint32_t)(md[0] << 8 | md[1]));
				checked++;
			}
		}
	}
	assert_int_equal(checked, 1);
	h_free(&w);
}

static void derived_spi_default_is_the_gateways(void **state)
{
	struct h_world w;
	int checked = 0;

	(void)state;
	/* spihash's default is the gateway's spihash_scheme default (md5, 000 [0050] and
	 * [0101]): the whole responder SPI is MD5(originator SPI)'s first four bytes, so a
	 * NAT with defaults matches it. */
	up("", "spi = derived\n", &w);
	assert_up(&w);
	for (int k = 0; k < 64; k++) {
		const struct h_sa *s = &w.n[1].sas[k];
		uint8_t spi[4], md[16];
		unsigned mdlen;

		if (!s->used || s->sa.inbound)
			continue;
		sp_store_be32(spi, s->sa.spi);
		assert_true(EVP_Digest(spi, 4, md, &mdlen, EVP_md5(), NULL));
		for (int j = 0; j < 64; j++)
			if (w.n[1].sas[j].used && w.n[1].sas[j].sa.inbound) {
				assert_int_equal(w.n[1].sas[j].sa.spi, sp_load_be32(md));
				checked++;
			}
	}
	assert_int_equal(checked, 1);
	h_free(&w);
}

static void noop_output(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	(void)arg;
	(void)path;
	(void)msg;
	(void)len;
}

/* ike_new() on a configuration: 0, or the error with conf_error()'s text in err. */
static int try_conf(const char *text, char *err, size_t len)
{
	struct sp_xoshiro rng;
	struct ike_params p = { .output = noop_output, .rng = &rng.rng };
	struct conf *c = NULL;
	struct ike *ike = NULL;
	int r;

	sp_xoshiro_seed(&rng, 1);
	assert_int_equal(conf_parse_string(text, "t", &c), 0);
	if ((r = ike_new(&p, c, &ike)) != 0)
		snprintf(err, len, "%s", conf_error(c));
	ike_free(ike);
	conf_free(c);
	return r;
}

static void psk_from_file(void **state)
{
	char dir[] = "/tmp/spinat-pskfile.XXXXXX", conf[1024], cr[1024], err[512], path[300];
	struct h_world w;
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/psk", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("sharedsecret1\n", f); /* the trailing newline is not part of it */
	fclose(f);
	snprintf(conf, sizeof(conf), CONF_I "psk_file = %s\n", path);
	*strstr(conf, "psk = sharedsecret1\n") = '#'; /* only the file */
	snprintf(cr, sizeof(cr), CONF_R);
	assert_int_equal(h_init(&w, conf, cr, 7), 0);
	h_run(&w, w.now + SP_SEC(10));
	assert_up(&w);
	h_free(&w);
	/* both: refused */
	snprintf(conf, sizeof(conf), CONF_I "psk_file = %s\n", path);
	assert_int_equal(try_conf(conf, err, sizeof(err)), SP_ECONFIG);
	assert_non_null(strstr(err, "psk and psk_file: one of them, not both"));
	/* not found, empty, unreadable: each said so */
	snprintf(conf, sizeof(conf),
		 "[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\npsk_file = %s/none\n", dir);
	assert_int_equal(try_conf(conf, err, sizeof(err)), SP_ECONFIG);
	assert_non_null(strstr(err, "psk_file: "));
	assert_non_null(strstr(err, "/none: not found"));
	assert_non_null(f = fopen(path, "w"));
	fputs("\n", f);
	fclose(f);
	snprintf(conf, sizeof(conf),
		 "[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\npsk_file = %s\n", path);
	assert_int_equal(try_conf(conf, err, sizeof(err)), SP_ECONFIG);
	assert_non_null(strstr(err, "/psk: empty"));
	assert_non_null(f = fopen(path, "w"));
	fputs("short", f);
	fclose(f);
	assert_int_equal(try_conf(conf, err, sizeof(err)), SP_ECONFIG);
	assert_non_null(strstr(err, "psk_file: at least 8 characters"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	if ((pid = fork()) == 0) {
		/* root reads everything: as nobody the file's mode counts */
		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(3);
		_exit(try_conf(conf, err, sizeof(err)) == SP_ECONFIG &&
				      strstr(err, "/psk: permission denied") != NULL
			      ? 0
			      : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(path);
	rmdir(dir);
}

/* A connection for the selector tests: its local_ts (and remote_ts) lines follow. */
#define TS_CONN "[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\npsk = sharedsecret1\n"

/* local_ts = text is refused with an error naming why. */
static void ts_refused(const char *text, const char *why)
{
	char conf[256], err[512];

	snprintf(conf, sizeof(conf), TS_CONN "local_ts = %s\n", text);
	assert_int_equal(try_conf(conf, err, sizeof(err)), SP_ECONFIG);
	assert_non_null(strstr(err, why));
}

/* Selectors with [PROTO/PORT] (RFC 7296 3.13.1's IP Protocol ID and port range). */
static void ts_proto_port(void **state)
{
	struct sp_xoshiro rng;
	struct ike_params p = { .output = noop_output, .rng = &rng.rng };
	struct ike_conn_info ci;
	struct ike_ts pub[2];
	struct conf *c = NULL;
	struct ike *ike = NULL;

	(void)state;
	sp_xoshiro_seed(&rng, 1);
	assert_int_equal(conf_parse_string(TS_CONN "local_ts = dynamic[tcp/41001], "
						   "10.1.0.0/24[17/1000-1999]\nremote_ts = "
						   "10.0.0.2[icmp]\n",
					   "t", &c),
			 0);
	assert_int_equal(ike_new(&p, c, &ike), 0);
	assert_int_equal(ike_conn_info(ike, "c", &ci), 0);
	assert_int_equal(ci.n_local_ts, 2);
	assert_int_equal(ci.local_ts[0].ts_start, SP_IP4(10, 0, 0, 1));
	assert_int_equal(ci.local_ts[0].ts_end, SP_IP4(10, 0, 0, 1));
	assert_int_equal(ci.local_ts[0].ts_proto, 6);
	assert_int_equal(ci.local_ts[0].ts_port_start, 41001);
	assert_int_equal(ci.local_ts[0].ts_port_end, 41001);
	assert_int_equal(ci.local_ts[1].ts_end, SP_IP4(10, 1, 0, 255));
	assert_int_equal(ci.local_ts[1].ts_proto, 17);
	assert_int_equal(ci.local_ts[1].ts_port_start, 1000);
	assert_int_equal(ci.local_ts[1].ts_port_end, 1999);
	assert_int_equal(ci.remote_ts[0].ts_proto, 1);
	assert_int_equal(ci.remote_ts[0].ts_port_end, 65535);
	/* the public view must have one entry per local selector */
	memcpy(pub, ci.local_ts, sizeof(pub));
	assert_int_equal(ike_conn_set_public(ike, "c", pub, 1), SP_EINVAL);
	assert_int_equal(ike_conn_set_public(ike, "c", pub, 2), 0);
	assert_int_equal(ike_conn_set_public(ike, "nope", pub, 2), SP_ENOTFOUND);
	ike_free(ike);
	conf_free(c);
	ts_refused("dynamic[tcp/70000]", "'70000' is not a port or LO-HI");
	ts_refused("dynamic[sctp]", "'sctp' is not a protocol");
	ts_refused("dynamic[tcp/80", "without a closing");
}

static void leased_spi_from_list(void **state)
{
	struct h_world w;

	(void)state;
	/* 002 FIG. 21: 32 SPIs from 280 leased to 10.0.0.1; without a leased IKE SPI (001
	 * step 1) the initiator cannot start */
	up("spi = leased\nspi_lease = 280-311\n", "", &w);
	assert_int_equal(ike_sa_count(w.n[0].ike, true), 0);
	assert_true(h_ctr(&w.n[0], "spi_exhausted") >= 1);
	h_free(&w);
	/* with one: the IKE SPI and the inbound CHILD SPI are the leased ones */
	up("spi = leased\nspi_lease = 280-281\nike_spi_lease = 0x0102030405060708\n", "", &w);
	assert_up(&w);
	for (int k = 0; k < H_MAX_SA; k++)
		if (w.n[0].sas[k].used && w.n[0].sas[k].sa.inbound)
			assert_int_equal(w.n[0].sas[k].sa.spi, 280);
	assert_int_equal(w.n[1].ev[0].ike_spi_i, 0x0102030405060708ull);
	/* the rekey takes the next one; after that the list is empty and the rekey fails */
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	for (int k = 0; k < H_MAX_SA; k++)
		if (w.n[0].sas[k].used && w.n[0].sas[k].sa.inbound)
			assert_int_equal(w.n[0].sas[k].sa.spi, 281);
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_true(h_ctr(&w.n[0], "spi_exhausted") >= 1);
	assert_int_equal(ike_child_count(w.n[0].ike), 1); /* the old SA stays */
	h_free(&w);
}

static void transport_mode_and_ah(void **state)
{
	struct h_world w;

	(void)state;
	up("mode = transport\nproto = ah\nah = sha256\nlocal_ts = dynamic\nremote_ts = dynamic\n",
	   "mode = transport\nproto = ah\nah = sha256\nlocal_ts = dynamic\nremote_ts = dynamic\n",
	   &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	for (int k = 0; k < 64; k++) {
		if (!w.n[0].sas[k].used)
			continue;
		assert_false(w.n[0].sas[k].sa.tunnel);
		assert_int_equal(w.n[0].sas[k].sa.proto, IKE_PROTO_AH);
		assert_int_equal(w.n[0].sas[k].sa.integ_key_len, 32);
	}
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	h_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(psk_groups_and_ciphers),
		cmocka_unit_test(same_seed_same_run),
		cmocka_unit_test(key_id_and_fqdn_identities),
		cmocka_unit_test(wrong_psk_fails_both_sides),
		cmocka_unit_test(invalid_ke_retries_with_named_group),
		cmocka_unit_test(no_common_proposal),
		cmocka_unit_test(cookie_under_load),
		cmocka_unit_test(nat_detected_moves_to_4500),
		cmocka_unit_test(encap_no_keeps_raw_esp_through_nat),
		cmocka_unit_test(encap_force_without_nat),
		cmocka_unit_test(derived_spi_for_responder),
		cmocka_unit_test(derived_spi_default_is_the_gateways),
		cmocka_unit_test(psk_from_file),
		cmocka_unit_test(leased_spi_from_list),
		cmocka_unit_test(ts_proto_port),
		cmocka_unit_test(transport_mode_and_ah),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
