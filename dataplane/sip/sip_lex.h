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
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

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

/*
 * The loop bound of a vector scan: a block at p is whole before lim when
 * (uintptr_t)p <= sk_lim_minus(lim, n), one compare per step instead of
 * recomputing lim - p.  Integer arithmetic, as lim - n may point before the
 * buffer (the bound then admits no p; no object lives in the first n bytes of
 * the address space, so it cannot wrap).
 */
static inline uintptr_t sk_lim_minus(const char *lim, unsigned n)
{
	return (uintptr_t)lim - n;
}

/*
 * First byte c in [p, e), or NULL; vector loads may read up to lim (>= e).
 * Header and SDP lines, URIs and params are short (~10-60 bytes), where a
 * libc memchr call costs more than the search itself, so this is an inline
 * 16-byte SSE2 loop (baseline on x86-64) with a scalar tail.
 */
static inline const char *sk_find_bytel(const char *p, const char *e, const char *lim, char c)
{
#if defined(__SSE2__)
	const __m128i v = _mm_set1_epi8(c);
	const uintptr_t l16 = sk_lim_minus(lim, 16);

	while ((uintptr_t)p <= l16) {
		unsigned mask = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), v));

		if (mask != 0) {
			p += __builtin_ctz(mask);
			return p < e ? p : NULL;
		}
		p += 16;
		if (p >= e)
			return NULL;
	}
#else
	(void)lim;
#endif
	for (; p < e; p++)
		if (*p == c)
			return p;
	return NULL;
}

static inline const char *sk_find_lf(const char *p, const char *e)
{
	return sk_find_bytel(p, e, e, '\n');
}

#if defined(__SSSE3__)
/*
 * Nibble tables for 16-bytes-at-a-time class tests: for class bit k,
 * sk_cls_lo[k][lo] has bit hi set when byte (hi << 4 | lo) is in the class
 * (all classes are ASCII, so hi < 8).  Generated from sk_ctab.
 */
static const uint8_t sk_cls_lo[8][16] __attribute__((aligned(16))) = {
	{0xe8, 0xfc, 0xf8, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc, 0xf8, 0xf8, 0xf4, 0x54, 0x50, 0x54, 0xd4,
	 0x70}, /* TOKEN */
	{0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
	 0x00}, /* WS */
	{0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
	 0x00}, /* DIGIT */
	{0xe8, 0xfc, 0xfc, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc, 0xfc, 0xfc, 0xfc, 0xf4, 0x78, 0xf4, 0xdc,
	 0x7c}, /* WORD */
	{0xa8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf0, 0x50, 0x50, 0x54, 0x54,
	 0x70}, /* HOST */
	{0xe8, 0xfc, 0xf8, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc, 0xf8, 0xf8, 0xfc, 0x74, 0x50, 0x74, 0xd4,
	 0x70}, /* PVAL */
	{0xf8, 0xfc, 0xf8, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xf4, 0xfc, 0xf4,
	 0x7c}, /* URIC */
	{0x08, 0x58, 0x58, 0x58, 0x58, 0x58, 0x58, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
	 0x00}, /* HEX */
};

/* Bit i set when p[i] is NOT in the class set cls (any OR of SK_C_*). */
static inline unsigned sk_cls16(const char *p, uint8_t cls)
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	const __m128i hibit =
		_mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80, 0, 0, 0, 0, 0, 0, 0, 0);
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i t = _mm_setzero_si128(), r;

	for (int k = 0; k < 8; k++)
		if (cls & (1u << k))
			t = _mm_or_si128(
				t, _mm_load_si128((const __m128i *)(const void *)sk_cls_lo[k]));
	/* pshufb indexes by the low nibble and gives 0 for a byte >= 0x80, which
	 * is in no class: x needs no masking for the low-nibble lookup */
	r = _mm_and_si128(_mm_shuffle_epi8(t, x),
			  _mm_shuffle_epi8(hibit, _mm_and_si128(_mm_srli_epi16(x, 4), nib)));
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_setzero_si128()));
}
/* 64-bit masks over p[0..64) (64 readable bytes needed): class members / a byte. */
static inline uint64_t sk_cls64(const char *p, uint8_t cls)
{
	return ~((uint64_t)sk_cls16(p, cls) | (uint64_t)sk_cls16(p + 16, cls) << 16 |
		 (uint64_t)sk_cls16(p + 32, cls) << 32 | (uint64_t)sk_cls16(p + 48, cls) << 48);
}

static inline uint64_t sk_eq64(const char *p, char c)
{
	const __m128i v = _mm_set1_epi8(c);
	const __m128i *q = (const __m128i *)(const void *)p;

	return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q), v)) |
	       (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 1), v))
		       << 16 |
	       (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 2), v))
		       << 32 |
	       (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 3), v))
		       << 48;
}
#else
static inline uint64_t sk_eq64(const char *p, char c)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < 64; i++)
		m |= (uint64_t)(p[i] == c) << i;
	return m;
}
#endif

/*
 * Line ends in order, from 64-byte blocks read one after another: each byte
 * is tested once, and the next LF comes from a bit mask already in a
 * register (tzcnt, clear the bit) instead of a vector search that starts
 * from the previous one's result, so successive lines do not wait on each
 * other's search.  bits holds the LFs of [nb - 64, nb) not yet returned.
 */
struct sk_lfwalk {
	uintptr_t nb;
	uint64_t bits;
};

/* Walk from p (the next LF returned is the first at or after p). */
static inline void sk_lfw_init(struct sk_lfwalk *w, const char *p)
{
	w->nb = (uintptr_t)p;
	w->bits = 0;
}

/*
 * Makes sure an LF is pending: false when [p, e) (p as given to
 * sk_lfw_init()) has no more.  s <= p is the start of the readable buffer:
 * the last block is read as the 64 bytes ending at e when there are that
 * many.
 */
static inline bool sk_lfw_fill(struct sk_lfwalk *w, const char *s, const char *e)
{
	while (w->bits == 0) {
		uintptr_t nb = w->nb;

		if (nb + 64 <= (uintptr_t)e) {
			w->bits = sk_eq64((const char *)nb, '\n');
			w->nb = nb + 64;
			continue;
		}
		if (nb >= (uintptr_t)e)
			return false;
		/* the last 1..63 bytes: their bits only, based at nb like any block */
		size_t rest = (size_t)((uintptr_t)e - nb);
		uint64_t b = 0;

		if (e - s >= 64) {
			b = sk_eq64(e - 64, '\n') >> (64 - rest);
		} else {
			const char *q = (const char *)nb;

			for (size_t i = 0; i < rest; i++)
				b |= (uint64_t)(q[i] == '\n') << i;
		}
		w->bits = b;
		w->nb = nb + 64; /* past e: no block after this one */
		if (b == 0)
			return false;
	}
	return true;
}

/* The next LF, once sk_lfw_fill() said there is one. */
static inline const char *sk_lfw_take(struct sk_lfwalk *w)
{
	const char *nl = (const char *)(w->nb - 64) + __builtin_ctzll(w->bits);

	w->bits &= w->bits - 1;
	return nl;
}

/*
 * Skips bytes of class cls in [p, e).  lim (>= e) is how far the buffer may
 * be read: runs are tested 16 bytes at a time and may look past e, never
 * past lim; the answer is clamped to e.
 */
static inline const char *sk_skipl(const char *p, const char *e, const char *lim, uint8_t cls)
{
#if defined(__SSSE3__)
	const uintptr_t l16 = sk_lim_minus(lim, 16);

	while ((uintptr_t)p <= l16) {
		unsigned m = sk_cls16(p, cls);

		if (m != 0) {
			p += __builtin_ctz(m);
			return p < e ? p : e;
		}
		p += 16;
		if (p >= e)
			return e;
	}
#else
	(void)lim;
#endif
	while (p < e && sk_is(*p, cls))
		p++;
	return p;
}

static inline const char *sk_skip(const char *p, const char *e, uint8_t cls)
{
	return sk_skipl(p, e, e, cls);
}

/* LWS runs are 0-2 bytes: scalar beats any vector setup.  LWS bytes are
 * all <= SP, so most calls end on the first compare. */
static inline const char *sk_skip_ws(const char *p, const char *e)
{
	while (p < e && (uint8_t)*p <= ' ' && sk_is(*p, SK_C_WS))
		p++;
	return p;
}

/* Backs e up over trailing whitespace, not below s. */
static inline const char *sk_rtrim(const char *s, const char *e)
{
	while (e > s && sk_is(e[-1], SK_C_WS))
		e--;
	return e;
}

/*
 * Zeroes n bytes (n a compile-time constant in every caller).  A plain memset
 * of a 100-odd byte struct becomes "rep stos" at -O2, whose start-up costs
 * more than the whole store sequence; 16-byte stores have none.
 */
static inline void sk_zero(void *dst, size_t n)
{
#if defined(__SSE2__)
	char *d = dst;
	size_t i = 0;

#pragma GCC unroll 16
	for (; i + 16 <= n; i += 16)
		_mm_storeu_si128((__m128i *)(void *)(d + i), _mm_setzero_si128());
	if (i < n)
		memset(d + i, 0, n - i);
#else
	memset(dst, 0, n);
#endif
}

static inline char sk_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

static inline uint64_t sk_ld8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t sk_ld4(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t sk_ld2(const char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/*
 * Case-insensitive equality of p[0..n) with a literal of length n written in
 * lower case, a word at a time.  A literal byte with bit 0x40 set is a letter
 * (the literals hold only lower-case letters and bytes below 0x40 such as
 * '-' '.' '/' ':' '+' digits), so (lit >> 1) & 0x20 is the case bit to OR in
 * for exactly the letter positions.  Loads overlap rather than read past n.
 */
#define SK_FOLD(x, lit, m) (((x) | (((lit) >> 1) & (m))) == (lit))

static inline bool sk_ci_eq(const char *p, const char *lower, size_t n)
{
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8)
			if (!SK_FOLD(sk_ld8(p + i), sk_ld8(lower + i), 0x2020202020202020ull))
				return false;
		return i == n ||
		       SK_FOLD(sk_ld8(p + n - 8), sk_ld8(lower + n - 8), 0x2020202020202020ull);
	}
	if (n >= 4)
		return SK_FOLD(sk_ld4(p), sk_ld4(lower), 0x20202020u) &&
		       SK_FOLD(sk_ld4(p + n - 4), sk_ld4(lower + n - 4), 0x20202020u);
	if (n >= 2)
		return SK_FOLD(sk_ld2(p), sk_ld2(lower), 0x2020u) &&
		       SK_FOLD(sk_ld2(p + n - 2), sk_ld2(lower + n - 2), 0x2020u);
	return n == 0 || SK_FOLD((uint8_t)p[0], (uint8_t)lower[0], 0x20u);
}

/* Case-sensitive equality of a[0..n) and b[0..n), n <= 16, with overlapping
 * word loads (no memcmp call for the few bytes of a method name). */
static inline bool sk_eq16(const char *a, const char *b, size_t n)
{
	if (n >= 8)
		return sk_ld8(a) == sk_ld8(b) && sk_ld8(a + n - 8) == sk_ld8(b + n - 8);
	if (n >= 4)
		return sk_ld4(a) == sk_ld4(b) && sk_ld4(a + n - 4) == sk_ld4(b + n - 4);
	if (n >= 2)
		return sk_ld2(a) == sk_ld2(b) && sk_ld2(a + n - 2) == sk_ld2(b + n - 2);
	return n == 0 || a[0] == b[0];
}

static inline bool sk_ci_eqn(const char *p, size_t pn, const char *lower, size_t n)
{
	return pn == n && sk_ci_eq(p, lower, n);
}

#define SK_LIT(s) (s), (sizeof(s) - 1)

/*
 * Stores the span [a, b) of buf into *dst.  The two 16-bit halves go as one
 * 32-bit store: GCC otherwise assembles neighbouring span stores into one
 * 64-bit value with a chain of shifts.
 */
static inline void sk_setspan(struct sk_span *dst, const char *buf, const char *a, const char *b)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t v = (uint32_t)(a - buf) | (uint32_t)(b - a) << 16;

	memcpy(dst, &v, sizeof(v));
#else
	dst->off = (uint16_t)(a - buf);
	dst->len = (uint16_t)(b - a);
#endif
}

static inline struct sk_span sk_mkspan(const char *buf, const char *a, const char *b)
{
	struct sk_span s = {(uint16_t)(a - buf), (uint16_t)(b - a)};
	return s;
}

/*
 * Skips a quoted-string starting at the opening quote; returns the byte after
 * the closing quote, or NULL when it is not terminated before e.
 */
static inline const char *sk_skip_quoted(const char *p, const char *e, const char *lim)
{
	const char *s = ++p, *q, *b;

	/* find quote candidates fast; an odd run of '\\' before one escapes it */
	while ((q = sk_find_bytel(p, e, lim, '"')) != NULL) {
		for (b = q; b > s && b[-1] == '\\'; b--)
			;
		if (((q - b) & 1) == 0)
			return q + 1;
		p = q + 1;
	}
	return NULL;
}

/* Decimal digits with saturation; NULL when there is no digit. */
static inline const char *sk_parse_u32(const char *p, const char *e, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = p;
	unsigned d;

	/* 19 digits cannot overflow 64 bits: saturate once, after the loop */
	while (p < e && (d = (unsigned)((uint8_t)*p - '0')) < 10) {
		v = v * 10 + d;
		p++;
	}
	if (p == s)
		return NULL;
	if (p - s > 19) {
		/* absurdly long (leading zeros?): redo with saturation */
		v = 0;
		for (const char *q = s; q < p; q++) {
			v = v * 10 + (uint64_t)(*q - '0');
			if (v > UINT32_MAX)
				v = (uint64_t)UINT32_MAX + 1;
		}
	}
	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return p;
}

/* ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" ; returns the ':' or NULL. */
static inline const char *sk_scheme_end(const char *p, const char *e)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* the usual "sip:" as one word; the loop below settles anything else */
	if (e - p >= 4 && (sk_ld4(p) | 0x00202020u) == 0x3a706973u)
		return p + 3;
#else
	if (e - p >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
	    p[3] == ':')
		return p + 3;
#endif
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
static inline const char *sk_param_one(const char *p, const char *e, const char *lim,
				       const char **name, size_t *nlen, const char **val,
				       size_t *vlen)
{
	const char *n, *q;

	p = sk_skip_ws(p, e);
	n = p;
	p = sk_skipl(p, e, lim, SK_C_TOKEN);
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
		p = sk_skip_quoted(q, e, lim);
		if (p == NULL)
			return NULL;
	} else {
		p = sk_skipl(q, e, lim, SK_C_PVAL);
		if (p == q)
			return NULL;
	}
	*val = q;
	*vlen = (size_t)(p - q);
	return p;
}

/*
 * sk_param_one() for the usual shapes: "name", "name=token" and
 * name="quoted", the name under 16 bytes, at most one SP after the ';' and
 * SPs only after the '=' (Cisco writes "; security= NotAuthenticated").
 * One 16-byte class test finds the name's end and, usually, one more the
 * value's, with none of sk_param_one()'s byte-wise LWS checks between.
 * Returns NULL where sk_param_one() must decide (other LWS, anything
 * malformed, under 32 readable bytes); otherwise exactly what
 * sk_param_one() returns, with *name set too.
 */
static inline const char *sk_param_fast(const char *q, const char *e, const char *lim,
					const char **name, size_t *nlen, const char **val,
					size_t *vlen)
{
#if defined(__SSSE3__)
	const char *s, *ve;
	unsigned k, vm;

	if (q < e && *q == ' ')
		q++; /* "; name", as Cisco writes Call-Info */
	if ((uintptr_t)q > sk_lim_minus(lim, 32) || q >= e)
		return NULL;
	k = (unsigned)__builtin_ctz(sk_cls16(q, SK_C_TOKEN) | 0x10000u);
	if (k == 0 || k >= 16)
		return NULL;
	*name = q;
	if (q + k >= e) {
		/* the name runs to the end of the value: no value */
		*nlen = (size_t)(e - q);
		*val = NULL;
		*vlen = 0;
		return e;
	}
	*nlen = k;
	if (q[k] != '=') {
		if (sk_is(q[k], SK_C_WS))
			return NULL;
		*val = NULL;
		*vlen = 0;
		return q + k;
	}
	s = q + k + 1;
	while (s < e && *s == ' ')
		s++; /* "name= value", Cisco again */
	if (s >= e || (uintptr_t)s > sk_lim_minus(lim, 16))
		return NULL;
	if (*s == '"') {
		ve = sk_skip_quoted(s, e, lim);
		if (ve == NULL)
			return NULL;
	} else {
		vm = sk_cls16(s, SK_C_PVAL);
		if (vm & 1)
			return NULL;
		ve = vm != 0 ? s + __builtin_ctz(vm) : sk_skipl(s + 16, e, lim, SK_C_PVAL);
		if (ve > e)
			ve = e;
	}
	*val = s;
	*vlen = (size_t)(ve - s);
	return ve;
#else
	(void)q;
	(void)e;
	(void)lim;
	(void)name;
	(void)nlen;
	(void)val;
	(void)vlen;
	return NULL;
#endif
}

/*
 * Option tags (sip_opts.c) by a perfect hash of (length, first letter, last
 * letter): (len + 2 * first + 12 * last) & 63 has no collision among the
 * known tags, so a tag costs one table load and one compare instead of a
 * switch that mispredicts as tag lengths vary along a Supported list.
 */
#define SK_OPT_HASH(len, first, last)                                                              \
	(((unsigned)(len) + 2u * ((uint8_t)(first) | 0x20u) + 12u * ((uint8_t)(last) | 0x20u)) &   \
	 63u)

struct sk_opt_ent {
	char lower[32]; /* zero padded */
	char fold[32];	/* 0x20 at letters: the case bit to ignore */
	uint8_t len;	/* 0: empty slot */
	uint8_t opt;
} __attribute__((aligned(16)));

extern const struct sk_opt_ent sk_opt_tab[64];

/* X-cisco-sis-<version> / X-cisco-xsi-<version>, else -1. */
int sk_opt_prefixed(const char *s, size_t len);

/* sk_sip_opt_lookup() that may read up to lim, inline for the hot loops. */
static inline int sk_opt_lookup_inl(const char *s, size_t len, const char *lim)
{
	const struct sk_opt_ent *ent;

	if (len == 0)
		return -1;
	ent = &sk_opt_tab[SK_OPT_HASH(len, s[0], s[len - 1])];
	if (ent->len != len)
		return sk_opt_prefixed(s, len);
#if defined(__SSE2__)
	if (lim - s >= 32) {
		/* 32 bytes compared at once, no branch on the tag length */
		const __m128i *q = (const __m128i *)(const void *)s;
		const __m128i *l = (const __m128i *)(const void *)ent->lower;
		const __m128i *f = (const __m128i *)(const void *)ent->fold;
		uint32_t eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				      _mm_or_si128(_mm_loadu_si128(q), _mm_load_si128(f)),
				      _mm_load_si128(l))) |
			      (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				      _mm_or_si128(_mm_loadu_si128(q + 1), _mm_load_si128(f + 1)),
				      _mm_load_si128(l + 1)))
				      << 16;
		uint32_t want = (uint32_t)((1ull << len) - 1);

		return (eq & want) == want ? ent->opt : sk_opt_prefixed(s, len);
	}
#else
	(void)lim;
#endif
	for (size_t i = 0; i < len; i++)
		if ((s[i] | ent->fold[i]) != ent->lower[i])
			return sk_opt_prefixed(s, len);
	return ent->opt;
}

/* sk_sip_opt_lookup() that may read up to lim (sip_opts.c). */
int sk_opt_lookup_lim(const char *s, size_t len, const char *lim);

/* sk_sip_uri_parse() that may read vectors up to lim (the end of buf). */
int sk_uri_parse_lim(const char *buf, struct sk_span uri, const char *lim, struct sk_sip_uri *out);
/* The same for a URI whose bytes are all known to be SK_C_URIC (not checked again). */
int sk_uri_parse_uric(const char *buf, struct sk_span uri, const char *lim, struct sk_sip_uri *out);

/* Parses the header-specific fields of one header value (sip_headers.c). */
/*
 * Parsers of one header value [p, e) (sip_headers.c).  lim is the end of the
 * message buffer: how far vector scans may read.
 */
enum sk_sip_err sk_hdr_via(const char *buf, const char *p, const char *e, const char *lim,
			   struct sk_sip_msg *m);
enum sk_sip_err sk_hdr_addr(const char *buf, const char *p, const char *e, const char *lim,
			    struct sk_sip_addr *a);
enum sk_sip_err sk_hdr_contact(const char *buf, const char *p, const char *e, const char *lim,
			       struct sk_sip_msg *m);
/* CSeq (inline: a call cost more than its usual work) */
static inline enum sk_sip_err sk_hdr_cseq(const char *buf, const char *p, const char *e,
					  const char *lim, struct sk_sip_msg *m)
{
	const char *q, *n;
	uint32_t num;

	q = sk_parse_u32(p, e, &num);
	/* RFC 3261 8.1.1.5: the sequence number MUST be less than 2^31. */
	if (q == NULL || num > 0x7fffffffu)
		return SK_SIP_ERR_BAD_CSEQ;
	n = sk_skip_ws(q, e);
	if (n == q)
		return SK_SIP_ERR_BAD_CSEQ;
	if (m->is_request && (size_t)(e - n) == m->method_str.len && m->method_str.len <= 16 &&
	    sk_eq16(n, buf + m->method_str.off, m->method_str.len)) {
		/* the request's own method (the usual case): already checked to be
		 * a non-empty token and mapped to its enum by the start line */
		m->cseq = num;
		m->cseq_method_str = sk_mkspan(buf, n, e);
		m->cseq_method = m->method;
		return SK_SIP_OK;
	}
	q = sk_skipl(n, e, lim, SK_C_TOKEN);
	if (q == n || q != e)
		return SK_SIP_ERR_BAD_CSEQ;
	m->cseq = num;
	m->cseq_method_str = sk_mkspan(buf, n, q);
	m->cseq_method = (uint8_t)sk_sip_method_from(n, (size_t)(q - n));
	return SK_SIP_OK;
}

/* callid = word [ "@" word ] */
static inline bool sk_hdr_call_id_ok(const char *p, const char *e, const char *lim)
{
	const char *q = sk_skipl(p, e, lim, SK_C_WORD);

	if (q == p)
		return false;
	if (q == e)
		return true;
	if (*q != '@')
		return false;
	p = q + 1;
	q = sk_skipl(p, e, lim, SK_C_WORD);
	return q != p && q == e;
}

int sk_hdr_opt_tags(const char *p, const char *e, const char *lim, uint32_t *mask);
bool sk_hdr_callinfo(const char *buf, const char *p, const char *e, const char *lim, uint8_t line,
		     struct sk_sip_msg *m);

#endif /* SK_SIP_LEX_H */
