/* pcap: what is written is read back with its time stamp; same input, same file bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "io/pcap.h"

static void write_file(const char *path)
{
	struct io_pcap_writer *w;
	uint8_t a[20] = { 0x45, 0, 0, 20 }, b[40] = { 0x45, 0, 0, 40 };

	assert_int_equal(io_pcap_open_write(&w, path), 0);
	assert_int_equal(io_pcap_write(w, 1500000000ull, a, sizeof(a)), 0);
	assert_int_equal(io_pcap_write(w, 2000001000ull, b, sizeof(b)), 0);
	io_pcap_close_write(w);
}

static long file_bytes(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	long n;

	assert_non_null(f);
	n = (long)fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void roundtrip(void **state)
{
	char p1[] = "/tmp/spinat-pcap-XXXXXX", p2[] = "/tmp/spinat-pcap-XXXXXX";
	uint8_t storage[PKT_BUFSIZE], f1[512], f2[512];
	struct io_pcap_reader *r;
	struct pkt p;
	sp_time ts;
	int fd1 = mkstemp(p1), fd2 = mkstemp(p2);
	long n1, n2;

	(void)state;
	assert_true(fd1 >= 0 && fd2 >= 0);
	close(fd1);
	close(fd2);
	write_file(p1);
	write_file(p2);
	n1 = file_bytes(p1, f1, sizeof(f1));
	n2 = file_bytes(p2, f2, sizeof(f2));
	assert_int_equal(n1, n2);
	assert_memory_equal(f1, f2, (size_t)n1);

	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	assert_int_equal(io_pcap_open_read(&r, p1), 0);
	assert_int_equal(io_pcap_read(r, &p, &ts), 0);
	assert_int_equal(p.len, 20);
	assert_true(ts == 1500000000ull);
	assert_int_equal(io_pcap_read(r, &p, &ts), 0);
	assert_int_equal(p.len, 40);
	assert_true(ts == 2000001000ull);
	assert_int_equal(io_pcap_read(r, &p, &ts), SP_ENOTFOUND);
	io_pcap_close_read(r);
	unlink(p1);
	unlink(p2);
	assert_int_equal(io_pcap_open_read(&r, "/nonexistent/x.pcap"), SP_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
