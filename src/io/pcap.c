#include "io/pcap.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_SNAPLEN 65535

struct io_pcap_writer {
	pcap_t *dead;
	pcap_dumper_t *dump;
};

struct io_pcap_reader {
	pcap_t *p;
	int linktype;
};

int io_pcap_open_write(struct io_pcap_writer **out, const char *path)
{
	struct io_pcap_writer *w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SP_ENOMEM;
	/* Microsecond precision keeps the files readable by every tool. */
	if ((w->dead = pcap_open_dead(DLT_RAW, PCAP_SNAPLEN)) == NULL ||
	    (w->dump = pcap_dump_open(w->dead, path)) == NULL) {
		io_pcap_close_write(w);
		return SP_EIO;
	}
	*out = w;
	return 0;
}

int io_pcap_write(struct io_pcap_writer *w, sp_time ts, const uint8_t *data, size_t len)
{
	struct pcap_pkthdr h;

	if (len > PCAP_SNAPLEN)
		return SP_EINVAL;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)((ts % 1000000000ull) / 1000);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)w->dump, &h, data);
	return 0;
}

void io_pcap_close_write(struct io_pcap_writer *w)
{
	if (w == NULL)
		return;
	if (w->dump != NULL)
		pcap_dump_close(w->dump);
	if (w->dead != NULL)
		pcap_close(w->dead);
	free(w);
}

int io_pcap_open_read(struct io_pcap_reader **out, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct io_pcap_reader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SP_ENOMEM;
	if ((r->p = pcap_open_offline(path, errbuf)) == NULL) {
		free(r);
		return SP_EIO;
	}
	r->linktype = pcap_datalink(r->p);
	if (r->linktype != DLT_RAW && r->linktype != DLT_EN10MB && r->linktype != DLT_IPV4) {
		io_pcap_close_read(r);
		return SP_EUNSUPP;
	}
	*out = r;
	return 0;
}

int io_pcap_read(struct io_pcap_reader *r, struct pkt *p, sp_time *ts)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t skip = r->linktype == DLT_EN10MB ? 14 : 0;
	int rc;

	rc = pcap_next_ex(r->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return SP_ENOTFOUND;
	if (rc != 1)
		return SP_EIO;
	if (h->caplen < skip)
		return SP_EMALFORMED;
	pkt_reset(p, PKT_HEADROOM);
	if (pkt_append(p, data + skip, (uint32_t)(h->caplen - skip)) != 0)
		return SP_ENOSPACE;
	if (ts != NULL)
		*ts = (sp_time)h->ts.tv_sec * 1000000000ull + (sp_time)h->ts.tv_usec * 1000ull;
	return 0;
}

void io_pcap_close_read(struct io_pcap_reader *r)
{
	if (r == NULL)
		return;
	pcap_close(r->p);
	free(r);
}
