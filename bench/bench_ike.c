/*
 * spinat-bench ike: full IKEv2 handshakes (IKE_SA_INIT + IKE_AUTH with PSK and one CHILD
 * SA) per second on one core, as responder.
 *
 *   spinat-bench ike
 *	In memory: an initiator and a responder instance back to back; only the time spent
 *	in the responder's ike_input() counts. Next to it the reference: OpenSSL doing just
 *	the responder's key exchange (key pair + shared secret) for the same group.
 *   spinat-bench ike udp HOST[:PORT] [PID]
 *	Over UDP against any responder (strongSwan's charon, or "self": a spinat responder
 *	on 127.0.0.1 in this process): handshakes completed per second of wall time, and,
 *	given the responder's PID (or for self), per second of the responder's CPU time read
 *	from /proc, which is the figure comparable with the in-memory one.
 */
#include "bench.h"

#include "base/addr.h"
#include "base/conf.h"
#include "base/rand.h"
#include "crypto/dh.h"
#include "ike/ike.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QMAX	  64
#define SLOTS	  8 /* handshakes in flight over UDP */
#define MSG_MAX	  4096
#define BENCH_PSK "bench-psk-0123456789"

struct qmsg {
	int to;
	struct ike_path path;
	uint8_t b[MSG_MAX];
	size_t len;
};

struct pair {
	struct ike *ike[2];
	struct conf *conf[2];
	struct sp_xoshiro rng[2];
	struct qmsg *q;
	unsigned nq;
	int from; /* node whose output is being collected */
	sp_time now;
	uint64_t resp_ns; /* time inside the responder */
	uint64_t ups;
};

static void pair_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct pair *p = arg;
	struct qmsg *m;

	if (p->nq >= QMAX || len > MSG_MAX)
		return;
	m = &p->q[p->nq++];
	m->to = 1 - p->from;
	m->path = (struct ike_path){ path->remote_addr, path->local_addr, path->remote_port,
				     path->local_port };
	memcpy(m->b, msg, len);
	m->len = len;
}

static void pair_event(void *arg, const struct ike_event *ev)
{
	struct pair *p = arg;

	if (ev->type == IKE_EV_CHILD_UP && !ev->initiator)
		p->ups++;
}

static const char *ike_prop(uint16_t group)
{
	return group == CRYPTO_DH_ECP256   ? "aes256gcm16-prfsha256-ecp256"
	       : group == CRYPTO_DH_X25519 ? "aes256gcm16-prfsha256-x25519"
					   : "aes256gcm16-prfsha256-modp2048";
}

static int pair_init(struct pair *p, uint16_t group)
{
	char ci[512], cr[512];
	int r;

	memset(p, 0, sizeof(*p));
	if ((p->q = calloc(QMAX, sizeof(*p->q))) == NULL)
		return SP_ENOMEM;
	snprintf(ci, sizeof(ci),
		 "[conn b]\nlocal = 10.0.0.1\nremote = 10.0.0.2\npsk = " BENCH_PSK "\n"
		 "ike = %s\nesp = aes256gcm16\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
		 "dpd_delay = 0\n",
		 ike_prop(group));
	snprintf(cr, sizeof(cr),
		 "[ike]\ncookie_threshold = 1000000\n"
		 "[conn b]\nlocal = 10.0.0.2\nremote = %%any\npsk = " BENCH_PSK "\n"
		 "ike = %s\nesp = aes256gcm16\nlocal_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n"
		 "dpd_delay = 0\n",
		 ike_prop(group));
	for (int i = 0; i < 2; i++) {
		struct ike_params prm = { 0 };

		sp_xoshiro_seed(&p->rng[i], 100 + (uint64_t)i);
		if ((r = conf_parse_string(i == 0 ? ci : cr, "bench", &p->conf[i])) != 0)
			return r;
		prm.name = i == 0 ? "init" : "resp";
		prm.rng = &p->rng[i].rng;
		prm.output = pair_out;
		prm.output_arg = p;
		prm.event = pair_event;
		prm.event_arg = p;
		if ((r = ike_new(&prm, p->conf[i], &p->ike[i])) != 0)
			return r;
	}
	p->now = SP_SEC(1);
	return 0;
}

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		ike_free(p->ike[i]);
		conf_free(p->conf[i]);
	}
	free(p->q);
}

static void pair_run(struct pair *p, bool timed)
{
	while (p->nq > 0) {
		struct qmsg m = p->q[0];
		uint64_t t0 = 0;

		memmove(&p->q[0], &p->q[1], (p->nq - 1) * sizeof(*p->q));
		p->nq--;
		p->now += SP_USEC(10);
		p->from = m.to;
		/* Requests to the responder carry the I flag and no R flag. */
		if (timed && m.to == 1)
			t0 = bench_cpu_now();
		ike_input(p->ike[m.to], p->now, &m.path, m.b, m.len);
		if (timed && m.to == 1)
			p->resp_ns += bench_cpu_now() - t0;
	}
}

/* One handshake, then an untimed delete so state does not pile up. */
static int pair_handshake(struct pair *p)
{
	uint64_t before = p->ups;

	p->from = 0;
	if (ike_up(p->ike[0], p->now, "b") != 0)
		return SP_EIO;
	pair_run(p, true);
	if (p->ups != before + 1)
		return SP_EIO;
	p->from = 0;
	if (ike_down(p->ike[0], p->now, "b") != 0)
		return SP_EIO;
	pair_run(p, false);
	return 0;
}

struct dh_ref {
	uint16_t group;
	struct sp_xoshiro rng;
	const uint8_t *peer;
};

static void dh_once(void *arg, uint64_t batch)
{
	struct dh_ref *d = arg;
	uint8_t s[CRYPTO_DH_SECRET_MAX];

	for (uint64_t i = 0; i < batch; i++) {
		struct crypto_dh *dh;

		if (crypto_dh_new(d->group, &d->rng.rng, &dh) != 0)
			return;
		if (crypto_dh_derive(dh, d->peer, crypto_dh_pub_len(d->group), s,
				     crypto_dh_secret_len(d->group)) != 0)
			return;
		bench_sink(s);
		crypto_dh_free(dh);
	}
}

static int memory_bench(const struct bench_opts *o)
{
	static const uint16_t groups[] = { CRYPTO_DH_ECP256, CRYPTO_DH_X25519, CRYPTO_DH_MODP2048 };

	printf("ike: full handshakes (IKE_SA_INIT + IKE_AUTH, PSK, one CHILD SA) per second\n"
	       "as responder on one core, in memory (the responder's CPU time only); reference:\n"
	       "one key pair and one shared secret of the group (the responder's DH work)\n");
	printf("%-12s %14s %14s %8s\n", "group", "handshakes/s", "ref: DH/s", "ratio");
	for (size_t g = 0; g < SP_NELEM(groups); g++) {
		struct pair p;
		struct dh_ref ref = { .group = groups[g] };
		struct crypto_dh *peer;
		uint64_t n = 0, wall0 = bench_now();
		double hs, dhs;

		if (pair_init(&p, groups[g]) != 0) {
			fprintf(stderr, "ike: setup failed\n");
			pair_free(&p);
			return 1;
		}
		/* warm up, then handshakes until the responder has used o->seconds */
		if (pair_handshake(&p) != 0) {
			fprintf(stderr, "ike: handshake failed\n");
			pair_free(&p);
			return 1;
		}
		p.resp_ns = 0;
		while (p.resp_ns < (uint64_t)(o->seconds * 1e9) &&
		       bench_now() - wall0 < (uint64_t)(o->seconds * 20e9)) {
			if (pair_handshake(&p) != 0) {
				fprintf(stderr, "ike: handshake failed\n");
				pair_free(&p);
				return 1;
			}
			n++;
		}
		hs = (double)n * 1e9 / (double)p.resp_ns;
		pair_free(&p);
		sp_xoshiro_seed(&ref.rng, 7);
		if (crypto_dh_new(groups[g], &ref.rng.rng, &peer) != 0)
			return 1;
		ref.peer = crypto_dh_pub(peer);
		{
			uint64_t c0 = bench_cpu_now(), ops = 0;

			dh_once(&ref, 4); /* warm up */
			c0 = bench_cpu_now();
			do {
				dh_once(&ref, 16);
				ops += 16;
			} while (bench_cpu_now() - c0 < (uint64_t)(o->seconds * 1e9));
			dhs = (double)ops * 1e9 / (double)(bench_cpu_now() - c0);
		}
		crypto_dh_free(peer);
		printf("%-12s %14.0f %14.0f %8.2f\n", crypto_dh_name(groups[g]), hs, dhs, hs / dhs);
	}
	return 0;
}

/* ---- over UDP ---- */

struct udp_gen {
	int fd;
	struct sockaddr_in peer;
	struct ike *ike;
	struct conf *conf;
	struct sp_xoshiro rng;
	uint64_t done, failed;
	uint32_t local;
	bool up[SLOTS]; /* established: take it down again */
};

static void gen_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct udp_gen *g = arg;
	struct sockaddr_in to = g->peer;

	/* The responder's port: 500, or the NAT-T port once IKE moved there (2.23). */
	to.sin_port = htons(path->remote_port);
	if (sendto(g->fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EAGAIN)
		perror("sendto");
}

static void gen_event(void *arg, const struct ike_event *ev)
{
	struct udp_gen *g = arg;

	if (ev->type == IKE_EV_CHILD_UP) {
		int i = ev->conn != NULL ? atoi(ev->conn + 1) : -1;

		g->done++;
		if (i >= 0 && i < SLOTS)
			g->up[i] = true;
	} else if (ev->type == IKE_EV_CONNECT_FAILED || ev->type == IKE_EV_AUTH_FAILED)
		g->failed++;
}

static double proc_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* fields 14 and 15 after the ")" that ends the command name */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct self_resp {
	int fd;
	struct ike *ike;
	struct conf *conf;
	struct sp_xoshiro rng;
	volatile int stop;
	double cpu; /* seconds of this thread */
	uint16_t port;
};

static void self_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct self_resp *s = arg;
	struct sockaddr_in to = { .sin_family = AF_INET };

	to.sin_addr.s_addr = htonl(path->remote_addr);
	to.sin_port = htons(path->remote_port);
	if (sendto(s->fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EAGAIN)
		perror("sendto");
}

static void *self_main(void *arg)
{
	struct self_resp *s = arg;
	struct timespec ts;
	uint8_t b[MSG_MAX];

	while (!s->stop) {
		struct pollfd pfd = { s->fd, POLLIN, 0 };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = recvfrom(s->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl)) > 0) {
			struct ike_path path = { SP_IP4(127, 0, 0, 1), ntohl(from.sin_addr.s_addr),
						 500, ntohs(from.sin_port) };

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ike_input(s->ike, (sp_time)ts.tv_sec * 1000000000ull + (sp_time)ts.tv_nsec,
				  &path, b, (size_t)n);
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	s->cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return NULL;
}

static int udp_socket(uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(addr);
	a.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int udp_bench(const struct bench_opts *o, const char *target, const char *pidarg)
{
	char host[64], conf[8192], *colon;
	uint16_t port = 500;
	uint32_t dst;
	struct udp_gen g = { 0 };
	struct self_resp self = { 0 };
	pthread_t th;
	bool is_self = strcmp(target, "self") == 0;
	int pid = pidarg != NULL ? atoi(pidarg) : 0, rc = 1;
	double cpu0 = 0, cpu1 = 0;
	uint64_t t0, t1, want = o->quick ? 100 : (uint64_t)(o->seconds * 2000);
	size_t off = 0;

	snprintf(host, sizeof(host), "%s", is_self ? "127.0.0.1:5500" : target);
	if ((colon = strchr(host, ':')) != NULL) {
		*colon = 0;
		port = (uint16_t)atoi(colon + 1);
	}
	if (sp_ip4_parse(host, &dst) != 0) {
		fprintf(stderr, "ike udp: bad address %s\n", host);
		return 2;
	}
	if (is_self) {
		struct ike_params p = { .name = "self", .rng = &self.rng.rng, .output = self_out };
		static const char rc_text[] =
			"[ike]\ncookie_threshold = 1000000\n"
			"[conn b]\nlocal = 127.0.0.1\nremote = %any\npsk = " BENCH_PSK "\n"
			"ike = aes256gcm16-prfsha256-x25519, aes256gcm16-prfsha256-ecp256\n"
			"esp = aes256gcm16\nlocal_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n"
			"encap = no\n";

		p.output_arg = &self;
		sp_xoshiro_seed(&self.rng, 5);
		if ((self.fd = udp_socket(dst, port)) < 0 ||
		    conf_parse_string(rc_text, "self", &self.conf) != 0 ||
		    ike_new(&p, self.conf, &self.ike) != 0) {
			fprintf(stderr, "ike udp: cannot start the self responder\n");
			return 1;
		}
		if (pthread_create(&th, NULL, self_main, &self) != 0)
			return 1;
	}
	sp_xoshiro_seed(&g.rng, (uint64_t)getpid());
	g.peer.sin_family = AF_INET;
	g.peer.sin_addr.s_addr = htonl(dst);
	g.peer.sin_port = htons(port);
	g.local = dst == SP_IP4(127, 0, 0, 1) ? dst : 0;
	/* The local address towards the responder, then an unconnected socket: answers come
	 * from port 500 and, after the move to NAT-T, from 4500. */
	if ((g.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    connect(g.fd, (struct sockaddr *)&g.peer, sizeof(g.peer)) != 0) {
		perror("ike udp: socket");
		goto out;
	}
	{
		struct sockaddr_in me, none = { .sin_family = AF_UNSPEC };
		socklen_t ml = sizeof(me);

		if (getsockname(g.fd, (struct sockaddr *)&me, &ml) != 0 ||
		    connect(g.fd, (struct sockaddr *)&none, sizeof(none)) != 0)
			goto out;
		g.local = ntohl(me.sin_addr.s_addr);
	}
	/* SLOTS connections to the same responder: one handshake in flight on each. */
	for (int i = 0; i < SLOTS; i++) {
		char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

		off += (size_t)snprintf(
			conf + off, sizeof(conf) - off,
			"[conn s%d]\nlocal = %s\nremote = %s\nremote_port = %u\npsk = " BENCH_PSK
			"\nike = aes256gcm16-prfsha256-%s\nesp = aes256gcm16\n"
			"local_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\ndpd_delay = 0\n"
			"retransmit_timeout = 1s\nencap = %s\n",
			i, sp_ip4_fmt(g.local, a), sp_ip4_fmt(dst, b), port,
			getenv("IKE_BENCH_GROUP") != NULL ? getenv("IKE_BENCH_GROUP") : "ecp256",
			/* self listens on 500 only; real responders move to NAT-T, as they would
			 * behind the generator's ephemeral port */
			is_self ? "no" : "auto");
	}
	{
		struct ike_params p = { .name = "gen",
					.rng = &g.rng.rng,
					.output = gen_out,
					.output_arg = &g,
					.event = gen_event,
					.event_arg = &g };
		static struct sp_log lg = { sp_log_sink_file, NULL, SP_LOG_DEBUG };

		/* IKE_BENCH_LOG=1: the generator's IKE log on standard error */
		lg.arg = stderr;
		if (getenv("IKE_BENCH_LOG") != NULL && getenv("IKE_BENCH_LOG")[0] != 0)
			p.log = &lg;
		if (conf_parse_string(conf, "gen", &g.conf) != 0 ||
		    ike_new(&p, g.conf, &g.ike) != 0) {
			fprintf(stderr, "ike udp: generator setup failed\n");
			goto out;
		}
	}
	if (is_self)
		pid = 0;
	else if (pid > 0)
		cpu0 = proc_cpu(pid);
	t0 = bench_now();
	while (g.done < want && bench_now() - t0 < (uint64_t)(o->seconds * 30e9)) {
		uint8_t b[MSG_MAX];
		struct pollfd pfd = { g.fd, POLLIN, 0 };
		sp_time now = bench_now();

		for (int i = 0; i < SLOTS; i++) {
			char name[8];

			snprintf(name, sizeof(name), "s%d", i);
			/* up when idle, down (untimed by the responder's CPU as well) when up */
			if (ike_up(g.ike, now, name) != 0)
				break;
		}
		if (poll(&pfd, 1, 10) > 0) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(g.fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);

			if (n > 0) {
				/* From the NAT-T port the message follows the non-ESP marker,
				 * which ike_input() expects on its own NAT-T port. */
				uint16_t sport = ntohs(from.sin_port);
				struct ike_path path = { g.local, dst, sport == port ? 500 : 4500,
							 sport };

				ike_input(g.ike, bench_now(), &path, b, (size_t)n);
			}
		}
		/* tear established SAs down so the responder does not fill up */
		for (int i = 0; i < SLOTS; i++) {
			char name[8];

			if (!g.up[i])
				continue;
			g.up[i] = false;
			snprintf(name, sizeof(name), "s%d", i);
			if (ike_down(g.ike, bench_now(), name) != 0)
				break;
		}
		if (ike_next_deadline(g.ike) <= bench_now())
			ike_tick(g.ike, bench_now());
	}
	t1 = bench_now();
	if (pid > 0)
		cpu1 = proc_cpu(pid);
	if (is_self) {
		self.stop = 1;
		pthread_join(th, NULL);
		cpu1 = self.cpu;
	}
	printf("ike udp: %llu handshakes in %.2f s (%.0f/s wall), %llu failed\n",
	       (unsigned long long)g.done, (double)(t1 - t0) / 1e9,
	       (double)g.done * 1e9 / (double)(t1 - t0), (unsigned long long)g.failed);
	if (cpu1 > cpu0)
		printf("ike udp: responder CPU %.2f s: %.0f handshakes per CPU second\n",
		       cpu1 - cpu0, (double)g.done / (cpu1 - cpu0));
	rc = g.done > 0 ? 0 : 1;
out:
	ike_free(g.ike);
	conf_free(g.conf);
	if (g.fd > 0)
		close(g.fd);
	if (is_self) {
		ike_free(self.ike);
		conf_free(self.conf);
		close(self.fd);
	}
	return rc;
}

int bench_ike_main(const struct bench_opts *o, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[0], "udp") == 0)
		return udp_bench(o, argv[1], argc >= 3 ? argv[2] : NULL);
	if (argc != 0) {
		fprintf(stderr, "usage: spinat-bench ike [udp HOST[:PORT]|self [RESPONDER_PID]]\n");
		return 2;
	}
	return memory_bench(o);
}
