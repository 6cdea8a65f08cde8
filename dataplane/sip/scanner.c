/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scanner signatures: product names of SIP scanning tools, matched whole and
 * caselessly against the product tokens of a request's User-Agent (RFC 3261
 * section 20.41: User-Agent = server-val *(LWS server-val), server-val =
 * product / comment, product = token [SLASH product-version]).
 *
 * The value is walked once: comments are skipped, each product name is hashed
 * as it is read and looked up in an open-addressing table of the signatures.
 * Whole-token lookup replaced the Hyperscan substring scan (docs/PARSER.md):
 * "Rajesh Tiwari" or "Acme SIPClient/2.1" must not match iWar or sipcli.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_detect.h"

/*
 * What the tools send by default (their source, or honeypot logs where the
 * source is closed): SIPVicious svmap/svwar/svcrack "friendly-scanner" (other
 * builds "friendly-request", "sipvicious"), "sipcli/v1.8", "sundayddr",
 * "sip-scan", "sipscan", "iWar", "VaxSIPUserAgent/3.1" (and "VaxIPUserAgent"),
 * "SIVuS", SIPPTS "pplsip" (its Perl version "sipptk"), "siparmyknife".
 */
const char *const sk_scanner_default_sigs[] = {
	"friendly-scanner", "friendly-request", "sipvicious", "sipcli",
	"sundayddr",	    "sip-scan",		"sipscan",    "iWar",
	"VaxSIPUserAgent",  "VaxIPUserAgent",	"SIVuS",      "pplsip",
	"sipptk",	    "siparmyknife",	NULL,
};

struct slot {
	uint32_t hash;
	uint16_t len;  /* 0: empty */
	uint32_t sig;  /* index in the configured list */
	uint32_t name; /* offset of the lowercased name in names */
};

struct sk_scanner {
	size_t count;
	uint32_t mask; /* slots - 1 */
	struct slot *slots;
	char *names;
};

/* RFC 3261 token characters: alphanum and -.!%*_+`'~ */
static inline bool is_token(uint8_t c)
{
	if ((uint8_t)((c | 0x20) - 'a') < 26 || (uint8_t)(c - '0') < 10)
		return true;
	switch (c) {
	case '-':
	case '.':
	case '!':
	case '%':
	case '*':
	case '_':
	case '+':
	case '`':
	case '\'':
	case '~':
		return true;
	}
	return false;
}

static inline uint8_t lower(uint8_t c)
{
	return (uint8_t)((uint8_t)(c - 'A') < 26 ? c + 32 : c);
}

/* FNV-1a, one step. */
static inline uint32_t fnv(uint32_t h, uint8_t c)
{
	return (h ^ c) * 16777619u;
}

#define FNV_SEED 2166136261u
#define SK_SCANNER_NAME_MAX 64

struct sk_scanner *sk_scanner_compile(const char *const *sigs, size_t n, char *err, size_t errlen)
{
	struct sk_scanner *sc;
	size_t i, total = 0, slots = 16;

	if (n == 0 || n > 100000) {
		snprintf(err, errlen, "need between 1 and 100000 signatures, got %zu", n);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		size_t len = sigs[i] ? strlen(sigs[i]) : 0, k;

		if (len == 0) {
			snprintf(err, errlen, "signature %zu is empty", i);
			return NULL;
		}
		if (len > SK_SCANNER_NAME_MAX) {
			snprintf(err, errlen, "signature %zu (%.20s...) is longer than %d bytes", i,
				 sigs[i], SK_SCANNER_NAME_MAX);
			return NULL;
		}
		for (k = 0; k < len; k++) {
			if (!is_token((uint8_t)sigs[i][k])) {
				snprintf(
					err, errlen,
					"signature %zu (%s) is not a User-Agent product name: only "
					"letters, digits and -.!%%*_+`'~ (an RFC 3261 token)",
					i, sigs[i]);
				return NULL;
			}
		}
		total += len;
	}
	while (slots < 2 * n)
		slots *= 2;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		goto oom;
	sc->slots = calloc(slots, sizeof(*sc->slots));
	sc->names = malloc(total + 1);
	if (sc->slots == NULL || sc->names == NULL)
		goto oom;
	sc->mask = (uint32_t)(slots - 1);
	sc->count = n;
	for (i = 0, total = 0; i < n; i++) {
		size_t len = strlen(sigs[i]), k;
		uint32_t h = FNV_SEED, s;

		for (k = 0; k < len; k++) {
			sc->names[total + k] = (char)lower((uint8_t)sigs[i][k]);
			h = fnv(h, (uint8_t)sc->names[total + k]);
		}
		for (s = h & sc->mask;; s = (s + 1) & sc->mask) {
			struct slot *sl = &sc->slots[s];

			if (sl->len == 0) {
				*sl = (struct slot){h, (uint16_t)len, (uint32_t)i, (uint32_t)total};
				break;
			}
			/* A duplicate keeps its first index. */
			if (sl->hash == h && sl->len == len &&
			    memcmp(sc->names + sl->name, sc->names + total, len) == 0)
				break;
		}
		total += len;
	}
	return sc;
oom:
	snprintf(err, errlen, "out of memory");
	sk_scanner_free(sc);
	return NULL;
}

void sk_scanner_free(struct sk_scanner *sc)
{
	if (sc == NULL)
		return;
	free(sc->slots);
	free(sc->names);
	free(sc);
}

size_t sk_scanner_count(const struct sk_scanner *sc)
{
	return sc->count;
}

static int lookup(const struct sk_scanner *sc, const char *p, size_t len, uint32_t h)
{
	uint32_t s;

	for (s = h & sc->mask;; s = (s + 1) & sc->mask) {
		const struct slot *sl = &sc->slots[s];
		size_t k;

		if (sl->len == 0)
			return -1;
		if (sl->hash != h || sl->len != len)
			continue;
		for (k = 0; k < len; k++)
			if (lower((uint8_t)p[k]) != (uint8_t)sc->names[sl->name + k])
				break;
		if (k == len)
			return (int)sl->sig;
	}
}

int sk_scanner_match_ua(const struct sk_scanner *sc, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = (uint8_t)p[i];

		if (c == '(') {
			/* A comment, nested comments and quoted pairs inside: not a product. */
			unsigned int depth = 1;

			for (i++; i < len && depth > 0; i++) {
				if (p[i] == '\\')
					i++;
				else if (p[i] == '(')
					depth++;
				else if (p[i] == ')')
					depth--;
			}
			continue;
		}
		if (is_token(c)) {
			size_t start = i;
			uint32_t h = FNV_SEED;
			int hit;

			for (; i < len && is_token((uint8_t)p[i]); i++)
				h = fnv(h, lower((uint8_t)p[i]));
			if (i - start <= SK_SCANNER_NAME_MAX) {
				hit = lookup(sc, p + start, i - start, h);
				if (hit >= 0)
					return hit;
			}
			/* "/product-version" belongs to this product: never a name itself. */
			if (i < len && p[i] == '/')
				for (i++; i < len && is_token((uint8_t)p[i]); i++)
					;
			continue;
		}
		i++; /* LWS, or a byte no product has: a separator */
	}
	return -1;
}

int sk_scanner_match_sig(const struct sk_scanner *sc, const char *buf, const struct sk_sip_msg *msg)
{
	if (msg->user_agent.len == 0)
		return -1;
	return sk_scanner_match_ua(sc, buf + msg->user_agent.off, msg->user_agent.len);
}

bool sk_scanner_match(const struct sk_scanner *sc, const char *buf, const struct sk_sip_msg *msg)
{
	return sk_scanner_match_sig(sc, buf, msg) >= 0;
}
