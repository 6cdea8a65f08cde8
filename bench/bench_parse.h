/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the parser benchmark files. */
#ifndef SK_BENCH_PARSE_H
#define SK_BENCH_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct msgbuf {
	char name[64];
	char *buf; /* exactly len bytes, plus a NUL for libosip2's SDP parser */
	size_t len;
	size_t hdr_len; /* bytes up to and including the empty line */
};

void bench_osip_init(void);
uint64_t parse_osip(const struct msgbuf *mb);
uint64_t parse_sofia(const struct msgbuf *mb);

#endif
