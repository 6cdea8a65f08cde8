/* SPDX-License-Identifier: BSD-3-Clause */
/* In-place IP/UDP header rewrites with incremental checksum updates. */
#ifndef SK_REWRITE_H
#define SK_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "sk_pkt.h"

enum sk_endpoint {
	SK_EP_SRC = 0,
	SK_EP_DST = 1,
};

/*
 * Set the source or destination address and UDP port of the frame described
 * by META (from sk_pkt_parse, class SK_PKT_UDP). ADDR has the frame's family
 * (4 or 16 bytes), PORT_BE is network order. The IPv4 header checksum and the
 * UDP checksum are updated incrementally; a UDP checksum of 0 on IPv4 (none)
 * stays 0. META's addresses and ports are updated to match.
 */
void sk_rewrite_endpoint(uint8_t *frame, struct sk_pkt_meta *meta, enum sk_endpoint which,
			 const uint8_t *addr, uint16_t port_be);

/*
 * The UDP payload of the frame became REMOVED bytes shorter (the bytes after
 * it were already moved up): fix the IP and UDP lengths, the IPv4 header
 * checksum and the UDP checksum (recomputed over the datagram; none on IPv4
 * stays none). META's lengths follow.
 */
void sk_rewrite_udp_shrunk(uint8_t *frame, struct sk_pkt_meta *meta, uint32_t removed);

#endif /* SK_REWRITE_H */
