/*
 * pcap files through libpcap: raw IPv4 packets (LINKTYPE_RAW), with time stamps the caller
 * gives, so a simulator run with the same seed writes byte-identical files.
 */
#ifndef SP_IO_PCAP_H
#define SP_IO_PCAP_H

#include "base/pkt.h"
#include "base/time.h"

struct io_pcap_writer;
struct io_pcap_reader;

int io_pcap_open_write(struct io_pcap_writer **out, const char *path) SP_MUST_CHECK;
/* Append one IPv4 packet stamped ts (ns). */
int io_pcap_write(struct io_pcap_writer *w, sp_time ts, const uint8_t *data,
		  size_t len) SP_MUST_CHECK;
/* Flush and close; accepts NULL. */
void io_pcap_close_write(struct io_pcap_writer *w);

/* Files of link type RAW, IPV4 or EN10MB (Ethernet headers are skipped). */
int io_pcap_open_read(struct io_pcap_reader **out, const char *path) SP_MUST_CHECK;
/* Next packet's IPv4 bytes into p (reset first); 0, SP_ENOTFOUND at the end, or an error. */
int io_pcap_read(struct io_pcap_reader *r, struct pkt *p, sp_time *ts) SP_MUST_CHECK;
void io_pcap_close_read(struct io_pcap_reader *r);

#endif
