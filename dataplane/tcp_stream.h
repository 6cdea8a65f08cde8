/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One direction of a TCP connection on a SIP port, cut into SIP messages
 * (RFC 3261 18.3: Content-Length framing). Pure byte work, no mbufs: the
 * worker's TCP path (tcp_path.c) owns the segments, this owns the bytes, and
 * the fuzzer drives it alone.
 *
 * Segments are never held here: their bytes are framed in place when a
 * message lies whole in one in-order segment, and copied only when a message
 * is cut by a segment boundary or arrives out of order. The copy lives in one
 * buffer per direction (ops->buf_get, sk_tcp_stream_limits.buffer_bytes),
 * taken when needed and given back as soon as no byte waits in it.
 *
 * What cannot be framed is not guessed at: past a bound, after a hole that
 * does not fill, or on bytes that are not SIP, the direction drops what it
 * holds and hunts for the next segment or line that starts a SIP message.
 */
#ifndef SK_TCP_STREAM_H
#define SK_TCP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "sip_parse.h"
#include "sk_common.h"

/* Out-of-order byte ranges one direction keeps beyond a hole. */
#define SK_TCP_MAX_RANGES 8

/* What happened to a direction's bytes: counted by the caller. */
enum sk_tcp_note {
	SK_TCP_NOTE_KEEPALIVE,	    /* CR/LF between messages (RFC 5626 ping or pong) */
	SK_TCP_NOTE_OUT_OF_ORDER,   /* a segment beyond a hole, copied */
	SK_TCP_NOTE_RETRANSMISSION, /* a segment with bytes already seen */
	SK_TCP_NOTE_RESYNCED,	    /* a message boundary found again after a fallback */
	SK_TCP_NOTE_FALLBACK_BUFFER_FULL,
	SK_TCP_NOTE_FALLBACK_NO_BUFFER,
	SK_TCP_NOTE_FALLBACK_HOLE,
	SK_TCP_NOTE_FALLBACK_BAD_FRAMING,
	SK_TCP_NOTE_COUNT
};

enum sk_tcp_state {
	SK_TCP_HUNT = 0, /* looking for the start of a message (new, or after a fallback) */
	SK_TCP_SYNCED,	 /* next_seq is the next byte, at or inside a message we framed */
};

struct sk_tcp_range {
	uint32_t seq, len;
};

struct sk_tcp_stream {
	uint32_t next_seq;  /* the next byte in order (HUNT: past the highest seen, if seen) */
	uint32_t buf_seq;   /* sequence number of buf[0] */
	uint32_t buf_len;   /* in-order bytes in buf: [buf_seq, next_seq) when SYNCED */
	uint32_t scan_from; /* buf offset from which the end of the header block is sought */
	uint8_t state;	    /* enum sk_tcp_state */
	uint8_t seen;	    /* next_seq is known */
	uint8_t head_done;  /* the buffered message's header block went to ops->head */
	uint8_t n_ranges;
	uint8_t fell_back;  /* a fallback happened: finding a message again is a resync */
	uint8_t last_error; /* enum sk_sip_err of the last bad framing (SK_SIP_ERR_COUNT: no
			     * Content-Length) */
	uint8_t *buf;	    /* NULL: no byte held */
	struct sk_tcp_range ooo[SK_TCP_MAX_RANGES]; /* sorted, disjoint, beyond next_seq */
	sk_time_ns hole_since; /* since when bytes wait in buf (a hole, or a cut message) */
};

/*
 * The caller's side. MSG is the scratch parse of the message (valid during
 * the call only). head(): the header block of the message starting at SEQ is
 * complete (its LEN bytes so far at BYTES; the whole message when it arrived
 * in one piece), called once per message, always before message().
 * message(): the message is complete, LEN bytes.
 */
struct sk_tcp_ops {
	void *ctx;
	uint8_t *(*buf_get)(void *ctx);
	void (*buf_put)(void *ctx, uint8_t *buf);
	void (*head)(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
		     const struct sk_sip_msg *msg);
	void (*message)(void *ctx, const char *bytes, uint32_t len, uint32_t seq,
			const struct sk_sip_msg *msg);
	void (*note)(void *ctx, enum sk_tcp_note n);
	struct sk_sip_msg *scratch;
	uint32_t buffer_bytes; /* size of a buffer: the most one direction holds */
};

/* What sk_tcp_stream_input leaves behind. */
enum sk_tcp_result {
	SK_TCP_DONE = 0,     /* every in-order byte is framed, or waits with its header seen */
	SK_TCP_HEAD_PENDING, /* a message's header block is cut: it continues later */
};

/* A direction seen for the first time: nothing held, hunting. */
void sk_tcp_stream_init(struct sk_tcp_stream *s);

/* A direction opened by SYN: its first byte, at SEQ, starts a message. */
void sk_tcp_stream_start(struct sk_tcp_stream *s, uint32_t seq);

/* Forget the direction (FIN, RST, idle): the buffer goes back. */
void sk_tcp_stream_close(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops);

/*
 * LEN payload bytes of a segment at sequence number SEQ (a SYN's or FIN's
 * own sequence number is not payload: pass the first payload byte's).
 */
enum sk_tcp_result sk_tcp_stream_input(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops,
				       uint32_t seq, const char *data, uint32_t len,
				       sk_time_ns now);

/* A hole open since before NOW - TIMEOUT gives up what waits beyond it (fallback). */
void sk_tcp_stream_expire(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops, sk_time_ns now,
			  sk_time_ns timeout);

/* Drop what the direction holds and hunt again, noting CAUSE. */
void sk_tcp_stream_fallback(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops,
			    enum sk_tcp_note cause);

static inline bool sk_tcp_seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

#endif /* SK_TCP_STREAM_H */
