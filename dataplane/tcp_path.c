/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP over TCP on the fast path: the worker's table of TCP directions, the
 * segments, and what the framed messages do (tcp_stream.c cuts the bytes).
 *
 * Each direction of a connection is its own byte stream, owned by the worker
 * that receives it (RSS sends a direction's segments to one queue), so the
 * table is the worker's alone: no lock, no atomics, no torn entries. Nothing
 * needs the other direction's state, because nothing here changes a
 * sequence number: the Call-Info rewrite keeps every message's length
 * (sk_callinfo_blank). What a rewrite changed is remembered by sequence
 * number, so that a retransmission leaves exactly as the original did.
 *
 * Segments leave at once, but for one case: a segment whose message's header
 * block continues in a later segment is held (while a policy might rewrite
 * Call-Info) until the header block is whole, so that a line cut by the
 * segment boundary can still be rewritten in both pieces.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "sk_csum.h"
#include "sk_log.h"
#include "tcp_stream.h"
#include "worker_internal.h"

/* Segments one direction may hold for a rewrite; all directions of a worker together. */
#define SK_TCP_HELD_PER_DIR 8
/* Rewritten byte ranges remembered per worker for retransmissions, and their longest piece. */
#define SK_TCP_PATCHES 64
#define SK_TCP_PATCH_MAX 512

/* A direction: ingress side, VLAN tags and the 4-tuple. */
struct sk_tcp_key {
	uint8_t family;
	uint8_t side;
	uint16_t vlan_outer;
	uint16_t vlan_inner;
	uint16_t sport;
	uint16_t dport;
	uint16_t pad;
	uint8_t src[16];
	uint8_t dst[16];
};

struct sk_tcp_dir {
	struct sk_tcp_stream s;
	struct sk_tcp_key key;
	sk_time_ns last_seen;
	sk_time_ns held_since;
	uint32_t gen; /* patches name the direction by index and generation */
	uint8_t in_use;
	uint8_t n_held;
	uint8_t patched; /* some patch of this generation may be in the ring */
	struct rte_mbuf *held[SK_TCP_HELD_PER_DIR];
};

/* Bytes a Call-Info rewrite put at SEQ of one direction. */
struct sk_tcp_patch {
	uint32_t dir;
	uint32_t gen;
	uint32_t seq;
	uint16_t len;
	uint8_t bytes[SK_TCP_PATCH_MAX];
};

/* The segment being handled: what the stream's callbacks work on. */
struct sk_tcp_cur {
	struct sk_worker *w;
	struct sk_tcp_dir *d;
	uint32_t dir_index;
	enum sk_side from;
	const struct sk_pkt_meta *meta;
	uint8_t *frame; /* the segment, with its payload at meta->payload_off */
	sk_time_ns now;
	bool changed;
};

struct sk_tcp_table {
	struct rte_hash *hash;
	struct sk_tcp_dir *dirs;
	uint32_t n_dirs;
	uint8_t *buf_mem;   /* tcp_buffers buffers of tcp_buffer_bytes */
	uint8_t **buf_free; /* a stack of free buffers */
	uint32_t n_buf_free;
	uint32_t n_held; /* segments held, all directions */
	uint32_t patch_next;
	sk_time_ns idle_timeout, hole_timeout;
	struct sk_tcp_ops ops;
	struct sk_tcp_cur cur;
	struct sk_tcp_patch patches[SK_TCP_PATCHES];
	char scratch[SK_SIP_MAX_LEN];
};

static const enum sk_worker_counter note_counter[SK_TCP_NOTE_COUNT] = {
	[SK_TCP_NOTE_KEEPALIVE] = SK_WCTR_tcp_keepalives,
	[SK_TCP_NOTE_OUT_OF_ORDER] = SK_WCTR_tcp_out_of_order,
	[SK_TCP_NOTE_RETRANSMISSION] = SK_WCTR_tcp_retransmissions,
	[SK_TCP_NOTE_RESYNCED] = SK_WCTR_tcp_resynced,
	[SK_TCP_NOTE_FALLBACK_BUFFER_FULL] = SK_WCTR_tcp_fallback_buffer_full,
	[SK_TCP_NOTE_FALLBACK_NO_BUFFER] = SK_WCTR_tcp_fallback_no_buffer,
	[SK_TCP_NOTE_FALLBACK_HOLE] = SK_WCTR_tcp_fallback_hole,
	[SK_TCP_NOTE_FALLBACK_BAD_FRAMING] = SK_WCTR_tcp_fallback_bad_framing,
};

static uint8_t *buf_get(void *ctx)
{
	struct sk_tcp_table *t = ctx;

	return t->n_buf_free > 0 ? t->buf_free[--t->n_buf_free] : NULL;
}

static void buf_put(void *ctx, uint8_t *buf)
{
	struct sk_tcp_table *t = ctx;

	t->buf_free[t->n_buf_free++] = buf;
}

static void note(void *ctx, enum sk_tcp_note n)
{
	struct sk_tcp_table *t = ctx;
	struct sk_worker *w = t->cur.w;

	sk_count(w, note_counter[n]);
	if (n == SK_TCP_NOTE_FALLBACK_BAD_FRAMING && t->cur.d->s.last_error < SK_SIP_ERR_COUNT) {
		sk_count(w, SK_WCTR_sip_parse_errors);
		sk_ctr_add(&w->sip_parse_error[t->cur.d->s.last_error], 1);
	}
}

/*
 * Write BYTES (LEN, at sequence number SEQ) over what of them lies in the TCP
 * segment FRAME (parsed into META), with the checksum adjusted from the old
 * and new bytes alone. Returns how many of its bytes the segment held.
 */
static uint32_t patch_segment(uint8_t *frame, const struct sk_pkt_meta *meta, uint32_t seq,
			      const uint8_t *bytes, uint32_t len)
{
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(frame + meta->l4_off);
	uint8_t *payload = frame + meta->payload_off;
	uint32_t plen = meta->payload_len, lo, hi, a, b, i;
	uint8_t old_w[SK_TCP_PATCH_MAX + 4], new_w[SK_TCP_PATCH_MAX + 4];
	int32_t from = (int32_t)(seq - meta->tcp_seq);

	/* The overlap of [from, from + len) with the payload, in payload offsets. */
	lo = from > 0 ? (uint32_t)from : 0;
	hi = from + (int64_t)len < (int64_t)plen ? (uint32_t)(from + (int32_t)len) : plen;
	if (from >= (int64_t)plen || from + (int64_t)len <= 0 || lo >= hi)
		return 0;
	if (memcmp(payload + lo, bytes + (lo - from), hi - lo) == 0)
		return hi - lo;
	/* Whole 16-bit words from the payload's start (the TCP header has an even length). */
	a = lo & ~1u;
	b = (hi + 1) & ~1u;
	for (i = a; i < b; i++) {
		old_w[i - a] = i < plen ? payload[i] : 0;
		new_w[i - a] = i >= lo && i < hi ? bytes[i - from] : old_w[i - a];
	}
	tcp->cksum = sk_csum_apply(tcp->cksum, sk_csum_delta(old_w, new_w, b - a));
	memcpy(payload + lo, bytes + (lo - from), hi - lo);
	return hi - lo;
}

static uint32_t patch_mbuf(struct rte_mbuf *m, uint32_t seq, const uint8_t *bytes, uint32_t len)
{
	struct sk_pkt_meta meta;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	sk_pkt_parse(frame, rte_pktmbuf_data_len(m), &meta);
	return patch_segment(frame, &meta, seq, bytes, len);
}

/* One rewritten piece (at most SK_TCP_PATCH_MAX bytes): into the segments, and remembered. */
static void patch_piece(struct sk_tcp_table *t, uint32_t seq, const uint8_t *bytes, uint32_t len)
{
	struct sk_tcp_cur *c = &t->cur;
	struct sk_tcp_patch *p = &t->patches[t->patch_next++ % SK_TCP_PATCHES];
	uint32_t covered = 0, i;

	for (i = 0; i < c->d->n_held; i++)
		covered += patch_mbuf(c->d->held[i], seq, bytes, len);
	if (c->frame != NULL) {
		uint32_t n = patch_segment(c->frame, c->meta, seq, bytes, len);

		covered += n;
		c->changed |= n > 0;
	}
	if (covered < len)
		sk_count(c->w, SK_WCTR_tcp_callinfo_missed);
	*p = (struct sk_tcp_patch){
		.dir = c->dir_index, .gen = c->d->gen, .seq = seq, .len = (uint16_t)len};
	memcpy(p->bytes, bytes, len);
	c->d->patched = 1;
}

struct blank_ctx {
	struct sk_tcp_table *t;
	uint32_t seq; /* of the message's first byte */
};

static void blank_line(void *ctx, uint32_t off, const char *bytes, uint32_t len)
{
	struct blank_ctx *b = ctx;
	uint32_t done;

	for (done = 0; done < len; done += SK_TCP_PATCH_MAX) {
		uint32_t n = RTE_MIN(len - done, (uint32_t)SK_TCP_PATCH_MAX);

		patch_piece(b->t, b->seq + off + done, (const uint8_t *)bytes + done, n);
	}
}

/* A message's header block is whole: the Call-Info policy, without moving a byte. */
static void on_head(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		    const struct sk_sip_msg *msg)
{
	struct sk_tcp_table *t = ctx;
	struct sk_worker *w = t->cur.w;
	struct blank_ctx b = {.t = t, .seq = seq};
	int removed;

	RTE_SET_USED(len);
	if (likely(msg->n_callinfo == 0 && !(msg->overflow & SK_SIP_OVF_CALLINFO)) ||
	    !sk_callinfo_has_remotecc(bytes, msg) ||
	    !sk_callinfo_unwanted(w, t->cur.from, t->cur.meta))
		return;
	removed = sk_callinfo_blank(bytes, msg, t->scratch, sizeof(t->scratch), blank_line, &b);
	if (removed < 0) {
		sk_count(w, SK_WCTR_callinfo_left_too_many);
		return;
	}
	if (removed == 0)
		return;
	sk_ctr_add(&w->ctr[SK_WCTR_callinfo_removed], (uint64_t)removed);
	sk_count(w, SK_WCTR_callinfo_messages_rewritten);
}

static void on_message(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		       const struct sk_sip_msg *msg)
{
	struct sk_tcp_table *t = ctx;

	RTE_SET_USED(seq);
	RTE_SET_USED(msg); /* the worker's own scratch parse: w->sip */
	sk_count(t->cur.w, SK_WCTR_tcp_messages);
	sk_sip_track(t->cur.w, t->cur.from, t->cur.meta, bytes, len, SK_TRANSPORT_TCP, t->cur.now);
}

static void key_set(struct sk_tcp_key *k, enum sk_side from, const struct sk_pkt_meta *meta,
		    bool reverse)
{
	unsigned int alen = meta->ip_version == 4 ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = meta->ip_version;
	k->side = (uint8_t)(reverse ? sk_side_other(from) : from);
	k->vlan_outer = meta->has_vlan ? meta->vlan_tci : 0;
	k->vlan_inner = meta->vlan_tci_inner;
	k->sport = reverse ? meta->dport : meta->sport;
	k->dport = reverse ? meta->sport : meta->dport;
	memcpy(k->src, reverse ? meta->dst : meta->src, alen);
	memcpy(k->dst, reverse ? meta->src : meta->dst, alen);
}

struct sk_tcp_table *sk_tcp_table_create(struct sk_worker *w, int socket)
{
	const struct sk_config *cfg = w->cfg;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = cfg->tcp_max_streams,
		.key_len = sizeof(struct sk_tcp_key),
		.hash_func = rte_jhash,
		.socket_id = socket,
		/* Every one of tcp_max_streams fits, whatever the bucket collisions. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct sk_tcp_table *t;
	uint32_t i;

	t = rte_zmalloc_socket("sk_tcp", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL)
		return NULL;
	snprintf(name, sizeof(name), "sk_tcp_%u_%p", w->index, (void *)t);
	t->hash = rte_hash_create(&hp);
	t->n_dirs = cfg->tcp_max_streams;
	t->dirs = rte_zmalloc_socket("sk_tcp_dirs", sizeof(t->dirs[0]) * t->n_dirs,
				     RTE_CACHE_LINE_SIZE, socket);
	t->buf_mem =
		rte_malloc_socket("sk_tcp_bufs", (size_t)cfg->tcp_buffers * cfg->tcp_buffer_bytes,
				  RTE_CACHE_LINE_SIZE, socket);
	t->buf_free =
		rte_malloc_socket("sk_tcp_free", sizeof(uint8_t *) * cfg->tcp_buffers, 0, socket);
	if (t->hash == NULL || t->dirs == NULL || t->buf_mem == NULL || t->buf_free == NULL) {
		sk_tcp_table_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < cfg->tcp_buffers; i++)
		t->buf_free[i] = t->buf_mem + (size_t)i * cfg->tcp_buffer_bytes;
	t->n_buf_free = cfg->tcp_buffers;
	t->idle_timeout = (sk_time_ns)cfg->tcp_idle_timeout_ms * 1000000;
	t->hole_timeout = (sk_time_ns)cfg->tcp_hole_timeout_ms * 1000000;
	t->ops = (struct sk_tcp_ops){
		.ctx = t,
		.buf_get = buf_get,
		.buf_put = buf_put,
		.head = on_head,
		.message = on_message,
		.note = note,
		.scratch = &w->sip,
		.buffer_bytes = cfg->tcp_buffer_bytes,
	};
	return t;
}

void sk_tcp_table_free(struct sk_tcp_table *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; t->dirs != NULL && i < t->n_dirs; i++)
		rte_pktmbuf_free_bulk(t->dirs[i].held, t->dirs[i].n_held);
	rte_hash_free(t->hash);
	rte_free(t->dirs);
	rte_free(t->buf_mem);
	rte_free(t->buf_free);
	rte_free(t);
}

/* The held segments leave, in order, ahead of anything after them. */
static void release_held(struct sk_worker *w, struct sk_tcp_table *t, struct sk_tcp_dir *d,
			 struct sk_out_q *q, bool unchanged)
{
	enum sk_side to = sk_side_other((enum sk_side)d->key.side);
	unsigned int i;

	if (unchanged && d->n_held > 0)
		sk_ctr_add(&w->ctr[SK_WCTR_tcp_held_released_unchanged], d->n_held);
	for (i = 0; i < d->n_held; i++)
		sk_out_send(w, q, to, d->held[i]);
	t->n_held -= d->n_held;
	d->n_held = 0;
}

static void dir_forget(struct sk_worker *w, struct sk_tcp_table *t, struct sk_tcp_dir *d,
		       struct sk_out_q *q)
{
	release_held(w, t, d, q, true);
	sk_tcp_stream_close(&d->s, &t->ops);
	rte_hash_del_key(t->hash, &d->key);
	d->in_use = 0;
	d->patched = 0;
	d->gen++;
}

/* The direction of KEY, a new one when CREATE; NULL when absent or the table is full. */
static struct sk_tcp_dir *dir_find(struct sk_worker *w, struct sk_tcp_table *t,
				   const struct sk_tcp_key *key, bool create, sk_time_ns now,
				   uint32_t *index)
{
	struct sk_tcp_dir *d;
	int32_t pos = rte_hash_lookup(t->hash, key);

	if (pos >= 0) {
		*index = (uint32_t)pos;
		return &t->dirs[pos];
	}
	if (!create)
		return NULL;
	pos = rte_hash_add_key(t->hash, key);
	if (pos < 0 || (uint32_t)pos >= t->n_dirs) {
		if (pos >= 0)
			rte_hash_del_key(t->hash, key);
		sk_count(w, SK_WCTR_tcp_streams_table_full);
		return NULL;
	}
	d = &t->dirs[pos];
	sk_tcp_stream_init(&d->s);
	d->key = *key;
	d->in_use = 1;
	d->n_held = 0;
	d->patched = 0;
	d->last_seen = now;
	sk_count(w, SK_WCTR_tcp_streams_tracked);
	if (w->tcp_next_expiry > now + t->idle_timeout)
		w->tcp_next_expiry = now + t->idle_timeout;
	*index = (uint32_t)pos;
	return d;
}

/* A retransmission gets the rewrites the original got. */
static void repatch(struct sk_worker *w, struct sk_tcp_table *t, uint32_t index,
		    struct sk_tcp_dir *d, uint8_t *frame, struct sk_pkt_meta *meta)
{
	bool hit = false;
	unsigned int i;

	for (i = 0; i < SK_TCP_PATCHES; i++) {
		const struct sk_tcp_patch *p = &t->patches[i];

		if (p->len != 0 && p->dir == index && p->gen == d->gen)
			hit |= patch_segment(frame, meta, p->seq, p->bytes, p->len) > 0;
	}
	if (hit) {
		sk_count(w, SK_WCTR_tcp_retransmissions_rewritten);
		t->cur.changed = true;
	}
}

/* Is [SEQ, SEQ+LEN) all within the segments D holds? */
static bool within_held(const struct sk_tcp_dir *d, uint32_t seq, uint32_t len)
{
	struct sk_pkt_meta first, last;
	const struct rte_mbuf *a, *b;

	if (d->n_held == 0)
		return false;
	a = d->held[0];
	b = d->held[d->n_held - 1];
	sk_pkt_parse(rte_pktmbuf_mtod(a, const uint8_t *), rte_pktmbuf_data_len(a), &first);
	sk_pkt_parse(rte_pktmbuf_mtod(b, const uint8_t *), rte_pktmbuf_data_len(b), &last);
	return !sk_tcp_seq_before(seq, first.tcp_seq) &&
	       !sk_tcp_seq_before(last.tcp_seq + last.payload_len, seq + len);
}

enum sk_verdict sk_tcp_handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
			      uint8_t *frame, struct sk_pkt_meta *meta, sk_time_ns now,
			      struct sk_out_q *q)
{
	struct sk_tcp_table *t = w->tcp;
	uint8_t flags = meta->tcp_flags;
	uint32_t seq = meta->tcp_seq, index;
	enum sk_tcp_result r = SK_TCP_DONE;
	struct sk_tcp_key key;
	struct sk_tcp_dir *d;
	bool hold;

	if (unlikely(t == NULL))
		return SK_FORWARD;
	key_set(&key, from, meta, false);
	d = dir_find(w, t, &key, meta->payload_len > 0 && !(flags & RTE_TCP_RST_FLAG), now, &index);
	if (d == NULL) {
		if (flags & RTE_TCP_RST_FLAG)
			goto reset_reverse;
		return SK_FORWARD;
	}
	d->last_seen = now;
	t->cur = (struct sk_tcp_cur){.w = w,
				     .d = d,
				     .dir_index = index,
				     .from = from,
				     .meta = meta,
				     .frame = frame,
				     .now = now};
	if (flags & RTE_TCP_SYN_FLAG) {
		/* A new connection on the same addresses: what was known of the old one goes. */
		release_held(w, t, d, q, true);
		sk_tcp_stream_close(&d->s, &t->ops);
		d->patched = 0;
		d->gen++;
		seq++; /* the SYN's own sequence number carries no byte */
	}
	if (meta->payload_len > 0) {
		const char *payload = (const char *)frame + meta->payload_off;

		if (d->s.seen && sk_tcp_seq_before(seq, d->s.next_seq)) {
			/* A copy of a held segment: the held one leaves instead. */
			if (m != NULL && within_held(d, seq, meta->payload_len)) {
				sk_count(w, SK_WCTR_tcp_retransmissions);
				sk_count(w, SK_WCTR_tcp_held_duplicates_dropped);
				return SK_DROP;
			}
			if (d->patched)
				repatch(w, t, index, d, frame, meta);
		}
		r = sk_tcp_stream_input(&d->s, &t->ops, seq, payload, meta->payload_len, now);
	}
	if (flags & (RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)) {
		sk_count(w, SK_WCTR_tcp_streams_closed);
		dir_forget(w, t, d, q);
		if (flags & RTE_TCP_RST_FLAG)
			goto reset_reverse;
		return t->cur.changed ? SK_FORWARD_CHANGED : SK_FORWARD;
	}
	/* Hold while the header block is cut and a rewrite may come (policy other than pass). */
	hold = r == SK_TCP_HEAD_PENDING && m != NULL && d->n_held < SK_TCP_HELD_PER_DIR &&
	       t->n_held < SK_TCP_HELD_MAX &&
	       __atomic_load_n(&w->cfg->callinfo_policy, __ATOMIC_RELAXED) != SK_CALLINFO_PASS;
	if (hold) {
		if (d->n_held == 0)
			d->held_since = now;
		d->held[d->n_held++] = m;
		t->n_held++;
		sk_count(w, SK_WCTR_tcp_segments_held);
		if (w->tcp_next_expiry > now + t->hole_timeout)
			w->tcp_next_expiry = now + t->hole_timeout;
		return SK_HELD;
	}
	release_held(w, t, d, q, d->s.state == SK_TCP_HUNT);
	if (d->s.buf != NULL && w->tcp_next_expiry > now + t->hole_timeout)
		w->tcp_next_expiry = now + t->hole_timeout;
	return t->cur.changed ? SK_FORWARD_CHANGED : SK_FORWARD;

reset_reverse:
	/* RST ends the connection: the other direction too, when this worker has it. */
	key_set(&key, from, meta, true);
	d = dir_find(w, t, &key, false, now, &index);
	if (d != NULL) {
		t->cur = (struct sk_tcp_cur){.w = w, .d = d, .dir_index = index};
		sk_count(w, SK_WCTR_tcp_streams_closed);
		dir_forget(w, t, d, q);
	}
	return SK_FORWARD;
}

void sk_tcp_expire(struct sk_worker *w, sk_time_ns now, struct sk_out_q *q)
{
	struct sk_tcp_table *t = w->tcp;
	sk_time_ns next = UINT64_MAX;
	uint32_t i;

	if (t == NULL || (now < w->tcp_next_expiry && now != UINT64_MAX))
		return;
	for (i = 0; i < t->n_dirs; i++) {
		struct sk_tcp_dir *d = &t->dirs[i];

		if (!d->in_use)
			continue;
		t->cur = (struct sk_tcp_cur){.w = w, .d = d, .dir_index = i};
		if (now == UINT64_MAX) {
			release_held(w, t, d, q, true);
			continue;
		}
		if (now - d->last_seen >= t->idle_timeout) {
			sk_count(w, SK_WCTR_tcp_streams_expired);
			dir_forget(w, t, d, q);
			continue;
		}
		if (d->n_held > 0 && now - d->held_since >= t->hole_timeout)
			release_held(w, t, d, q, true);
		sk_tcp_stream_expire(&d->s, &t->ops, now, t->hole_timeout);
		next = RTE_MIN(next, d->last_seen + t->idle_timeout);
		if (d->n_held > 0)
			next = RTE_MIN(next, d->held_since + t->hole_timeout);
		if (d->s.buf != NULL)
			next = RTE_MIN(next, d->s.hole_since + t->hole_timeout);
	}
	w->tcp_next_expiry = next;
}
