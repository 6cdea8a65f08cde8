/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RTP/RTCP on the fast path. One table (sk_tables.h) maps both ends of every
 * tracked media flow to the flow:
 *  - downlink (from core): the destination is the access endpoint's SDP
 *    address; if its user has moved and the source is the flow's core
 *    address, the destination becomes the new IP (and the latched port once
 *    known);
 *  - uplink (from access): a source equal to a flow's SDP address, sent to
 *    that flow's core address, is the endpoint before any move (its time is
 *    noted for loss detection); otherwise the destination is looked up as a
 *    core-side address, and the packet is rewritten back to the SDP address
 *    only if it comes from the committed new IP and holds the latch —
 *    strict source.
 * The core-side address chooses the flow. SSRC decides only who holds the
 * latch among ports of the committed IP (docs/PERSISTENCY.md, "Who may
 * latch"): a port whose packets carry the stream's known SSRC outranks one
 * whose packets do not.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "sk_rewrite.h"
#include "worker_internal.h"

#define RTP_MIN_LEN 12
#define RTCP_MIN_LEN 8

/*
 * The packet's SSRC, 0 when it has none: RTP's at bytes 8-11; RTCP's (packet
 * type 192-223 in the second byte, RFC 5761 4, which also tells it apart on a
 * muxed RTP port) is the sender's, at bytes 4-7 of the first packet of the
 * compound.
 */
static inline uint32_t media_ssrc(const uint8_t *payload, uint16_t len)
{
	uint32_t ssrc;

	if (len < RTCP_MIN_LEN || (payload[0] >> 6) != 2)
		return 0;
	if ((uint8_t)(payload[1] - 192) < 32)
		memcpy(&ssrc, payload + 4, 4);
	else if (len >= RTP_MIN_LEN)
		memcpy(&ssrc, payload + 8, 4);
	else
		return 0;
	return rte_be_to_cpu_32(ssrc);
}

/* The endpoint's media was seen: for loss detection and `show calls`. */
static inline void note_uplink(struct sk_flow *flow, uint32_t ssrc, sk_time_ns now)
{
	__atomic_store_n(&flow->last_ssrc, ssrc, __ATOMIC_RELAXED);
	__atomic_store_n(&flow->last_uplink_ns, now, __ATOMIC_RELAXED);
}

/* SSRC carried by the endpoint itself (its SDP address, or its confirmed port): the stream's. */
static inline void learn_ssrc(struct sk_flow *flow, uint32_t ssrc)
{
	if (ssrc != 0 && __atomic_load_n(&flow->known_ssrc, __ATOMIC_RELAXED) != ssrc)
		__atomic_store_n(&flow->known_ssrc, ssrc, __ATOMIC_RELAXED);
}

/* Is the frame's source IP the one the user moved to? */
static inline bool from_moved_ip(const struct sk_move *mv, const struct sk_pkt_meta *meta)
{
	return mv->family == meta->ip_version &&
	       memcmp(mv->addr, meta->src, meta->ip_version == 4 ? 4 : 16) == 0;
}

static bool downlink(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta, uint32_t pre)
{
	struct sk_move mv_copy;
	const struct sk_tables *t = w->tables;
	struct sk_addr_key key;
	const struct sk_move *mv;
	struct sk_flow *flow;
	uint32_t idx;
	uint16_t port;

	if (pre != SK_FLOW_NOT_LOOKED_UP) {
		idx = pre;
	} else {
		sk_addr_key_set(&key, meta->ip_version, meta->dst, rte_cpu_to_be_16(meta->dport));
		idx = sk_flow_by_access(t, &key);
	}
	if (likely(idx == SK_NO_INDEX))
		return false;
	flow = &t->flow[idx];
	mv = sk_flow_move(flow, &mv_copy);
	if (mv == NULL)
		return false;
	/*
	 * Only the flow's own media follows the move: from the core end its SDP
	 * named. Another call's media to the same access address (a co-tenant
	 * declared it too) stays where it was going (docs/PERSISTENCY.md).
	 */
	sk_addr_key_set(&key, meta->ip_version, meta->src, rte_cpu_to_be_16(meta->sport));
	if (unlikely(!sk_addr_key_eq(&key, &flow->core))) {
		sk_count(w, SK_WCTR_downlink_other_core_source);
		return false;
	}
	if (unlikely(mv->family != meta->ip_version)) {
		sk_count(w, SK_WCTR_media_family_mismatch);
		return false;
	}
	port = sk_latch_port(__atomic_load_n(&flow->latch, __ATOMIC_RELAXED), mv->generation);
	sk_rewrite_endpoint(frame, meta, SK_EP_DST, mv->addr,
			    port ? port : rte_cpu_to_be_16(meta->dport));
	sk_count(w, SK_WCTR_rtp_rewritten_downlink);
	return true;
}

/*
 * May the packet from PORT (of the committed IP) use the flow for the move of
 * generation GEN? KNOWN: its SSRC is the stream's known one. The first port
 * latches; a port carrying the known SSRC takes a tentative latch from
 * another port (a re-latch) and confirms it; a confirmed latch is never
 * taken. One compare-and-swap per change, so racing workers agree. Returns
 * the latch word the packet passed under, 0 when refused.
 */
static uint32_t latch_take(struct sk_worker *w, struct sk_flow *flow, uint32_t gen,
			   uint16_t port_be, bool known)
{
	uint32_t mine = SK_LATCH(gen, port_be) | (known ? SK_LATCH_CONFIRMED : 0);
	uint32_t latch = __atomic_load_n(&flow->latch, __ATOMIC_ACQUIRE);
	enum sk_worker_counter why;

	for (;;) {
		if (!sk_latch_is_for(latch, gen)) {
			why = SK_WCTR_rtp_latched; /* the first port for this move */
		} else if (SK_LATCH_PORT(latch) == port_be) {
			if (!known || (latch & SK_LATCH_CONFIRMED))
				return latch; /* the hot case: the latched port again */
			why = SK_WCTR_COUNT;  /* the latched port shows the known SSRC: confirm */
		} else if (known && !(latch & SK_LATCH_CONFIRMED)) {
			why = SK_WCTR_rtp_relatched;
		} else {
			return 0;
		}
		if (__atomic_compare_exchange_n(&flow->latch, &latch, mine, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			if (why != SK_WCTR_COUNT)
				sk_count(w, why);
			return mine;
		}
		/* Another worker changed it first: judge again against what it wrote. */
	}
}

/* Uplink from the SDP address of FLOW: the endpoint where the SDP put it. */
static __rte_always_inline bool uplink_at_sdp_address(struct sk_flow *flow, const uint8_t *frame,
						      const struct sk_pkt_meta *meta,
						      sk_time_ns now)
{
	struct sk_move mv_copy;
	const struct sk_move *mv = sk_flow_move(flow, &mv_copy);
	uint32_t ssrc;

	/*
	 * Nothing to rewrite. Before a move this is the endpoint's media and
	 * feeds loss detection; after a move it counts only if the user moved
	 * back to this IP (strict source).
	 */
	if (mv != NULL && !from_moved_ip(mv, meta))
		return false;
	ssrc = media_ssrc(frame + meta->payload_off, meta->payload_len);
	note_uplink(flow, ssrc, now);
	learn_ssrc(flow, ssrc);
	return false;
}

/*
 * Uplink that is not from the SDP address of a flow to this destination: a
 * moved endpoint, or a stranger. DST is the frame's destination as a key.
 */
static bool uplink_moved(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta,
			 const struct sk_addr_key *dst, sk_time_ns now)
{
	struct sk_move mv_copy;
	const struct sk_tables *t = w->tables;
	const struct sk_move *mv;
	struct sk_flow *flow;
	uint32_t idx, latch, ssrc;

	idx = sk_flow_by_core(t, dst);
	if (likely(idx == SK_NO_INDEX))
		return false;
	flow = &t->flow[idx];
	mv = sk_flow_move(flow, &mv_copy);
	if (mv == NULL || !from_moved_ip(mv, meta)) {
		struct sk_addr_key src;

		/*
		 * Its SDP address after all: another flow has the same access
		 * key (a phone reusing its RTP port while the last call lingers).
		 */
		sk_addr_key_set(&src, meta->ip_version, meta->src, rte_cpu_to_be_16(meta->sport));
		if (sk_addr_key_eq(&flow->access, &src))
			return uplink_at_sdp_address(flow, frame, meta, now);
		sk_count(w, SK_WCTR_latch_refused);
		return false;
	}
	ssrc = media_ssrc(frame + meta->payload_off, meta->payload_len);
	latch = latch_take(w, flow, mv->generation, rte_cpu_to_be_16(meta->sport),
			   ssrc != 0 &&
				   ssrc == __atomic_load_n(&flow->known_ssrc, __ATOMIC_RELAXED));
	if (latch == 0) {
		sk_count(w, SK_WCTR_latch_refused);
		return false;
	}
	note_uplink(flow, ssrc, now);
	/* The endpoint may change its SSRC on its confirmed port: that is the stream's now. */
	if (latch & SK_LATCH_CONFIRMED)
		learn_ssrc(flow, ssrc);
	sk_rewrite_endpoint(frame, meta, SK_EP_SRC, flow->access.addr, flow->access.port);
	sk_count(w, SK_WCTR_rtp_rewritten_uplink);
	return true;
}

static bool uplink(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta, uint32_t pre,
		   sk_time_ns now)
{
	const struct sk_tables *t = w->tables;
	struct sk_addr_key key;
	struct sk_flow *flow;
	uint32_t idx;

	if (pre != SK_FLOW_NOT_LOOKED_UP) {
		idx = pre;
	} else {
		sk_addr_key_set(&key, meta->ip_version, meta->src, rte_cpu_to_be_16(meta->sport));
		idx = sk_flow_by_access(t, &key);
	}
	sk_addr_key_set(&key, meta->ip_version, meta->dst, rte_cpu_to_be_16(meta->dport));
	if (idx == SK_NO_INDEX)
		return uplink_moved(w, frame, meta, &key, now);
	/*
	 * From a flow's SDP address, but is it that flow's stream? Only if it
	 * goes to the flow's core address. Otherwise the address is another
	 * user's stale one (that user moved away or went silent, its call still
	 * up) that a moved user now sends from: the frame's destination finds
	 * the mover's flow. The core key is in the flow's second line, which
	 * note_uplink writes anyway.
	 */
	flow = &t->flow[idx];
	if (unlikely(!sk_addr_key_eq(&flow->core, &key)))
		return uplink_moved(w, frame, meta, &key, now);
	return uplink_at_sdp_address(flow, frame, meta, now);
}

bool sk_media_handle(struct sk_worker *w, enum sk_side from, uint8_t *frame,
		     struct sk_pkt_meta *meta, uint32_t pre, sk_time_ns now)
{
	if (w->tables == NULL)
		return false;
	if (from == SK_SIDE_CORE)
		return downlink(w, frame, meta, pre);
	return uplink(w, frame, meta, pre, now);
}
