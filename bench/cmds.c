/* The benchmark table; each row's function lives in its bench_*.c file. */
#include "bench.h"

const struct bench_cmd bench_cmds[] = {
	{ "nat", bench_nat_main,
	  "NAT translation pps (1k/100k/1M mappings), ESP demux, mapping rate; kernel NAT ratio" },
	{ "sim", bench_sim_main, "simulator events per second (conference scenario)" },
	{ "ike", bench_ike_main, "IKEv2 handshakes per second as responder (groups 19, 31, 14)" },
	{ "esp", bench_esp_main,
	  "ESP encap/decap per transform and size vs OpenSSL EVP [TRANSFORM]" },
	{ "lanes", bench_lanes_main,
	  "ESP sealed and opened on 1, 2, ... crypto lanes (threads), in memory [TRANSFORM]" },
	{ NULL, NULL, NULL },
};
