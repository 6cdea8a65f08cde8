/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's generated constant tables, re-derived from their
 * definitions: the character classes (RFC 3261 ABNF sets) and the nibble
 * tables of the vector class scans.
 */
#include "sip_lex.h"
#include "sk_test.h"

static int in_set(int c, const char *extra, int alnum)
{
	if (alnum && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		return 1;
	return c != 0 && strchr(extra, c) != NULL;
}

static void char_classes(void)
{
	for (int c = 0; c < 256; c++) {
		int tok = in_set(c, "-.!%*_+`'~", 1);

		CHECK(sk_is((char)c, SK_C_TOKEN) == tok, "token %#x", c);
		CHECK(sk_is((char)c, SK_C_WS) == in_set(c, " \t\r\n", 0), "ws %#x", c);
		CHECK(sk_is((char)c, SK_C_DIGIT) == (c >= '0' && c <= '9'), "digit %#x", c);
		CHECK(sk_is((char)c, SK_C_WORD) == in_set(c, "-.!%*_+`'~()<>:\\\"/[]?{}", 1),
		      "word %#x", c);
		CHECK(sk_is((char)c, SK_C_HOST) == in_set(c, "-._", 1), "host %#x", c);
		CHECK(sk_is((char)c, SK_C_PVAL) == (tok || in_set(c, ":[]", 0)), "pval %#x", c);
		CHECK(sk_is((char)c, SK_C_URIC) == (c > 0x20 && c < 0x7f && !in_set(c, "<>\"", 0)),
		      "uric %#x", c);
		CHECK(sk_is((char)c, SK_C_HEX) == in_set(c, "abcdefABCDEF0123456789", 0), "hex %#x",
		      c);
	}
}

static void vector_tables(void)
{
#if defined(__SSSE3__)
	char block[16];

	for (int k = 0; k < 8; k++)
		for (int c = 0; c < 256; c++) {
			int want = (sk_ctab[c] >> k) & 1;
			int got = c < 128 ? (sk_cls_lo[k][c & 15] >> (c >> 4)) & 1 : 0;

			CHECK(want == got, "class bit %d byte %#x", k, c);
		}
	/* and through the vector routine itself, all 256 bytes */
	for (int base = 0; base < 256; base += 16) {
		for (int i = 0; i < 16; i++)
			block[i] = (char)(base + i);
		for (int k = 0; k < 8; k++) {
			unsigned m = sk_cls16(block, (uint8_t)(1u << k));

			for (int i = 0; i < 16; i++)
				CHECK(!((m >> i) & 1) == sk_is(block[i], (uint8_t)(1u << k)),
				      "sk_cls16 bit %d byte %#x", k, base + i);
		}
	}
#else
	printf("     (no SSSE3 in this build: scalar scans only)\n");
#endif
}

static void case_fold_compare(void)
{
	CHECK(sk_ci_eq("CONTENT-LENGTH", "content-length", 14), "upper");
	CHECK(sk_ci_eq("Sip/2.0", "sip/2.0", 7), "mixed");
	/* only letters fold: a control byte must not pass for '-' or a digit */
	CHECK(!sk_ci_eq("call\rid", "call-id", 7), "CR is not '-'");
	CHECK(!sk_ci_eq("\x11\x10\x10rel", "100rel", 6), "controls are not digits");
	CHECK(!sk_ci_eq("SIP\x0f"
			"2.0",
			"sip/2.0", 7),
	      "0x0f is not '/'");
	for (size_t n = 0; n <= 20; n++) {
		char a[21], b[21];

		for (size_t i = 0; i < n; i++) {
			a[i] = (char)('A' + (int)i);
			b[i] = (char)('a' + (int)i);
		}
		CHECK(sk_ci_eq(a, b, n), "length %zu", n);
		if (n > 0) {
			a[n - 1] = '#';
			CHECK(!sk_ci_eq(a, b, n), "last byte differs, length %zu", n);
		}
	}
}

int main(void)
{
	RUN(char_classes, "character classes match their ABNF sets");
	RUN(vector_tables, "nibble tables and sk_cls16 agree with sk_ctab");
	RUN(case_fold_compare, "word-wise case-insensitive compare, all lengths");
	return sk_test_done();
}
