/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP-over-TCP stream framer (dataplane/tcp_stream.c) on hand-made
 * segmentations: each case by name (test_tcp_stream CASE), all without one.
 * The callbacks record what the framer framed (sequence number, length,
 * bytes), the head()/message() order, the notes, and the buffers it takes
 * from a small pool (each malloc'd at exactly buffer_bytes, so that ASan sees
 * any write past the bound), and every buffer must be back after close.
 */
#include <stdlib.h>

#include "sk_test.h"
#include "tcp_stream.h"

#define POOL 2
#define MAX_REC 64
#define TIMEOUT 2000u

/* A Cisco-style REGISTER with a multipart body (its header block ends at REG_HDR_END). */
static const char REG[] =
	"REGISTER sip:10.1.1.20 SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bK1b6b3c1e\r\n"
	"From: <sip:1001@10.1.1.20>;tag=0c1a2b3c4d5e00117f2a3b4c-5d6e7f80\r\n"
	"To: <sip:1001@10.1.1.20>\r\n"
	"Call-ID: 0c1a2b3c-4d5e0011-2a3b4c5d-6e7f8091@10.20.30.41\r\n"
	"Max-Forwards: 70\r\n"
	"CSeq: 1043 REGISTER\r\n"
	"User-Agent: Cisco-CP8865/14.2.1\r\n"
	"Contact: "
	"<sip:6d1e4f2a@10.20.30.41:51234;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-"
	"0000-0000-0000-0c1a2b3c4d5e>\";+x-cisco-sessionpersist\r\n"
	"Supported: replaces,join,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-remotecc\r\n"
	"Expires: 3600\r\n"
	"Content-Type: multipart/mixed; boundary=uniqueBoundary\r\n"
	"Content-Length: 232\r\n"
	"\r\n"
	"--uniqueBoundary\r\n"
	"Content-Type: application/x-cisco-remotecc-request+xml\r\n"
	"\r\n"
	"<x-cisco-remotecc-request><bulkupdate><contact>all</contact><line>1</line>"
	"<mode>refresh</mode></bulkupdate></x-cisco-remotecc-request>\r\n"
	"--uniqueBoundary--\r\n";

static const char OK[] = "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bK1b6b3c1e\r\n"
			 "From: <sip:1001@10.1.1.20>;tag=0c1a2b3c4d5e00117f2a3b4c-5d6e7f80\r\n"
			 "To: <sip:1001@10.1.1.20>;tag=c0re\r\n"
			 "Call-ID: 0c1a2b3c-4d5e0011-2a3b4c5d-6e7f8091@10.20.30.41\r\n"
			 "CSeq: 1043 REGISTER\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n";

static const char OPT[] = "OPTIONS sip:10.1.1.20 SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bKo1\r\n"
			  "From: <sip:1001@10.1.1.20>;tag=o1\r\n"
			  "To: <sip:10.1.1.20>\r\n"
			  "Call-ID: opt-1@10.20.30.41\r\n"
			  "CSeq: 7 OPTIONS\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n";

/* The same without Content-Length: fine on UDP, a framing error on a stream. */
static const char OPT_NO_CL[] = "OPTIONS sip:10.1.1.20 SIP/2.0\r\n"
				"Via: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bKo2\r\n"
				"From: <sip:1001@10.1.1.20>;tag=o2\r\n"
				"To: <sip:10.1.1.20>\r\n"
				"Call-ID: opt-2@10.20.30.41\r\n"
				"CSeq: 8 OPTIONS\r\n"
				"\r\n";

struct rec {
	uint32_t seq, len;
	char bytes[2048];
};

struct h {
	/* the stream */
	char stream[16384];
	uint32_t len, isn;
	sk_time_ns now;
	/* the pool */
	uint8_t *pool[POOL];
	bool in_use[POOL];
	unsigned int pool_n, taken, puts;
	uint32_t buffer_bytes;
	/* what the framer did */
	struct rec msgs[MAX_REC];
	unsigned int n_msgs, n_heads, order_errors;
	bool head_open;
	uint32_t head_seq;
	unsigned int notes[SK_TCP_NOTE_COUNT];
	struct sk_tcp_stream s;
	struct sk_tcp_ops ops;
	struct sk_sip_msg scratch;
};

static uint8_t *buf_get(void *ctx)
{
	struct h *h = ctx;

	for (unsigned int i = 0; i < h->pool_n; i++)
		if (!h->in_use[i]) {
			h->in_use[i] = true;
			h->taken++;
			return h->pool[i];
		}
	return NULL;
}

static void buf_put(void *ctx, uint8_t *buf)
{
	struct h *h = ctx;

	for (unsigned int i = 0; i < h->pool_n; i++)
		if (h->pool[i] == buf && h->in_use[i]) {
			h->in_use[i] = false;
			h->puts++;
			return;
		}
	h->order_errors++; /* not a buffer of ours, or given back twice */
}

static void on_head(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		    const struct sk_sip_msg *msg)
{
	struct h *h = ctx;

	(void)bytes;
	(void)len;
	(void)msg;
	if (h->head_open)
		h->order_errors++;
	h->head_open = true;
	h->head_seq = seq;
	h->n_heads++;
}

static void on_message(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		       const struct sk_sip_msg *msg)
{
	struct h *h = ctx;
	struct rec *r;

	(void)msg;
	if (!h->head_open || h->head_seq != seq)
		h->order_errors++;
	h->head_open = false;
	if (h->n_msgs == MAX_REC || len >= sizeof(r->bytes)) {
		h->order_errors++;
		return;
	}
	r = &h->msgs[h->n_msgs++];
	r->seq = seq;
	r->len = len;
	memcpy(r->bytes, bytes, len);
	r->bytes[len] = '\0';
}

static void on_note(void *ctx, enum sk_tcp_note n)
{
	struct h *h = ctx;

	h->notes[n]++;
	if (n >= SK_TCP_NOTE_FALLBACK_BUFFER_FULL)
		h->head_open = false;
}

static struct h *h_new(uint32_t isn, uint32_t buffer_bytes, unsigned int pool_n)
{
	struct h *h = calloc(1, sizeof(*h));

	h->isn = isn;
	h->now = 1000;
	h->buffer_bytes = buffer_bytes;
	h->pool_n = pool_n;
	for (unsigned int i = 0; i < pool_n; i++)
		h->pool[i] = malloc(buffer_bytes);
	h->ops = (struct sk_tcp_ops){
		.ctx = h,
		.buf_get = buf_get,
		.buf_put = buf_put,
		.head = on_head,
		.message = on_message,
		.note = on_note,
		.scratch = &h->scratch,
		.buffer_bytes = buffer_bytes,
	};
	sk_tcp_stream_init(&h->s);
	return h;
}

/* Append S to the stream; returns its offset. */
static uint32_t add(struct h *h, const char *s)
{
	uint32_t off = h->len, n = (uint32_t)strlen(s);

	memcpy(h->stream + h->len, s, n);
	h->len += n;
	return off;
}

/* Deliver stream bytes [A, B). */
static enum sk_tcp_result feed(struct h *h, uint32_t a, uint32_t b)
{
	return sk_tcp_stream_input(&h->s, &h->ops, h->isn + a, h->stream + a, b - a, h->now);
}

static bool holds(const struct h *h)
{
	return h->s.buf != NULL;
}

static unsigned int in_use(const struct h *h)
{
	return h->taken - h->puts;
}

/* Message I of the record is S at stream offset OFF. */
static bool framed_is(const struct h *h, unsigned int i, uint32_t off, const char *s)
{
	return i < h->n_msgs && h->msgs[i].seq == h->isn + off && h->msgs[i].len == strlen(s) &&
	       strcmp(h->msgs[i].bytes, s) == 0;
}

/* Close, check every buffer is back, free. */
static void h_done(struct h *h, const char *what)
{
	sk_tcp_stream_close(&h->s, &h->ops);
	SK_CHECK_EQ(in_use(h), 0, "%s: every buffer taken is given back after close", what);
	SK_CHECK_EQ(h->order_errors, 0, "%s: head() once before each message(), buffers ours",
		    what);
	for (unsigned int i = 0; i < h->pool_n; i++)
		free(h->pool[i]);
	free(h);
}

/* --- the cases --- */

static void two_in_one(void)
{
	struct h *h = h_new(1000, 16384, 1);
	uint32_t a = add(h, REG), b = add(h, OK);

	SK_CHECK_EQ(feed(h, 0, h->len), SK_TCP_DONE, "two messages in one segment: done");
	SK_CHECK_EQ(h->n_msgs, 2, "two messages in one segment: both framed");
	SK_CHECK(framed_is(h, 0, a, REG), "the REGISTER, byte-identical");
	SK_CHECK(framed_is(h, 1, b, OK), "then the 200, byte-identical");
	SK_CHECK_EQ(h->n_heads, 2, "one head() per message");
	SK_CHECK_EQ(h->taken, 0, "framed in place: no buffer taken");
	h_done(h, "two_in_one");
}

/* A message split in two at every offset; after a first message (the direction is synced). */
static void split_every_offset(void)
{
	uint32_t n = (uint32_t)strlen(REG), hdr_end = (uint32_t)(strstr(REG, "\r\n\r\n") - REG) + 4;
	unsigned int bad = 0, bad_pending = 0, bad_held = 0;

	for (uint32_t k = 1; k < n; k++) {
		struct h *h = h_new(0xfffff000u + k, 16384, 1);
		uint32_t first = add(h, OPT), at = add(h, REG);
		enum sk_tcp_result r;

		feed(h, first, at);
		r = feed(h, at, at + k);
		/* cut inside the header block: the head waits; in the body: the head went out */
		if ((r == SK_TCP_HEAD_PENDING) != (k < hdr_end))
			bad_pending++;
		if (!holds(h))
			bad_held++;
		feed(h, at + k, h->len);
		if (h->n_msgs != 2 || !framed_is(h, 0, first, OPT) || !framed_is(h, 1, at, REG) ||
		    h->n_heads != 2 || holds(h) || h->order_errors != 0) {
			if (bad++ < 5)
				SK_NOTE("split at %u: %u framed, %u heads, held %d", k, h->n_msgs,
					h->n_heads, holds(h));
		}
		h_done(h, "split_every_offset");
	}
	SK_CHECK_EQ(bad, 0, "REGISTER (%u bytes) split at every offset: framed once, whole", n);
	SK_CHECK_EQ(bad_pending, 0, "HEAD_PENDING exactly while the header block (%u bytes) is cut",
		    hdr_end);
	SK_CHECK_EQ(bad_held, 0, "the cut message waits in a buffer");
}

/*
 * The same on a new connection's first segment (the "REGISTER split
 * at every byte offset of its header block, each committed exactly once"):
 * opened by SYN (sk_tcp_stream_start), the direction knows its first byte, so
 * any cut frames; picked up mid-stream (sk_tcp_stream_init), it hunts for a
 * whole start line, so the first message is framed when its first segment
 * holds that line, and otherwise the hunt finds the next message.
 */
static void split_first_segment(void)
{
	uint32_t n = (uint32_t)strlen(REG), hdr_end = (uint32_t)(strstr(REG, "\r\n\r\n") - REG) + 4;
	uint32_t line_end = (uint32_t)(strstr(REG, "\r\n") - REG) + 2;
	unsigned int bad_syn = 0, bad_mid = 0;

	for (uint32_t k = 1; k < hdr_end; k++) {
		for (int syn = 0; syn < 2; syn++) {
			struct h *h = h_new(0xfffffe00u + k, 16384, 1);
			uint32_t at = add(h, REG), after = add(h, OK);
			bool whole;

			if (syn)
				sk_tcp_stream_start(&h->s, h->isn);
			feed(h, at, at + k);
			feed(h, at + k, h->len);
			whole = h->n_msgs == 2 && framed_is(h, 0, at, REG) &&
				framed_is(h, 1, after, OK);
			if (syn && !whole && bad_syn++ < 3)
				SK_NOTE("SYN, first segment %u bytes: %u framed", k, h->n_msgs);
			/* mid-stream: the start line cut, the hunt finds the 200 */
			if (!syn &&
			    !(k >= line_end ? whole
					    : h->n_msgs == 1 && framed_is(h, 0, after, OK)) &&
			    bad_mid++ < 3)
				SK_NOTE("mid-stream, first segment %u bytes: %u framed", k,
					h->n_msgs);
			h_done(h, "split_first_segment");
		}
	}
	SK_CHECK_EQ(bad_syn, 0,
		    "opened by SYN: the first REGISTER (%u bytes) split at every offset of its "
		    "header block, framed once",
		    n);
	SK_CHECK_EQ(bad_mid, 0,
		    "picked up mid-stream: framed once when the first segment holds its start line "
		    "(%u bytes), else the next message is",
		    line_end);
}

static void keepalives(void)
{
	struct h *h = h_new(5, 16384, 1);
	uint32_t p0 = add(h, "\r\n\r\n"), a = add(h, OPT), p1 = add(h, "\r\n\r\n"), b = add(h, OK),
		 p2 = add(h, "\r\n"), c = add(h, OPT), end;

	(void)p0;
	add(h, "\r\n\r\n");
	end = h->len;
	feed(h, 0, a + 40);	 /* ping, then the OPTIONS' start line and more */
	feed(h, a + 40, p1 + 2); /* the rest, half a ping */
	feed(h, p1 + 2, b);	 /* the other half */
	feed(h, b, p2 + 1);	 /* the 200, half a pong */
	feed(h, p2 + 1, end);	 /* the rest of the pong, an OPTIONS, a ping */
	SK_CHECK_EQ(h->n_msgs, 3, "keep-alives around and between messages, cut anywhere");
	SK_CHECK(framed_is(h, 0, a, OPT) && framed_is(h, 1, b, OK) && framed_is(h, 2, c, OPT),
		 "the three messages, whole, in order");
	SK_CHECK(h->notes[SK_TCP_NOTE_KEEPALIVE] >= 3, "keep-alives noted (%u)",
		 h->notes[SK_TCP_NOTE_KEEPALIVE]);
	SK_CHECK(!holds(h), "nothing held once all is framed");
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BAD_FRAMING], 0,
		    "a keep-alive is no bad framing");
	h_done(h, "keepalives");
}

static void retransmission_overlap(void)
{
	struct h *h = h_new(0x7ffffff0u, 16384, 1);
	uint32_t a = add(h, REG), b = add(h, OK), c = add(h, OPT), end = h->len;

	(void)a;
	feed(h, 0, 400);    /* REGISTER, cut in its header block */
	feed(h, 0, 400);    /* the same again */
	feed(h, 100, 700);  /* overlapping: old bytes, then new ones */
	feed(h, 0, b + 20); /* from the start, to inside the 200 */
	SK_CHECK_EQ(h->n_msgs, 1, "the REGISTER once, after three retransmissions");
	feed(h, b, c);	  /* the 200 again, its end new */
	feed(h, a, end);  /* everything again, the OPTIONS new */
	feed(h, 50, end); /* and again: all old */
	SK_CHECK_EQ(h->n_msgs, 3, "three messages, each framed once");
	SK_CHECK(framed_is(h, 0, a, REG) && framed_is(h, 1, b, OK) && framed_is(h, 2, c, OPT),
		 "byte-identical, in order");
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_RETRANSMISSION], 6, "six retransmissions noted");
	SK_CHECK(!holds(h), "nothing held");
	h_done(h, "retransmission_overlap");
}

static void out_of_order_pair(void)
{
	struct h *h = h_new(42, 16384, 1);
	uint32_t a = add(h, OPT), b = add(h, REG), c = add(h, OK), cut = b + 300;

	(void)c;
	feed(h, a, b); /* in order: the OPTIONS */
	feed(h, cut, h->len);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_OUT_OF_ORDER], 1, "the later segment first: out of order");
	SK_CHECK_EQ(h->n_msgs, 1, "nothing framed beyond the hole");
	SK_CHECK(holds(h) && h->s.n_ranges == 1, "its bytes kept beyond the hole");
	feed(h, b, cut);
	SK_CHECK_EQ(h->n_msgs, 3, "the hole filled: both framed");
	SK_CHECK(framed_is(h, 1, b, REG) && framed_is(h, 2, c, OK), "in order, byte-identical");
	SK_CHECK(!holds(h), "buffer given back");
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_HOLE], 0, "no fallback");
	h_done(h, "out_of_order_pair");
}

static void hole_fallback(void)
{
	struct h *h = h_new(3000, 16384, 1);
	uint32_t a = add(h, OPT), b = add(h, REG), c = add(h, OK), d = add(h, OPT);

	(void)a;
	feed(h, a, b + 100); /* the OPTIONS, the REGISTER's start */
	feed(h, b + 600, d); /* beyond a hole: the REGISTER's end, the 200 */
	h->now += TIMEOUT - 1;
	sk_tcp_stream_expire(&h->s, &h->ops, h->now, TIMEOUT);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_HOLE], 0, "the hole waits up to the timeout");
	SK_CHECK(holds(h), "its bytes still held");
	h->now += 1;
	sk_tcp_stream_expire(&h->s, &h->ops, h->now, TIMEOUT);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_HOLE], 1, "then falls back (hole)");
	SK_CHECK(!holds(h) && in_use(h) == 0, "and gives its buffer back");
	SK_CHECK_EQ(h->s.state, SK_TCP_HUNT, "hunting");
	feed(h, b + 100, b + 600); /* the lost bytes after all: too late */
	SK_CHECK_EQ(h->n_msgs, 1, "the REGISTER and the 200 are never framed");
	feed(h, d, h->len); /* a message starting a segment */
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_RESYNCED], 1, "resynced at the next message");
	SK_CHECK_EQ(h->n_msgs, 2, "which is framed");
	SK_CHECK(framed_is(h, 1, d, OPT), "whole");
	(void)c;
	h_done(h, "hole_fallback");
}

/* A hole opened when the clock reads 0 (a replay capture starting at t=0) expires too. */
static void hole_at_time_zero(void)
{
	struct h *h = h_new(3000, 16384, 1);
	uint32_t b = add(h, REG), d = add(h, OPT);

	h->now = 0;
	feed(h, b, b + 100); /* a cut REGISTER, its rest lost */
	h->now = TIMEOUT;
	sk_tcp_stream_expire(&h->s, &h->ops, h->now, TIMEOUT);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_HOLE], 1,
		    "a message cut at time 0 and never completed falls back after the timeout");
	SK_CHECK(!holds(h), "and gives its buffer back");
	feed(h, d, h->len);
	SK_CHECK_EQ(h->n_msgs, 1, "the next message is framed");
	h_done(h, "hole_at_time_zero");
}

static void buffer_bound(void)
{
	struct h *h = h_new(9, 512, 1);
	uint32_t a = add(h, REG), b = add(h, OPT), c = add(h, OPT), d;

	(void)a;
	feed(h, 0, 300); /* the REGISTER's header block is longer than 512 */
	feed(h, 300, 600);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BUFFER_FULL], 1,
		    "a header block past buffer_bytes: fallback (buffer full)");
	SK_CHECK(!holds(h) && in_use(h) == 0, "nothing held");
	feed(h, 600, b); /* the REGISTER's end */
	feed(h, b, c);	 /* a message starting a segment */
	SK_CHECK_EQ(h->n_msgs, 1, "the next message is picked up again");
	SK_CHECK(framed_is(h, 0, b, OPT), "whole");
	/* beyond a hole, past the bound */
	d = add(h, REG);
	add(h, OPT);
	feed(h, c, c + 20);
	feed(h, d + 100, d + 700);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BUFFER_FULL], 2,
		    "out-of-order bytes past buffer_bytes: fallback (buffer full)");
	SK_CHECK(!holds(h), "nothing held");
	h_done(h, "buffer_bound");

	/* more disjoint out-of-order ranges than a direction keeps */
	h = h_new(9, 16384, 1);
	a = add(h, REG);
	feed(h, 0, 40); /* the start line and more */
	for (unsigned int i = 0; i < SK_TCP_MAX_RANGES; i++)
		feed(h, 60 + 20 * i, 70 + 20 * i);
	SK_CHECK_EQ(h->s.n_ranges, SK_TCP_MAX_RANGES, "%u ranges kept beyond the hole",
		    SK_TCP_MAX_RANGES);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BUFFER_FULL], 0, "no fallback yet");
	feed(h, 70 + 20 * SK_TCP_MAX_RANGES, 80 + 20 * SK_TCP_MAX_RANGES);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BUFFER_FULL], 1, "one more: fallback");
	SK_CHECK(!holds(h), "nothing held");
	h_done(h, "buffer_bound ranges");

	/* no buffer free */
	h = h_new(9, 16384, 0);
	a = add(h, OPT);
	b = add(h, REG);
	feed(h, a, b + 100);
	SK_CHECK_EQ(h->n_msgs, 1, "no buffer: the whole message is framed in place");
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_NO_BUFFER], 1,
		    "the cut one falls back (no buffer)");
	h_done(h, "buffer_bound no buffer");
}

static void no_content_length(void)
{
	struct h *h = h_new(77, 16384, 1);
	uint32_t a = add(h, OPT_NO_CL), b = add(h, OPT);

	(void)a;
	feed(h, 0, b);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BAD_FRAMING], 1,
		    "no Content-Length on a stream: bad framing");
	SK_CHECK_EQ(h->s.last_error, SK_SIP_ERR_COUNT, "last_error says: no Content-Length");
	SK_CHECK_EQ(h->n_msgs, 0, "nothing framed");
	SK_CHECK_EQ(h->n_heads, 0, "no head either");
	feed(h, b, h->len);
	SK_CHECK_EQ(h->n_msgs, 1, "the next message (with Content-Length) is framed");
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_RESYNCED], 1, "resynced");
	h_done(h, "no_content_length");
}

/*
 * A Content-Length past any bound: fallback (buffer full) as soon as the
 * header block is whole, no head() for a message that can never be framed;
 * 4294967295 too, whose sum with the header block's length wraps 32 bits.
 */
static void content_length_huge(void)
{
	static const char *const cls[] = {"16385", "1000000", "4294967295"};

	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		struct h *h = h_new(11, 16384, 1);
		char msg[512];
		uint32_t a, b;

		snprintf(msg, sizeof(msg),
			 "MESSAGE sip:1001@10.1.1.20 SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 10.20.30.41:51234;branch=z9hG4bKm1\r\n"
			 "From: <sip:1002@10.1.1.20>;tag=m1\r\n"
			 "To: <sip:1001@10.1.1.20>\r\n"
			 "Call-ID: msg-1@10.20.30.41\r\n"
			 "CSeq: 1 MESSAGE\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %s\r\n"
			 "\r\n"
			 "hello",
			 cls[i]);
		a = add(h, msg);
		b = h->len;
		feed(h, a, b);
		SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_BUFFER_FULL], 1,
			    "Content-Length %s past buffer_bytes 16384: fallback (buffer full)",
			    cls[i]);
		SK_CHECK_EQ(h->n_heads, 0, "Content-Length %s: no head()", cls[i]);
		SK_CHECK(!holds(h), "Content-Length %s: nothing held", cls[i]);
		h_done(h, "content_length_huge");
	}
}

/* After a fallback, a message found after a line end inside a segment. */
static void resync_after_fallback(void)
{
	struct h *h = h_new(0xffffff00u, 16384, 1);
	uint32_t a = add(h, REG), b = add(h, OK), c = add(h, OPT);

	(void)a;
	feed(h, 0, 200);
	feed(h, 400, 500); /* out of order */
	h->now += TIMEOUT;
	sk_tcp_stream_expire(&h->s, &h->ops, h->now, TIMEOUT);
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_FALLBACK_HOLE], 1, "fallback (hole)");
	feed(h, 500, b + 10); /* the REGISTER's end, the 200's start line cut: nothing */
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_RESYNCED], 0, "no start line in it: still hunting");
	feed(h, b + 10, c + 40); /* the 200's rest, then the OPTIONS after its LF */
	SK_CHECK_EQ(h->notes[SK_TCP_NOTE_RESYNCED], 1, "resynced at the line after a LF");
	feed(h, c + 40, h->len);
	SK_CHECK_EQ(h->n_msgs, 1, "the OPTIONS framed");
	SK_CHECK(framed_is(h, 0, c, OPT), "whole, across the wrap of the sequence space");
	SK_CHECK(!holds(h), "nothing held");
	h_done(h, "resync_after_fallback");
}

/* The messages above frame alone, each with its Content-Length (else the cases are wrong). */
static void templates(void)
{
	static const char *const all[] = {REG, OK, OPT};
	struct sk_sip_msg m;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		SK_CHECK(sk_sip_parse(all[i], strlen(all[i]), &m) == SK_SIP_OK &&
				 m.has_content_length && m.msg_len == strlen(all[i]),
			 "test message %zu parses, Content-Length right", i);
	SK_CHECK(sk_sip_parse(OPT_NO_CL, strlen(OPT_NO_CL), &m) == SK_SIP_OK &&
			 !m.has_content_length,
		 "the message without Content-Length parses (as UDP would take it)");
}

static const struct {
	const char *name;
	void (*fn)(void);
	const char *what;
} cases[] = {
	{"two_in_one", two_in_one, "two messages in one segment"},
	{"split_every_offset", split_every_offset, "a REGISTER split at every offset"},
	{"split_first_segment", split_first_segment,
	 "a new connection's first REGISTER split in its header block"},
	{"keepalives", keepalives, "CRLF keep-alives around and between messages"},
	{"retransmission_overlap", retransmission_overlap, "whole and partial retransmissions"},
	{"out_of_order_pair", out_of_order_pair, "an out-of-order pair"},
	{"hole_fallback", hole_fallback, "a hole never filled: fallback, then resync"},
	{"hole_at_time_zero", hole_at_time_zero, "a hole opened at clock 0 expires too"},
	{"buffer_bound", buffer_bound, "buffer_bytes, range and buffer-pool bounds"},
	{"no_content_length", no_content_length, "no Content-Length: bad framing"},
	{"content_length_huge", content_length_huge, "a Content-Length past any bound"},
	{"resync_after_fallback", resync_after_fallback, "resync after a LF inside a segment"},
};

int main(int argc, char **argv)
{
	bool any = false;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		any = true;
		sk_test_verbose = true;
		SK_NOTE("%s: %s", cases[i].name, cases[i].what);
		cases[i].fn();
	}
	if (any)
		templates();
	if (!any) {
		printf("unknown case %s\n", argv[1]);
		return 1;
	}
	return sk_test_done();
}
