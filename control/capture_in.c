/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap / pcapng reader for replay mode (capture_in.h). Control path: stdio and malloc. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_in.h"

/* The largest record replay takes (libpcap's MAXIMUM_SNAPLEN). */
#define CAP_RECORD_MAX 262144u
/* The largest pcapng block: a record, its padding and generous options. */
#define CAP_BLOCK_MAX (CAP_RECORD_MAX + 65536u)
/* Interfaces per pcapng section that we remember. */
#define CAP_MAX_IFACES 4096u

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 1u
#define PCAPNG_OPB 2u /* obsolete packet block */
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define PCAPNG_BOM 0x1A2B3C4Du

struct cap_iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint64_t ticks_per_sec;
	int64_t ts_offset; /* seconds (if_tsoffset) */
};

struct sk_cap_in {
	FILE *f;
	bool ng;
	bool swap; /* file byte order differs from ours */
	bool nsec; /* classic pcap with nanosecond fractions */
	uint32_t linktype;
	uint64_t offset; /* of the next byte to read */
	uint64_t records;
	struct cap_iface *ifaces;
	uint32_t n_ifaces;
	uint8_t *buf;
	uint32_t cap;
};

bool sk_cap_linktype_supported(uint32_t linktype)
{
	switch (linktype) {
	case SK_LT_ETHERNET:
	case SK_LT_LINUX_SLL:
	case SK_LT_LINUX_SLL2:
	case SK_LT_NULL:
	case SK_LT_LOOP:
	case SK_LT_RAW:
		return true;
	}
	return false;
}

static uint32_t rd32(const struct sk_cap_in *c, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return c->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct sk_cap_in *c, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return c->swap ? __builtin_bswap16(v) : v;
}

/* Old writers stored the BSD value of raw IP (DLT_RAW, 12) instead of LINKTYPE_RAW. */
static uint32_t norm_linktype(uint32_t lt)
{
	return lt == 12 ? SK_LT_RAW : lt;
}

static int grow(struct sk_cap_in *c, uint32_t need)
{
	uint8_t *nb;

	if (need <= c->cap)
		return 0;
	nb = realloc(c->buf, need);
	if (nb == NULL)
		return -1;
	c->buf = nb;
	c->cap = need;
	return 0;
}

/*
 * Read exactly N bytes into DST. 1: done; 0: clean end of file before any
 * byte; -1: cut (some bytes, not all) or a read error, reported in ERR.
 */
static int read_exact(struct sk_cap_in *c, void *dst, size_t n, const char *what, char *err,
		      size_t errlen)
{
	size_t got = fread(dst, 1, n, c->f);

	c->offset += got;
	if (got == n)
		return 1;
	if (ferror(c->f)) {
		snprintf(err, errlen, "read error at byte %" PRIu64 ": %s", c->offset,
			 strerror(errno));
		return -1;
	}
	if (got == 0)
		return 0;
	snprintf(err, errlen,
		 "the capture is cut short in %s at byte %" PRIu64 " (%zu of %zu bytes present)",
		 what, c->offset - got, got, n);
	return -1;
}

static int pcap_header(struct sk_cap_in *c, uint32_t magic, char *err, size_t errlen)
{
	uint8_t h[20];
	int r;

	switch (magic) {
	case 0xA1B2C3D4:
		break;
	case 0xD4C3B2A1:
		c->swap = true;
		break;
	case 0xA1B23C4D:
		c->nsec = true;
		break;
	case 0x4D3CB2A1:
		c->swap = c->nsec = true;
		break;
	default:
		snprintf(err, errlen, "not a pcap or pcapng file (magic 0x%08x)", magic);
		return -1;
	}
	r = read_exact(c, h, sizeof(h), "the file header", err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "the capture is cut short in its file header");
		return -1;
	}
	/* The upper bits hold FCS flags (LT_FCS_*): the link type is the low 26. */
	c->linktype = norm_linktype(rd32(c, h + 16) & 0x03FFFFFFu);
	return 0;
}

/* Read one whole pcapng block (header already in HDR) into c->buf: body only. */
static int ng_block_body(struct sk_cap_in *c, uint32_t type, uint32_t total, uint32_t *body_len,
			 char *err, size_t errlen)
{
	uint8_t trailer[4];
	uint64_t start = c->offset - 8;
	int r;

	if (total < 12 || total % 4 != 0 || total > CAP_BLOCK_MAX) {
		snprintf(err, errlen,
			 "damaged pcapng block at byte %" PRIu64 " (type 0x%x, length %u)", start,
			 type, total);
		return -1;
	}
	*body_len = total - 12;
	if (grow(c, *body_len + 1) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = read_exact(c, c->buf, *body_len, "a pcapng block", err, errlen);
	if (r == 1)
		r = read_exact(c, trailer, 4, "a pcapng block", err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen,
				 "the capture is cut short in a pcapng block at byte %" PRIu64,
				 start);
		return -1;
	}
	if (rd32(c, trailer) != total) {
		snprintf(err, errlen,
			 "damaged pcapng block at byte %" PRIu64 " (trailing length %u, not %u)",
			 start, rd32(c, trailer), total);
		return -1;
	}
	return 0;
}

/* A section header block: byte order from its BOM; a new section forgets its interfaces. */
static int ng_section(struct sk_cap_in *c, const uint8_t hdr[8], char *err, size_t errlen)
{
	uint8_t bom[4];
	uint32_t total, body_len, b;
	int r;

	r = read_exact(c, bom, 4, "a section header", err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "the capture is cut short in a section header");
		return -1;
	}
	memcpy(&b, bom, 4);
	if (b == PCAPNG_BOM)
		c->swap = false;
	else if (b == __builtin_bswap32(PCAPNG_BOM))
		c->swap = true;
	else {
		snprintf(err, errlen,
			 "damaged pcapng section header at byte %" PRIu64 " (BOM 0x%08x)",
			 c->offset - 12, b);
		return -1;
	}
	total = rd32(c, hdr + 4);
	if (total < 28 || total % 4 != 0 || total > CAP_BLOCK_MAX) {
		snprintf(err, errlen, "damaged pcapng section header at byte %" PRIu64,
			 c->offset - 12);
		return -1;
	}
	/* The rest: versions, section length, options and the trailing length. */
	body_len = total - 12;
	if (grow(c, body_len) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = read_exact(c, c->buf, body_len, "a section header", err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "the capture is cut short in a section header");
		return -1;
	}
	if (rd32(c, c->buf + body_len - 4) != total) {
		snprintf(err, errlen, "damaged pcapng section header at byte %" PRIu64,
			 c->offset - total);
		return -1;
	}
	c->n_ifaces = 0;
	return 0;
}

static void ng_interface(struct sk_cap_in *c, uint32_t body_len)
{
	struct cap_iface ifc = {.ticks_per_sec = 1000000};
	uint32_t o = 8;

	if (body_len < 8 || c->n_ifaces >= CAP_MAX_IFACES) {
		/* Still counted, so that later interface numbers stay right. */
		ifc.linktype = UINT32_MAX;
	} else {
		ifc.linktype = norm_linktype(rd16(c, c->buf));
		ifc.snaplen = rd32(c, c->buf + 4);
	}
	while (body_len >= 8 && o + 4 <= body_len) {
		uint16_t code = rd16(c, c->buf + o), olen = rd16(c, c->buf + o + 2);
		const uint8_t *v = c->buf + o + 4;

		if (code == 0 || o + 4 + olen > body_len)
			break;
		if (code == 9 && olen >= 1) { /* if_tsresol */
			unsigned int e = v[0] & 0x7f;

			if (v[0] & 0x80)
				ifc.ticks_per_sec = e < 64 ? 1ULL << e : 0;
			else if (e <= 19) {
				ifc.ticks_per_sec = 1;
				while (e--)
					ifc.ticks_per_sec *= 10;
			} else {
				ifc.ticks_per_sec = 0;
			}
			if (ifc.ticks_per_sec == 0)
				ifc.ticks_per_sec = 1000000; /* nonsense: take the default */
		} else if (code == 14 && olen == 8) {	     /* if_tsoffset */
			uint64_t off;

			memcpy(&off, v, 8);
			ifc.ts_offset = (int64_t)(c->swap ? __builtin_bswap64(off) : off);
		}
		o += 4 + (((uint32_t)olen + 3) & ~3u);
	}
	if (c->n_ifaces < CAP_MAX_IFACES) {
		c->ifaces[c->n_ifaces] = ifc;
		if (c->n_ifaces == 0 && c->linktype == UINT32_MAX)
			c->linktype = ifc.linktype;
	}
	c->n_ifaces++;
}

static void ng_time(const struct cap_iface *ifc, uint64_t ticks, struct sk_cap_rec *rec)
{
	uint64_t res = ifc->ticks_per_sec;
	uint64_t frac = ticks % res;

	rec->sec = ticks / res + (uint64_t)ifc->ts_offset;
	rec->usec = (uint32_t)((unsigned __int128)frac * 1000000u / res);
}

static int ng_next(struct sk_cap_in *c, struct sk_cap_rec *rec, char *err, size_t errlen)
{
	for (;;) {
		uint8_t hdr[8];
		uint32_t type, total, body_len, ifid, caplen, origlen, hdr_len;
		uint64_t start = c->offset;
		int r = read_exact(c, hdr, 8, "a pcapng block header", err, errlen);

		if (r <= 0)
			return r;
		memcpy(&type, hdr, 4);
		if (type == PCAPNG_SHB) {
			if (ng_section(c, hdr, err, errlen) < 0)
				return -1;
			continue;
		}
		type = rd32(c, hdr);
		total = rd32(c, hdr + 4);
		if (ng_block_body(c, type, total, &body_len, err, errlen) < 0)
			return -1;
		switch (type) {
		case PCAPNG_IDB:
			ng_interface(c, body_len);
			continue;
		case PCAPNG_EPB:
		case PCAPNG_OPB:
			if (body_len < 20)
				goto damaged;
			if (type == PCAPNG_EPB)
				ifid = rd32(c, c->buf);
			else
				ifid = rd16(c, c->buf);
			caplen = rd32(c, c->buf + 12);
			origlen = rd32(c, c->buf + 16);
			hdr_len = 20;
			if (ifid >= c->n_ifaces || ifid >= CAP_MAX_IFACES)
				goto damaged;
			ng_time(&c->ifaces[ifid],
				(uint64_t)rd32(c, c->buf + 4) << 32 | rd32(c, c->buf + 8), rec);
			break;
		case PCAPNG_SPB:
			/* No timestamp; the length captured is bounded by the block and snaplen. */
			if (body_len < 4 || c->n_ifaces == 0)
				goto damaged;
			ifid = 0;
			origlen = rd32(c, c->buf);
			caplen = origlen;
			if (caplen > body_len - 4)
				caplen = body_len - 4;
			if (c->ifaces[0].snaplen != 0 && caplen > c->ifaces[0].snaplen)
				caplen = c->ifaces[0].snaplen;
			hdr_len = 4;
			rec->sec = 0;
			rec->usec = 0;
			break;
		default:
			continue; /* name resolution, statistics, custom blocks... */
		}
		if (caplen > body_len - hdr_len || caplen > CAP_RECORD_MAX)
			goto damaged;
		rec->caplen = caplen;
		rec->origlen = origlen;
		rec->ifindex = ifid;
		rec->linktype = c->ifaces[ifid].linktype;
		rec->data = c->buf + hdr_len;
		c->records++;
		return 1;
	damaged:
		snprintf(err, errlen,
			 "damaged pcapng packet block at byte %" PRIu64 " (type %u, length %u)",
			 start, type, total);
		return -1;
	}
}

static int pcap_next_rec(struct sk_cap_in *c, struct sk_cap_rec *rec, char *err, size_t errlen)
{
	uint8_t h[16];
	uint32_t caplen;
	uint64_t start = c->offset;
	int r = read_exact(c, h, sizeof(h), "a record header", err, errlen);

	if (r <= 0)
		return r;
	caplen = rd32(c, h + 8);
	if (caplen > CAP_RECORD_MAX) {
		snprintf(err, errlen,
			 "damaged record at byte %" PRIu64 " (captured length %u, at most %u)",
			 start, caplen, CAP_RECORD_MAX);
		return -1;
	}
	if (grow(c, caplen + 1) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = read_exact(c, c->buf, caplen, "a record", err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen,
				 "the capture is cut short in the record at byte %" PRIu64
				 " (its header is there, none of its %u bytes)",
				 start, caplen);
		return -1;
	}
	rec->sec = rd32(c, h);
	rec->usec = c->nsec ? rd32(c, h + 4) / 1000 : rd32(c, h + 4);
	rec->caplen = caplen;
	rec->origlen = rd32(c, h + 12);
	rec->linktype = c->linktype;
	rec->ifindex = 0;
	rec->data = c->buf;
	c->records++;
	return 1;
}

struct sk_cap_in *sk_cap_open(const char *path, char *err, size_t errlen)
{
	struct sk_cap_in *c = calloc(1, sizeof(*c));
	uint8_t magic[4];
	uint32_t m;
	int r;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->linktype = UINT32_MAX;
	c->f = fopen(path, "rb");
	if (c->f == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	r = read_exact(c, magic, 4, "the file header", err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "empty file, not a capture");
		goto fail;
	}
	memcpy(&m, magic, 4);
	if (m == PCAPNG_SHB) {
		uint8_t hdr[8];

		c->ng = true;
		c->ifaces = calloc(CAP_MAX_IFACES, sizeof(*c->ifaces));
		if (c->ifaces == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		memcpy(hdr, magic, 4);
		r = read_exact(c, hdr + 4, 4, "the section header", err, errlen);
		if (r <= 0 || ng_section(c, hdr, err, errlen) < 0) {
			if (r == 0)
				snprintf(err, errlen,
					 "the capture is cut short in its section header");
			goto fail;
		}
		return c;
	}
	/* Classic pcap stores its magic in the writer's byte order: read it as ours. */
	if (pcap_header(c, m, err, errlen) < 0)
		goto fail;
	return c;
fail:
	sk_cap_close(c);
	return NULL;
}

const char *sk_cap_format(const struct sk_cap_in *c)
{
	return c->ng ? "pcapng" : "pcap";
}

uint32_t sk_cap_file_linktype(const struct sk_cap_in *c)
{
	return c->linktype;
}

int sk_cap_next(struct sk_cap_in *c, struct sk_cap_rec *rec, char *err, size_t errlen)
{
	return c->ng ? ng_next(c, rec, err, errlen) : pcap_next_rec(c, rec, err, errlen);
}

void sk_cap_close(struct sk_cap_in *c)
{
	if (c == NULL)
		return;
	if (c->f != NULL)
		fclose(c->f);
	free(c->ifaces);
	free(c->buf);
	free(c);
}
