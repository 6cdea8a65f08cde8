/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the HEP decoder (control/hep.c), as a datagram and as a
 * TCP stream framed by sk_hep_frame_len. Whatever decodes must point inside
 * the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sk_hep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct sk_hep_msg *m, const uint8_t *data, size_t size)
{
	if (m->payload_len == 0 || m->payload_len > SK_HEP_PAYLOAD_MAX || m->payload < data ||
	    m->payload + m->payload_len > data + size)
		abort();
	if (m->auth != NULL && (m->auth < data || m->auth + m->auth_len > data + size))
		abort();
	if (m->family != 4 && m->family != 6)
		abort();
	(void)sk_hep_auth_ok(m, "key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_hep_msg m;
	size_t off = 0;

	if (sk_hep_parse(data, size, &m) == SK_HEP_OK)
		check(&m, data, size);
	/* The same bytes as a stream: frames back to back until one does not fit. */
	while (off < size) {
		long n = sk_hep_frame_len(data + off, size - off);

		if (n <= 0 || (size_t)n > size - off)
			break;
		if (sk_hep_parse(data + off, (size_t)n, &m) == SK_HEP_OK)
			check(&m, data + off, (size_t)n);
		off += (size_t)n;
	}
	return 0;
}
