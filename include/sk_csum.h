/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incremental Internet checksum update (RFC 1624, eqn. 3): when a few bytes of
 * a packet change, the checksum is adjusted from the old and new bytes alone,
 * without reading the payload again.
 */
#ifndef SK_CSUM_H
#define SK_CSUM_H

#include <stdint.h>

/* Fold a 64-bit ones' complement sum of raw 32-bit words to 16 bits. */
static inline uint16_t sk_csum_fold64(uint64_t sum)
{
	uint32_t lo = (uint32_t)sum, s = lo + (uint32_t)(sum >> 32);

	s += s < lo; /* end-around carry */
	s = (s & 0xffff) + (s >> 16);
	s += s >> 16;
	return (uint16_t)s;
}

/*
 * What replacing OLD_BYTES by NEW_BYTES adds to a checksum, on the bytes as
 * they lie in the packet (network order, no byte swaps): the ones' complement
 * sum does not depend on byte order (RFC 1071 2.B), and 32-bit words summed
 * with end-around carry fold to the 16-bit sum (2.C). LEN is even; with a
 * constant LEN (2, 4, 16) the loops unroll to a few adds. Deltas of several
 * changes add up (a few dozen at most before the 64-bit sum could overflow).
 */
static inline uint64_t sk_csum_delta(const void *old_bytes, const void *new_bytes, unsigned int len)
{
	const uint8_t *o = old_bytes, *n = new_bytes;
	uint64_t sum = 0;
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
	return sum;
}

/* The checksum field CSUM_RAW (as it lies in the packet) after changes worth DELTA (RFC 1624). */
static inline uint16_t sk_csum_apply(uint16_t csum_raw, uint64_t delta)
{
	return (uint16_t)~sk_csum_fold64((uint16_t)~csum_raw + delta);
}

#endif /* SK_CSUM_H */
