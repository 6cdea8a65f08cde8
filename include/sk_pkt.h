/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2/L3/L4 parsing of one frame: Ethernet with up to two VLAN tags (802.1Q,
 * QinQ with an 802.1ad or 0x9100 outer tag, 802.1Q twice), IPv4,
 * IPv6 with its extension header chain, UDP and TCP. Works on a contiguous byte range
 * so that it is testable without an mbuf; the worker passes the first segment.
 *
 * The parser never trusts a length field: every header is checked against the
 * bytes present, and an inconsistent frame is classified SK_PKT_L3_MALFORMED
 * (forwarded unchanged and counted by the caller).
 */
#ifndef SK_PKT_H
#define SK_PKT_H

#include <stddef.h>
#include <stdint.h>

enum sk_pkt_class {
	SK_PKT_NON_IP = 0,   /* ARP, LLDP, anything that is not IPv4/IPv6 */
	SK_PKT_L3_MALFORMED, /* truncated or inconsistent IP/UDP headers */
	SK_PKT_IP_OTHER,     /* IP but not UDP (TCP, ICMP, ESP, ...) */
	SK_PKT_IP_FRAGMENT,  /* an IPv4 or IPv6 fragment: no L4 header to read */
	SK_PKT_UDP,	     /* UDP, ports known; SIP or not is the caller's decision */
	SK_PKT_TCP,	     /* TCP, ports, sequence number and flags known */
};

/* VLAN tags walked before the IP header (QinQ: two). A deeper stack is not IP to us. */
#define SK_PKT_MAX_VLAN 2
/* The pre-standard QinQ outer TPID (DPDK names 0x8100 and 0x88a8 only). */
#define SK_PKT_TPID_9100 0x9100

/* Longest IPv6 extension header chain we walk before giving up (malformed). */
#define SK_PKT_MAX_IPV6_EXT 8

struct sk_pkt_meta {
	uint8_t cls;		 /* enum sk_pkt_class */
	uint8_t ip_version;	 /* 4, 6, or 0 */
	uint8_t l4_proto;	 /* IPPROTO_* of the final header, when IP */
	uint8_t has_vlan;	 /* VLAN tags before the IP header: 0, 1 or 2 (QinQ) */
	uint16_t vlan_tci;	 /* TCI of the outer (first) tag */
	uint16_t vlan_tci_inner; /* TCI of the inner tag with two tags, else 0 */
	uint16_t l3_off;	 /* offset of the IP header */
	uint16_t l4_off;	 /* offset of the UDP/TCP header (after IPv6 extensions) */
	uint16_t payload_off;	 /* offset of the UDP/TCP payload */
	uint16_t payload_len;	 /* UDP: from the UDP header; TCP: to the end of the IP datagram */
	uint16_t sport;		 /* host order */
	uint16_t dport;		 /* host order */
	uint32_t l3_end;	 /* offset just past the IP datagram (excludes Ethernet padding) */
	uint8_t src[16];	 /* IPv4 in the first 4 bytes, network order */
	uint8_t dst[16];
};

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SK_PKT_BE16(x) ((uint16_t)__builtin_bswap16(x))
#else
#define SK_PKT_BE16(x) ((uint16_t)(x))
#endif

/* Parse FRAME of LEN bytes into META. Always fills cls; never reads past LEN. */
void sk_pkt_parse_full(const uint8_t *frame, uint32_t len, struct sk_pkt_meta *meta);

/*
 * The IPv4 TCP segment (untagged, no IP options, not a fragment; TOTAL the IP
 * total length, already within the frame) filled inline as sk_pkt_parse_full()
 * would. False: its header does not fit, for the full walk to classify.
 */
static inline int sk_pkt_parse_tcp4(const uint8_t *frame, uint32_t total, struct sk_pkt_meta *meta)
{
	enum { ETH = 14, IP = 20, TCP = 20 };
	uint32_t doff;

	if (__builtin_expect(total < IP + TCP, 0))
		return 0;
	doff = (uint32_t)(frame[ETH + IP + 12] >> 4) * 4;
	if (__builtin_expect(doff < TCP || doff > total - IP, 0))
		return 0;
	__builtin_memset(meta, 0, offsetof(struct sk_pkt_meta, src));
	meta->cls = SK_PKT_TCP;
	meta->ip_version = 4;
	meta->l4_proto = 6;
	meta->l3_off = ETH;
	meta->l4_off = ETH + IP;
	meta->payload_off = (uint16_t)(ETH + IP + doff);
	meta->payload_len = (uint16_t)(total - IP - doff);
	meta->sport = (uint16_t)(frame[ETH + IP] << 8 | frame[ETH + IP + 1]);
	meta->dport = (uint16_t)(frame[ETH + IP + 2] << 8 | frame[ETH + IP + 3]);
	meta->l3_end = ETH + total;
	__builtin_memcpy(meta->src, frame + ETH + 12, 4);
	__builtin_memcpy(meta->dst, frame + ETH + 16, 4);
	return 1;
}

/*
 * The same, with the frames nearly all traffic is checked inline first:
 * untagged IPv4 without options, not a fragment, UDP (media) with consistent
 * lengths, or TCP (the site's other traffic, and SIP over TCP). It fills META
 * exactly as sk_pkt_parse_full() would; anything else goes there.
 */
static inline __attribute__((always_inline)) void sk_pkt_parse(const uint8_t *frame, uint32_t len,
							       struct sk_pkt_meta *meta)
{
	enum { ETH = 14, IP = 20, UDP = 8 };
	uint16_t ether_type, total, frag, udp_len;

	if (__builtin_expect(len < ETH + IP + UDP, 0))
		goto full;
	__builtin_memcpy(&ether_type, frame + 12, 2);
	__builtin_memcpy(&total, frame + ETH + 2, 2);
	__builtin_memcpy(&frag, frame + ETH + 6, 2);
	__builtin_memcpy(&udp_len, frame + ETH + IP + 4, 2);
	/* Fields compared in network order: constants are swapped at compile time. */
	if (__builtin_expect(ether_type != SK_PKT_BE16(0x0800) || frame[ETH] != 0x45 ||
				     (frag & SK_PKT_BE16(0x3fff)) != 0 || frame[ETH + 9] != 17,
			     0)) {
		if (ether_type == SK_PKT_BE16(0x0800) && frame[ETH] == 0x45 &&
		    (frag & SK_PKT_BE16(0x3fff)) == 0 && frame[ETH + 9] == 6 &&
		    SK_PKT_BE16(total) <= len - ETH &&
		    sk_pkt_parse_tcp4(frame, SK_PKT_BE16(total), meta))
			return;
		goto full;
	}
	total = SK_PKT_BE16(total);
	udp_len = SK_PKT_BE16(udp_len);
	if (__builtin_expect(total > len - ETH || udp_len < UDP || udp_len > total - IP, 0))
		goto full;
	/* Every field before the addresses is set, as the full walk sets them (its memset). */
	__builtin_memset(meta, 0, offsetof(struct sk_pkt_meta, src));
	meta->cls = SK_PKT_UDP;
	meta->ip_version = 4;
	meta->l4_proto = 17;
	meta->l3_off = ETH;
	meta->l4_off = ETH + IP;
	meta->payload_off = ETH + IP + UDP;
	meta->payload_len = (uint16_t)(udp_len - UDP);
	meta->sport = (uint16_t)(frame[ETH + IP] << 8 | frame[ETH + IP + 1]);
	meta->dport = (uint16_t)(frame[ETH + IP + 2] << 8 | frame[ETH + IP + 3]);
	meta->l3_end = ETH + (uint32_t)total;
	__builtin_memcpy(meta->src, frame + ETH + 12, 4);
	__builtin_memcpy(meta->dst, frame + ETH + 16, 4);
	return;
full:
	sk_pkt_parse_full(frame, len, meta);
}

/*
 * The sequence number (host order) and flags (RTE_TCP_*_FLAG) of a TCP frame
 * (class SK_PKT_TCP): read only by the SIP-over-TCP path, not at parse time.
 */
static inline uint32_t sk_pkt_tcp_seq(const uint8_t *frame, const struct sk_pkt_meta *meta)
{
	uint32_t seq;

	__builtin_memcpy(&seq, frame + meta->l4_off + 4, 4);
	return __builtin_bswap32(seq);
}

static inline uint8_t sk_pkt_tcp_flags(const uint8_t *frame, const struct sk_pkt_meta *meta)
{
	return frame[meta->l4_off + 13];
}

const char *sk_pkt_class_name(enum sk_pkt_class cls);

#endif /* SK_PKT_H */
