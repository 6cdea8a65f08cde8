/* SPDX-License-Identifier: BSD-3-Clause */
/* In-place IP/UDP header rewrites with incremental checksum updates. */
#ifndef SK_REWRITE_H
#define SK_REWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sk_csum.h"
#include "sk_pkt.h"

enum sk_endpoint {
	SK_EP_SRC = 0,
	SK_EP_DST = 1,
};

/* The port and META's copy of the endpoint, once the checksums are adjusted. */
static __rte_always_inline void sk_rewrite_set_endpoint(struct sk_pkt_meta *meta,
							enum sk_endpoint which, uint8_t *ip_addr,
							uint8_t *port_field, const uint8_t *addr,
							unsigned int alen, uint16_t port_be)
{
	memcpy(ip_addr, addr, alen);
	memcpy(port_field, &port_be, 2);
	if (which == SK_EP_SRC) {
		memcpy(meta->src, addr, alen);
		meta->sport = rte_be_to_cpu_16(port_be);
	} else {
		memcpy(meta->dst, addr, alen);
		meta->dport = rte_be_to_cpu_16(port_be);
	}
}

/*
 * Set the source or destination address and UDP port of the frame described
 * by META (from sk_pkt_parse, class SK_PKT_UDP). ADDR has the frame's family
 * (4 or 16 bytes), PORT_BE is network order. The IPv4 header checksum and the
 * UDP checksum are updated incrementally; a UDP checksum of 0 on IPv4 (none)
 * stays 0. META's addresses and ports are updated to match.
 *
 * Inline: every rewritten media frame comes here, and at each call site the
 * endpoint is a constant, so only the address family is left to branch on.
 */
static __rte_always_inline void sk_rewrite_endpoint(uint8_t *frame, struct sk_pkt_meta *meta,
						    enum sk_endpoint which, const uint8_t *addr,
						    uint16_t port_be)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(frame + meta->l4_off);
	uint8_t *port_field = (uint8_t *)udp + (which == SK_EP_SRC ? 0 : 2);
	uint64_t d_port = sk_csum_delta(port_field, &port_be, 2);
	struct rte_ipv4_hdr *ip4;
	struct rte_ipv6_hdr *ip6;
	uint8_t *ip_addr;
	uint64_t d_addr;
	uint16_t csum;

	if (likely(meta->ip_version == 4)) {
		ip4 = (struct rte_ipv4_hdr *)(frame + meta->l3_off);
		ip_addr = (uint8_t *)ip4 + (which == SK_EP_SRC
						    ? offsetof(struct rte_ipv4_hdr, src_addr)
						    : offsetof(struct rte_ipv4_hdr, dst_addr));
		/* One delta for the address, shared by the IP and UDP (pseudo-header) checksums. */
		d_addr = sk_csum_delta(ip_addr, addr, 4);
		ip4->hdr_checksum = sk_csum_apply(ip4->hdr_checksum, d_addr);
		if (udp->dgram_cksum != 0) { /* 0: the sender computed none, and none is added */
			csum = sk_csum_apply(udp->dgram_cksum, d_addr + d_port);
			/* RFC 768: a computed 0 is sent as all ones (0 means "no checksum"). */
			udp->dgram_cksum = csum == 0 ? 0xffff : csum;
		}
		sk_rewrite_set_endpoint(meta, which, ip_addr, port_field, addr, 4, port_be);
		return;
	}
	/* IPv6: the UDP checksum is mandatory. */
	ip6 = (struct rte_ipv6_hdr *)(frame + meta->l3_off);
	ip_addr = which == SK_EP_SRC ? ip6->src_addr : ip6->dst_addr;
	csum = sk_csum_apply(udp->dgram_cksum, sk_csum_delta(ip_addr, addr, 16) + d_port);
	udp->dgram_cksum = csum == 0 ? 0xffff : csum;
	sk_rewrite_set_endpoint(meta, which, ip_addr, port_field, addr, 16, port_be);
}

/*
 * The UDP payload of the frame became REMOVED bytes shorter (the bytes after
 * it were already moved up): fix the IP and UDP lengths, the IPv4 header
 * checksum and the UDP checksum (recomputed over the datagram; none on IPv4
 * stays none). META's lengths follow.
 */
void sk_rewrite_udp_shrunk(uint8_t *frame, struct sk_pkt_meta *meta, uint32_t removed);

#endif /* SK_REWRITE_H */
