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
