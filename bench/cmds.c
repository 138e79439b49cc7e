/* The benchmark table; each row's function lives in its bench_*.c file. */
#include "bench.h"

const struct bench_cmd bench_cmds[] = {
	{ "sim", bench_sim_main, "simulator events per second (conference scenario)" },
	{ "ike", bench_ike_main, "IKEv2 handshakes per second as responder (groups 19, 31, 14)" },
	{ NULL, NULL, NULL },
};
