/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sk_csum.h"
#include "sk_rewrite.h"

/* The port and META's copy of the endpoint, once the checksums are adjusted. */
static inline void set_endpoint(struct sk_pkt_meta *meta, enum sk_endpoint which, uint8_t *ip_addr,
				uint8_t *port_field, const uint8_t *addr, unsigned int alen,
				uint16_t port_be)
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

void sk_rewrite_endpoint(uint8_t *frame, struct sk_pkt_meta *meta, enum sk_endpoint which,
			 const uint8_t *addr, uint16_t port_be)
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
		set_endpoint(meta, which, ip_addr, port_field, addr, 4, port_be);
		return;
	}
	/* IPv6: the UDP checksum is mandatory. */
	ip6 = (struct rte_ipv6_hdr *)(frame + meta->l3_off);
	ip_addr = which == SK_EP_SRC ? ip6->src_addr : ip6->dst_addr;
	csum = sk_csum_apply(udp->dgram_cksum, sk_csum_delta(ip_addr, addr, 16) + d_port);
	udp->dgram_cksum = csum == 0 ? 0xffff : csum;
	set_endpoint(meta, which, ip_addr, port_field, addr, 16, port_be);
}

void sk_rewrite_udp_shrunk(uint8_t *frame, struct sk_pkt_meta *meta, uint32_t removed)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(frame + meta->l4_off);
	uint16_t udp_len = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - removed);
	bool has_udp_csum = udp->dgram_cksum != 0 || meta->ip_version == 6;
	uint32_t sum;
	uint16_t csum;

	if (meta->ip_version == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + meta->l3_off);

		ip->total_length =
			rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->total_length) - removed));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(frame + meta->l3_off);

		ip->payload_len =
			rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->payload_len) - removed));
	}
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	meta->payload_len = (uint16_t)(meta->payload_len - removed);
	meta->l3_end -= removed;
	if (!has_udp_csum)
		return;
	/* Pseudo-header (RFC 768 / RFC 8200 8.1) plus the datagram, checksum field zeroed. */
	udp->dgram_cksum = 0;
	sum = rte_raw_cksum(meta->src, meta->ip_version == 4 ? 4 : 16);
	sum += rte_raw_cksum(meta->dst, meta->ip_version == 4 ? 4 : 16);
	sum += rte_cpu_to_be_16(IPPROTO_UDP) + rte_cpu_to_be_16(udp_len);
	sum += rte_raw_cksum(udp, udp_len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	udp->dgram_cksum = csum == 0 ? 0xffff : csum;
}
