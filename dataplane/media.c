/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RTP/RTCP on the fast path. One table (sk_tables.h) maps both ends of every
 * tracked media flow to the flow:
 *  - downlink (from core): the destination is the access endpoint's SDP
 *    address; if its user has moved and the source is the flow's core
 *    address, the destination becomes the new IP (and the latched port once
 *    known);
 *  - uplink (from access): a source equal to the SDP address is the endpoint
 *    before any move (its time is noted for loss detection); otherwise the
 *    destination is looked up as a core-side address, and the packet is
 *    rewritten back to the SDP address only if it comes from the committed new
 *    IP (latching the port on the first one) — strict source.
 * SSRC does not choose the flow (the core-side address does, and some clients
 * change SSRC after a switch); it is recorded for `show calls`.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_prefetch.h>

#include "sk_rewrite.h"
#include "worker_internal.h"

#define RTP_MIN_LEN 12

static inline uint32_t rtp_ssrc(const uint8_t *payload, uint16_t len)
{
	uint32_t ssrc;

	if (len < RTP_MIN_LEN || (payload[0] >> 6) != 2)
		return 0;
	memcpy(&ssrc, payload + 8, 4);
	return rte_be_to_cpu_32(ssrc);
}

/* The endpoint's media was seen: for loss detection and `show calls`. */
static inline void note_uplink(struct sk_flow *flow, const uint8_t *frame,
			       const struct sk_pkt_meta *meta, sk_time_ns now)
{
	if (flow->kind == SK_FLOW_RTP)
		__atomic_store_n(&flow->last_ssrc,
				 rtp_ssrc(frame + meta->payload_off, meta->payload_len),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&flow->last_uplink_ns, now, __ATOMIC_RELAXED);
}

/* Is the frame's source IP the one the user moved to? */
static inline bool from_moved_ip(const struct sk_move *mv, const struct sk_pkt_meta *meta)
{
	return mv->family == meta->ip_version &&
	       memcmp(mv->addr, meta->src, meta->ip_version == 4 ? 4 : 16) == 0;
}

static bool downlink(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta,
		     const struct sk_media_pre *pre)
{
	struct sk_move mv_copy;
	const struct sk_tables *t = w->tables;
	struct sk_addr_key key;
	const struct sk_move *mv;
	struct sk_flow *flow;
	uint32_t idx, latch;
	uint16_t port;

	if (pre != NULL && pre->done) {
		idx = pre->idx;
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
	latch = __atomic_load_n(&flow->latch, __ATOMIC_RELAXED);
	port = SK_LATCH_GEN(latch) == (uint16_t)mv->generation ? SK_LATCH_PORT(latch) : 0;
	sk_rewrite_endpoint(frame, meta, SK_EP_DST, mv->addr,
			    port ? port : rte_cpu_to_be_16(meta->dport));
	sk_count(w, SK_WCTR_rtp_rewritten_downlink);
	return true;
}

/* Uplink from an address that is not a flow's SDP address: a moved endpoint, or a stranger. */
static bool uplink_moved(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta,
			 sk_time_ns now)
{
	struct sk_move mv_copy;
	const struct sk_tables *t = w->tables;
	struct sk_addr_key key;
	const struct sk_move *mv;
	struct sk_flow *flow;
	uint16_t sport_be = rte_cpu_to_be_16(meta->sport);
	uint32_t idx, latch, want;

	sk_addr_key_set(&key, meta->ip_version, meta->dst, rte_cpu_to_be_16(meta->dport));
	idx = sk_flow_by_core(t, &key);
	if (likely(idx == SK_NO_INDEX))
		return false;
	flow = &t->flow[idx];
	mv = sk_flow_move(flow, &mv_copy);
	if (mv == NULL || !from_moved_ip(mv, meta)) {
		sk_count(w, SK_WCTR_latch_refused);
		return false;
	}
	want = SK_LATCH(mv->generation, sport_be);
	latch = __atomic_load_n(&flow->latch, __ATOMIC_ACQUIRE);
	/* Not latched for this move yet: workers race for the first packet, one wins. */
	while (SK_LATCH_GEN(latch) != (uint16_t)mv->generation || SK_LATCH_PORT(latch) == 0) {
		if (__atomic_compare_exchange_n(&flow->latch, &latch, want, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			latch = want;
			sk_count(w, SK_WCTR_rtp_latched);
			break;
		}
	}
	if (latch != want) {
		sk_count(w, SK_WCTR_latch_refused);
		return false;
	}
	note_uplink(flow, frame, meta, now);
	sk_rewrite_endpoint(frame, meta, SK_EP_SRC, flow->access.addr, flow->access.port);
	sk_count(w, SK_WCTR_rtp_rewritten_uplink);
	return true;
}

static bool uplink(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta,
		   const struct sk_media_pre *pre, sk_time_ns now)
{
	struct sk_move mv_copy;
	const struct sk_tables *t = w->tables;
	const struct sk_move *mv;
	struct sk_addr_key key;
	struct sk_flow *flow;
	uint32_t idx;

	if (pre != NULL && pre->done) {
		idx = pre->idx;
	} else {
		sk_addr_key_set(&key, meta->ip_version, meta->src, rte_cpu_to_be_16(meta->sport));
		idx = sk_flow_by_access(t, &key);
	}
	if (idx == SK_NO_INDEX)
		return uplink_moved(w, frame, meta, now);
	/*
	 * From the SDP address itself: nothing to rewrite. Before a move this is
	 * the endpoint's media and feeds loss detection; after a move it counts
	 * only if the user moved back to this IP (strict source).
	 */
	flow = &t->flow[idx];
	mv = sk_flow_move(flow, &mv_copy);
	if (mv != NULL && !from_moved_ip(mv, meta))
		return false;
	note_uplink(flow, frame, meta, now);
	return false;
}

void sk_media_lookup_finish(const struct sk_worker *w, const struct sk_media_burst *mb,
			    struct sk_media_pre *pre)
{
	const struct sk_tables *t = w->tables;
	uint32_t ref[SK_BURST];
	unsigned int i, j;

	/* The first signature match; fetch that flow's first line. */
	for (i = 0; i < mb->n; i++) {
		const struct sk_ftab_bucket *bk = &t->by_access.b[mb->pos[i].b1];

		ref[i] = SK_FTAB_NONE;
		for (j = 0; j < SK_FTAB_WAYS; j++) {
			uint64_t e = __atomic_load_n(&bk->e[j], __ATOMIC_ACQUIRE);

			if (e != 0 && (uint32_t)(e >> 32) == mb->pos[i].sig) {
				ref[i] = (uint32_t)e;
				rte_prefetch0(&t->flow[ref[i]]);
				break;
			}
		}
	}
	/* Confirm against the flow's key (else the full lookup). */
	for (i = 0; i < mb->n; i++) {
		struct sk_media_pre *p = &pre[mb->at[i]];
		uint32_t r = ref[i];

		if (r == SK_FTAB_NONE || !sk_ftab_ref_is(t, r, &mb->keys[i]))
			r = sk_ftab_lookup(t, &t->by_access, &mb->pos[i], &mb->keys[i]);
		p->done = 1;
		p->idx = r == SK_FTAB_NONE ? SK_NO_INDEX : r;
	}
}

bool sk_media_handle(struct sk_worker *w, enum sk_side from, uint8_t *frame,
		     struct sk_pkt_meta *meta, const struct sk_media_pre *pre, sk_time_ns now)
{
	if (w->tables == NULL)
		return false;
	if (from == SK_SIDE_CORE)
		return downlink(w, frame, meta, pre);
	return uplink(w, frame, meta, pre, now);
}
