/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the SIP-over-TCP stream framer (dataplane/tcp_stream.c)
 * fed random segmentations, orders, duplicates and losses of a stream of
 * valid SIP messages.
 *
 * The input is read from both ends: control bytes from the front (mode,
 * cut points, order, duplicates, losses, clock steps), content bytes from the
 * back (tokens in header values and bodies), so that a change in one does
 * not shift the other. From them:
 *
 *   - a corpus of 1-4 SIP messages built from templates plus fuzz bytes, each
 *     with a right Content-Length, CR/LF keep-alives between some (raw mode:
 *     bodies of any bytes, and a message may lose its Content-Length or have
 *     one too big, huge or too small); then two probe messages P1, P2 that
 *     follow the fuzzed part of the stream;
 *   - segments: cut points over the corpus part, an order (each segment
 *     displaced by at most D places), duplicates (a whole segment again, or any
 *     byte range: overlapping partial retransmissions) inserted anywhere,
 *     losses (segments never sent), a clock step before each delivery (the
 *     hole timeout is checked before each one, as the worker polls);
 *   - the direction opened by SYN (sk_tcp_stream_start: it knows its first
 *     byte) or picked up mid-stream (sk_tcp_stream_init: it hunts);
 *   - the reassembly bound (buffer_bytes), a pool of 1 or 2 buffers, and
 *     optionally one buffer request that fails.
 *
 * Invariants (a failure prints the REQUIRE and traps, so libFuzzer keeps the
 * input):
 *   - no crash, no ASan/UBSan report; each buffer is malloc'd at exactly
 *     buffer_bytes, so any write past the bound is an ASan report;
 *   - after each call: the bytes held (in order + beyond the hole) within
 *     buffer_bytes, at most SK_TCP_MAX_RANGES ranges; a buffer is held exactly
 *     while bytes wait in it, at most one per direction, only pool buffers,
 *     never given back twice; every buffer taken is back after close;
 *   - head() once before each message(), with the same sequence number; both
 *     hand out the stream's own bytes at that sequence number; messages come
 *     in stream order and never overlap (no byte framed twice);
 *   - with clean bodies (no byte that could look like a start line), every
 *     head() and message() is a corpus message, whole (LEN = its length);
 *   - a fallback has a cause that holds: NO_BUFFER right after a failed
 *     buf_get, HOLE only a timeout after the buffer was taken, RESYNCED only
 *     after a fallback; while tracking (below), BUFFER_FULL with a bound at
 *     least the corpus part only when a 9th out-of-order range was needed,
 *     and never BAD_FRAMING;
 *   - tracking: while no message is damaged, the direction has followed the
 *     stream from its first byte (opened by SYN; or picked up by a first
 *     delivery that starts there and holds the first message's start line
 *     whole) and has not fallen back: its next byte
 *     is the end of the in-order prefix, its ranges are exactly those beyond
 *     it, a segment is noted a retransmission iff it starts before that
 *     prefix's end and out of order iff it starts after it;
 *   - when, on top of that, every byte arrived and nothing fell back: every
 *     corpus message was framed exactly once, in order, byte-identical, and
 *     nothing is held;
 *   - after the corpus part, whatever happened: P1 after a hole timeout, then
 *     P2 after another, each whole in one segment: P2 is framed, exactly once
 *     (the direction always finds its way back to the stream).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_parse.h"
#include "tcp_stream.h"

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_tcp_stream: REQUIRE failed at line %d: %s\n",        \
				__LINE__, #c);                                                     \
			__builtin_trap();                                                          \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 4
#define STREAM_MAX 65536u
#define MAX_SEGS 256
#define MAX_DUPS 15
#define MAX_DELIV (MAX_SEGS + MAX_DUPS)
#define MAX_FRAMED 64
#define MAX_IVS 1024
#define TIMEOUT 1000u /* hole timeout, in clock units */
#define POOL_MAX 2

/* --- the input, read from both ends --- */

struct input {
	const uint8_t *p;
	size_t lo, hi; /* control bytes from lo up, content bytes from hi down */
};

static bool ctl_left(const struct input *in)
{
	return in->lo < in->hi;
}

static uint8_t ctl8(struct input *in)
{
	return in->lo < in->hi ? in->p[in->lo++] : 0;
}

static uint16_t ctl16(struct input *in)
{
	uint16_t v = ctl8(in);

	return (uint16_t)(v << 8 | ctl8(in));
}

static uint8_t content8(struct input *in)
{
	return in->lo < in->hi ? in->p[--in->hi] : 0;
}

/* --- the stream --- */

struct tmpl {
	const char *start, *hdrs, *body, *ctype;
	bool raw_only; /* its body holds a line that looks like a start line */
};

#define VIA "Via: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bK"
#define FROM_A "From: <sip:1001@10.1.1.20>;tag=a1b2c3\r\n"
#define TO_A "To: <sip:1001@10.1.1.20>\r\n"
#define CONTACT_A "Contact: <sip:1001@10.20.30.41:51234;transport=tcp>\r\n"

static const struct tmpl tmpls[] = {
	{"REGISTER sip:10.1.1.20 SIP/2.0\r\n",
	 VIA "r1\r\n" FROM_A TO_A "CSeq: 1043 REGISTER\r\nMax-Forwards: 70\r\n"
	     "User-Agent: Cisco-CP8865/14.2.1\r\n" CONTACT_A "Supported: X-cisco-remotecc\r\n"
	     "Expires: 3600\r\n",
	 "--uniqueBoundary\r\nContent-Type: application/x-cisco-remotecc-request+xml\r\n\r\n"
	 "<x-cisco-remotecc-request><bulkupdate></bulkupdate></x-cisco-remotecc-request>\r\n"
	 "--uniqueBoundary--\r\n",
	 "multipart/mixed; boundary=uniqueBoundary", false},
	{"SIP/2.0 200 OK\r\n",
	 VIA "r1\r\n" FROM_A
	     "To: <sip:1001@10.1.1.20>;tag=c0re\r\nCSeq: 1043 REGISTER\r\n" CONTACT_A
	     "Expires: 3600\r\n",
	 "", NULL, false},
	{"INVITE sip:1002@10.1.1.20;user=phone SIP/2.0\r\n",
	 VIA "i1\r\n" FROM_A "To: <sip:1002@10.1.1.20>\r\nCSeq: 101 INVITE\r\n" CONTACT_A
	     "Call-Info: <urn:x-cisco-remotecc:callinfo>;security=NotAuthenticated\r\n",
	 "v=0\r\no=Cisco-SIPUA 28213 0 IN IP4 10.20.30.41\r\ns=SIP Call\r\nt=0 0\r\n"
	 "m=audio 28540 RTP/AVP 0 8 101\r\nc=IN IP4 10.20.30.41\r\na=rtpmap:0 PCMU/8000\r\n",
	 "application/sdp", false},
	{"SIP/2.0 100 Trying\r\n",
	 VIA "i1\r\n" FROM_A "To: <sip:1002@10.1.1.20>\r\nCSeq: 101 INVITE\r\n", "", NULL, false},
	{"ACK sip:1002@10.1.1.30:5060 SIP/2.0\r\n",
	 VIA "a1\r\n" FROM_A "To: <sip:1002@10.1.1.20>;tag=b0b\r\nCSeq: 101 ACK\r\n", "", NULL,
	 false},
	{"BYE sip:1002@10.1.1.30:5060 SIP/2.0\r\n",
	 VIA "b1\r\n" FROM_A "To: <sip:1002@10.1.1.20>;tag=b0b\r\nCSeq: 102 BYE\r\n", "", NULL,
	 false},
	{"OPTIONS sip:10.1.1.20 SIP/2.0\r\n",
	 "v: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bKo1\r\nf: <sip:1001@10.1.1.20>;tag=o1\r\n"
	 "t: <sip:10.1.1.20>\r\nCSeq: 7 OPTIONS\r\n",
	 "", NULL, false},
	{"NOTIFY sip:1001@10.20.30.41:51234 SIP/2.0\r\n",
	 VIA "n1\r\n" FROM_A TO_A "CSeq: 9 NOTIFY\r\nEvent: refer\r\n", "SIP/2.0 200 OK\r\n",
	 "message/sipfrag;version=2.0", true},
};

#define N_TMPLS (sizeof(tmpls) / sizeof(tmpls[0]))

/* Header-value bytes: never CR, LF or space, so no line of them starts a message. */
static const char safe_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				 "-.!%*_+`'~";

struct msg_ref {
	uint32_t off, len;
};

struct run {
	uint8_t stream[STREAM_MAX];
	uint32_t len;			   /* corpus part + probes */
	uint32_t corpus_len;		   /* the fuzzed part: [0, corpus_len) */
	struct msg_ref msgs[MAX_MSGS + 2]; /* corpus messages, then P1, P2 */
	unsigned int n_msgs;		   /* corpus messages (probes not counted) */
	uint32_t first_line_end;	   /* just past the first message's start line */
	uint32_t isn;
	bool clean;  /* bodies cannot hold a line that looks like a start line */
	bool intact; /* every corpus message frames alone (none damaged) */

	/* the pool */
	uint8_t *pool[POOL_MAX];
	bool in_use[POOL_MAX];
	unsigned int pool_n, n_in_use, taken, puts, get_no;
	unsigned int fail_get; /* the buf_get call (1-based) that fails; 0: none */
	bool last_get_failed;
	uint32_t buffer_bytes;
	uint64_t t_get; /* clock when the buffer held was taken */

	/* what the framer did */
	bool head_pending;
	uint32_t head_off;
	struct msg_ref framed[MAX_FRAMED];
	unsigned int n_framed;
	uint32_t framed_end; /* end of the last message framed */
	unsigned int notes[SK_TCP_NOTE_COUNT];
	bool fell_back;
	uint64_t now;

	/* expectations while tracking (see the top) */
	bool tracking, expect_range_overflow;
	struct sk_tcp_stream *s;
};

static struct run R;
static struct sk_sip_msg scratch;

/* FUZZ_TCP_STATS=1 in the environment: what the runs exercised, printed at exit. */
static struct {
	unsigned long runs, precondition, complete, clean_runs, strict_gen, framed, heads_cut;
	unsigned long notes[SK_TCP_NOTE_COUNT], deliveries, held_max;
} stats;

static void print_stats(void)
{
	static const char *const names[SK_TCP_NOTE_COUNT] = {
		"keepalive",	  "out_of_order", "retransmission", "resynced",
		"fb_buffer_full", "fb_no_buffer", "fb_hole",	    "fb_bad_framing"};
	unsigned int i;

	fprintf(stderr,
		"fuzz_tcp_stream stats: runs %lu strict_gen %lu precondition %lu complete %lu "
		"clean %lu deliveries %lu framed %lu head_pending %lu max_held %lu\n",
		stats.runs, stats.strict_gen, stats.precondition, stats.complete, stats.clean_runs,
		stats.deliveries, stats.framed, stats.heads_cut, stats.held_max);
	for (i = 0; i < SK_TCP_NOTE_COUNT; i++)
		fprintf(stderr, "  note %-15s %lu\n", names[i], stats.notes[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_TCP_STATS") != NULL)
		atexit(print_stats);
	return 0;
}

static void put_str(struct run *r, const char *s)
{
	size_t n = strlen(s);

	REQUIRE(r->len + n <= STREAM_MAX);
	memcpy(r->stream + r->len, s, n);
	r->len += (uint32_t)n;
}

static void put_byte(struct run *r, uint8_t c)
{
	REQUIRE(r->len < STREAM_MAX);
	r->stream[r->len++] = c;
}

/* Damage done to a message's framing (raw mode only): the direction must cope. */
enum damage { INTACT, NO_CL, CL_MORE, CL_HUGE, CL_LESS };

/* One message from template T: TOKENS bytes in the Call-ID, EXTRA header lines of
 * EXTRA_LEN bytes each, BODY_LEN fuzz bytes after the template's body, its
 * Content-Length right unless DAMAGE (by DELTA). */
static void put_msg(struct run *r, struct input *in, unsigned int t, unsigned int tokens,
		    unsigned int extra, unsigned int extra_len, unsigned int body_len, bool compact,
		    bool fuzz, enum damage damage, unsigned int delta)
{
	uint64_t cl;
	const struct tmpl *tp = &tmpls[t];
	uint32_t start = r->len, body_off;
	char line[64];
	unsigned int i, j;
	size_t tb = strlen(tp->body);
	enum sk_sip_err err;

	put_str(r, tp->start);
	put_str(r, tp->hdrs);
	put_str(r, compact ? "i: " : "Call-ID: ");
	put_str(r, "c0ffee-");
	for (i = 0; fuzz && i < tokens; i++)
		put_byte(r, (uint8_t)safe_chars[content8(in) % (sizeof(safe_chars) - 1)]);
	put_str(r, "@10.20.30.41\r\n");
	for (j = 0; fuzz && j < extra; j++) {
		snprintf(line, sizeof(line), "X-Fuzz-%u: ", j);
		put_str(r, line);
		for (i = 0; i < extra_len; i++)
			put_byte(r, (uint8_t)safe_chars[content8(in) % (sizeof(safe_chars) - 1)]);
		put_str(r, "\r\n");
	}
	if (!fuzz)
		body_len = 0;
	if (tb + body_len > 0) {
		put_str(r, compact ? "c: " : "Content-Type: ");
		put_str(r, tp->ctype != NULL ? tp->ctype : "text/plain");
		put_str(r, "\r\n");
	}
	cl = tb + body_len;
	if (damage == CL_MORE)
		cl += delta;
	else if (damage == CL_HUGE)
		cl = UINT32_MAX - delta;
	else if (damage == CL_LESS)
		cl = cl > delta ? cl - delta : 0;
	if (damage == NO_CL)
		snprintf(line, sizeof(line), "\r\n");
	else
		snprintf(line, sizeof(line), "%s%llu\r\n\r\n",
			 compact ? "l: " : "Content-Length: ", (unsigned long long)cl);
	put_str(r, line);
	body_off = r->len;
	put_str(r, tp->body);
	for (i = 0; i < body_len; i++) {
		uint8_t c = content8(in);

		if (r->clean)
			c = (uint8_t)safe_chars[c % (sizeof(safe_chars) - 1)];
		put_byte(r, c);
	}
	if (damage != INTACT)
		return;
	/* Every intact message frames alone: else the harness is wrong, not the framer. */
	err = sk_sip_parse((const char *)r->stream + start, r->len - start, &scratch);
	REQUIRE(err == SK_SIP_OK && scratch.has_content_length &&
		scratch.msg_len == r->len - start && scratch.hdr_end == body_off - start);
}

static void put_keepalive(struct run *r, unsigned int k)
{
	if (k == 1)
		put_str(r, "\r\n");
	else if (k == 2)
		put_str(r, "\r\n\r\n");
}

/* --- sets of byte ranges (stream offsets), for the expectations --- */

struct ivset {
	uint32_t a[MAX_IVS], b[MAX_IVS];
	unsigned int n;
};

static struct ivset got; /* bytes delivered so far */

/* Add [A, B), merged with what it touches. */
static void iv_add(struct ivset *v, uint32_t a, uint32_t b)
{
	unsigned int i = 0, j;

	while (i < v->n && v->b[i] < a)
		i++;
	for (j = i; j < v->n && v->a[j] <= b; j++) {
		if (v->a[j] < a)
			a = v->a[j];
		if (v->b[j] > b)
			b = v->b[j];
	}
	if (j == i) {
		REQUIRE(v->n < MAX_IVS);
		memmove(&v->a[i + 1], &v->a[i], (v->n - i) * sizeof(v->a[0]));
		memmove(&v->b[i + 1], &v->b[i], (v->n - i) * sizeof(v->b[0]));
		v->n++;
	} else if (j > i + 1) {
		memmove(&v->a[i + 1], &v->a[j], (v->n - j) * sizeof(v->a[0]));
		memmove(&v->b[i + 1], &v->b[j], (v->n - j) * sizeof(v->b[0]));
		v->n -= j - i - 1;
	}
	v->a[i] = a;
	v->b[i] = b;
}

/* End of the in-order prefix (bytes from offset 0). */
static uint32_t iv_prefix(const struct ivset *v)
{
	return v->n > 0 && v->a[0] == 0 ? v->b[0] : 0;
}

/* Ranges beyond the in-order prefix. */
static unsigned int iv_beyond(const struct ivset *v)
{
	return v->n > 0 && v->a[0] == 0 ? v->n - 1 : v->n;
}

/* --- the framer's callbacks --- */

static uint8_t *buf_get(void *ctx)
{
	struct run *r = ctx;
	unsigned int i;

	r->get_no++;
	r->last_get_failed = true;
	if (r->fail_get != 0 && r->get_no == r->fail_get)
		return NULL;
	for (i = 0; i < r->pool_n; i++)
		if (!r->in_use[i]) {
			r->in_use[i] = true;
			r->n_in_use++;
			r->taken++;
			/* one direction holds one buffer at a time */
			REQUIRE(r->n_in_use <= 1);
			r->last_get_failed = false;
			r->t_get = r->now;
			/* stale bytes must never be read as stream bytes */
			memset(r->pool[i], 0xa5, r->buffer_bytes);
			return r->pool[i];
		}
	return NULL;
}

static void buf_put(void *ctx, uint8_t *buf)
{
	struct run *r = ctx;
	unsigned int i;

	for (i = 0; i < r->pool_n; i++)
		if (r->pool[i] == buf)
			break;
	REQUIRE(i < r->pool_n && r->in_use[i]);
	r->in_use[i] = false;
	r->n_in_use--;
	r->puts++;
}

static bool is_msg(const struct run *r, uint32_t off, uint32_t len, bool whole)
{
	unsigned int i;

	for (i = 0; i < r->n_msgs + 2; i++)
		if (r->msgs[i].off == off && (!whole || r->msgs[i].len == len))
			return true;
	return false;
}

/* The bytes handed out are the stream's at SEQ. */
static uint32_t stream_off(const struct run *r, const char *bytes, uint32_t len, uint32_t seq)
{
	uint32_t off = seq - r->isn;

	REQUIRE(len > 0 && off < r->len && len <= r->len - off);
	REQUIRE(memcmp(bytes, r->stream + off, len) == 0);
	return off;
}

static void head(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		 const struct sk_sip_msg *msg)
{
	struct run *r = ctx;
	uint32_t off = stream_off(r, bytes, len, seq);

	REQUIRE(!r->head_pending);
	REQUIRE(off >= r->framed_end);
	REQUIRE(msg == &scratch && msg->hdr_end <= len);
	if (r->clean)
		REQUIRE(is_msg(r, off, len, false));
	r->head_pending = true;
	r->head_off = off;
}

static void message(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		    const struct sk_sip_msg *msg)
{
	struct run *r = ctx;
	uint32_t off = stream_off(r, bytes, len, seq);

	REQUIRE(r->head_pending && r->head_off == off);
	REQUIRE(off >= r->framed_end);
	REQUIRE(msg == &scratch && msg->msg_len == len);
	if (r->clean)
		REQUIRE(is_msg(r, off, len, true));
	r->head_pending = false;
	r->framed_end = off + len;
	REQUIRE(r->n_framed < MAX_FRAMED);
	r->framed[r->n_framed++] = (struct msg_ref){off, len};
}

static void note(void *ctx, enum sk_tcp_note n)
{
	struct run *r = ctx;

	REQUIRE((unsigned int)n < SK_TCP_NOTE_COUNT);
	r->notes[n]++;
	switch (n) {
	case SK_TCP_NOTE_RESYNCED:
		REQUIRE(r->fell_back);
		break;
	case SK_TCP_NOTE_FALLBACK_NO_BUFFER:
		REQUIRE(r->last_get_failed);
		goto fallback;
	case SK_TCP_NOTE_FALLBACK_HOLE:
		REQUIRE(r->now - r->t_get >= TIMEOUT);
		goto fallback;
	case SK_TCP_NOTE_FALLBACK_BUFFER_FULL:
		if (r->tracking && r->buffer_bytes >= r->corpus_len)
			REQUIRE(r->expect_range_overflow);
		goto fallback;
	case SK_TCP_NOTE_FALLBACK_BAD_FRAMING:
		/* valid messages followed from the start frame; after a fallback any
		 * line may have been taken for a start line */
		REQUIRE(!r->tracking);
		goto fallback;
	fallback:
		r->fell_back = true;
		r->tracking = false;
		r->head_pending = false; /* a head handed out, its message given up */
		break;
	default:
		break;
	}
}

/* --- after each call --- */

static void check_held(const struct run *r, const struct sk_tcp_stream *s)
{
	REQUIRE(r->n_in_use == (s->buf != NULL ? 1u : 0u));
	REQUIRE(s->n_ranges <= SK_TCP_MAX_RANGES);
	if (s->buf == NULL) {
		REQUIRE(s->n_ranges == 0);
		return;
	}
	REQUIRE(s->buf_len > 0 || s->n_ranges > 0);
	REQUIRE(s->buf_len <= r->buffer_bytes);
	if (s->n_ranges > 0) {
		const struct sk_tcp_range *last = &s->ooo[s->n_ranges - 1];

		REQUIRE(last->seq + last->len - s->buf_seq <= r->buffer_bytes);
		REQUIRE(sk_tcp_seq_before(s->next_seq, s->ooo[0].seq));
	}
}

static void deliver(struct run *r, struct sk_tcp_stream *s, const struct sk_tcp_ops *ops,
		    uint32_t a, uint32_t b)
{
	unsigned int retx0 = r->notes[SK_TCP_NOTE_RETRANSMISSION];
	unsigned int ooo0 = r->notes[SK_TCP_NOTE_OUT_OF_ORDER];
	bool tracking = r->tracking;
	uint32_t prefix = iv_prefix(&got);
	enum sk_tcp_result res;

	iv_add(&got, a, b);
	r->expect_range_overflow = a > prefix && iv_beyond(&got) > SK_TCP_MAX_RANGES;
	r->last_get_failed = false;
	res = sk_tcp_stream_input(s, ops, r->isn + a, (const char *)r->stream + a, b - a, r->now);
	check_held(r, s);
	stats.deliveries++;
	if (s->buf != NULL) {
		uint32_t ext = s->n_ranges > 0 ? s->ooo[s->n_ranges - 1].seq +
							 s->ooo[s->n_ranges - 1].len - s->buf_seq
					       : s->buf_len;

		if (ext > stats.held_max)
			stats.held_max = ext;
	}
	if (res == SK_TCP_HEAD_PENDING) {
		REQUIRE(s->buf != NULL && !s->head_done);
		stats.heads_cut++;
	}
	if (tracking) {
		REQUIRE(r->notes[SK_TCP_NOTE_RETRANSMISSION] - retx0 == (a < prefix ? 1u : 0u));
		REQUIRE(r->notes[SK_TCP_NOTE_OUT_OF_ORDER] - ooo0 == (a > prefix ? 1u : 0u));
	}
	if (r->tracking) {
		REQUIRE(s->state == SK_TCP_SYNCED && s->seen);
		REQUIRE(s->next_seq == r->isn + iv_prefix(&got));
		REQUIRE(s->n_ranges == iv_beyond(&got));
	}
}

static void expire(struct run *r, struct sk_tcp_stream *s, const struct sk_tcp_ops *ops)
{
	sk_tcp_stream_expire(s, ops, r->now, TIMEOUT);
	check_held(r, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, 0, size};
	struct run *r = &R;
	struct sk_tcp_stream s;
	struct sk_tcp_ops ops = {
		.ctx = r,
		.buf_get = buf_get,
		.buf_put = buf_put,
		.head = head,
		.message = message,
		.note = note,
		.scratch = &scratch,
	};
	uint32_t seg_a[MAX_SEGS], seg_b[MAX_SEGS], del_a[MAX_DELIV], del_b[MAX_DELIV];
	uint32_t key[MAX_SEGS], max_msg = 0;
	unsigned int n_seg = 0, n_del = 0, i, j, disp, n_dups, loss, bufsel;
	uint8_t mode, m2;
	bool strict_gen, big, complete, precondition, clean_run, syn;

	memset(r, 0, offsetof(struct run, s));
	got.n = 0;

	mode = ctl8(&in);
	m2 = ctl8(&in);
	r->n_msgs = 1 + (mode & 3);
	strict_gen = mode & 4;
	r->clean = !(mode & 8);
	r->intact = true;
	bufsel = (mode >> 4) & 3;
	r->pool_n = mode & 0x40 ? 2 : 1;
	big = mode & 0x80;
	disp = m2 & 7;
	n_dups = (m2 >> 3) & 15;
	r->isn = (uint32_t)ctl16(&in) << 16 | ctl16(&in);
	i = ctl8(&in);
	r->fail_get = (i & 0xc0) == 0xc0 ? ((i >> 1) & 0x1f) + 1 : 0;
	syn = i & 1;
	loss = strict_gen ? 0 : ctl8(&in);

	/* The corpus. */
	if (m2 & 0x80)
		put_keepalive(r, 1 + (ctl8(&in) & 1));
	for (i = 0; i < r->n_msgs; i++) {
		uint8_t t = ctl8(&in), f = ctl8(&in);
		unsigned int ti = t % N_TMPLS;

		enum damage dmg = INTACT;

		if (tmpls[ti].raw_only && r->clean)
			ti = 0;
		if (!r->clean && (t & 0x80)) {
			dmg = (enum damage)(NO_CL + ((t >> 4) & 3));
			r->intact = false;
		}
		r->msgs[i].off = r->len;
		put_msg(r, &in, ti, ctl8(&in) & 31, (f >> 1) & 3,
			(ctl8(&in) & 63) * (big ? 16u : 1u), ctl8(&in) * (big ? 16u : 1u), f & 1,
			true, dmg, 1u + ctl8(&in));
		r->msgs[i].len = r->len - r->msgs[i].off;
		if (r->msgs[i].len > max_msg)
			max_msg = r->msgs[i].len;
		if (i == 0) {
			const uint8_t *lf =
				memchr(r->stream + r->msgs[0].off, '\n', r->msgs[0].len);

			r->first_line_end = (uint32_t)(lf - r->stream) + 1;
		}
		if (i + 1 < r->n_msgs || (f & 0x40))
			put_keepalive(r, (f >> 3) & 3);
	}
	r->corpus_len = r->len;
	/* The probes: OPTIONS, each in one segment, after the corpus part. */
	for (i = 0; i < 2; i++) {
		r->msgs[r->n_msgs + i].off = r->len;
		put_msg(r, &in, 6, 0, 0, 0, 0, i == 1, false, INTACT, 0);
		r->msgs[r->n_msgs + i].len = r->len - r->msgs[r->n_msgs + i].off;
	}

	switch (bufsel) {
	case 0:
		r->buffer_bytes = 16384;
		break;
	case 1:
		r->buffer_bytes = r->len + (ctl8(&in) & 15);
		break;
	case 2:
		r->buffer_bytes = 32 + ctl16(&in) % 4096;
		break;
	default:
		r->buffer_bytes = max_msg + ctl8(&in) % 64;
		break;
	}
	ops.buffer_bytes = r->buffer_bytes;
	for (i = 0; i < r->pool_n; i++) {
		r->pool[i] = malloc(r->buffer_bytes);
		REQUIRE(r->pool[i] != NULL);
	}

	/* Segments. */
	for (uint32_t at = 0; at < r->corpus_len; n_seg++) {
		uint32_t len;

		if (!ctl_left(&in)) {
			len = 1460;
		} else {
			uint8_t b = ctl8(&in);

			len = b < 0x40	 ? 1u + b
			      : b < 0x80 ? 1u + (b - 0x40u) * 8
			      : b < 0xc0 ? 1u + (b - 0x80u) * 24
					 : 1460u - (b - 0xc0u);
		}
		if (n_seg == 0 && strict_gen && len < r->first_line_end)
			len = r->first_line_end;
		if (n_seg == MAX_SEGS - 1 || len > r->corpus_len - at)
			len = r->corpus_len - at;
		seg_a[n_seg] = at;
		seg_b[n_seg] = at + len;
		at += len;
	}
	/* Order: each segment displaced by at most DISP places (insertion sort on a key). */
	for (i = 0; i < n_seg; i++)
		key[i] = i * 16 + (disp ? ctl8(&in) % (disp * 16 + 1) : 0);
	if (strict_gen)
		key[0] = 0;
	for (i = 0; i < n_seg; i++) {
		bool lost = loss != 0 && ctl8(&in) < loss;

		if (lost)
			continue;
		for (j = n_del; j > 0 && key[i] < del_a[j - 1]; j--) {
			del_a[j] = del_a[j - 1];
			del_b[j] = del_b[j - 1];
		}
		del_a[j] = key[i];
		del_b[j] = i;
		n_del++;
	}
	for (i = 0; i < n_del; i++) {
		unsigned int k = del_b[i];

		del_a[i] = seg_a[k];
		del_b[i] = seg_b[k];
	}
	/* Duplicates: a segment again, or any byte range; anywhere (after the first in strict). */
	for (i = 0; i < n_dups && n_seg > 0; i++) {
		uint8_t kind = ctl8(&in);
		uint32_t a, b;
		unsigned int pos;

		if (kind & 1) {
			unsigned int k = ctl16(&in) % n_seg;

			a = seg_a[k];
			b = seg_b[k];
		} else {
			a = ctl16(&in) % r->corpus_len;
			b = a + 1 + ctl16(&in) % 2048;
			if (b > r->corpus_len)
				b = r->corpus_len;
		}
		pos = (unsigned int)((kind >> 1) * (n_del + 1u) / 128u);
		if (strict_gen && pos == 0 && n_del > 0)
			pos = 1;
		memmove(&del_a[pos + 1], &del_a[pos], (n_del - pos) * sizeof(del_a[0]));
		memmove(&del_b[pos + 1], &del_b[pos], (n_del - pos) * sizeof(del_b[0]));
		del_a[pos] = a;
		del_b[pos] = b;
		n_del++;
	}

	/* Drive it. */
	if (syn)
		sk_tcp_stream_start(&s, r->isn);
	else
		sk_tcp_stream_init(&s);
	r->s = &s;
	r->now = 1000;
	/* Opened by SYN, the direction knows its first byte; picked up mid-stream, it
	 * hunts, and knows it only when the first segment starts the stream and holds
	 * the first start line whole. */
	precondition = syn || (n_del > 0 && del_a[0] == 0 && del_b[0] >= r->first_line_end);
	r->tracking = precondition && r->intact;
	for (i = 0; i < n_del; i++) {
		uint8_t dt = ctl8(&in);

		r->now += dt < 0xf8 ? dt & 3 : TIMEOUT + (dt & 7);
		expire(r, &s, &ops);
		deliver(r, &s, &ops, del_a[i], del_b[i]);
	}
	complete = got.n == 1 && got.a[0] == 0 && got.b[0] == r->corpus_len;
	clean_run = precondition && complete && r->intact && !r->fell_back;
	if (clean_run) {
		REQUIRE(r->n_framed == r->n_msgs && !r->head_pending);
		for (i = 0; i < r->n_msgs; i++)
			REQUIRE(r->framed[i].off == r->msgs[i].off &&
				r->framed[i].len == r->msgs[i].len);
		REQUIRE(s.buf == NULL && s.state == SK_TCP_SYNCED &&
			s.next_seq == r->isn + r->corpus_len);
	}

	/* The probes: the direction finds its way back, whatever happened. */
	r->tracking = false;
	for (i = 0; i < 2; i++) {
		const struct msg_ref *p = &r->msgs[r->n_msgs + i];
		unsigned int before = r->n_framed;

		r->now += TIMEOUT;
		expire(r, &s, &ops);
		deliver(r, &s, &ops, p->off, p->off + p->len);
		if (i == 1) {
			REQUIRE(r->n_framed == before + 1);
			REQUIRE(r->framed[before].off == p->off && r->framed[before].len == p->len);
		}
		if (clean_run) /* in order: P1 too */
			REQUIRE(r->n_framed == before + 1);
	}

	stats.runs++;
	stats.strict_gen += strict_gen;
	stats.precondition += precondition;
	stats.complete += complete;
	stats.clean_runs += clean_run;
	stats.framed += r->n_framed;
	for (i = 0; i < SK_TCP_NOTE_COUNT; i++)
		stats.notes[i] += r->notes[i];
	sk_tcp_stream_close(&s, &ops);
	REQUIRE(s.buf == NULL && r->n_in_use == 0 && r->taken == r->puts);
	for (i = 0; i < r->pool_n; i++)
		free(r->pool[i]);
	return 0;
}
