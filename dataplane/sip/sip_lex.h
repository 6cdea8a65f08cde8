/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal lexing helpers shared by the SIP/SDP parser files.  Everything
 * works on [p, e) pointer pairs; nothing here reads outside them.
 */
#ifndef SK_SIP_LEX_H
#define SK_SIP_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip_parse.h"

/* Character classes (bits of sk_ctab[]). */
#define SK_C_TOKEN 0x01 /* RFC 3261 token */
#define SK_C_WS 0x02	/* SP HT CR LF: inside a logical header value CR/LF are folds */
#define SK_C_DIGIT 0x04
#define SK_C_WORD 0x08 /* RFC 3261 word (Call-ID) */
#define SK_C_HOST 0x10 /* hostname / IPv4 chars (plus '_', seen in the wild) */
#define SK_C_PVAL 0x20 /* gen-value: token or host (':' '[' ']' for IPv6) */
#define SK_C_URIC 0x40 /* printable, not SP < > " : may appear inside a URI */
#define SK_C_HEX 0x80

extern const uint8_t sk_ctab[256];

static inline bool sk_is(char c, uint8_t cls)
{
	return (sk_ctab[(uint8_t)c] & cls) != 0;
}

static inline const char *sk_skip(const char *p, const char *e, uint8_t cls)
{
	while (p < e && sk_is(*p, cls))
		p++;
	return p;
}

static inline const char *sk_skip_ws(const char *p, const char *e)
{
	return sk_skip(p, e, SK_C_WS);
}

/* Backs e up over trailing whitespace, not below s. */
static inline const char *sk_rtrim(const char *s, const char *e)
{
	while (e > s && sk_is(e[-1], SK_C_WS))
		e--;
	return e;
}

static inline char sk_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* Case-insensitive equality of p[0..n) with a lower-case literal of length n. */
static inline bool sk_ci_eq(const char *p, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sk_lower(p[i]) != lower[i])
			return false;
	return true;
}

static inline bool sk_ci_eqn(const char *p, size_t pn, const char *lower, size_t n)
{
	return pn == n && sk_ci_eq(p, lower, n);
}

#define SK_LIT(s) (s), (sizeof(s) - 1)

static inline struct sk_span sk_mkspan(const char *buf, const char *a, const char *b)
{
	struct sk_span s = {(uint16_t)(a - buf), (uint16_t)(b - a)};
	return s;
}

/*
 * Skips a quoted-string starting at the opening quote; returns the byte after
 * the closing quote, or NULL when it is not terminated before e.
 */
static inline const char *sk_skip_quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\') {
			if (++p == e)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Decimal digits with saturation; NULL when there is no digit. */
static inline const char *sk_parse_u32(const char *p, const char *e, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = p;

	while (p < e && sk_is(*p, SK_C_DIGIT)) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1; /* keeps "too big" without wrapping */
		p++;
	}
	if (p == s)
		return NULL;
	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return p;
}

/* ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" ; returns the ':' or NULL. */
static inline const char *sk_scheme_end(const char *p, const char *e)
{
	if (p == e || !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
		return NULL;
	for (p++; p < e; p++) {
		char c = *p;
		if (c == ':')
			return p;
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '+' && c != '-' && c != '.')
			return NULL;
	}
	return NULL;
}

/*
 * One header parameter after its ';' (p just past it):
 *   LWS name [ LWS "=" LWS ( token / host / quoted-string ) ]
 * Returns the byte after the param (not skipping trailing LWS) or NULL.
 */
static inline const char *sk_param_one(const char *p, const char *e, const char **name,
				       size_t *nlen, const char **val, size_t *vlen)
{
	const char *n, *q;

	p = sk_skip_ws(p, e);
	n = p;
	p = sk_skip(p, e, SK_C_TOKEN);
	if (p == n)
		return NULL;
	*name = n;
	*nlen = (size_t)(p - n);
	*val = NULL;
	*vlen = 0;
	q = sk_skip_ws(p, e);
	if (q == e || *q != '=')
		return p;
	q = sk_skip_ws(q + 1, e);
	if (q < e && *q == '"') {
		p = sk_skip_quoted(q, e);
		if (p == NULL)
			return NULL;
	} else {
		p = sk_skip(q, e, SK_C_PVAL);
		if (p == q)
			return NULL;
	}
	*val = q;
	*vlen = (size_t)(p - q);
	return p;
}

/* Parses the header-specific fields of one header value (sip_headers.c). */
enum sk_sip_err sk_hdr_via(const char *buf, const char *p, const char *e, struct sk_sip_msg *m);
enum sk_sip_err sk_hdr_addr(const char *buf, const char *p, const char *e, struct sk_sip_addr *a);
enum sk_sip_err sk_hdr_contact(const char *buf, const char *p, const char *e,
			       struct sk_sip_msg *m);
enum sk_sip_err sk_hdr_cseq(const char *buf, const char *p, const char *e, struct sk_sip_msg *m);
bool sk_hdr_call_id_ok(const char *p, const char *e);
int sk_hdr_opt_tags(const char *p, const char *e, uint32_t *mask);
enum sk_sip_err sk_hdr_callinfo(const char *buf, const char *p, const char *e, uint8_t line,
				struct sk_sip_msg *m);

#endif /* SK_SIP_LEX_H */
