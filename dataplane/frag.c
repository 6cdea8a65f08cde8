/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragments of SIP (and anything else fragmented): reassembled in the
 * worker's own rte_ip_frag table so that SIP split over fragments is parsed
 * and rewritten like any other, then fragmented again for the way out.
 *
 * Fail open: fragments the table gives up on (timed out, table full, more
 * than RTE_LIBRTE_IP_FRAG_MAX_FRAG pieces, overlaps) land on the death row;
 * instead of freeing them, the worker forwards them unchanged and counts
 * them. The table's clock is the worker's nanosecond clock (trace time in
 * replay), so reassembly timeouts are deterministic in replay.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "worker_internal.h"

/* Buckets of the reassembly table: entries per bucket, as DPDK's examples use. */
#define SK_FRAG_BUCKET_ENTRIES 16

struct rte_ip_frag_tbl *sk_frag_table_create(uint32_t max_flows, uint32_t timeout_ms, int socket)
{
	uint32_t buckets = (max_flows + SK_FRAG_BUCKET_ENTRIES - 1) / SK_FRAG_BUCKET_ENTRIES;

	return rte_ip_frag_table_create(buckets, SK_FRAG_BUCKET_ENTRIES, max_flows,
					(uint64_t)timeout_ms * SK_NS_PER_MS, socket);
}

int sk_frag_reassemble(struct sk_worker *w, struct rte_mbuf *m, const struct sk_pkt_meta *meta,
		       sk_time_ns now, struct rte_mbuf **datagram, uint32_t *v6_id)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, meta->l3_off);

	if (w->frag_tbl == NULL || m->nb_segs != 1)
		return -1;
	m->l2_len = meta->l3_off;
	if (meta->ip_version == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		m->l3_len = rte_ipv4_hdr_len(ip);
		*datagram = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->death_row, m, now, ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		struct rte_ipv6_fragment_ext *fh = rte_ipv6_frag_get_ipv6_fragment_header(ip);

		/* DPDK reassembles only a fragment header right after the IPv6 header. */
		if (fh == NULL)
			return -1;
		m->l3_len = sizeof(*ip) + sizeof(*fh);
		*v6_id = fh->id; /* network order, kept for the way out */
		*datagram =
			rte_ipv6_frag_reassemble_packet(w->frag_tbl, &w->death_row, m, now, ip, fh);
	}
	return *datagram != NULL;
}

int sk_frag_split(struct sk_worker *w, struct rte_mbuf *m, uint16_t mtu, uint32_t v6_id,
		  struct rte_mbuf **frags, uint16_t max)
{
	uint16_t l2_len = m->l2_len;
	uint8_t l2[RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr)];
	int32_t n, i;
	bool v4;

	if (l2_len > sizeof(l2))
		return -1;
	memcpy(l2, rte_pktmbuf_mtod(m, void *), l2_len);
	v4 = (rte_pktmbuf_mtod_offset(m, uint8_t *, l2_len)[0] >> 4) == 4;
	rte_pktmbuf_adj(m, l2_len);
	if (v4)
		n = rte_ipv4_fragment_packet(m, frags, max, mtu, m->pool, w->indirect_pool);
	else
		n = rte_ipv6_fragment_packet(m, frags, max, mtu, m->pool, w->indirect_pool);
	if (n < 0) {
		rte_pktmbuf_prepend(m, l2_len);
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(frags[i], l2_len);

		if (hdr == NULL) {
			rte_pktmbuf_free_bulk(&frags[i], (unsigned int)(n - i));
			rte_pktmbuf_free_bulk(frags, (unsigned int)i);
			rte_pktmbuf_prepend(m, l2_len);
			return -1;
		}
		memcpy(hdr, l2, l2_len);
		if (v4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + l2_len);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			/* DPDK writes identification 0; the datagram keeps the one it came with. */
			struct rte_ipv6_fragment_ext *fh =
				(struct rte_ipv6_fragment_ext *)(hdr + l2_len +
								 sizeof(struct rte_ipv6_hdr));

			fh->id = v6_id;
		}
	}
	/* The fragments reference the datagram's buffers; drop our reference. */
	rte_pktmbuf_free(m);
	return n;
}
