/* SPDX-License-Identifier: BSD-3-Clause */
/* The steps of sk_worker_process, one file each: media rewriting and SIP handling. */
#ifndef SK_WORKER_INTERNAL_H
#define SK_WORKER_INTERNAL_H

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "sk_events.h"
#include "sk_pkt.h"
#include "sk_tables.h"
#include "sk_worker.h"

struct sk_out_q;

/* What becomes of a frame after its handler ran. */
enum sk_verdict {
	SK_FORWARD = 0,	    /* unchanged */
	SK_FORWARD_CHANGED, /* rewritten in place (lengths may have shrunk) */
	SK_DROP,	    /* counted by the handler, freed by the caller */
	SK_HELD,	    /* kept by the handler (a TCP segment held for a rewrite) */
};

static inline void sk_count(struct sk_worker *w, enum sk_worker_counter c)
{
	sk_ctr_add(&w->ctr[c], 1);
}

/*
 * The handlers below work on a contiguous frame (FRAME, LEN bytes: the mbuf's
 * data, or the worker's flat copy of a multi-segment frame or of a reassembled
 * datagram) and may rewrite it in place, which their result says.
 */

/*
 * The first table lookup of a media frame, an access key (downlink: its
 * destination; uplink: its source), done for a whole burst at once
 * (sk_flow_burst_add, sk_flow_burst_finish in sk_tables.h): frame AT of the
 * burst, parsed into META, is media. Returns SK_FLOW_NOT_LOOKED_UP: the
 * answer, the negative filter's included, comes from sk_flow_burst_finish
 * (SK_NO_INDEX only if sk_flow_burst_add ever refuses a key again).
 */
static inline uint32_t sk_media_lookup_start(const struct sk_worker *w, enum sk_side from,
					     const struct sk_pkt_meta *meta, uint16_t at,
					     struct sk_flow_burst *fb)
{
	bool may;

	RTE_BUILD_BUG_ON(SK_BURST > SK_FLOW_BURST);
	if (w->tables == NULL)
		return SK_FLOW_NOT_LOOKED_UP;
	if (from == SK_SIDE_CORE)
		may = sk_flow_burst_add(w->tables, fb, meta->ip_version, meta->dst,
					rte_cpu_to_be_16(meta->dport), at);
	else
		may = sk_flow_burst_add(w->tables, fb, meta->ip_version, meta->src,
					rte_cpu_to_be_16(meta->sport), at);
	return may ? SK_FLOW_NOT_LOOKED_UP : SK_NO_INDEX;
}

/*
 * A UDP frame that is not SIP: RTP/RTCP lookup, latching and rewriting
 * (media.c). PRE: the flow its access key found (sk_flow_burst_finish), or
 * SK_FLOW_NOT_LOOKED_UP.
 */
bool sk_media_handle(struct sk_worker *w, enum sk_side from, uint8_t *frame,
		     struct sk_pkt_meta *meta, uint32_t pre, sk_time_ns now);

/*
 * A UDP frame on a SIP port: parse, tell the control thread, redirect, apply
 * the Call-Info policy (sip_path.c). *FRAME_LEN shrinks if Call-Info went.
 */
enum sk_verdict sk_sip_handle(struct sk_worker *w, enum sk_side from, uint8_t *frame,
			      uint32_t *frame_len, struct sk_pkt_meta *meta, sk_time_ns now);

/*
 * What every parsed SIP message (in w->sip, from BUF, LEN bytes) goes through,
 * on any transport: counters, the scanner check, the event to the control
 * thread. True: the scanner wants the message dropped (UDP only; counted).
 */
bool sk_sip_track(struct sk_worker *w, enum sk_side from, const struct sk_pkt_meta *meta,
		  const char *buf, uint32_t len, enum sk_transport transport, sk_time_ns now);

/*
 * A TCP segment to or from a SIP port (tcp_path.c): framed into SIP messages
 * on its direction's byte stream. M: the frame's mbuf when it lies in one
 * segment (it may be held: SK_HELD), NULL for a flattened frame. Held
 * segments released by this one are sent first, on Q.
 */
enum sk_verdict sk_tcp_handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
			      uint8_t *frame, struct sk_pkt_meta *meta, sk_time_ns now,
			      struct sk_out_q *q);

/* W's TCP table (cfg->tcp_*), framing into W's scratch parse (w->sip). */
struct sk_tcp_table *sk_tcp_table_create(struct sk_worker *w, int socket);
/* Free the table; held segments are freed (sk_worker_expire sends them first). */
void sk_tcp_table_free(struct sk_tcp_table *t);

/*
 * Directions idle, holes and holds timed out by NOW (UINT64_MAX: release every
 * held segment). Released segments go to Q, or through w->emit.
 */
void sk_tcp_expire(struct sk_worker *w, sk_time_ns now, struct sk_out_q *q);

/* --- Call-Info (callinfo.c) --- */

/* Does the Call-Info policy want remotecc values out of this message? */
bool sk_callinfo_unwanted(struct sk_worker *w, enum sk_side from, const struct sk_pkt_meta *meta);

bool sk_callinfo_has_remotecc(const char *buf, const struct sk_sip_msg *msg);

/*
 * Remove the remotecc Call-Info values of MSG (parsed from BUF, LEN bytes,
 * followed by TAIL more bytes of the frame that move with it). Returns the
 * bytes removed (0: none), or -1 when the message holds more Call-Info than
 * the parser kept (left alone). *N_REMOVED: values removed.
 */
int sk_callinfo_strip(char *buf, uint32_t len, uint32_t tail, const struct sk_sip_msg *msg,
		      unsigned int *n_removed);

/*
 * The same removal without moving a byte (TCP): each Call-Info line of MSG
 * (parsed from BUF) that loses values is rewritten within its own length:
 * what stays, then an `X-Sipkeep-Pad:` header line of spaces as long as what
 * went. SCRATCH (CAP bytes) holds the new line, handed to LINE with its offset
 * in BUF. Returns the values removed, or -1 when MSG holds more Call-Info than
 * the parser kept (left alone).
 */
int sk_callinfo_blank(const char *buf, const struct sk_sip_msg *msg, char *scratch, uint32_t cap,
		      void (*line)(void *ctx, uint32_t off, const char *bytes, uint32_t len),
		      void *ctx);

/* Frames leaving on one side, collected during a burst (worker.c). */
struct sk_out_q {
	struct rte_mbuf **pkts;
	uint16_t n;
	enum sk_side to;
};

/* Append M to Q; a full Q goes to w->emit first (or is dropped and counted without one). */
static inline void sk_out_push(struct sk_worker *w, struct sk_out_q *q, struct rte_mbuf *m)
{
	if (unlikely(q->n == SK_OUT_MAX)) {
		if (w->emit != NULL) {
			w->emit(w, q->to, q->pkts, q->n);
		} else {
			sk_ctr_add(&w->port_ctr[q->to][SK_PCTR_tx_dropped], q->n);
			rte_pktmbuf_free_bulk(q->pkts, q->n);
		}
		q->n = 0;
	}
	q->pkts[q->n++] = m;
}

/* M leaves toward side TO: on Q when Q (not NULL) goes there, else through w->emit. */
void sk_out_send(struct sk_worker *w, struct sk_out_q *q, enum sk_side to, struct rte_mbuf *m);

/* --- IP fragments (frag.c) --- */

/* A datagram whose fragments are all held (sk_frag_add); the table keeps it until sk_frag_done. */
struct sk_frag_entry;

struct sk_frag_table *sk_frag_table_create(const struct sk_config *cfg, uint32_t max_held,
					   int socket);
/* Free the table; fragments still held are freed (sk_worker_expire forwards them first). */
void sk_frag_table_free(struct sk_frag_table *t);

/*
 * Fragment M, parsed into META, received on FROM. Returns the datagram when M
 * completed it: its fragments are held, in arrival order, until sk_frag_done.
 * NULL otherwise: M is held, or was forwarded unchanged and counted (with any
 * fragments that had to leave to make room: evicted, given up).
 */
struct sk_frag_entry *sk_frag_add(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
				  const struct sk_pkt_meta *meta, sk_time_ns now,
				  struct sk_out_q *q);

/* Copy the datagram of D into FLAT as one frame (first fragment's headers); returns its length. */
uint32_t sk_frag_flatten(const struct sk_frag_entry *d, uint8_t *flat);

/*
 * The handler's verdict V on D's flattened frame (FLAT, LEN bytes after it
 * ran): SK_FORWARD sends the original fragments, SK_FORWARD_CHANGED writes the
 * new datagram into them along their own boundaries (or sends them unchanged
 * when it does not fit, counted), SK_DROP frees them. D is then forgotten.
 */
void sk_frag_done(struct sk_worker *w, struct sk_frag_entry *d, enum sk_verdict v,
		  const uint8_t *flat, uint32_t len, struct sk_out_q *q);

/* Forward, unchanged and counted, the fragments of datagrams timed out by NOW. */
void sk_frag_expire(struct sk_worker *w, sk_time_ns now, struct sk_out_q *q);

#endif /* SK_WORKER_INTERNAL_H */
