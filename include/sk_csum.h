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

/*
 * The same on the checksum field and the bytes as they lie in the packet
 * (network order, no byte swaps): the ones' complement sum does not depend on
 * byte order (RFC 1071 2.B), and 32-bit words summed with end-around carry
 * fold to the 16-bit sum (2.C). LEN is even; with a constant LEN (2, 4, 16)
 * the loops unroll to a few adds.
 */
static inline uint16_t sk_csum_replace_raw(uint16_t csum_raw, const void *old_bytes,
					   const void *new_bytes, unsigned int len)
{
	const uint8_t *o = old_bytes, *n = new_bytes;
	uint64_t sum = (uint16_t)~csum_raw;
	unsigned int i;

	for (i = 0; i + 4 <= len; i += 4) {
		uint32_t a, b;

		__builtin_memcpy(&a, o + i, 4);
		__builtin_memcpy(&b, n + i, 4);
		sum += (uint32_t)~a;
		sum += b;
	}
	if (i < len) {
		uint16_t a, b;

		__builtin_memcpy(&a, o + i, 2);
		__builtin_memcpy(&b, n + i, 2);
		sum += (uint16_t)~a;
		sum += b;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif /* SK_CSUM_H */
