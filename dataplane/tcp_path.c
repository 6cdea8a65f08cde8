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

/*
 * Directions in lists ordered by their deadline: one list per timeout, each
 * entry appended when its clock starts, so that expiry only ever looks at
 * list heads (no sweep of the table, whatever its size).
 */
#define SK_TCP_NIL UINT32_MAX

struct sk_tcp_link {
	uint32_t prev, next;
};

struct sk_tcp_list {
	uint32_t head, tail;
};

/* The age lists: a direction is on one, by the timeout that applies to its silence. */
enum sk_tcp_age { SK_TCP_AGE_EMBRYONIC, SK_TCP_AGE_ACTIVE, SK_TCP_AGE_COUNT };

struct sk_tcp_dir {
	struct sk_tcp_stream s;
	struct sk_tcp_key key;
	sk_time_ns last_seen;  /* on its age list since */
	sk_time_ns held_since; /* the first segment held */
	sk_time_ns wait_key;   /* what started its wait (UINT64_MAX: not waiting) */
	sk_time_ns wait_since; /* on the wait list since */
	struct sk_tcp_link age, wait;
	uint32_t gen; /* patches name the direction by index and generation */
	uint8_t n_held;
	uint8_t patched;   /* some patch of this generation may be in the ring */
	uint8_t embryonic; /* opened by SYN, no byte yet: tcp_syn_timeout_ms applies */
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
	sk_time_ns idle_timeout, hole_timeout, syn_timeout;
	struct sk_tcp_list age[SK_TCP_AGE_COUNT];
	struct sk_tcp_list wait; /* holding bytes or segments: tcp_hole_timeout_ms */
	struct sk_tcp_ops ops;
	struct sk_tcp_cur cur;
	struct sk_worker *w; /* the owner: its gauges (tcp_*_in_use) */
	uint32_t n_bufs;
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

	if (t->n_buf_free == 0)
		return NULL;
	__atomic_store_n(&t->w->tcp_buffers_in_use, t->n_bufs - (t->n_buf_free - 1),
			 __ATOMIC_RELAXED);
	return t->buf_free[--t->n_buf_free];
}

static void buf_put(void *ctx, uint8_t *buf)
{
	struct sk_tcp_table *t = ctx;

	t->buf_free[t->n_buf_free++] = buf;
	__atomic_store_n(&t->w->tcp_buffers_in_use, t->n_bufs - t->n_buf_free, __ATOMIC_RELAXED);
}

/* The number of directions, for show tables. */
static void streams_gauge(struct sk_tcp_table *t)
{
	__atomic_store_n(&t->w->tcp_streams_in_use, (uint32_t)rte_hash_count(t->hash),
			 __ATOMIC_RELAXED);
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

static void list_append(struct sk_tcp_table *t, struct sk_tcp_list *l, size_t link_off, uint32_t i)
{
	struct sk_tcp_link *k = (struct sk_tcp_link *)((char *)&t->dirs[i] + link_off);

	k->prev = l->tail;
	k->next = SK_TCP_NIL;
	if (l->tail != SK_TCP_NIL)
		((struct sk_tcp_link *)((char *)&t->dirs[l->tail] + link_off))->next = i;
	else
		l->head = i;
	l->tail = i;
}

static void list_unlink(struct sk_tcp_table *t, struct sk_tcp_list *l, size_t link_off, uint32_t i)
{
	struct sk_tcp_link *k = (struct sk_tcp_link *)((char *)&t->dirs[i] + link_off);

	if (k->prev != SK_TCP_NIL)
		((struct sk_tcp_link *)((char *)&t->dirs[k->prev] + link_off))->next = k->next;
	else
		l->head = k->next;
	if (k->next != SK_TCP_NIL)
		((struct sk_tcp_link *)((char *)&t->dirs[k->next] + link_off))->prev = k->prev;
	else
		l->tail = k->prev;
}

#define AGE_OFF offsetof(struct sk_tcp_dir, age)
#define WAIT_OFF offsetof(struct sk_tcp_dir, wait)

static struct sk_tcp_list *age_list(struct sk_tcp_table *t, const struct sk_tcp_dir *d)
{
	return &t->age[d->embryonic ? SK_TCP_AGE_EMBRYONIC : SK_TCP_AGE_ACTIVE];
}

/* Direction I was heard from at NOW: to the end of its age list. */
static void age_touch(struct sk_tcp_table *t, uint32_t i, sk_time_ns now)
{
	struct sk_tcp_dir *d = &t->dirs[i];

	list_unlink(t, age_list(t, d), AGE_OFF, i);
	d->last_seen = now;
	list_append(t, age_list(t, d), AGE_OFF, i);
}

/*
 * Direction I waits (bytes in its buffer, segments held) since the older of
 * its two clocks: on the wait list, re-appended when that changes. Its
 * deadline on the list is its own, or the tail's when that is later, so the
 * list stays in order and nothing is given up early.
 */
static void wait_update(struct sk_tcp_table *t, uint32_t i, sk_time_ns now)
{
	struct sk_tcp_dir *d = &t->dirs[i];
	sk_time_ns ws = UINT64_MAX;

	if (d->s.buf != NULL)
		ws = d->s.hole_since;
	if (d->n_held > 0 && d->held_since < ws)
		ws = d->held_since;
	if (ws == d->wait_key)
		return;
	if (d->wait_key != UINT64_MAX)
		list_unlink(t, &t->wait, WAIT_OFF, i);
	d->wait_key = ws;
	if (ws != UINT64_MAX) {
		/* Its own clock, unless that would put it before the tail. */
		sk_time_ns tail = t->wait.tail != SK_TCP_NIL ? t->dirs[t->wait.tail].wait_since : 0;

		d->wait_since = RTE_MAX(RTE_MIN(ws, now), tail);
		list_append(t, &t->wait, WAIT_OFF, i);
	}
}

/* When the first list head falls due. */
static void next_expiry(struct sk_worker *w, struct sk_tcp_table *t)
{
	sk_time_ns next = UINT64_MAX;

	if (t->age[SK_TCP_AGE_EMBRYONIC].head != SK_TCP_NIL)
		next = t->dirs[t->age[SK_TCP_AGE_EMBRYONIC].head].last_seen + t->syn_timeout;
	if (t->age[SK_TCP_AGE_ACTIVE].head != SK_TCP_NIL)
		next = RTE_MIN(next,
			       t->dirs[t->age[SK_TCP_AGE_ACTIVE].head].last_seen + t->idle_timeout);
	if (t->wait.head != SK_TCP_NIL)
		next = RTE_MIN(next, t->dirs[t->wait.head].wait_since + t->hole_timeout);
	w->tcp_next_expiry = next;
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
	int32_t from = (int32_t)(seq - sk_pkt_tcp_seq(frame, meta));

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
	t->n_bufs = cfg->tcp_buffers;
	t->w = w;
	t->idle_timeout = (sk_time_ns)cfg->tcp_idle_timeout_ms * 1000000;
	t->hole_timeout = (sk_time_ns)cfg->tcp_hole_timeout_ms * 1000000;
	t->syn_timeout = (sk_time_ns)cfg->tcp_syn_timeout_ms * 1000000;
	for (i = 0; i < SK_TCP_AGE_COUNT; i++)
		t->age[i] = (struct sk_tcp_list){SK_TCP_NIL, SK_TCP_NIL};
	t->wait = (struct sk_tcp_list){SK_TCP_NIL, SK_TCP_NIL};
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

static void dir_forget(struct sk_worker *w, struct sk_tcp_table *t, uint32_t i, struct sk_out_q *q)
{
	struct sk_tcp_dir *d = &t->dirs[i];

	release_held(w, t, d, q, true);
	sk_tcp_stream_close(&d->s, &t->ops);
	list_unlink(t, age_list(t, d), AGE_OFF, i);
	if (d->wait_key != UINT64_MAX)
		list_unlink(t, &t->wait, WAIT_OFF, i);
	d->wait_key = UINT64_MAX;
	rte_hash_del_key(t->hash, &d->key);
	streams_gauge(t);
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
	d->n_held = 0;
	d->patched = 0;
	d->embryonic = 0;
	d->last_seen = now;
	d->wait_key = UINT64_MAX;
	list_append(t, age_list(t, d), AGE_OFF, (uint32_t)pos);
	streams_gauge(t);
	sk_count(w, SK_WCTR_tcp_streams_tracked);
	*index = (uint32_t)pos;
	return d;
}

/*
 * May this segment open a direction? One with bytes may; a SYN may while the
 * table is less than three quarters full, so that a SYN flood cannot take
 * the room of connections that carry SIP (and its entries go after
 * tcp_syn_timeout_ms). Without the SYN, the direction is picked up at its
 * first byte and framing starts at the first message start found.
 */
static bool may_open(const struct sk_tcp_table *t, const struct sk_pkt_meta *meta, uint8_t flags)
{
	if (flags & RTE_TCP_RST_FLAG)
		return false;
	if (meta->payload_len > 0)
		return true;
	return (flags & RTE_TCP_SYN_FLAG) && (uint32_t)rte_hash_count(t->hash) < t->n_dirs / 4 * 3;
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
	return !sk_tcp_seq_before(seq,
				  sk_pkt_tcp_seq(rte_pktmbuf_mtod(a, const uint8_t *), &first)) &&
	       !sk_tcp_seq_before(sk_pkt_tcp_seq(rte_pktmbuf_mtod(b, const uint8_t *), &last) +
					  last.payload_len,
				  seq + len);
}

enum sk_verdict sk_tcp_handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
			      uint8_t *frame, struct sk_pkt_meta *meta, sk_time_ns now,
			      struct sk_out_q *q)
{
	struct sk_tcp_table *t = w->tcp;
	uint8_t flags = sk_pkt_tcp_flags(frame, meta);
	uint32_t seq = sk_pkt_tcp_seq(frame, meta), index;
	enum sk_tcp_result r = SK_TCP_DONE;
	struct sk_tcp_key key;
	struct sk_tcp_dir *d;
	bool hold;

	if (unlikely(t == NULL))
		return SK_FORWARD;
	key_set(&key, from, meta, false);
	d = dir_find(w, t, &key, may_open(t, meta, flags), now, &index);
	if (d == NULL) {
		if (flags & RTE_TCP_RST_FLAG)
			goto reset_reverse;
		return SK_FORWARD;
	}
	t->cur = (struct sk_tcp_cur){.w = w,
				     .d = d,
				     .dir_index = index,
				     .from = from,
				     .meta = meta,
				     .frame = frame,
				     .now = now};
	if (flags & RTE_TCP_SYN_FLAG) {
		/* A new connection (maybe on old addresses): its first byte starts a message. */
		release_held(w, t, d, q, true);
		sk_tcp_stream_close(&d->s, &t->ops);
		d->patched = 0;
		d->gen++;
		seq++; /* the SYN's own sequence number carries no byte */
		sk_tcp_stream_start(&d->s, seq);
		list_unlink(t, age_list(t, d), AGE_OFF, index);
		d->embryonic = 1;
		list_append(t, age_list(t, d), AGE_OFF, index);
	}
	if (meta->payload_len > 0 && d->embryonic) {
		list_unlink(t, age_list(t, d), AGE_OFF, index);
		d->embryonic = 0;
		list_append(t, age_list(t, d), AGE_OFF, index);
	}
	age_touch(t, index, now);
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
		dir_forget(w, t, index, q);
		if (flags & RTE_TCP_RST_FLAG)
			goto reset_reverse;
		next_expiry(w, t);
		return t->cur.changed ? SK_FORWARD_CHANGED : SK_FORWARD;
	}
	/*
	 * Hold while the header block is cut and a rewrite may come (policy other
	 * than pass); while holding, a segment beyond a hole is held too, since
	 * the header block may end in it.
	 */
	hold = (r == SK_TCP_HEAD_PENDING ||
		(d->n_held > 0 && d->s.state == SK_TCP_SYNCED && d->s.n_ranges > 0)) &&
	       m != NULL && d->n_held < SK_TCP_HELD_PER_DIR && t->n_held < SK_TCP_HELD_MAX &&
	       __atomic_load_n(&w->cfg->callinfo_policy, __ATOMIC_RELAXED) != SK_CALLINFO_PASS;
	if (hold) {
		if (d->n_held == 0)
			d->held_since = now;
		d->held[d->n_held++] = m;
		t->n_held++;
		sk_count(w, SK_WCTR_tcp_segments_held);
		wait_update(t, index, now);
		next_expiry(w, t);
		return SK_HELD;
	}
	release_held(w, t, d, q, d->s.state == SK_TCP_HUNT);
	wait_update(t, index, now);
	next_expiry(w, t);
	return t->cur.changed ? SK_FORWARD_CHANGED : SK_FORWARD;

reset_reverse:
	/* RST ends the connection: the other direction too, when this worker has it. */
	key_set(&key, from, meta, true);
	d = dir_find(w, t, &key, false, now, &index);
	if (d != NULL) {
		t->cur = (struct sk_tcp_cur){.w = w, .d = d, .dir_index = index};
		sk_count(w, SK_WCTR_tcp_streams_closed);
		dir_forget(w, t, index, q);
	}
	next_expiry(w, t);
	return SK_FORWARD;
}

void sk_tcp_expire(struct sk_worker *w, sk_time_ns now, struct sk_out_q *q)
{
	struct sk_tcp_table *t = w->tcp;
	uint32_t i;
	int a;

	if (t == NULL)
		return;
	if (now == UINT64_MAX) {
		/* The worker stops: every held segment leaves, nothing else changes. */
		for (i = t->wait.head; i != SK_TCP_NIL; i = t->dirs[i].wait.next)
			release_held(w, t, &t->dirs[i], q, true);
		return;
	}
	for (a = 0; a < SK_TCP_AGE_COUNT; a++) {
		sk_time_ns timeout = a == SK_TCP_AGE_EMBRYONIC ? t->syn_timeout : t->idle_timeout;

		while ((i = t->age[a].head) != SK_TCP_NIL &&
		       now - t->dirs[i].last_seen >= timeout) {
			t->cur = (struct sk_tcp_cur){.w = w, .d = &t->dirs[i], .dir_index = i};
			sk_count(w, SK_WCTR_tcp_streams_expired);
			dir_forget(w, t, i, q);
		}
	}
	while ((i = t->wait.head) != SK_TCP_NIL && now - t->dirs[i].wait_since >= t->hole_timeout) {
		struct sk_tcp_dir *d = &t->dirs[i];

		t->cur = (struct sk_tcp_cur){.w = w, .d = d, .dir_index = i};
		if (d->n_held > 0 && now - d->held_since >= t->hole_timeout)
			release_held(w, t, d, q, true);
		sk_tcp_stream_expire(&d->s, &t->ops, now, t->hole_timeout);
		/* Still waiting on a younger clock: back to the end of the list. */
		list_unlink(t, &t->wait, WAIT_OFF, i);
		d->wait_key = UINT64_MAX;
		wait_update(t, i, now);
	}
	next_expiry(w, t);
}
