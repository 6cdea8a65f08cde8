/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sk_rewrite.h"

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
