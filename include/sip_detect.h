/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP detection on arbitrary UDP ports (sip_detect = any) and scanner
 * signature matching on User-Agent / From.
 */
#ifndef SK_SIP_DETECT_H
#define SK_SIP_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "sip_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Does this UDP payload start like a SIP message?  True for
 *   ^(INVITE|ACK|BYE|CANCEL|REGISTER|OPTIONS|PRACK|UPDATE|INFO|SUBSCRIBE|
 *     NOTIFY|REFER|MESSAGE|PUBLISH) \S+ SIP/2\.0\r?\n
 * and ^SIP/2\.0 [1-6]\d\d (SP).  Only the first line is read.  Hand-written:
 * it beats a Hyperscan block scan (see docs/PERFORMANCE.md).
 */
bool sk_sip_detect(const char *buf, size_t len);

/* --- scanner signatures (Hyperscan) --- */

struct sk_scanner;	   /* compiled signature database (immutable, shared) */
struct sk_scanner_scratch; /* per-thread scratch space */

/* Default signature list (NULL-terminated) of well-known SIP scanners. */
extern const char *const sk_scanner_default_sigs[];

/*
 * Compiles n literal signatures (matched case-insensitively as substrings)
 * into one database.  On failure returns NULL and writes a message into err.
 * Control-plane only: allocates.
 */
struct sk_scanner *sk_scanner_compile(const char *const *sigs, size_t n, char *err, size_t errlen);
void sk_scanner_free(struct sk_scanner *sc);

/* Number of signatures compiled in. */
size_t sk_scanner_count(const struct sk_scanner *sc);

/*
 * Scratch for one worker.  Allocate once per thread (first with
 * sk_scanner_scratch_alloc, then sk_scanner_scratch_clone for the others);
 * never share one between threads.  Valid for any database it was allocated
 * or grown for (sk_scanner_scratch_grow after compiling a new database).
 */
struct sk_scanner_scratch *sk_scanner_scratch_alloc(const struct sk_scanner *sc);
struct sk_scanner_scratch *sk_scanner_scratch_clone(const struct sk_scanner_scratch *src);
int sk_scanner_scratch_grow(const struct sk_scanner *sc, struct sk_scanner_scratch **s);
void sk_scanner_scratch_free(struct sk_scanner_scratch *s);

/*
 * Matches the User-Agent and From values of a parsed message against the
 * signatures.  Returns the index of a matching signature, or -1.
 */
int sk_scanner_match_sig(const struct sk_scanner *sc, struct sk_scanner_scratch *s, const char *buf,
			 const struct sk_sip_msg *msg);

/* Same, as a yes/no answer. */
bool sk_scanner_match(const struct sk_scanner *sc, struct sk_scanner_scratch *s, const char *buf,
		      const struct sk_sip_msg *msg);

/* Matches one arbitrary byte range (e.g. a header the caller picked). */
int sk_scanner_match_bytes(const struct sk_scanner *sc, struct sk_scanner_scratch *s, const char *p,
			   size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SK_SIP_DETECT_H */
