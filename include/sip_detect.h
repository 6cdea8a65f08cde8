/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP detection on arbitrary UDP ports (sip_detect = any) and scanner
 * signatures: product names of SIP scanners in a request's User-Agent.
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

/* --- scanner signatures --- */

struct sk_scanner; /* compiled signature set (immutable, shared by all workers) */

/* Default signature list (NULL-terminated): the product names real SIP scanners send. */
extern const char *const sk_scanner_default_sigs[];

/*
 * Compiles n signatures, each a User-Agent product name (an RFC 3261 token,
 * at most 64 bytes), into one lookup set.  On failure returns NULL and writes
 * a message into err.  Control-plane only: allocates.
 */
struct sk_scanner *sk_scanner_compile(const char *const *sigs, size_t n, char *err, size_t errlen);
void sk_scanner_free(struct sk_scanner *sc);

/* Number of signatures compiled in. */
size_t sk_scanner_count(const struct sk_scanner *sc);

/*
 * Index of the signature equal (caselessly, whole) to the product name of one
 * of the product tokens of the User-Agent value P[0..LEN), or -1.  Comments
 * and product versions are never names: "Acme SIPClient/2.1 (sipcli)" does not
 * match "sipcli"; "SIPCLI/v1.8" does.  No allocation, thread-safe.
 */
int sk_scanner_match_ua(const struct sk_scanner *sc, const char *p, size_t len);

/* The same on a parsed message's User-Agent value (-1 without one). */
int sk_scanner_match_sig(const struct sk_scanner *sc, const char *buf,
			 const struct sk_sip_msg *msg);

/* Same, as a yes/no answer. */
bool sk_scanner_match(const struct sk_scanner *sc, const char *buf, const struct sk_sip_msg *msg);

#ifdef __cplusplus
}
#endif

#endif /* SK_SIP_DETECT_H */
