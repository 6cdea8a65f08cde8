/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker: the per-burst packet work and the poll loop around it. */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "sk_pkt.h"
#include "sk_worker.h"
#include "worker_internal.h"

/* How often a full TX queue is retried before its frames are dropped and counted. */
#define SK_TX_RETRIES 8
/* Upper bound on the polls a stopping worker spends emptying its RX queues. */
#define SK_DRAIN_POLLS 256

static inline bool is_sip(const struct sk_worker *w, const struct sk_pkt_meta *meta)
{
	return sk_config_is_sip_port(w->cfg, meta->dport) ||
	       sk_config_is_sip_port(w->cfg, meta->sport);
}

/* One frame: classify, then hand SIP and media to their modules. The frame always goes on. */
static void handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m, sk_time_ns now)
{
	struct sk_pkt_meta meta;

	sk_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &meta);
	switch ((enum sk_pkt_class)meta.cls) {
	case SK_PKT_UDP:
		if (unlikely(is_sip(w, &meta))) {
			sk_count(w, SK_WCTR_frames_sip);
			sk_sip_handle(w, from, m, &meta, now);
		} else {
			sk_count(w, SK_WCTR_frames_udp_other);
			sk_media_handle(w, from, m, &meta, now);
		}
		break;
	case SK_PKT_NON_IP:
		sk_count(w, SK_WCTR_frames_non_ip);
		break;
	case SK_PKT_L3_MALFORMED:
		sk_count(w, SK_WCTR_frames_l3_malformed);
		break;
	case SK_PKT_IP_OTHER:
		sk_count(w, SK_WCTR_frames_ip_other);
		break;
	case SK_PKT_IP_FRAGMENT:
		sk_count(w, SK_WCTR_frames_ip_fragment);
		break;
	}
}

uint16_t sk_worker_process(struct sk_worker *w, enum sk_side from, struct rte_mbuf **pkts,
			   uint16_t n, struct rte_mbuf **out, sk_time_ns now)
{
	uint16_t i, n_out = 0;

	for (i = 0; i < n; i++) {
		if (likely(i + 1 < n))
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		handle(w, from, pkts[i], now);
		out[n_out++] = pkts[i];
	}
	return n_out;
}

void sk_worker_tx(struct sk_worker *w, enum sk_side to, struct rte_mbuf **out, uint16_t n)
{
	uint16_t sent = 0;
	int tries = 0;

	while (sent < n) {
		sent += rte_eth_tx_burst(w->port_id[to], w->queue_id, out + sent, n - sent);
		if (sent == n || ++tries > SK_TX_RETRIES)
			break;
	}
	sk_ctr_add(&w->port_ctr[to][SK_PCTR_tx], sent);
	if (unlikely(sent < n)) {
		sk_ctr_add(&w->port_ctr[to][SK_PCTR_tx_dropped], n - sent);
		rte_pktmbuf_free_bulk(out + sent, n - sent);
	}
}

/* Receive one burst on each side and forward it; true if any frame moved. */
static bool poll_once(struct sk_worker *w, struct rte_mbuf **pkts, struct rte_mbuf **out,
		      sk_time_ns now)
{
	bool busy = false;
	int side;

	for (side = 0; side < SK_SIDE_COUNT; side++) {
		uint16_t n = rte_eth_rx_burst(w->port_id[side], w->queue_id, pkts, SK_BURST);
		uint16_t n_out;

		if (n == 0)
			continue;
		busy = true;
		sk_ctr_add(&w->port_ctr[side][SK_PCTR_rx], n);
		n_out = sk_worker_process(w, (enum sk_side)side, pkts, n, out, now);
		if (n_out)
			sk_worker_tx(w, sk_side_other((enum sk_side)side), out, n_out);
	}
	return busy;
}

static inline sk_time_ns tsc_to_ns(const struct sk_worker *w, uint64_t tsc)
{
	return tsc / w->tsc_per_us * 1000;
}

int sk_worker_run(void *arg)
{
	struct sk_worker *w = arg;
	struct rte_mbuf *pkts[SK_BURST];
	struct rte_mbuf *out[SK_OUT_MAX];
	int i;

	if (w->tables) {
		rte_rcu_qsbr_thread_register(w->tables->qsv, w->index);
		rte_rcu_qsbr_thread_online(w->tables->qsv, w->index);
	}
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		uint64_t start = rte_rdtsc();
		bool busy = poll_once(w, pkts, out, tsc_to_ns(w, start));

		/* Nothing from the tables is held across polls: let the control thread reclaim. */
		if (w->tables)
			rte_rcu_qsbr_quiescent(w->tables->qsv, w->index);
		sk_ctr_add(&w->polls, 1);
		sk_ctr_add(busy ? &w->busy_cycles : &w->idle_cycles, rte_rdtsc() - start);
	}
	/*
	 * Drain: forward what the RX rings already hold, so that a clean stop loses
	 * nothing. Bounded, because a port that never runs dry (net_null, a busy
	 * link) would otherwise keep the worker here.
	 */
	for (i = 0; i < SK_DRAIN_POLLS; i++)
		if (!poll_once(w, pkts, out, tsc_to_ns(w, rte_rdtsc())))
			break;
	if (w->tables) {
		rte_rcu_qsbr_thread_offline(w->tables->qsv, w->index);
		rte_rcu_qsbr_thread_unregister(w->tables->qsv, w->index);
	}
	return 0;
}
