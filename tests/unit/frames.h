/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte-by-byte frame building for the unit tests: every header field is
 * written explicitly (big endian), so a test can then break exactly the field
 * it is about. No DPDK and no OS headers are used to lay out the frames: the
 * tests must not share a mistake with the code under test.
 */
#ifndef SK_TEST_FRAMES_H
#define SK_TEST_FRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FB_MAX 16384

/* EtherTypes and IP protocol numbers, spelled out from the RFCs / IEEE registry. */
#define ET_IPV4 0x0800
#define ET_ARP 0x0806
#define ET_VLAN 0x8100
#define ET_IPV6 0x86dd
#define ET_LLDP 0x88cc
#define P_HOPOPTS 0
#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_ESP 50
#define P_AH 51
#define P_ICMPV6 58
#define P_NONE 59
#define P_DSTOPTS 60

struct fb {
	uint8_t b[FB_MAX];
	uint32_t len;
};

static inline void fb_reset(struct fb *f)
{
	memset(f->b, 0, sizeof(f->b));
	f->len = 0;
}

static inline void fb_u8(struct fb *f, unsigned int v)
{
	f->b[f->len++] = (uint8_t)v;
}

static inline void fb_u16(struct fb *f, unsigned int v)
{
	fb_u8(f, v >> 8);
	fb_u8(f, v);
}

static inline void fb_u32(struct fb *f, uint32_t v)
{
	fb_u16(f, v >> 16);
	fb_u16(f, v & 0xffff);
}

static inline void fb_bytes(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static inline void fb_fill(struct fb *f, unsigned int v, uint32_t n)
{
	memset(f->b + f->len, (int)v, n);
	f->len += n;
}

static inline void fb_set16(struct fb *f, uint32_t off, unsigned int v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static inline unsigned int fb_get16(const struct fb *f, uint32_t off)
{
	return (unsigned int)f->b[off] << 8 | f->b[off + 1];
}

/* Ethernet II: dst 02:00:00:00:00:02, src 02:00:00:00:00:01. */
static inline void fb_eth(struct fb *f, unsigned int ether_type)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};

	fb_bytes(f, dst, 6);
	fb_bytes(f, src, 6);
	fb_u16(f, ether_type);
}

/* The 4 bytes after an 0x8100 EtherType: TCI, then the inner EtherType. */
static inline void fb_vlan(struct fb *f, unsigned int tci, unsigned int ether_type)
{
	fb_u16(f, tci);
	fb_u16(f, ether_type);
}

/*
 * Ones' complement sum (not complemented) of N bytes at P added to SUM,
 * big-endian 16-bit words, folded to 16 bits: byte by byte on purpose, as an
 * independent reference for the product's word-wise checksums.
 */
static inline uint32_t fb_sum(const uint8_t *p, uint32_t n, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* One's complement sum over a header, for a realistic IPv4 checksum. */
static inline unsigned int fb_csum(const uint8_t *p, uint32_t n)
{
	return ~fb_sum(p, n, 0) & 0xffff;
}

/*
 * IPv4 header of IHL words (5 = no options; options are NOPs). FRAG is the
 * whole flags+offset field (0x2000 = MF, 0x4000 = DF, low 13 bits = offset in
 * 8-byte units). Returns the offset of the header in the frame.
 */
static inline uint32_t fb_ipv4(struct fb *f, unsigned int ihl, unsigned int total_len,
			       unsigned int frag, unsigned int proto, const uint8_t src[4],
			       const uint8_t dst[4])
{
	uint32_t off = f->len;

	fb_u8(f, 0x40 | (ihl & 0x0f));
	fb_u8(f, 0);	      /* DSCP/ECN */
	fb_u16(f, total_len); /* total length */
	fb_u16(f, 0x1234);    /* identification */
	fb_u16(f, frag);
	fb_u8(f, 64);	 /* TTL */
	fb_u8(f, proto); /* protocol */
	fb_u16(f, 0);	 /* checksum, filled below */
	fb_bytes(f, src, 4);
	fb_bytes(f, dst, 4);
	if (ihl > 5)
		fb_fill(f, 0x01, (ihl - 5) * 4);
	fb_set16(f, off + 10, fb_csum(f->b + off, 20));
	return off;
}

/* IPv6 fixed header. Returns its offset. */
static inline uint32_t fb_ipv6(struct fb *f, unsigned int payload_len, unsigned int next,
			       const uint8_t src[16], const uint8_t dst[16])
{
	uint32_t off = f->len;

	fb_u32(f, 0x60000000); /* version 6, traffic class 0, flow label 0 */
	fb_u16(f, payload_len);
	fb_u8(f, next);
	fb_u8(f, 64); /* hop limit */
	fb_bytes(f, src, 16);
	fb_bytes(f, dst, 16);
	return off;
}

/* Hop-by-hop, routing or destination options: (hdr_ext_len + 1) * 8 bytes, PadN-filled. */
static inline void fb_ext_opts(struct fb *f, unsigned int next, unsigned int hdr_ext_len)
{
	uint32_t total = (hdr_ext_len + 1) * 8;

	fb_u8(f, next);
	fb_u8(f, hdr_ext_len);
	fb_u8(f, 1); /* PadN */
	fb_u8(f, total - 4);
	fb_fill(f, 0, total - 4);
}

/* Routing header type 0-ish with segments left 0: same length rule as the options. */
static inline void fb_ext_routing(struct fb *f, unsigned int next, unsigned int hdr_ext_len)
{
	uint32_t total = (hdr_ext_len + 1) * 8;

	fb_u8(f, next);
	fb_u8(f, hdr_ext_len);
	fb_u8(f, 4); /* routing type (SRH) */
	fb_u8(f, 0); /* segments left */
	fb_fill(f, 0, total - 4);
}

/* Authentication header: (payload_len + 2) * 4 bytes. */
static inline void fb_ext_ah(struct fb *f, unsigned int next, unsigned int payload_len)
{
	uint32_t total = (payload_len + 2) * 4;

	fb_u8(f, next);
	fb_u8(f, payload_len);
	fb_u16(f, 0);		      /* reserved */
	fb_u32(f, 0x1000);	      /* SPI */
	fb_u32(f, 1);		      /* sequence */
	fb_fill(f, 0xaa, total - 12); /* ICV */
}

/* Fragment header: OFFSET in 8-byte units, M flag. */
static inline void fb_ext_frag(struct fb *f, unsigned int next, unsigned int offset, int more)
{
	fb_u8(f, next);
	fb_u8(f, 0);
	fb_u16(f, (offset << 3) | (more ? 1 : 0));
	fb_u32(f, 0xcafe0001); /* identification */
}

static inline uint32_t fb_udp(struct fb *f, unsigned int sport, unsigned int dport,
			      unsigned int len)
{
	uint32_t off = f->len;

	fb_u16(f, sport);
	fb_u16(f, dport);
	fb_u16(f, len);
	fb_u16(f, 0); /* checksum: none */
	return off;
}

/* A TCP header (20 bytes, SYN). */
static inline void fb_tcp(struct fb *f, unsigned int sport, unsigned int dport)
{
	fb_u16(f, sport);
	fb_u16(f, dport);
	fb_u32(f, 1000);
	fb_u32(f, 0);
	fb_u16(f, 0x5002);
	fb_u16(f, 65535);
	fb_u32(f, 0);
}

/* Addresses used throughout. */
static const uint8_t A4_ACCESS[4] = {10, 1, 2, 3};
static const uint8_t A4_CORE[4] = {192, 0, 2, 10};
static const uint8_t A6_ACCESS[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
				      0,    0,	  0,	0,    0, 0, 0, 0x11};
static const uint8_t A6_CORE[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};

/* Ethernet (+ optional VLAN) + IPv4 + UDP + PAYLOAD, all lengths consistent. */
static inline void fb_ipv4_udp(struct fb *f, int vlan, const uint8_t src[4], const uint8_t dst[4],
			       unsigned int sport, unsigned int dport, const char *payload)
{
	uint32_t plen = (uint32_t)strlen(payload);

	fb_reset(f);
	if (vlan) {
		fb_eth(f, ET_VLAN);
		fb_vlan(f, 0x2064, ET_IPV4);
	} else {
		fb_eth(f, ET_IPV4);
	}
	fb_ipv4(f, 5, 20 + 8 + plen, 0, P_UDP, src, dst);
	fb_udp(f, sport, dport, 8 + plen);
	fb_bytes(f, payload, plen);
}

/* Ethernet (+ optional VLAN) + IPv6 + UDP + PAYLOAD. */
static inline void fb_ipv6_udp(struct fb *f, int vlan, const uint8_t src[16], const uint8_t dst[16],
			       unsigned int sport, unsigned int dport, const char *payload)
{
	uint32_t plen = (uint32_t)strlen(payload);

	fb_reset(f);
	if (vlan) {
		fb_eth(f, ET_VLAN);
		fb_vlan(f, 0x2064, ET_IPV6);
	} else {
		fb_eth(f, ET_IPV6);
	}
	fb_ipv6(f, 8 + plen, P_UDP, src, dst);
	fb_udp(f, sport, dport, 8 + plen);
	fb_bytes(f, payload, plen);
}

/* ARP request who-has 10.1.2.1 tell 10.1.2.3 (28 bytes), padded to 60. */
static inline void fb_arp(struct fb *f, int vlan)
{
	fb_reset(f);
	if (vlan) {
		fb_eth(f, ET_VLAN);
		fb_vlan(f, 0x0064, ET_ARP);
	} else {
		fb_eth(f, ET_ARP);
	}
	fb_u16(f, 1);	    /* hardware type Ethernet */
	fb_u16(f, ET_IPV4); /* protocol type */
	fb_u8(f, 6);
	fb_u8(f, 4);
	fb_u16(f, 1); /* request */
	fb_fill(f, 0x02, 6);
	fb_bytes(f, A4_ACCESS, 4);
	fb_fill(f, 0, 6);
	fb_u32(f, 0x0a010201);
	if (f->len < 60)
		fb_fill(f, 0, 60 - f->len);
}

/* LLDP: chassis ID, port ID, TTL, end TLVs. */
static inline void fb_lldp(struct fb *f)
{
	fb_reset(f);
	fb_eth(f, ET_LLDP);
	fb_u16(f, 1 << 9 | 7); /* chassis ID, len 7 */
	fb_u8(f, 4);	       /* MAC address */
	fb_fill(f, 0x02, 6);
	fb_u16(f, 2 << 9 | 3); /* port ID, len 3 */
	fb_u8(f, 7);	       /* locally assigned */
	fb_bytes(f, "p1", 2);
	fb_u16(f, 3 << 9 | 2); /* TTL */
	fb_u16(f, 120);
	fb_u16(f, 0); /* end */
	if (f->len < 60)
		fb_fill(f, 0, 60 - f->len);
}

#endif /* SK_TEST_FRAMES_H */
