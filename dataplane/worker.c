/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: the per-burst packet work and the poll loop around it.
 *
 * Every frame received on one side leaves on the other. The hot path is a
 * single-segment UDP frame: parse L2-L4, then either SIP (parse, post an
 * event, maybe redirect) or media (one hash lookup, maybe a rewrite).
 * Fragments are held until their datagram is complete (frag.c), which is
 * handled flat; frames that span segments are flattened into the worker's
 * buffer to be parsed and rewritten.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "sk_log.h"
#include "sk_pkt.h"
#include "sk_worker.h"
#include "worker_internal.h"

/* How often a full TX queue is retried before its frames are dropped and counted. */
#define SK_TX_RETRIES 8
/* Upper bound on the polls a stopping worker spends emptying its RX queues. */
#define SK_DRAIN_POLLS 256

void sk_out_send(struct sk_worker *w, struct sk_out_q *q, enum sk_side to, struct rte_mbuf *m)
{
	if (q != NULL && q->to == to) {
		sk_out_push(w, q, m);
	} else if (w->emit != NULL) {
		w->emit(w, to, &m, 1);
	} else {
		sk_ctr_add(&w->port_ctr[to][SK_PCTR_tx_dropped], 1);
		rte_pktmbuf_free(m);
	}
}

static inline bool is_sip(const struct sk_worker *w, const struct sk_pkt_meta *meta)
{
	return sk_config_is_sip_port(w->cfg, meta->dport) ||
	       sk_config_is_sip_port(w->cfg, meta->sport);
}

/* A TCP frame: SIP over TCP, or other IP (SIP over TLS counted on top). */
static __rte_always_inline void count_tcp(struct sk_worker *w, const struct sk_pkt_meta *meta,
					  bool sip)
{
	if (sip) {
		sk_count(w, SK_WCTR_frames_tcp_sip);
		return;
	}
	sk_count(w, SK_WCTR_frames_ip_other);
	if (unlikely(meta->sport == w->cfg->sip_tls_port || meta->dport == w->cfg->sip_tls_port))
		sk_count(w, SK_WCTR_frames_tls);
}

/* Count a frame received, once, by its class (SIP: UDP or TCP on a SIP port). */
static __rte_always_inline void count_class(struct sk_worker *w, const struct sk_pkt_meta *meta,
					    bool sip)
{
	static const enum sk_worker_counter by_class[] = {
		[SK_PKT_NON_IP] = SK_WCTR_frames_non_ip,
		[SK_PKT_L3_MALFORMED] = SK_WCTR_frames_l3_malformed,
		[SK_PKT_IP_OTHER] = SK_WCTR_frames_ip_other,
		[SK_PKT_IP_FRAGMENT] = SK_WCTR_frames_ip_fragment,
		[SK_PKT_UDP] = SK_WCTR_frames_udp_other,
		[SK_PKT_TCP] = SK_WCTR_frames_ip_other,
	};

	if (meta->cls == SK_PKT_TCP) {
		count_tcp(w, meta, sip);
		return;
	}
	sk_count(w, sip ? SK_WCTR_frames_sip : by_class[meta->cls]);
}

/*
 * Classify a parsed frame and run its handler. The frames_* counters count
 * frames received, once each: a reassembled datagram (COUNT false) was
 * already counted fragment by fragment.
 */
static __rte_always_inline enum sk_verdict
dispatch(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m, uint8_t *frame, uint32_t *len,
	 struct sk_pkt_meta *meta, uint32_t pre, bool count, sk_time_ns now, struct sk_out_q *q)
{
	bool sip;

	/* TCP first: most of a site's traffic, nearly none of it on a SIP port. */
	if (meta->cls == SK_PKT_TCP) {
		sip = is_sip(w, meta);
		if (count)
			count_tcp(w, meta, sip);
		return sip ? sk_tcp_handle(w, from, m, frame, meta, now, q) : SK_FORWARD;
	}
	/* A frame looked up as media was already found not to be on a SIP port. */
	sip = meta->cls == SK_PKT_UDP && pre == SK_FLOW_NOT_LOOKED_UP && is_sip(w, meta);
	if (count)
		count_class(w, meta, sip);
	if (meta->cls != SK_PKT_UDP)
		return SK_FORWARD;
	if (unlikely(sip))
		return sk_sip_handle(w, from, frame, len, meta, now);
	if (sk_media_handle(w, from, frame, meta, pre, now))
		return SK_FORWARD_CHANGED;
	/* sip_detect = any: SIP on a port nobody listed (not media we track). */
	if (unlikely(w->cfg->sip_detect == SK_SIP_DETECT_ANY) &&
	    sk_sip_detect((const char *)frame + meta->payload_off, meta->payload_len)) {
		sk_count(w, SK_WCTR_sip_detected_other_port);
		return sk_sip_handle(w, from, frame, len, meta, now);
	}
	return SK_FORWARD;
}

/*
 * The passthrough fast path: what a frame sipkeep does not track is found from
 * its first 42-54 bytes before the general parser runs, and leaves as it came
 * with its class counted once per burst. PASS_SLOW: the general path decides
 * (anything it might track, and anything unusual: VLAN tags, IPv6, IPv4
 * options, fragments, several segments, inconsistent lengths).
 */
enum pass_class {
	PASS_NON_IP,   /* frames_non_ip */
	PASS_IP_OTHER, /* frames_ip_other: TCP off sip_ports, ICMP, ESP, ... */
	PASS_TLS,      /* frames_ip_other and frames_tls: TCP to or from sip_tls_port */
	PASS_UDP,      /* frames_udp_other: in no flow */
	PASS_COUNT,
	PASS_SLOW = PASS_COUNT,
	PASS_FILTER, /* UDP on no SIP port: in no flow if its filter bits are clear */
};

/*
 * The signature sk_ftab_hash gives the IPv4 key (ADDR, PORT_BE): the key is all
 * in its first word, one CRC step. Kept here, always inline, because the fast
 * path computes it once or twice per frame (sk_worker_pass_sig4: the unit test
 * holds it equal to sk_ftab_hash's).
 */
static __rte_always_inline uint32_t pass_sig4(const uint8_t *addr, uint16_t port_be)
{
	struct sk_addr_key k;
	uint64_t w0;
	uint32_t h;

	sk_addr_key_set(&k, 4, addr, port_be);
	memcpy(&w0, &k, sizeof(w0));
	h = rte_hash_crc_8byte(w0, 0);
	return h != 0 ? h : 1;
}

uint32_t sk_worker_pass_sig4(const uint8_t *addr, uint16_t port_be)
{
	return pass_sig4(addr, port_be);
}

/* The filter slot of the IPv4 access or core key (ADDR, PORT_BE). */
static __rte_always_inline uint32_t pass_slot(const struct sk_filter *fl, const uint8_t *addr,
					      uint16_t port_be)
{
	return sk_filter_slot(fl, pass_sig4(addr, port_be));
}

/* Is SLOT's bit set (a key may be there)? As sk_filter_may_hold, from the slot. */
static __rte_always_inline bool pass_slot_set(const struct sk_filter *fl, uint32_t slot)
{
	return (__atomic_load_n(&fl->bits[slot >> 6], __ATOMIC_RELAXED) >> (slot & 63)) & 1;
}

static __rte_always_inline bool pass_sip_port(const struct sk_config *cfg, uint16_t port_be)
{
	return sk_config_is_sip_port(cfg, SK_PKT_BE16(port_be));
}

/*
 * What the fast path needs of the worker, read once per call. FILTER: the
 * flows' negative filter, NULL without tables (no flow at all); UDP: false
 * when UDP must go the general way (sip_detect = any scans it for SIP).
 */
struct pass_ctx {
	const struct sk_config *cfg;
	const struct sk_filter *filter;
	uint16_t tls_port_be;
	bool udp;
	bool uplink;
};

/*
 * The class of M when the general path would only count and forward it,
 * else PASS_SLOW. Every check the general parser makes on such a frame is
 * made here too, so that both count it alike. PASS_FILTER: UDP that is not
 * ours if the filter bits of SLOT (downlink: the destination as an access
 * key; uplink: the source as one, then the destination as a core key, a
 * moved endpoint's) are clear; they are fetched for the whole burst before
 * any is tested, so that their misses overlap.
 */
static __rte_always_inline enum pass_class pass_classify(const struct pass_ctx *c,
							 const struct rte_mbuf *m, uint32_t *slot)
{
	enum { ETH = 14, IP = 20, UDP = 8, TCP = 20 };
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint16_t et, total, frag, ports[2], ulen;
	uint32_t doff;

	if (unlikely(m->nb_segs != 1 || len < ETH + IP + UDP))
		return PASS_SLOW;
	memcpy(&et, f + 12, 2);
	if (unlikely(et != SK_PKT_BE16(RTE_ETHER_TYPE_IPV4))) {
		if (et == SK_PKT_BE16(RTE_ETHER_TYPE_IPV6) ||
		    et == SK_PKT_BE16(RTE_ETHER_TYPE_VLAN) ||
		    et == SK_PKT_BE16(RTE_ETHER_TYPE_QINQ) || et == SK_PKT_BE16(SK_PKT_TPID_9100))
			return PASS_SLOW;
		return PASS_NON_IP;
	}
	memcpy(&total, f + ETH + 2, 2);
	memcpy(&frag, f + ETH + 6, 2);
	total = SK_PKT_BE16(total);
	if (unlikely(f[ETH] != 0x45 || total > len - ETH || total < IP ||
		     (frag & SK_PKT_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0))
		return PASS_SLOW;
	memcpy(ports, f + ETH + IP, 4);
	switch (f[ETH + 9]) {
	case IPPROTO_UDP:
		memcpy(&ulen, f + ETH + IP + 4, 2);
		ulen = SK_PKT_BE16(ulen);
		if (unlikely(ulen < UDP || ulen > total - IP) || !c->udp ||
		    pass_sip_port(c->cfg, ports[0]) || pass_sip_port(c->cfg, ports[1]))
			return PASS_SLOW;
		if (c->filter == NULL)
			return PASS_UDP;
		slot[0] = pass_slot(c->filter, f + ETH + 16, ports[1]);
		rte_prefetch0(&c->filter->bits[slot[0] >> 6]);
		if (c->uplink) {
			slot[1] = pass_slot(c->filter, f + ETH + 12, ports[0]);
			rte_prefetch0(&c->filter->bits[slot[1] >> 6]);
		}
		return PASS_FILTER;
	case IPPROTO_TCP:
		if (unlikely(total < IP + TCP))
			return PASS_SLOW;
		doff = (uint32_t)(f[ETH + IP + 12] >> 4) * 4;
		if (unlikely(doff < TCP || doff > (uint32_t)(total - IP)) ||
		    pass_sip_port(c->cfg, ports[0]) || pass_sip_port(c->cfg, ports[1]))
			return PASS_SLOW;
		if (unlikely(ports[0] == c->tls_port_be || ports[1] == c->tls_port_be))
			return PASS_TLS;
		return PASS_IP_OTHER;
	default:
		return PASS_IP_OTHER;
	}
}

/* The fast path's counts of a call, added once. */
static inline void pass_count(struct sk_worker *w, const uint32_t *n)
{
	static const enum sk_worker_counter ctr[PASS_COUNT] = {
		[PASS_NON_IP] = SK_WCTR_frames_non_ip,
		[PASS_IP_OTHER] = SK_WCTR_frames_ip_other,
		[PASS_TLS] = SK_WCTR_frames_tls,
		[PASS_UDP] = SK_WCTR_frames_udp_other,
	};
	uint32_t all = 0;
	int c;

	for (c = 0; c < PASS_COUNT; c++) {
		if (n[c] != 0)
			sk_ctr_add(&w->ctr[ctr[c]], n[c]);
		all += n[c];
	}
	/* A TLS segment is other IP too. */
	if (n[PASS_TLS] != 0)
		sk_ctr_add(&w->ctr[SK_WCTR_frames_ip_other], n[PASS_TLS]);
	sk_ctr_add(&w->ctr[SK_WCTR_frames_fast_passed], all);
}

/* Replace M's contents with LEN bytes of FLAT (after a rewrite of a multi-segment frame). */
static struct rte_mbuf *rebuild(struct rte_mbuf *m, const uint8_t *flat, uint32_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(m->pool), *seg = head;
	uint32_t done = 0;

	while (seg != NULL) {
		uint32_t chunk = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(seg), len - done);

		memcpy(rte_pktmbuf_append(seg, (uint16_t)chunk), flat + done, chunk);
		if (seg != head)
			head->pkt_len += chunk;
		done += chunk;
		if (done == len)
			break;
		seg->next = rte_pktmbuf_alloc(m->pool);
		seg = seg->next;
		if (seg != NULL)
			head->nb_segs++;
	}
	if (seg == NULL) {
		rte_pktmbuf_free(head);
		return NULL;
	}
	head->l2_len = m->l2_len;
	rte_pktmbuf_free(m);
	return head;
}

/*
 * A frame in several segments (not a fragment): flatten, handle, and write the
 * result back only if the handler changed it.
 */
static __rte_noinline void handle_multiseg(struct sk_worker *w, enum sk_side from,
					   struct rte_mbuf *m, const struct sk_pkt_meta *first_seg,
					   sk_time_ns now, struct sk_out_q *q)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct sk_pkt_meta meta;
	uint8_t *flat = w->flat + RTE_PKTMBUF_HEADROOM;

	if (len <= 65535 && rte_pktmbuf_read(m, 0, len, flat) == flat) {
		enum sk_verdict v;

		sk_pkt_parse(flat, len, &meta);
		v = dispatch(w, from, NULL, flat, &len, &meta, SK_FLOW_NOT_LOOKED_UP, true, now, q);
		if (v == SK_DROP) {
			rte_pktmbuf_free(m);
			return;
		}
		if (v == SK_FORWARD_CHANGED) {
			struct rte_mbuf *copy = rebuild(m, flat, len);

			if (copy != NULL)
				m = copy; /* else: the frame leaves as it came */
		}
	} else {
		/* Too large to be one IP datagram: counted by what its first bytes say, passed. */
		count_class(w, first_seg, is_sip(w, first_seg));
	}
	sk_out_push(w, q, m);
}

/*
 * A fragment: held until its datagram is complete. The datagram is handled as
 * one flat frame; its original fragments then leave as they came, rewritten in
 * place if the handler changed the message (frag.c).
 */
static __rte_noinline void handle_fragment(struct sk_worker *w, enum sk_side from,
					   struct rte_mbuf *m, const struct sk_pkt_meta *meta,
					   sk_time_ns now, struct sk_out_q *q)
{
	uint8_t *flat = w->flat + RTE_PKTMBUF_HEADROOM;
	struct sk_frag_entry *d;
	struct sk_pkt_meta dmeta;
	enum sk_verdict v;
	uint32_t len;

	sk_count(w, SK_WCTR_frames_ip_fragment);
	d = sk_frag_add(w, from, m, meta, now, q);
	if (d == NULL)
		return; /* held, or forwarded as it came */
	sk_count(w, SK_WCTR_frag_reassembled);
	len = sk_frag_flatten(d, flat);
	sk_pkt_parse(flat, len, &dmeta);
	/* The fragments were counted as such: the datagram is not counted again. */
	v = dispatch(w, from, NULL, flat, &len, &dmeta, SK_FLOW_NOT_LOOKED_UP, false, now, q);
	sk_frag_done(w, d, v, flat, len, q);
}

/*
 * One frame, its first segment parsed into *META by the caller: every path
 * ends with the frame (or what became of it) on Q, or a counter.
 */
static inline void handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
			  struct sk_pkt_meta *meta, uint32_t pre, sk_time_ns now,
			  struct sk_out_q *q)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	if (likely(m->nb_segs == 1 && meta->cls != SK_PKT_IP_FRAGMENT)) {
		enum sk_verdict v = dispatch(w, from, m, frame, &len, meta, pre, true, now, q);

		if (unlikely(v >= SK_DROP)) {
			if (v == SK_DROP)
				rte_pktmbuf_free(m);
			return;
		}
		if (len < rte_pktmbuf_data_len(m))
			rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - len));
		sk_out_push(w, q, m);
		return;
	}
	if (meta->cls != SK_PKT_IP_FRAGMENT)
		handle_multiseg(w, from, m, meta, now, q);
	else
		handle_fragment(w, from, m, meta, now, q);
}

void sk_worker_expire(struct sk_worker *w, sk_time_ns now)
{
	sk_frag_expire(w, now, NULL);
	sk_tcp_expire(w, now, NULL);
}

uint16_t sk_worker_process(struct sk_worker *w, enum sk_side from, struct rte_mbuf **pkts,
			   uint16_t n, struct rte_mbuf **out, sk_time_ns now)
{
	struct sk_out_q q = {.pkts = out, .n = 0, .to = sk_side_other(from)};
	struct sk_pkt_meta meta[SK_BURST];
	uint32_t pre[SK_BURST], passed[PASS_COUNT] = {0};
	uint32_t slot[SK_BURST][2];
	uint8_t cls[SK_BURST];
	struct sk_flow_burst fb;
	uint16_t i, base, chunk, slow;
	const struct pass_ctx pc = {
		.cfg = w->cfg,
		.filter = w->tables != NULL ? &w->tables->filter : NULL,
		.tls_port_be = SK_PKT_BE16((uint16_t)w->cfg->sip_tls_port),
		.udp = w->cfg->sip_detect != SK_SIP_DETECT_ANY,
		.uplink = from == SK_SIDE_ACCESS,
	};

	/* Fragments held too long leave first: they came before this burst. */
	if (unlikely(now >= w->frag_next_expiry))
		sk_frag_expire(w, now, &q);
	if (unlikely(now >= w->tcp_next_expiry))
		sk_tcp_expire(w, now, &q);
	for (base = 0; base < n; base += chunk) {
		chunk = (uint16_t)RTE_MIN(n - base, SK_BURST);
		/* Every header of the burst in flight at once (as l3fwd does). */
		for (i = 0; i < chunk; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[base + i], void *));
		/* What is not ours is known from its first bytes; the rest is parsed, so
		 * that its table lookups go together. */
		for (i = 0; i < chunk; i++)
			cls[i] = (uint8_t)pass_classify(&pc, pkts[base + i], slot[i]);
		fb.n = 0;
		slow = 0;
		for (i = 0; i < chunk; i++) {
			struct rte_mbuf *m = pkts[base + i];

			if (cls[i] == PASS_FILTER)
				cls[i] = pass_slot_set(pc.filter, slot[i][0]) ||
							 (pc.uplink &&
							  pass_slot_set(pc.filter, slot[i][1]))
						 ? PASS_SLOW
						 : PASS_UDP;
			if (likely(cls[i] != PASS_SLOW)) {
				passed[cls[i]]++;
				continue;
			}
			slow++;
			sk_pkt_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
				     &meta[i]);
			pre[i] = SK_FLOW_NOT_LOOKED_UP;
			if (m->nb_segs == 1 && meta[i].cls == SK_PKT_UDP && !is_sip(w, &meta[i]))
				pre[i] = sk_media_lookup_start(w, from, &meta[i], i, &fb);
		}
		/* Nothing to handle: the burst leaves as it came, in one copy. */
		if (slow == 0 && q.n + chunk <= SK_OUT_MAX) {
			memcpy(&q.pkts[q.n], &pkts[base], chunk * sizeof(pkts[0]));
			q.n = (uint16_t)(q.n + chunk);
			continue;
		}
		if (fb.n != 0)
			sk_flow_burst_finish(w->tables, &fb, pre);
		for (i = 0; i < chunk; i++) {
			if (cls[i] != PASS_SLOW)
				sk_out_push(w, &q, pkts[base + i]);
			else
				handle(w, from, pkts[base + i], &meta[i], pre[i], now, &q);
		}
	}
	pass_count(w, passed);
	return q.n;
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

void sk_worker_init(struct sk_worker *w, const struct sk_worker_params *p)
{
	uint64_t tsc_per_us = rte_get_tsc_hz() / 1000000;

	memset(w, 0, sizeof(*w));
	w->cfg = p->cfg;
	w->quit = p->quit;
	w->index = p->index;
	w->queue_id = (uint16_t)p->index;
	w->lcore_id = p->lcore_id;
	w->port_id[SK_SIDE_ACCESS] = p->port_id[SK_SIDE_ACCESS];
	w->port_id[SK_SIDE_CORE] = p->port_id[SK_SIDE_CORE];
	w->frag_max_held = p->frag_max_held ? p->frag_max_held : p->cfg->frag_max_held;
	w->emit = p->emit;
	w->emit_ctx = p->emit_ctx;
	w->tsc_per_us = tsc_per_us ? tsc_per_us : 1;
	w->frag_next_expiry = UINT64_MAX;
	w->tcp_next_expiry = UINT64_MAX;
}

int sk_worker_setup(struct sk_worker *w, int socket)
{
	w->frag = sk_frag_table_create(w->cfg, w->frag_max_held, socket);
	if (w->frag == NULL) {
		SK_LOG(ERR, "worker %u: cannot allocate the IP reassembly table (%u flows): %s",
		       w->index, w->cfg->frag_max_flows, rte_strerror(rte_errno));
		return -1;
	}
	w->tcp = sk_tcp_table_create(w, socket);
	if (w->tcp == NULL) {
		SK_LOG(ERR,
		       "worker %u: cannot allocate the TCP stream table (%u directions, %u "
		       "buffers of %u bytes): %s",
		       w->index, w->cfg->tcp_max_streams, w->cfg->tcp_buffers,
		       w->cfg->tcp_buffer_bytes, rte_strerror(rte_errno));
		sk_worker_teardown(w);
		return -1;
	}
	return 0;
}

void sk_worker_teardown(struct sk_worker *w)
{
	/* Fragments and segments still held were forwarded by sk_worker_expire, or are freed here.
	 */
	sk_frag_table_free(w->frag);
	w->frag = NULL;
	sk_tcp_table_free(w->tcp);
	w->tcp = NULL;
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

	w->emit = sk_worker_tx;
	if (w->tables) {
		rte_rcu_qsbr_thread_register(w->tables->qsv, w->index);
		rte_rcu_qsbr_thread_online(w->tables->qsv, w->index);
	}
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		uint64_t start = rte_rdtsc();
		bool busy = poll_once(w, pkts, out, tsc_to_ns(w, start));

		if (!busy)
			sk_worker_expire(w, tsc_to_ns(w, start));

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
	/* Fragments still waiting for their siblings leave as they are. */
	sk_worker_expire(w, UINT64_MAX);
	if (w->tables) {
		rte_rcu_qsbr_thread_offline(w->tables->qsv, w->index);
		rte_rcu_qsbr_thread_unregister(w->tables->qsv, w->index);
	}
	return 0;
}
