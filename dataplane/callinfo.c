/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Call-Info policy (docs/OVERVIEW.md 2): removal of `urn:x-cisco-remotecc:` values
 * in place. A header line left with no value goes whole (folded continuation
 * lines and CRLF included); otherwise exactly the offending values go, each
 * with the comma and whitespace that separated it from a value that stays.
 * Everything else, the body and Content-Length included, stays byte for byte.
 */
#include <string.h>

#include "worker_internal.h"

#define REMOTECC "urn:x-cisco-remotecc:"
#define REMOTECC_LEN (sizeof(REMOTECC) - 1)

struct cut {
	uint32_t off;
	uint32_t len;
};

static bool is_remotecc(const char *buf, const struct sk_sip_callinfo *ci)
{
	const char *u = buf + ci->uri.off;
	size_t i;

	if (ci->uri.len < REMOTECC_LEN)
		return false;
	for (i = 0; i < REMOTECC_LEN; i++) /* URI schemes compare case-insensitively */
		if ((u[i] | (u[i] >= 'A' && u[i] <= 'Z' ? 0x20 : 0)) != REMOTECC[i])
			return false;
	return true;
}

bool sk_callinfo_has_remotecc(const char *buf, const struct sk_sip_msg *msg)
{
	unsigned int i;

	for (i = 0; i < msg->n_callinfo; i++)
		if (is_remotecc(buf, &msg->callinfo[i]))
			return true;
	return false;
}

/* The byte ranges to delete for one header line, in order. Returns how many. */
static unsigned int line_cuts(const char *buf, const struct sk_sip_msg *msg, unsigned int line,
			      struct cut *cuts, unsigned int *n_removed)
{
	const struct sk_sip_callinfo *v[SK_SIP_MAX_CALLINFO];
	unsigned int n = 0, i, first_kept, n_cuts = 0, removed = 0;

	for (i = 0; i < msg->n_callinfo; i++)
		if (msg->callinfo[i].line == line)
			v[n++] = &msg->callinfo[i];
	for (i = 0; i < n; i++)
		removed += is_remotecc(buf, v[i]);
	*n_removed = removed;
	if (removed == 0)
		return 0;
	if (removed == n) {
		cuts[0] = (struct cut){msg->callinfo_line[line].off, msg->callinfo_line[line].len};
		return 1;
	}
	for (first_kept = 0; is_remotecc(buf, v[first_kept]); first_kept++)
		;
	/* Values before the first kept one go with the separators up to it. */
	if (first_kept > 0)
		cuts[n_cuts++] = (struct cut){v[0]->value.off,
					      (uint32_t)v[first_kept]->value.off - v[0]->value.off};
	/* A later value goes with the separator in front of it. */
	for (i = first_kept + 1; i < n; i++) {
		uint32_t from = sk_span_end(v[i - 1]->value), to = sk_span_end(v[i]->value);

		if (!is_remotecc(buf, v[i]))
			continue;
		if (n_cuts > 0 && cuts[n_cuts - 1].off + cuts[n_cuts - 1].len == from)
			cuts[n_cuts - 1].len += to - from;
		else
			cuts[n_cuts++] = (struct cut){from, to - from};
	}
	return n_cuts;
}

int sk_callinfo_strip(char *buf, uint32_t len, uint32_t tail, const struct sk_sip_msg *msg,
		      unsigned int *n_removed)
{
	struct cut cuts[SK_SIP_MAX_CALLINFO + SK_SIP_MAX_CALLINFO_LINES];
	unsigned int n_cuts = 0, line, i;
	uint32_t removed_bytes = 0, w;

	*n_removed = 0;
	/* Values the parser could not keep a record of cannot be removed exactly: leave all. */
	if (msg->overflow & (SK_SIP_OVF_CALLINFO | SK_SIP_OVF_CALLINFO_LINES))
		return -1;
	for (line = 0; line < msg->n_callinfo_lines; line++) {
		unsigned int r;

		n_cuts += line_cuts(buf, msg, line, cuts + n_cuts, &r);
		*n_removed += r;
	}
	if (n_cuts == 0)
		return 0;
	/* Header lines come in order, and so do the cuts: compact in one pass. */
	w = cuts[0].off;
	for (i = 0; i < n_cuts; i++) {
		uint32_t keep_from = cuts[i].off + cuts[i].len;
		uint32_t keep_to = i + 1 < n_cuts ? cuts[i + 1].off : len + tail;

		memmove(buf + w, buf + keep_from, keep_to - keep_from);
		w += keep_to - keep_from;
		removed_bytes += cuts[i].len;
	}
	RTE_SET_USED(w);
	return (int)removed_bytes;
}

/* A header line of LEN bytes (4 or more) that says nothing: what replaces removed bytes. */
static void pad_line(char *p, uint32_t len)
{
	static const char name[] = "X-Sipkeep-Pad:";
	uint32_t n = len >= sizeof(name) + 2 ? sizeof(name) - 1 : 2;

	memcpy(p, n == 2 ? "X:" : name, n);
	memset(p + n, ' ', len - n - 2);
	memcpy(p + len - 2, "\r\n", 2);
}

int sk_callinfo_blank(const char *buf, const struct sk_sip_msg *msg, char *scratch, uint32_t cap,
		      void (*line)(void *ctx, uint32_t off, const char *bytes, uint32_t len),
		      void *ctx)
{
	struct cut cuts[SK_SIP_MAX_CALLINFO];
	unsigned int l, i, total = 0;

	if (msg->overflow & (SK_SIP_OVF_CALLINFO | SK_SIP_OVF_CALLINFO_LINES))
		return -1;
	for (l = 0; l < msg->n_callinfo_lines; l++) {
		const struct sk_span span = msg->callinfo_line[l];
		uint32_t from = span.off, kept = 0;
		unsigned int n_cuts, removed;

		n_cuts = line_cuts(buf, msg, l, cuts, &removed);
		if (n_cuts == 0 || span.len > cap)
			continue;
		/* The line's bytes minus the cuts, then the pad where they were. */
		for (i = 0; i <= n_cuts; i++) {
			uint32_t to = i < n_cuts ? cuts[i].off : sk_span_end(span);

			memcpy(scratch + kept, buf + from, to - from);
			kept += to - from;
			if (i < n_cuts)
				from = cuts[i].off + cuts[i].len;
		}
		/* A remotecc value alone is longer than the shortest header line. */
		if (span.len - kept < 4)
			continue;
		pad_line(scratch + kept, span.len - kept);
		line(ctx, span.off, scratch, span.len);
		total += removed;
	}
	return (int)total;
}
