/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet / 802.1Q / QinQ / IPv4 / IPv6 / UDP header walk: bounds-checked, no writes. */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "sk_pkt.h"

const char *sk_pkt_class_name(enum sk_pkt_class cls)
{
	switch (cls) {
	case SK_PKT_NON_IP:
		return "non_ip";
	case SK_PKT_L3_MALFORMED:
		return "l3_malformed";
	case SK_PKT_IP_OTHER:
		return "ip_other";
	case SK_PKT_IP_FRAGMENT:
		return "ip_fragment";
	case SK_PKT_UDP:
		return "udp";
	case SK_PKT_TCP:
		return "tcp";
	}
	return "?";
}

static void parse_udp(const uint8_t *frame, uint32_t l4_off, uint32_t l3_end,
		      struct sk_pkt_meta *meta)
{
	const struct rte_udp_hdr *udp;
	uint16_t udp_len;

	if (l4_off + sizeof(*udp) > l3_end) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	udp = (const struct rte_udp_hdr *)(frame + l4_off);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	/*
	 * A UDP length shorter than the header, or longer than the IP payload, is
	 * inconsistent. Shorter than the IP payload is legal (trailing bytes are
	 * ignored by receivers), so the UDP length bounds the payload.
	 */
	if (udp_len < sizeof(*udp) || l4_off + udp_len > l3_end) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	meta->l4_off = (uint16_t)l4_off;
	meta->payload_off = (uint16_t)(l4_off + sizeof(*udp));
	meta->payload_len = (uint16_t)(udp_len - sizeof(*udp));
	meta->sport = rte_be_to_cpu_16(udp->src_port);
	meta->dport = rte_be_to_cpu_16(udp->dst_port);
	meta->cls = SK_PKT_UDP;
}

/* A TCP header whose data offset lies (shorter than 20 bytes, past the datagram) is malformed. */
static void parse_tcp(const uint8_t *frame, uint32_t l4_off, uint32_t l3_end,
		      struct sk_pkt_meta *meta)
{
	const struct rte_tcp_hdr *tcp;
	uint32_t hlen;

	if (l4_off + sizeof(*tcp) > l3_end) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	tcp = (const struct rte_tcp_hdr *)(frame + l4_off);
	hlen = (uint32_t)(tcp->data_off >> 4) * 4;
	if (hlen < sizeof(*tcp) || l4_off + hlen > l3_end) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	meta->l4_off = (uint16_t)l4_off;
	meta->payload_off = (uint16_t)(l4_off + hlen);
	meta->payload_len = (uint16_t)(l3_end - l4_off - hlen);
	meta->sport = rte_be_to_cpu_16(tcp->src_port);
	meta->dport = rte_be_to_cpu_16(tcp->dst_port);
	meta->cls = SK_PKT_TCP;
}

/* The upper-layer header at L4_OFF: UDP and TCP are walked, the rest is "other IP". */
static void parse_l4(const uint8_t *frame, uint8_t proto, uint32_t l4_off, struct sk_pkt_meta *meta)
{
	if (proto == IPPROTO_UDP)
		parse_udp(frame, l4_off, meta->l3_end, meta);
	else if (proto == IPPROTO_TCP)
		parse_tcp(frame, l4_off, meta->l3_end, meta);
	else
		meta->cls = SK_PKT_IP_OTHER;
}

static void parse_ipv4(const uint8_t *frame, uint32_t off, uint32_t len, struct sk_pkt_meta *meta)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t ihl, total;
	uint16_t frag;

	meta->ip_version = 4;
	if (off + sizeof(*ip) > len) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	ip = (const struct rte_ipv4_hdr *)(frame + off);
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	total = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || total < ihl || off + total > len) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	meta->l3_end = off + total;
	meta->l4_proto = ip->next_proto_id;
	memcpy(meta->src, &ip->src_addr, 4);
	memcpy(meta->dst, &ip->dst_addr, 4);
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		meta->cls = SK_PKT_IP_FRAGMENT;
		return;
	}
	parse_l4(frame, ip->next_proto_id, off + ihl, meta);
}

/*
 * Walk the IPv6 extension chain to the upper-layer header. Hop-by-hop,
 * routing, destination options and AH are skipped by their length fields; a
 * fragment header makes the packet a fragment unless it is an atomic fragment
 * (offset 0, no more fragments, RFC 6946), which carries a whole datagram.
 */
static void parse_ipv6(const uint8_t *frame, uint32_t off, uint32_t len, struct sk_pkt_meta *meta)
{
	const struct rte_ipv6_hdr *ip;
	uint32_t next_off, payload;
	uint8_t next;
	int i;

	meta->ip_version = 6;
	if (off + sizeof(*ip) > len) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	ip = (const struct rte_ipv6_hdr *)(frame + off);
	payload = rte_be_to_cpu_16(ip->payload_len);
	/* Jumbograms (payload length 0 + hop-by-hop option) never appear on Ethernet. */
	if ((frame[off] >> 4) != 6 || off + sizeof(*ip) + payload > len) {
		meta->cls = SK_PKT_L3_MALFORMED;
		return;
	}
	memcpy(meta->src, ip->src_addr, 16);
	memcpy(meta->dst, ip->dst_addr, 16);
	meta->l3_end = off + (uint32_t)sizeof(*ip) + payload;
	next = ip->proto;
	next_off = off + sizeof(*ip);
	/* Up to SK_PKT_MAX_IPV6_EXT extension headers, then the upper-layer header. */
	for (i = 0; i <= SK_PKT_MAX_IPV6_EXT; i++) {
		const uint8_t *ext = frame + next_off;
		uint32_t ext_len;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (next_off + 2 > meta->l3_end)
				goto malformed;
			ext_len = ((uint32_t)ext[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (next_off + 2 > meta->l3_end)
				goto malformed;
			ext_len = ((uint32_t)ext[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT: {
			uint16_t offlg;

			if (next_off + 8 > meta->l3_end)
				goto malformed;
			offlg = (uint16_t)(ext[2] << 8 | ext[3]);
			if (offlg & 0xfff9) { /* offset or M flag set */
				meta->l4_proto = ext[0];
				meta->cls = SK_PKT_IP_FRAGMENT;
				return;
			}
			ext_len = 8;
			break;
		}
		default:
			meta->l4_proto = next;
			parse_l4(frame, next, next_off, meta);
			return;
		}
		if (next_off + ext_len > meta->l3_end)
			goto malformed;
		next = ext[0];
		next_off += ext_len;
	}
malformed:
	meta->cls = SK_PKT_L3_MALFORMED;
}

/* 802.1Q C-tag, 802.1ad S-tag, and the pre-standard S-tag TPID that switches still send. */
static inline bool is_vlan_tpid(uint16_t ether_type)
{
	return ether_type == RTE_ETHER_TYPE_VLAN || ether_type == RTE_ETHER_TYPE_QINQ ||
	       ether_type == SK_PKT_TPID_9100;
}

void sk_pkt_parse_full(const uint8_t *frame, uint32_t len, struct sk_pkt_meta *meta)
{
	uint32_t off = sizeof(struct rte_ether_hdr);
	uint16_t ether_type;

	memset(meta, 0, offsetof(struct sk_pkt_meta, src));
	meta->cls = SK_PKT_NON_IP;
	if (len < off)
		return;
	ether_type = rte_be_to_cpu_16(((const struct rte_ether_hdr *)frame)->ether_type);
	/*
	 * Up to SK_PKT_MAX_VLAN stacked tags (QinQ), any TPID at any depth: the IP
	 * header follows the last one. Deeper stacks stay "not IP" (forwarded as is).
	 */
	if (is_vlan_tpid(ether_type)) {
		const struct rte_vlan_hdr *vlan = (const struct rte_vlan_hdr *)(frame + off);

		if (len < off + sizeof(*vlan))
			return;
		meta->has_vlan = 1;
		meta->vlan_tci = rte_be_to_cpu_16(vlan->vlan_tci);
		ether_type = rte_be_to_cpu_16(vlan->eth_proto);
		off += sizeof(*vlan);
		if (unlikely(is_vlan_tpid(ether_type))) {
			vlan = (const struct rte_vlan_hdr *)(frame + off);
			if (len < off + sizeof(*vlan))
				return;
			meta->has_vlan = 2;
			meta->vlan_tci_inner = rte_be_to_cpu_16(vlan->vlan_tci);
			ether_type = rte_be_to_cpu_16(vlan->eth_proto);
			off += sizeof(*vlan);
		}
	}
	meta->l3_off = (uint16_t)off;
	if (ether_type == RTE_ETHER_TYPE_IPV4)
		parse_ipv4(frame, off, len, meta);
	else if (ether_type == RTE_ETHER_TYPE_IPV6)
		parse_ipv6(frame, off, len, meta);
}
