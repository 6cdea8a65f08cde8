/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incremental Internet checksum update (RFC 1624, eqn. 3): when a few bytes of
 * a packet change, the checksum is adjusted from the old and new bytes alone,
 * without reading the payload again.
 */
#ifndef SK_CSUM_H
#define SK_CSUM_H

#include <stdint.h>

/* Sum of LEN (even) bytes as 16-bit big-endian words, ones' complement folded later. */
static inline uint32_t sk_csum_words(const uint8_t *p, unsigned int len)
{
	uint32_t sum = 0;
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	return sum;
}

static inline uint16_t sk_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * New checksum after OLD_BYTES became NEW_BYTES (LEN even, at an even offset
 * of the checksummed data). CSUM and the result are in host order.
 */
static inline uint16_t sk_csum_replace(uint16_t csum, const uint8_t *old_bytes,
				       const uint8_t *new_bytes, unsigned int len)
{
	uint32_t sum = (uint16_t)~csum;

	sum += (uint16_t)~sk_csum_fold(sk_csum_words(old_bytes, len));
	sum += sk_csum_fold(sk_csum_words(new_bytes, len));
	return (uint16_t)~sk_csum_fold(sum);
}

#endif /* SK_CSUM_H */
