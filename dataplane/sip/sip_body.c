/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Finding the SDP in a body: application/sdp directly, or the first
 * application/sdp part of a multipart body (RFC 2046 5.1; SIP-I gateways and
 * some Cisco flows wrap SDP this way).
 */
#include <string.h>

#include "sip_lex.h"

/* media type of a Content-Type value, LWS and params stripped, lower-case compare. */
static bool ctype_is(const char *p, const char *e, const char *type, size_t n)
{
	/* type has no LWS or ';': the media type is type exactly when the first
	 * n bytes are type and the value ends or the type ends right after */
	if ((size_t)(e - p) < n || !sk_ci_eq(p, type, n))
		return false;
	return (size_t)(e - p) == n || sk_is(p[n], SK_C_WS) || p[n] == ';';
}

static const char *find_mem(const char *h, const char *he, const char *n, size_t nl)
{
	while (h < he && (size_t)(he - h) >= nl) {
		const char *c = memchr(h, n[0], (size_t)(he - h) - nl + 1);

		if (c == NULL)
			return NULL;
		if (memcmp(c, n, nl) == 0)
			return c;
		h = c + 1;
	}
	return NULL;
}

/* Headers of one MIME part: is its Content-Type application/sdp? */
static bool part_is_sdp(const char *p, const char *e)
{
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;

		if (le - p > 13 && sk_ci_eq(p, "content-type:", 13)) {
			const char *v = sk_skip_ws(p + 13, le);

			return ctype_is(v, sk_rtrim(v, le), SK_LIT("application/sdp"));
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return false;
}

bool sk_sip_find_sdp(const char *buf, const struct sk_sip_msg *msg, struct sk_span *sdp)
{
	const char *ct = buf + msg->content_type.off, *cte = ct + msg->content_type.len;
	const char *b = buf + msg->body.off, *be = b + msg->body.len;
	struct sk_span bparam, params;
	const char *semi, *bnd, *p;
	char delim[76]; /* "--" + boundary (RFC 2046: at most 70 chars) */
	size_t blen;

	if (msg->body.len == 0 || msg->content_type.len == 0)
		return false;
	if (ctype_is(ct, cte, SK_LIT("application/sdp"))) {
		*sdp = msg->body;
		return true;
	}
	if (cte - ct < 10 || !sk_ci_eq(ct, "multipart/", 10))
		return false;
	semi = memchr(ct, ';', (size_t)(cte - ct));
	if (semi == NULL)
		return false;
	params = sk_mkspan(buf, semi, cte);
	if (!sk_sip_param_find(buf, params, "boundary", &bparam) || bparam.len == 0)
		return false;
	bnd = buf + bparam.off;
	blen = bparam.len;
	if (*bnd == '"' && blen >= 2) {
		bnd++;
		blen -= 2;
	}
	if (blen == 0 || blen > 70)
		return false;
	delim[0] = '-';
	delim[1] = '-';
	memcpy(delim + 2, bnd, blen);
	blen += 2;

	p = find_mem(b, be, delim, blen);
	while (p != NULL) {
		const char *ph, *hend, *next, *pe;

		p += blen;
		if (be - p >= 2 && p[0] == '-' && p[1] == '-')
			return false; /* closing delimiter */
		ph = memchr(p, '\n', (size_t)(be - p));
		if (ph == NULL)
			return false;
		ph++;
		/* part headers end at the first empty line */
		hend = ph;
		for (;;) {
			const char *nl;

			if (hend < be && *hend == '\n') {
				hend++;
				break;
			}
			if (be - hend >= 2 && hend[0] == '\r' && hend[1] == '\n') {
				hend += 2;
				break;
			}
			nl = memchr(hend, '\n', (size_t)(be - hend));
			if (nl == NULL)
				return false;
			hend = nl + 1;
		}
		next = find_mem(hend, be, delim, blen);
		if (part_is_sdp(ph, hend)) {
			/* the CRLF before the delimiter belongs to the delimiter */
			pe = next ? next : be;
			if (next && pe > hend && pe[-1] == '\n')
				pe--;
			if (next && pe > hend && pe[-1] == '\r')
				pe--;
			*sdp = sk_mkspan(buf, hend, pe);
			return true;
		}
		p = next;
	}
	return false;
}
