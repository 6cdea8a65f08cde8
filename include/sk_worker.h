/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker: one lcore, one RX and one TX queue on each port. The struct is the
 * worker's own state (per-lcore instance, cache aligned); only the worker
 * writes it, the control thread reads the counters.
 *
 * The packet work (sk_worker_process) is separate from the I/O loop
 * (sk_worker_run) so that replay mode runs exactly the same code on frames
 * read from a capture.
 */
#ifndef SK_WORKER_H
#define SK_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "sdp_parse.h"
#include "sip_detect.h"
#include "sip_parse.h"
#include "sk_common.h"
#include "sk_config.h"
#include "sk_counters.h"
#include "sk_tables.h"

struct rte_ring;
struct rte_mempool;

#define SK_BURST 32
/* Frames one call of sk_worker_process may emit (room for re-fragmentation). */
#define SK_OUT_MAX (SK_BURST * 4)
/* Fragments (duplicates included) one datagram may have while held for reassembly. */
#define SK_FRAG_MAX_PIECES 16
/* TCP segments (mbufs) one worker may hold for Call-Info rewrites (tcp_path.c). */
#define SK_TCP_HELD_MAX 256

struct sk_frag_table;
struct sk_tcp_table;

struct sk_worker {
	/* Read-mostly: set up by the control thread before launch. */
	const struct sk_config *cfg;
	uint16_t port_id[SK_SIDE_COUNT];
	uint16_t queue_id;
	unsigned int index;
	unsigned int lcore_id;
	const bool *quit; /* read with __atomic_load_n: set once by the control thread */
	uint64_t tsc_per_us;
	/*
	 * Session state shared with the control thread (sk_tables.h). NULL when
	 * the worker only forwards and classifies (unit tests).
	 */
	const struct sk_tables *tables;
	struct sk_arm_table *arms;	/* armed commits (sk_commit_arm.h); NULL: none */
	struct rte_ring *events;	/* SIP events to the control thread (MP ring) */
	struct rte_mempool *event_pool; /* struct sk_sip_event objects */
	/*
	 * Where frames go when more are produced than one OUT array holds (a
	 * re-fragmented datagram, fragments given up on): the live loop transmits,
	 * replay writes the capture. NULL: such frames are dropped and counted.
	 */
	void (*emit)(struct sk_worker *w, enum sk_side to, struct rte_mbuf **pkts, uint16_t n);
	void *emit_ctx;

	/* SIP scanner signatures (shared, immutable). NULL: off. */
	const struct sk_scanner *scanner;

	/*
	 * IP reassembly (frag.c): owned by this worker (sk_worker_setup), NULL when
	 * off. frag_max_held: fragments it may hold (sk_worker_params);
	 * frag_next_expiry: when the oldest incomplete datagram times out
	 * (UINT64_MAX: none held), checked once per burst.
	 */
	struct sk_frag_table *frag;
	uint32_t frag_max_held;
	sk_time_ns frag_next_expiry;

	/*
	 * SIP over TCP (tcp_path.c): the directions this worker receives, and
	 * when the first of them times out (UINT64_MAX: none), checked per burst.
	 */
	struct sk_tcp_table *tcp;
	sk_time_ns tcp_next_expiry;

	/* Written by this worker only. */
	uint64_t port_ctr[SK_SIDE_COUNT][SK_PCTR_COUNT] __rte_cache_aligned;
	uint64_t ctr[SK_WCTR_COUNT];
	uint64_t busy_cycles; /* polls that moved at least one frame */
	uint64_t idle_cycles; /* empty polls */
	uint64_t polls;
	uint64_t sip_parse_error[SK_SIP_ERR_COUNT];
	/* What the worker's TCP table holds now (show tables): relaxed atomic stores. */
	uint32_t tcp_streams_in_use;
	uint32_t tcp_buffers_in_use;

	/* Scratch space for the message being handled; too big for the stack. */
	struct sk_sip_msg sip;
	struct sk_sdp sdp;
	/* A frame that spans mbuf segments, or a reassembled datagram, is flattened here. */
	uint8_t flat[RTE_PKTMBUF_HEADROOM + 65536 + 64];
} __rte_cache_aligned;

/* What whoever creates a worker decides for it (sk_worker_init). */
struct sk_worker_params {
	const struct sk_config *cfg;
	const bool *quit;
	unsigned int index; /* among the workers; also its queue on each port */
	unsigned int lcore_id;
	uint16_t port_id[SK_SIDE_COUNT];
	uint32_t frag_max_held; /* fragments reassembly may hold; 0: cfg->frag_max_held */
	/* Overflow frames (struct sk_worker's emit); sk_worker_run transmits them. */
	void (*emit)(struct sk_worker *w, enum sk_side to, struct rte_mbuf **pkts, uint16_t n);
	void *emit_ctx;
};

/*
 * Zero W (counters included) and give it P and the TSC rate. The session's
 * tables, ring and pool and the scanner come later, from the control thread
 * (control.c), once they exist. W must own nothing (before sk_worker_setup or
 * after sk_worker_teardown).
 */
void sk_worker_init(struct sk_worker *w, const struct sk_worker_params *p);

/*
 * Set up what the worker owns beyond its counters: the IP reassembly table
 * (cfg->frag_max_flows, frag_timeout_ms, frag_max_per_source, and
 * w->frag_max_held fragments) and the TCP stream table (cfg->tcp_*). -1 on
 * error (logged).
 */
int sk_worker_setup(struct sk_worker *w, int socket);
void sk_worker_teardown(struct sk_worker *w);

/*
 * Handle a burst received on side FROM: classify, parse, rewrite. Frames to
 * transmit on the other side are stored in OUT (at most SK_OUT_MAX) and
 * counted in the return value; every input frame is either in OUT or freed
 * with a counter saying why.
 */
uint16_t sk_worker_process(struct sk_worker *w, enum sk_side from, struct rte_mbuf **pkts,
			   uint16_t n, struct rte_mbuf **out, sk_time_ns now);

/*
 * The flow-index signature (sk_ftab_hash) of the IPv4 key (ADDR, PORT_BE) as
 * the passthrough fast path computes it, for the test that holds both equal.
 */
uint32_t sk_worker_pass_sig4(const uint8_t *addr, uint16_t port_be);

/* Transmit OUT on side TO's queue; frames the queue will not take are freed and counted. */
void sk_worker_tx(struct sk_worker *w, enum sk_side to, struct rte_mbuf **out, uint16_t n);

/*
 * Forward, unchanged and counted, the fragments whose reassembly timed out by
 * NOW (UINT64_MAX: every fragment still held), and the TCP segments held past
 * their time; forget idle TCP directions. Goes through w->emit.
 */
void sk_worker_expire(struct sk_worker *w, sk_time_ns now);

/* lcore entry point: poll both ports until *quit. ARG is the struct sk_worker. */
int sk_worker_run(void *arg);

#endif /* SK_WORKER_H */
