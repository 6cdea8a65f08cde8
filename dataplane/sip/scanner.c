/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scanner signatures: one Hyperscan literal database over all configured
 * strings, so each message costs one scan per field however many signatures
 * there are.  Signatures are literals, not regexes, so a config line can
 * never make the compile (or a scan) blow up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "sip_detect.h"

const char *const sk_scanner_default_sigs[] = {
	"friendly-scanner", "sipvicious", "sipcli",  "sip-scan", "sundayddr", "iWar",
	"VaxSIPUserAgent",  "SIVuS",	  "sipscan", "pplsip",	 NULL,
};

struct sk_scanner {
	hs_database_t *db;
	size_t count;
};

struct sk_scanner_scratch {
	hs_scratch_t *s;
};

struct sk_scanner *sk_scanner_compile(const char *const *sigs, size_t n, char *err, size_t errlen)
{
	struct sk_scanner *sc = NULL;
	unsigned *flags = NULL, *ids = NULL;
	size_t *lens = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;

	if (n == 0 || n > 100000) {
		snprintf(err, errlen, "need between 1 and 100000 signatures, got %zu", n);
		return NULL;
	}
	flags = calloc(n, sizeof(*flags));
	ids = calloc(n, sizeof(*ids));
	lens = calloc(n, sizeof(*lens));
	if (flags == NULL || ids == NULL || lens == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (sigs[i] == NULL || sigs[i][0] == '\0') {
			snprintf(err, errlen, "signature %zu is empty", i);
			goto out;
		}
		flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
		ids[i] = (unsigned)i;
		lens[i] = strlen(sigs[i]);
	}
	if (hs_compile_lit_multi(sigs, flags, ids, lens, (unsigned)n, HS_MODE_BLOCK, NULL, &db,
				 &cerr) != HS_SUCCESS) {
		if (cerr != NULL && cerr->expression >= 0)
			snprintf(err, errlen, "signature %d (%s): %s", cerr->expression,
				 sigs[cerr->expression], cerr->message);
		else
			snprintf(err, errlen, "hyperscan: %s", cerr ? cerr->message : "error");
		hs_free_compile_error(cerr);
		goto out;
	}
	sc = malloc(sizeof(*sc));
	if (sc == NULL) {
		snprintf(err, errlen, "out of memory");
		hs_free_database(db);
		goto out;
	}
	sc->db = db;
	sc->count = n;
out:
	free(flags);
	free(ids);
	free(lens);
	return sc;
}

void sk_scanner_free(struct sk_scanner *sc)
{
	if (sc == NULL)
		return;
	hs_free_database(sc->db);
	free(sc);
}

size_t sk_scanner_count(const struct sk_scanner *sc)
{
	return sc->count;
}

struct sk_scanner_scratch *sk_scanner_scratch_alloc(const struct sk_scanner *sc)
{
	struct sk_scanner_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (hs_alloc_scratch(sc->db, &s->s) != HS_SUCCESS) {
		free(s);
		return NULL;
	}
	return s;
}

struct sk_scanner_scratch *sk_scanner_scratch_clone(const struct sk_scanner_scratch *src)
{
	struct sk_scanner_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (hs_clone_scratch(src->s, &s->s) != HS_SUCCESS) {
		free(s);
		return NULL;
	}
	return s;
}

int sk_scanner_scratch_grow(const struct sk_scanner *sc, struct sk_scanner_scratch **s)
{
	if (*s == NULL) {
		*s = sk_scanner_scratch_alloc(sc);
		return *s ? 0 : -1;
	}
	return hs_alloc_scratch(sc->db, &(*s)->s) == HS_SUCCESS ? 0 : -1;
}

void sk_scanner_scratch_free(struct sk_scanner_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->s);
	free(s);
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	*(int *)ctx = (int)id;
	return 1; /* one hit is enough: stop the scan */
}

int sk_scanner_match_bytes(const struct sk_scanner *sc, struct sk_scanner_scratch *s, const char *p,
			   size_t len)
{
	int hit = -1;

	if (len == 0)
		return -1;
	hs_scan(sc->db, p, (unsigned)len, 0, s->s, on_match, &hit);
	return hit;
}

int sk_scanner_match_sig(const struct sk_scanner *sc, struct sk_scanner_scratch *s, const char *buf,
			 const struct sk_sip_msg *msg)
{
	int hit = sk_scanner_match_bytes(sc, s, buf + msg->user_agent.off, msg->user_agent.len);

	if (hit < 0)
		hit = sk_scanner_match_bytes(sc, s, buf + msg->from.value.off, msg->from.value.len);
	return hit;
}

bool sk_scanner_match(const struct sk_scanner *sc, struct sk_scanner_scratch *s, const char *buf,
		      const struct sk_sip_msg *msg)
{
	return sk_scanner_match_sig(sc, s, buf, msg) >= 0;
}
