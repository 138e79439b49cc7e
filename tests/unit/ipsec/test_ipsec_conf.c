/* Manual keying from the configuration file: what [sa] and [policy] install, and errors
 * that name the file, line and key. */
#include "harness.h"

#include "ipsec/ipsec_conf.h"

static const char good[] = "[policy office]\n"
			   "src = 192.168.1.0/24\n"
			   "dst = 192.168.2.0/24\n"
			   "action = esp\n"
			   "mode = tunnel\n"
			   "reqid = 7\n"
			   "[policy web]\n"
			   "src = 10.0.0.1\n"
			   "dst = 10.0.0.2\n"
			   "protocol = tcp\n"
			   "dport = 8000-8080\n"
			   "action = ah\n"
			   "dir = out\n"
			   "[sa out]\n"
			   "dir = out\n"
			   "spi = 0x1001\n"
			   "src = 10.0.0.1\n"
			   "dst = 10.0.0.2\n"
			   "mode = tunnel\n"
			   "enc = aes-gcm-16\n"
			   "enc_key = 0x000102030405060708090a0b0c0d0e0f10111213\n"
			   "esn = yes\n"
			   "udp_encap = yes\n"
			   "encap_sport = 4501\n"
			   "reqid = 7\n"
			   "hard_time = 1h\n"
			   "[sa in]\n"
			   "dir = in\n"
			   "spi = 4098\n"
			   "src = 10.0.0.2\n"
			   "dst = 10.0.0.1\n"
			   "mode = tunnel\n"
			   "enc = aes-cbc\n"
			   "enc_key = 000102030405060708090a0b0c0d0e0f\n"
			   "auth = hmac-sha1-96\n"
			   "auth_key = 000102030405060708090a0b0c0d0e0f10111213\n"
			   "replay_window = 1024\n"
			   "reqid = 7\n";

static void loads(void **state)
{
	struct harness h;
	struct conf *c;
	const struct sa *sa;
	const struct spd_policy *p;
	int n = 0;

	(void)state;
	harness_init(&h, &(struct ipsec_cfg){ .iv_epoch = 7 });
	assert_int_equal(conf_parse_string(good, "t.conf", &c), 0);
	assert_int_equal(ipsec_conf_load(h.a.e, c, 1), 0);
	assert_int_equal(conf_check_unused(c), 0);
	sa = ipsec_sa_lookup(h.a.e,
			     &(struct sa_key){ 0x1001, IPV4_PROTO_ESP, SP_IP4(10, 0, 0, 2) });
	assert_non_null(sa);
	assert_int_equal(sa->enc, SA_ENC_AES_GCM_16);
	assert_true(sa->esn);
	assert_int_equal(sa->encap_sport, 4501);
	assert_int_equal(sa->encap_dport, 4500);
	assert_int_equal(sa->hard.add_time, SP_SEC(3600));
	/* a static GCM key: the IV carries the start count, one start sends < 2^32 */
	assert_int_equal(sa->iv_epoch, 7);
	assert_int_equal(sa->hard.packets, UINT32_MAX);
	sa = ipsec_sa_lookup(h.a.e,
			     &(struct sa_key){ 0x1002, IPV4_PROTO_ESP, SP_IP4(10, 0, 0, 1) });
	assert_non_null(sa);
	assert_int_equal(sa->win.size, 1024);
	assert_int_equal(sa->icv_len, 12);
	for (p = ipsec_policy_next(h.a.e, NULL); p; p = ipsec_policy_next(h.a.e, p)) {
		n++;
		if (p->dir == SA_DIR_OUT && p->reqid == 7)
			assert_int_equal(p->sa->spi, 0x1001); /* bound by reqid */
		if (p->dir == SA_DIR_IN)
			assert_int_equal(p->sel.src, SP_IP4(192, 168, 2, 0)); /* turned around */
		if (p->proto == IPV4_PROTO_AH) {
			assert_int_equal(p->sel.dport_lo, 8000);
			assert_int_equal(p->sel.dport_hi, 8080);
			assert_int_equal(p->sel.proto, IPV4_PROTO_TCP);
		}
	}
	assert_int_equal(n, 3); /* office both ways, web out */
	conf_free(c);
	harness_free(&h);
}

/* With a start count (iv_epoch) unless plain says the owner keeps none. */
static void fails_as(const char *text, const char *want, bool plain)
{
	struct harness h;
	struct conf *c;

	harness_init(&h, plain ? NULL : &(struct ipsec_cfg){ .iv_epoch = 1 });
	assert_int_equal(conf_parse_string(text, "bad.conf", &c), 0);
	assert_int_equal(ipsec_conf_load(h.a.e, c, 1), SP_ECONFIG);
	if (strstr(conf_error(c), want) == NULL)
		fail_msg("error '%s' does not contain '%s'", conf_error(c), want);
	conf_free(c);
	harness_free(&h);
}

static void fails(const char *text, const char *want)
{
	fails_as(text, want, false);
}

static void errors_name_line_and_key(void **state)
{
	(void)state;
	fails("[sa x]\ndir = out\nspi = 300\nsrc = 1.2.3.4\n",
	      "bad.conf:1: in [sa x]: required key 'dst'");
	fails("[sa x]\ndir = out\nspi = 12\nsrc = 1.2.3.4\ndst = 1.2.3.5\n", "bad.conf:3");
	fails("[sa x]\ndir = sideways\nspi = 300\nsrc = 1.2.3.4\ndst = 1.2.3.5\n",
	      "bad.conf:2: in [sa x]: dir = 'sideways'");
	fails("[sa x]\ndir = out\nspi = 300\nsrc = 1.2.3.4\ndst = 1.2.3.5\nenc = rot13\n",
	      "enc = 'rot13': unknown transform");
	fails("[sa x]\ndir = out\nspi = 300\nsrc = 1.2.3.4\ndst = 1.2.3.5\nenc = aes-gcm-16\n"
	      "enc_key = 00112233445566778899aabbccddeeff\n",
	      "4-byte salt");
	fails("[sa x]\ndir = out\nspi = 300\nsrc = 1.2.3.4\ndst = 1.2.3.5\nenc_key = 0x123\n",
	      "enc_key: expected an even number");
	fails("[policy p]\nsrc = 10.0.0.0/33\naction = esp\n", "src = '10.0.0.0/33'");
	fails("[policy p]\ndport = 70000\naction = esp\n", "dport = '70000'");
	fails("[policy p]\nsrc = 10.0.0.0/8\n", "required key 'action'");
}

#define SA_HDR	"[sa x]\ndir = out\nspi = 300\nsrc = 10.0.0.1\ndst = 10.0.0.2\n"
#define GCM_KEY "enc_key = 0x000102030405060708090a0b0c0d0e0f10111213\n"

/* RFC 4106 3.1: no static GCM/GMAC key without a persisted start count; weak transforms
 * only when asked for by name. */
static void static_keys_and_weak_transforms(void **state)
{
	static const char *const weak[] = {
		SA_HDR "enc = aes-cbc\nenc_key = 000102030405060708090a0b0c0d0e0f\nauth = none\n",
		SA_HDR "enc = aes-cbc\nenc_key = 000102030405060708090a0b0c0d0e0f\n"
		       "auth = hmac-md5-96\nauth_key = 000102030405060708090a0b0c0d0e0f\n",
		SA_HDR
		"proto = ah\nauth = hmac-md5-96\nauth_key = 000102030405060708090a0b0c0d0e0f\n",
	};
	char text[512];
	struct harness h;
	struct conf *c;
	struct pkt *p;

	(void)state;
	fails_as(SA_HDR "enc = aes-gcm-16\n" GCM_KEY, "RFC 4106", true);
	fails_as(SA_HDR "enc = aes-gmac\n" GCM_KEY, "boot_counter_file", true);
	for (size_t i = 0; i < SP_NELEM(weak); i++) {
		fails(weak[i], "allow_weak = yes");
		snprintf(text, sizeof(text), "%sallow_weak = yes\n", weak[i]);
		harness_init(&h, NULL);
		assert_int_equal(conf_parse_string(text, "t.conf", &c), 0);
		if (ipsec_conf_load(h.a.e, c, 1) != 0)
			fail_msg("%s", conf_error(c));
		conf_free(c);
		harness_free(&h);
	}
	/* with a start count the IV is (count, sequence number): never (0, 1) again */
	harness_init(&h, &(struct ipsec_cfg){ .iv_epoch = 3 });
	assert_int_equal(conf_parse_string(SA_HDR "enc = aes-gcm-16\n" GCM_KEY, "t.conf", &c), 0);
	assert_int_equal(ipsec_conf_load(h.a.e, c, 1), 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(
			ipsec_output_via(
				h.a.e, 2,
				mk_udp(&h, SP_IP4(10, 0, 0, 1), SP_IP4(10, 0, 0, 2), 1, 2, 20),
				&(struct sa_key){ 300, IPV4_PROTO_ESP, SP_IP4(10, 0, 0, 2) }),
			0);
		assert_non_null(p = hq_pop(&h.a.net));
		assert_int_equal(pkt_data(p)[9], IPV4_PROTO_ESP);
		assert_int_equal(sp_load_be32(pkt_data(p) + 28), 3);
		assert_int_equal(sp_load_be32(pkt_data(p) + 32), (uint32_t)i);
		pkt_free(p);
	}
	conf_free(c);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads),
		cmocka_unit_test(errors_name_line_and_key),
		cmocka_unit_test(static_keys_and_weak_transforms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
