/*
 * The IKE responder as a whole (ike_input): whatever arrives on UDP 500 or 4500 is
 * dropped with a counter or answered, never a crash, leak or read out of bounds. The
 * instance lives across inputs with virtual time advancing, so half-open SAs, cookies and
 * retransmission timers are exercised too. The first proposal is the seed's (AES-GCM,
 * x25519), so the seeds get past IKE_SA_INIT into key derivation; what lies beyond needs
 * the keys, which fuzz_ike_xchg has.
 */
#include "fuzz.h"
#include "base/conf.h"
#include "base/rand.h"
#include "ike/ike.h"

#include <string.h>

static struct ike *ike;
static struct conf *conf;
static struct sp_xoshiro rng;
static sp_time now = 1;
static size_t out_bytes;

static void out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	(void)arg;
	(void)path;
	FUZZ_CHECK(len >= 28 && len <= 65535);
	FUZZ_CHECK(msg != NULL);
	out_bytes += len;
}

static void setup(void)
{
	static const char text[] = "[ike]\ncookie_threshold = 8\n"
				   "[conn c]\nlocal = 10.0.0.2\nremote = %any\n"
				   "psk = sharedsecret1\nlocal_ts = 10.2.0.0/24\n"
				   "remote_ts = 10.1.0.0/16\n"
				   "ike = aes256gcm16-prfsha256-x25519, "
				   "aes256gcm16-prfsha256-ecp256, aes128-sha256-x25519\n"
				   "esp = aes256gcm16, aes128-sha256-modp2048\n";
	struct ike_params p = { 0 };

	sp_xoshiro_seed(&rng, 1);
	FUZZ_CHECK(conf_parse_string(text, "fuzz", &conf) == 0);
	p.name = "fuzz";
	p.rng = &rng.rng;
	p.output = out;
	FUZZ_CHECK(ike_new(&p, conf, &ike) == 0);
	ike_start(ike, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_path path = { 0x0a000002, 0x0a000001, 500, 500 };

	if (ike == NULL)
		setup();
	/* A first octet of 0 selects the NAT-T port, where the marker belongs. */
	if (size > 0 && data[0] == 0) {
		path.local_port = 4500;
		path.remote_port = 4500;
	}
	now += SP_SEC(1);
	ike_input(ike, now, &path, data, size);
	if (ike_next_deadline(ike) <= now)
		ike_tick(ike, now);
	FUZZ_CHECK(ike_sa_count(ike, false) < 100000);
	return 0;
}
