/* SPDX-License-Identifier: BSD-3-Clause */
/* SIP message framing on one direction of a TCP connection (tcp_stream.h). */
#include <string.h>

#include "sip_detect.h"
#include "tcp_stream.h"

void sk_tcp_stream_init(struct sk_tcp_stream *s)
{
	memset(s, 0, sizeof(*s));
}

void sk_tcp_stream_start(struct sk_tcp_stream *s, uint32_t seq)
{
	sk_tcp_stream_init(s);
	s->state = SK_TCP_SYNCED;
	s->seen = 1;
	s->next_seq = seq;
}

static void drop_bytes(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops)
{
	if (s->buf != NULL)
		ops->buf_put(ops->ctx, s->buf);
	s->buf = NULL;
	s->buf_len = 0;
	s->n_ranges = 0;
	s->head_done = 0;
	s->scan_from = 0;
	s->hole_since = 0;
}

void sk_tcp_stream_close(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops)
{
	drop_bytes(s, ops);
	sk_tcp_stream_init(s);
}

/* Past the highest byte seen, so that what comes before it is known as old. */
static void advance_to(struct sk_tcp_stream *s, uint32_t end)
{
	if (!s->seen || sk_tcp_seq_before(s->next_seq, end))
		s->next_seq = end;
	s->seen = 1;
}

void sk_tcp_stream_fallback(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops,
			    enum sk_tcp_note cause)
{
	if (s->n_ranges > 0) {
		const struct sk_tcp_range *last = &s->ooo[s->n_ranges - 1];

		advance_to(s, last->seq + last->len);
	}
	drop_bytes(s, ops);
	s->state = SK_TCP_HUNT;
	s->fell_back = 1;
	ops->note(ops->ctx, cause);
}

/* Offset of the first byte that starts a SIP message: at 0 or after a LF; LEN if none. */
static uint32_t hunt(const char *p, uint32_t len)
{
	uint32_t i;

	if (sk_sip_detect(p, len))
		return 0;
	for (i = 0; i + 1 < len; i++)
		if (p[i] == '\n' && p[i + 1] != '\r' && p[i + 1] != '\n' &&
		    sk_sip_detect(p + i + 1, len - i - 1))
			return i + 1;
	return len;
}

/* Offset just past the empty line that ends the header block in P[0, N), or 0 if none yet. */
static uint32_t header_end(const char *p, uint32_t n, uint32_t from)
{
	const char *lf = from < n ? memchr(p + from, '\n', n - from) : NULL;

	while (lf != NULL) {
		uint32_t i = (uint32_t)(lf - p) + 1;

		if (i < n && p[i] == '\n')
			return i + 1;
		if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
			return i + 2;
		if (i + 1 >= n)
			return 0; /* the next line has not arrived */
		lf = memchr(p + i, '\n', n - i);
	}
	return 0;
}

/*
 * Frame whole messages from P, N in-order bytes at SEQ; the first may be the
 * one whose head went out already (s->head_done). Returns the bytes done with:
 * the rest is one cut message, or the direction fell back (state HUNT).
 */
static uint32_t frame(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops, const char *p,
		      uint32_t n, uint32_t seq, bool *head_pending)
{
	struct sk_sip_msg *m = ops->scratch;
	uint32_t off = 0;

	for (;;) {
		uint32_t avail, lim, hend, len;
		enum sk_sip_err err;

		if (off < n && (p[off] == '\r' || p[off] == '\n')) {
			while (off < n && (p[off] == '\r' || p[off] == '\n'))
				off++;
			ops->note(ops->ctx, SK_TCP_NOTE_KEEPALIVE);
			s->head_done = 0;
			s->scan_from = 0;
		}
		if (off == n)
			return n;
		avail = n - off;
		hend = header_end(p + off, avail, s->scan_from);
		if (hend == 0) {
			if (avail > ops->buffer_bytes) {
				sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_BUFFER_FULL);
				return off;
			}
			/* Resume the search where it stopped, a line end early. */
			s->scan_from = avail > 3 ? avail - 3 : 0;
			*head_pending = true;
			return off;
		}
		lim = avail < SK_SIP_MAX_LEN ? avail : SK_SIP_MAX_LEN;
		err = sk_sip_parse(p + off, lim, m);
		if (err == SK_SIP_ERR_CONTENT_LENGTH_BEYOND) {
			/* The header block is whole, the body is still coming. */
			if ((uint32_t)m->hdr_end + m->content_length > ops->buffer_bytes) {
				sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_BUFFER_FULL);
				return off;
			}
			if (!s->head_done)
				ops->head(ops->ctx, p + off, avail, seq + off, m);
			s->head_done = 1;
			s->scan_from = 0;
			return off;
		}
		/* RFC 3261 18.3: on a stream, Content-Length is what frames a message. */
		if (err != SK_SIP_OK || !m->has_content_length) {
			s->last_error = (uint8_t)(err != SK_SIP_OK ? err : SK_SIP_ERR_COUNT);
			sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_BAD_FRAMING);
			return off;
		}
		len = m->msg_len;
		if (!s->head_done)
			ops->head(ops->ctx, p + off, len, seq + off, m);
		ops->message(ops->ctx, p + off, len, seq + off, m);
		s->head_done = 0;
		s->scan_from = 0;
		off += len;
	}
}

/* Take a buffer for bytes starting at SEQ; false (fallen back) when none is free. */
static bool take_buffer(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops, uint32_t seq)
{
	if (s->buf != NULL)
		return true;
	s->buf = ops->buf_get(ops->ctx);
	if (s->buf == NULL) {
		sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_NO_BUFFER);
		return false;
	}
	s->buf_seq = seq;
	s->buf_len = 0;
	return true;
}

/* Record [SEQ, SEQ+LEN) beyond the hole, merged with what touches it. False: no room. */
static bool add_range(struct sk_tcp_stream *s, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + len;
	unsigned int i = 0, j;

	while (i < s->n_ranges && sk_tcp_seq_before(s->ooo[i].seq + s->ooo[i].len, seq))
		i++;
	/* Ranges i.. that touch [seq, end) merge into one. */
	for (j = i; j < s->n_ranges && !sk_tcp_seq_before(end, s->ooo[j].seq); j++) {
		if (sk_tcp_seq_before(s->ooo[j].seq, seq))
			seq = s->ooo[j].seq;
		if (sk_tcp_seq_before(end, s->ooo[j].seq + s->ooo[j].len))
			end = s->ooo[j].seq + s->ooo[j].len;
	}
	if (j == i && s->n_ranges == SK_TCP_MAX_RANGES)
		return false;
	if (j == i) {
		memmove(&s->ooo[i + 1], &s->ooo[i], (s->n_ranges - i) * sizeof(s->ooo[0]));
		s->n_ranges++;
	} else if (j > i + 1) {
		memmove(&s->ooo[i + 1], &s->ooo[j], (s->n_ranges - j) * sizeof(s->ooo[0]));
		s->n_ranges = (uint8_t)(s->n_ranges - (j - i - 1));
	}
	s->ooo[i] = (struct sk_tcp_range){seq, end - seq};
	return true;
}

static enum sk_tcp_result out_of_order(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops,
				       uint32_t seq, const char *data, uint32_t len, sk_time_ns now)
{
	uint32_t at;

	ops->note(ops->ctx, SK_TCP_NOTE_OUT_OF_ORDER);
	if (!take_buffer(s, ops, s->next_seq)) {
		advance_to(s, seq + len);
		return SK_TCP_DONE;
	}
	at = seq - s->buf_seq;
	if (at + len > ops->buffer_bytes || !add_range(s, seq, len)) {
		sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_BUFFER_FULL);
		advance_to(s, seq + len);
		return SK_TCP_DONE;
	}
	memcpy(s->buf + at, data, len);
	if (s->hole_since == 0)
		s->hole_since = now;
	return SK_TCP_DONE;
}

/* Bytes of the buffer up to the end of the last range beyond the hole. */
static uint32_t buffer_extent(const struct sk_tcp_stream *s)
{
	if (s->n_ranges == 0)
		return s->buf_len;
	return s->ooo[s->n_ranges - 1].seq + s->ooo[s->n_ranges - 1].len - s->buf_seq;
}

/* USED framed bytes leave the front of the buffer; an empty buffer goes back. */
static void consume(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops, uint32_t used,
		    sk_time_ns now)
{
	uint32_t extent = buffer_extent(s);

	if (used > 0) {
		memmove(s->buf, s->buf + used, extent - used);
		s->buf_seq += used;
		s->buf_len -= used;
	}
	if (s->buf_len == 0 && s->n_ranges == 0) {
		drop_bytes(s, ops);
		return;
	}
	/* A cut message waits, like a hole, at most the hole timeout. */
	if (used > 0 || s->hole_since == 0)
		s->hole_since = now;
}

enum sk_tcp_result sk_tcp_stream_input(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops,
				       uint32_t seq, const char *data, uint32_t len, sk_time_ns now)
{
	bool head_pending = false;
	uint32_t used;

	if (len == 0)
		return SK_TCP_DONE;
	if (s->seen && sk_tcp_seq_before(seq, s->next_seq)) {
		uint32_t old = s->next_seq - seq;

		ops->note(ops->ctx, SK_TCP_NOTE_RETRANSMISSION);
		if (old >= len)
			return SK_TCP_DONE;
		data += old;
		len -= old;
		seq = s->next_seq;
	}
	if (s->state == SK_TCP_HUNT) {
		uint32_t at = hunt(data, len);

		if (at == len) {
			advance_to(s, seq + len);
			return SK_TCP_DONE;
		}
		if (s->fell_back)
			ops->note(ops->ctx, SK_TCP_NOTE_RESYNCED);
		s->state = SK_TCP_SYNCED;
		data += at;
		len -= at;
		seq += at;
		s->next_seq = seq;
		s->seen = 1;
	} else if (seq != s->next_seq) {
		return out_of_order(s, ops, seq, data, len, now);
	}

	if (s->buf == NULL) {
		/* The common case: whole messages in the segment, framed where they lie. */
		used = frame(s, ops, data, len, seq, &head_pending);
		advance_to(s, seq + len);
		if (s->state == SK_TCP_HUNT || used == len)
			return SK_TCP_DONE;
		if (!take_buffer(s, ops, seq + used))
			return SK_TCP_DONE;
		if (len - used > ops->buffer_bytes) {
			sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_BUFFER_FULL);
			return SK_TCP_DONE;
		}
		memcpy(s->buf, data + used, len - used);
		s->buf_len = len - used;
		s->hole_since = now;
		return head_pending ? SK_TCP_HEAD_PENDING : SK_TCP_DONE;
	}

	if (s->buf_len + len > ops->buffer_bytes) {
		sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_BUFFER_FULL);
		advance_to(s, seq + len);
		return SK_TCP_DONE;
	}
	memcpy(s->buf + s->buf_len, data, len);
	s->buf_len += len;
	s->next_seq = seq + len;
	/* Ranges the new bytes reach become in-order bytes. */
	while (s->n_ranges > 0 && !sk_tcp_seq_before(s->next_seq, s->ooo[0].seq)) {
		uint32_t end = s->ooo[0].seq + s->ooo[0].len;

		if (sk_tcp_seq_before(s->next_seq, end)) {
			s->buf_len += end - s->next_seq;
			s->next_seq = end;
		}
		memmove(&s->ooo[0], &s->ooo[1], (s->n_ranges - 1) * sizeof(s->ooo[0]));
		s->n_ranges--;
	}
	used = frame(s, ops, (const char *)s->buf, s->buf_len, s->buf_seq, &head_pending);
	if (s->state == SK_TCP_HUNT)
		return SK_TCP_DONE;
	consume(s, ops, used, now);
	return head_pending ? SK_TCP_HEAD_PENDING : SK_TCP_DONE;
}

void sk_tcp_stream_expire(struct sk_tcp_stream *s, const struct sk_tcp_ops *ops, sk_time_ns now,
			  sk_time_ns timeout)
{
	if (s->buf != NULL && s->hole_since != 0 && now - s->hole_since >= timeout)
		sk_tcp_stream_fallback(s, ops, SK_TCP_NOTE_FALLBACK_HOLE);
}
