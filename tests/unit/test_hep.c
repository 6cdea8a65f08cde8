/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HEP decoder (control/hep.c) on hand-built frames; each case is a meson
 * test of its own (the first argument names it).
 */
#include <stdlib.h>

#include "sk_hep.h"
#include "sk_test.h"

struct frame {
	uint8_t b[70000];
	size_t n;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void begin(struct frame *f)
{
	memcpy(f->b, "HEP3", 4);
	f->n = 6;
}

static void chunk(struct frame *f, uint16_t vendor, uint16_t type, const void *d, size_t len)
{
	put16(f->b + f->n, vendor);
	put16(f->b + f->n + 2, type);
	put16(f->b + f->n + 4, (uint16_t)(len + 6));
	memcpy(f->b + f->n + 6, d, len);
	f->n += 6 + len;
}

static void chunk8(struct frame *f, uint16_t type, uint8_t v)
{
	chunk(f, 0, type, &v, 1);
}

static void chunk16(struct frame *f, uint16_t type, uint16_t v)
{
	uint8_t d[2];

	put16(d, v);
	chunk(f, 0, type, d, 2);
}

static void chunk32(struct frame *f, uint16_t type, uint32_t v)
{
	uint8_t d[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	chunk(f, 0, type, d, 4);
}

static void end(struct frame *f)
{
	put16(f->b + 4, (uint16_t)f->n);
}

static const char sip[] = "REGISTER sip:example.com SIP/2.0\r\nCall-ID: a\r\n\r\n";

/* A complete IPv4 SIP frame, minus whatever SKIP names (a chunk type), ended. */
static void v4_frame(struct frame *f, uint16_t skip, const char *auth)
{
	static const uint8_t src[4] = {10, 1, 0, 5}, dst[4] = {192, 0, 2, 10};

	begin(f);
	if (skip != SK_HEP_CH_FAMILY)
		chunk8(f, SK_HEP_CH_FAMILY, 2);
	chunk8(f, SK_HEP_CH_PROTO, 6);
	if (skip != SK_HEP_CH_SRC4)
		chunk(f, 0, SK_HEP_CH_SRC4, src, 4);
	chunk(f, 0, SK_HEP_CH_DST4, dst, 4);
	chunk16(f, SK_HEP_CH_SPORT, 40000);
	if (skip != SK_HEP_CH_DPORT)
		chunk16(f, SK_HEP_CH_DPORT, 5061);
	chunk32(f, SK_HEP_CH_TS_SEC, 1700000000);
	chunk32(f, SK_HEP_CH_TS_USEC, 123456);
	if (skip != SK_HEP_CH_PROTO_TYPE)
		chunk8(f, SK_HEP_CH_PROTO_TYPE, 1);
	chunk32(f, SK_HEP_CH_CAPTURE_ID, 2001);
	if (auth != NULL)
		chunk(f, 0, SK_HEP_CH_AUTH_KEY, auth, strlen(auth));
	if (skip != SK_HEP_CH_PAYLOAD)
		chunk(f, 0, SK_HEP_CH_PAYLOAD, sip, strlen(sip));
	end(f);
}

static void test_every_chunk(void)
{
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 1, [15] = 2};
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;

	v4_frame(f, 0, "secret");
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "IPv4 frame decodes");
	SK_CHECK_EQ(m.version, 3, "version");
	SK_CHECK_EQ(m.family, 4, "family 2 is IPv4");
	SK_CHECK_EQ(m.ip_proto, 6, "protocol");
	SK_CHECK(memcmp(m.src, (uint8_t[]){10, 1, 0, 5}, 4) == 0, "IPv4 source");
	SK_CHECK(memcmp(m.dst, (uint8_t[]){192, 0, 2, 10}, 4) == 0, "IPv4 destination");
	SK_CHECK_EQ(m.sport, 40000, "source port");
	SK_CHECK_EQ(m.dport, 5061, "destination port");
	SK_CHECK_EQ(m.ts_sec, 1700000000, "seconds");
	SK_CHECK_EQ(m.ts_usec, 123456, "microseconds");
	SK_CHECK_EQ(m.proto_type, 1, "protocol type SIP");
	SK_CHECK_EQ(m.capture_id, 2001, "capture id");
	SK_CHECK_EQ(m.auth_len, 6, "auth key length");
	SK_CHECK_EQ(m.payload_len, strlen(sip), "payload length");
	SK_CHECK(m.payload != NULL && memcmp(m.payload, sip, strlen(sip)) == 0, "payload bytes");
	SK_CHECK_EQ(sk_hep_frame_len(f->b, f->n), f->n, "stream framing reads the total");
	SK_CHECK_EQ(sk_hep_frame_len(f->b, 3), 0, "stream framing waits for the header");
	SK_CHECK_EQ(sk_hep_frame_len((const uint8_t *)"GET / ", 6), -1, "not HEP3 on a stream");

	begin(f);
	chunk8(f, SK_HEP_CH_FAMILY, 10);
	chunk8(f, SK_HEP_CH_PROTO, 17);
	chunk(f, 0, SK_HEP_CH_SRC6, s6, 16);
	chunk(f, 0, SK_HEP_CH_DST6, d6, 16);
	chunk16(f, SK_HEP_CH_SPORT, 5060);
	chunk16(f, SK_HEP_CH_DPORT, 5060);
	chunk8(f, SK_HEP_CH_PROTO_TYPE, 1);
	chunk(f, 0, SK_HEP_CH_PAYLOAD, sip, strlen(sip));
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "IPv6 frame decodes");
	SK_CHECK_EQ(m.family, 6, "family 10 is IPv6");
	SK_CHECK(memcmp(m.src, s6, 16) == 0 && memcmp(m.dst, d6, 16) == 0, "IPv6 addresses");
	free(f);
}

static void test_lying_lengths(void)
{
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;

	v4_frame(f, 0, NULL);
	put16(f->b + 4, (uint16_t)(f->n + 10));
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_TRUNCATED, "total beyond the bytes");
	put16(f->b + 4, 3);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_BAD_LENGTH, "total below a header");
	put16(f->b + 4, (uint16_t)(f->n - 3));
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_BAD_LENGTH, "total cuts a chunk");
	v4_frame(f, 0, NULL);
	put16(f->b + 6 + 4, 2); /* the first chunk's length below its own header */
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_BAD_LENGTH, "chunk length below 6");
	v4_frame(f, 0, NULL);
	put16(f->b + 6 + 4, 60000);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_BAD_LENGTH, "chunk beyond the frame");
	v4_frame(f, 0, NULL);
	put16(f->b + 6 + 4, 8); /* family with 2 bytes */
	SK_CHECK(sk_hep_parse(f->b, f->n, &m) != SK_HEP_OK, "fixed-size chunk of the wrong size");
	begin(f);
	chunk16(f, SK_HEP_CH_FAMILY, 2);
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_BAD_LENGTH, "2-byte family");
	v4_frame(f, 0, NULL);
	f->n -= 1;
	put16(f->b + 4, (uint16_t)f->n); /* the payload chunk now overruns the total */
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_BAD_LENGTH, "payload overruns");
	free(f);
}

static void test_truncated(void)
{
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;
	size_t cut;
	unsigned int bad = 0;

	v4_frame(f, 0, NULL);
	for (cut = 0; cut < f->n; cut++)
		if (sk_hep_parse(f->b, cut, &m) == SK_HEP_OK)
			bad++;
	SK_CHECK_EQ(bad, 0, "no prefix of a frame decodes");
	SK_CHECK_EQ(sk_hep_parse(f->b, 5, &m), SK_HEP_ERR_TRUNCATED, "5 bytes");
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n - 1, &m), SK_HEP_ERR_TRUNCATED, "one byte short");
	SK_CHECK_EQ(sk_hep_parse((const uint8_t *)"NOTHEP", 6, &m), SK_HEP_ERR_BAD_MAGIC,
		    "another magic");
	free(f);
}

static void test_payload_sizes(void)
{
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;
	static uint8_t big[SK_HEP_PAYLOAD_MAX + 1];

	v4_frame(f, SK_HEP_CH_PAYLOAD, NULL);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_NO_PAYLOAD, "no payload chunk");
	v4_frame(f, SK_HEP_CH_PAYLOAD, NULL);
	chunk(f, 0, SK_HEP_CH_PAYLOAD, "", 0);
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_NO_PAYLOAD, "zero-length payload");
	memset(big, 'x', sizeof(big));
	v4_frame(f, SK_HEP_CH_PAYLOAD, NULL);
	chunk(f, 0, SK_HEP_CH_PAYLOAD, big, sizeof(big));
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_PAYLOAD_BIG, "payload above the max");
	v4_frame(f, SK_HEP_CH_PAYLOAD, NULL);
	chunk(f, 0, SK_HEP_CH_PAYLOAD, big, SK_HEP_PAYLOAD_MAX);
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "payload at the max");
	v4_frame(f, SK_HEP_CH_PAYLOAD, NULL);
	chunk(f, 0, SK_HEP_CH_PAYLOAD_GZ, "\x1f\x8b", 2);
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_COMPRESSED, "compressed payload");
	v4_frame(f, 0, NULL);
	chunk(f, 0, SK_HEP_CH_PAYLOAD, sip, 4);
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_DUPLICATE, "two payloads");
	free(f);
}

static void test_unknown_chunks(void)
{
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;

	v4_frame(f, 0, NULL);
	chunk(f, 0, 0x0011, "vlan", 4);	     /* a later generic type */
	chunk(f, 0x0022, 0x0001, "\x07", 1); /* another vendor's "family" */
	chunk(f, 0, 0x000d, "", 0);	     /* keep-alive timer */
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "unknown chunks skipped");
	SK_CHECK_EQ(m.n_unknown, 3, "and counted");
	SK_CHECK_EQ(m.family, 4, "another vendor's chunk does not override ours");
	free(f);
}

static void test_not_sip(void)
{
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;

	v4_frame(f, SK_HEP_CH_PROTO_TYPE, NULL);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_NOT_SIP, "no protocol type");
	v4_frame(f, SK_HEP_CH_PROTO_TYPE, NULL);
	chunk8(f, SK_HEP_CH_PROTO_TYPE, 5); /* RTCP */
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_NOT_SIP, "RTCP report ignored");
	v4_frame(f, SK_HEP_CH_SRC4, NULL);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_MISSING, "no source address");
	v4_frame(f, SK_HEP_CH_DPORT, NULL);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_MISSING, "no destination port");
	v4_frame(f, SK_HEP_CH_FAMILY, NULL);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_ERR_MISSING, "no family");
	free(f);
}

static void test_auth(void)
{
	struct frame *f = calloc(1, sizeof(*f));
	struct sk_hep_msg m;

	v4_frame(f, 0, "secret");
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "decodes");
	SK_CHECK(sk_hep_auth_ok(&m, "secret"), "right key");
	SK_CHECK(!sk_hep_auth_ok(&m, "secreT"), "wrong key");
	SK_CHECK(!sk_hep_auth_ok(&m, "secre"), "a prefix of the key");
	SK_CHECK(!sk_hep_auth_ok(&m, "secrets"), "a longer key");
	SK_CHECK(sk_hep_auth_ok(&m, ""), "no key configured: any frame");
	v4_frame(f, 0, NULL);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "decodes");
	SK_CHECK(!sk_hep_auth_ok(&m, "secret"), "no key chunk while one is configured");
	begin(f);
	v4_frame(f, 0, NULL);
	f->n -= strlen(sip) + 6;
	chunk(f, 0, SK_HEP_CH_AUTH_KEY, "secret", 7); /* with its NUL */
	chunk(f, 0, SK_HEP_CH_PAYLOAD, sip, strlen(sip));
	end(f);
	SK_CHECK_EQ(sk_hep_parse(f->b, f->n, &m), SK_HEP_OK, "decodes");
	SK_CHECK(sk_hep_auth_ok(&m, "secret"), "a key sent with its NUL");
	free(f);
}

static void test_v2(void)
{
	uint8_t b[200];
	struct sk_hep_msg m;
	size_t n = 28 + strlen(sip);

	memset(b, 0, sizeof(b));
	b[0] = 2;
	b[1] = 16;
	b[2] = 2;
	b[3] = 17;
	put16(b + 4, 5060);
	put16(b + 6, 5080);
	memcpy(b + 8, (uint8_t[]){10, 1, 0, 5}, 4);
	memcpy(b + 12, (uint8_t[]){192, 0, 2, 10}, 4);
	b[16] = 1; /* seconds, little-endian */
	memcpy(b + 28, sip, strlen(sip));
	SK_CHECK_EQ(sk_hep_parse(b, n, &m), SK_HEP_OK, "HEPv2 decodes");
	SK_CHECK_EQ(m.version, 2, "version 2");
	SK_CHECK_EQ(m.dport, 5080, "its port");
	SK_CHECK_EQ(m.ts_sec, 1, "its time");
	SK_CHECK_EQ(m.payload_len, strlen(sip), "the rest is the payload");
	SK_CHECK_EQ(sk_hep_parse(b, 27, &m), SK_HEP_ERR_TRUNCATED, "HEPv2 cut in its header");
	SK_CHECK_EQ(sk_hep_parse(b, 28, &m), SK_HEP_ERR_NO_PAYLOAD, "HEPv2 without payload");
	b[1] = 17;
	SK_CHECK_EQ(sk_hep_parse(b, n, &m), SK_HEP_ERR_BAD_LENGTH, "HEPv2 header length lies");
	b[1] = 16;
	b[2] = 7;
	SK_CHECK_EQ(sk_hep_parse(b, n, &m), SK_HEP_ERR_MISSING, "HEPv2 unknown family");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{"every_chunk", test_every_chunk},
		{"lying_lengths", test_lying_lengths},
		{"truncated", test_truncated},
		{"payload_sizes", test_payload_sizes},
		{"unknown_chunks", test_unknown_chunks},
		{"not_sip", test_not_sip},
		{"auth", test_auth},
		{"v2", test_v2},
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (argc < 2 || strcmp(argv[1], cases[i].name) == 0)
			cases[i].fn();
	return sk_test_done();
}
