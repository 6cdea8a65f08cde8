/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP/SIPS URI (RFC 3261 19.1, RFC 5118 for IPv6 references), zero copy.
 *
 * A valid SIP URI has at most one '@': it cannot appear in params, headers or
 * host, and must be escaped in the user part.  So userinfo ends at the only
 * '@', which makes ';' '?' ',' in the user part (RFC 4475 3.1.1.2, 3.1.1.9)
 * unambiguous.
 */
#include <string.h>

#include "sip_lex.h"

/* uric_ok: the caller already found every byte of the URI in SK_C_URIC. */
static inline __attribute__((always_inline)) int uri_parse(const char *buf, struct sk_span uri,
							   const char *lim, struct sk_sip_uri *out,
							   bool uric_ok)
{
	const char *p = buf + uri.off, *e = p + uri.len, *at, *q, *c;
	uint32_t port;

	memset(out, 0, sizeof(*out));
	if (e - p >= 4 && sk_ci_eq(p, "sip:", 4)) {
		out->scheme = SK_URI_SIP;
		p += 4;
	} else if (e - p >= 5 && sk_ci_eq(p, "sips:", 5)) {
		out->scheme = SK_URI_SIPS;
		p += 5;
	} else {
		if (e - p >= 4 && sk_ci_eq(p, "tel:", 4))
			out->scheme = SK_URI_TEL;
		return -1;
	}
	if (!uric_ok && sk_skipl(p, e, lim, SK_C_URIC) != e)
		return -1;
	at = sk_find_bytel(p, e, lim, '@');
	if (at != NULL) {
		c = sk_find_bytel(p, at, lim, ':');
		if (c == p || at == p)
			return -1;
		if (c != NULL) {
			out->user = sk_mkspan(buf, p, c);
			out->password = sk_mkspan(buf, c + 1, at);
		} else {
			out->user = sk_mkspan(buf, p, at);
		}
		p = at + 1;
	}

	if (p < e && *p == '[') {
		q = p + 1;
		while (q < e && (*q == ':' || *q == '.' || sk_is(*q, SK_C_HEX)))
			q++;
		/* Shortest IPv6 reference is "::"; its syntax is checked no further
		 * (RFC 5118 4.10: tolerate the RFC 3261 three-colon ABNF bug). */
		if (q == e || *q != ']' || q - p < 3)
			return -1;
		out->host = sk_mkspan(buf, p + 1, q);
		out->host_ipv6 = 1;
		p = q + 1;
	} else {
		q = sk_skipl(p, e, lim, SK_C_HOST);
		if (q == p)
			return -1;
		out->host = sk_mkspan(buf, p, q);
		p = q;
	}
	if (p < e && *p == ':') {
		q = sk_parse_u32(p + 1, e, &port);
		if (q == NULL || q - p > 6 || port > 65535)
			return -1;
		out->port = (uint16_t)port;
		out->has_port = 1;
		p = q;
	}
	if (p < e && *p == ';') {
		q = sk_find_bytel(p, e, lim, '?');
		if (q == NULL)
			q = e;
			/* uri-parameter = pname [ "=" pvalue ], pname non-empty */
#if defined(__SSE2__)
		if (q - p <= 16 && (uintptr_t)p <= sk_lim_minus(lim, 16)) {
			/* one block: a ';' followed by ';', '=' or the end */
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned valid = (1u << (q - p)) - 1;
			unsigned sm =
				(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(';'))) &
				valid;
			unsigned em =
				(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('='))) &
				valid;

			if (sm & ((sm >> 1) | (em >> 1) | (1u << (q - p - 1))))
				return -1;
		} else
#endif
		{
			for (c = p; c < q; c++)
				if (*c == ';' && (c + 1 == q || c[1] == ';' || c[1] == '='))
					return -1;
		}
		out->params = sk_mkspan(buf, p, q);
		p = q;
	}
	if (p < e && *p == '?') {
		out->headers = sk_mkspan(buf, p + 1, e);
		p = e;
	}
	return p == e ? 0 : -1;
}

int sk_uri_parse_lim(const char *buf, struct sk_span uri, const char *lim, struct sk_sip_uri *out)
{
	return uri_parse(buf, uri, lim, out, false);
}

int sk_uri_parse_uric(const char *buf, struct sk_span uri, const char *lim, struct sk_sip_uri *out)
{
	return uri_parse(buf, uri, lim, out, true);
}

int sk_sip_uri_parse(const char *buf, struct sk_span uri, struct sk_sip_uri *out)
{
	return sk_uri_parse_lim(buf, uri, buf + sk_span_end(uri), out);
}

int sk_sip_uri_parse_in(const char *buf, size_t buf_len, struct sk_span uri, struct sk_sip_uri *out)
{
	if (sk_span_end(uri) > buf_len) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return sk_uri_parse_lim(buf, uri, buf + buf_len, out);
}
