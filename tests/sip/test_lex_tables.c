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

		SK_CHECK(sk_is((char)c, SK_C_TOKEN) == tok, "token %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_WS) == in_set(c, " \t\r\n", 0), "ws %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_DIGIT) == (c >= '0' && c <= '9'), "digit %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_WORD) == in_set(c, "-.!%*_+`'~()<>:\\\"/[]?{}", 1),
			 "word %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_HOST) == in_set(c, "-._", 1), "host %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_PVAL) == (tok || in_set(c, ":[]", 0)), "pval %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_URIC) ==
				 (c > 0x20 && c < 0x7f && !in_set(c, "<>\"", 0)),
			 "uric %#x", c);
		SK_CHECK(sk_is((char)c, SK_C_HEX) == in_set(c, "abcdefABCDEF0123456789", 0),
			 "hex %#x", c);
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

			SK_CHECK(want == got, "class bit %d byte %#x", k, c);
		}
	/* and through the vector routine itself, all 256 bytes */
	for (int base = 0; base < 256; base += 16) {
		for (int i = 0; i < 16; i++)
			block[i] = (char)(base + i);
		for (int k = 0; k < 8; k++) {
			unsigned m = sk_cls16(block, (uint8_t)(1u << k));

			for (int i = 0; i < 16; i++)
				SK_CHECK(!((m >> i) & 1) == sk_is(block[i], (uint8_t)(1u << k)),
					 "sk_cls16 bit %d byte %#x", k, base + i);
		}
	}
#else
	printf("     (no SSSE3 in this build: scalar scans only)\n");
#endif
}

static void case_fold_compare(void)
{
	SK_CHECK(sk_ci_eq("CONTENT-LENGTH", "content-length", 14), "upper");
	SK_CHECK(sk_ci_eq("Sip/2.0", "sip/2.0", 7), "mixed");
	/* only letters fold: a control byte must not pass for '-' or a digit */
	SK_CHECK(!sk_ci_eq("call\rid", "call-id", 7), "CR is not '-'");
	SK_CHECK(!sk_ci_eq("\x11\x10\x10rel", "100rel", 6), "controls are not digits");
	SK_CHECK(!sk_ci_eq("SIP\x0f"
			   "2.0",
			   "sip/2.0", 7),
		 "0x0f is not '/'");
	for (size_t n = 0; n <= 20; n++) {
		char a[21], b[21];

		for (size_t i = 0; i < n; i++) {
			a[i] = (char)('A' + (int)i);
			b[i] = (char)('a' + (int)i);
		}
		SK_CHECK(sk_ci_eq(a, b, n), "length %zu", n);
		if (n > 0) {
			a[n - 1] = '#';
			SK_CHECK(!sk_ci_eq(a, b, n), "last byte differs, length %zu", n);
		}
	}
}

/* The option-tag perfect hash table: every entry at its own hash, fold bytes
 * exactly at the letters, and every known tag in it. */
static void opt_table(void)
{
	unsigned used = 0;

	for (unsigned h = 0; h < 64; h++) {
		const struct sk_opt_ent *t = &sk_opt_tab[h];

		if (t->len == 0)
			continue;
		used++;
		SK_CHECK(SK_OPT_HASH(t->len, t->lower[0], t->lower[t->len - 1]) == h, "slot %u", h);
		for (unsigned i = 0; i < sizeof(t->lower); i++) {
			char c = t->lower[i];
			int letter = i < t->len && c >= 'a' && c <= 'z';

			SK_CHECK(i < t->len ? c != 0 : c == 0, "slot %u byte %u", h, i);
			SK_CHECK(t->fold[i] == (letter ? 0x20 : 0), "slot %u fold %u", h, i);
		}
		SK_CHECK(sk_sip_opt_lookup(t->lower, t->len) == t->opt, "slot %u lookup", h);
	}
	/* all known tags but the two version-suffixed ones */
	SK_CHECK(used == SK_OPT_KNOWN_COUNT - 2, "%u entries", used);
}

/* Decimal parse: saturation and long runs of leading zeros. */
static void decimal_numbers(void)
{
	static const struct {
		const char *s;
		uint32_t v;
	} cases[] = {
		{"0", 0},
		{"65535", 65535},
		{"4294967295", UINT32_MAX},
		{"4294967296", UINT32_MAX},
		{"9999999999999999999", UINT32_MAX},  /* 19 digits */
		{"99999999999999999999", UINT32_MAX}, /* 20 digits */
		{"00000000000000000000000005", 5},    /* 26 digits, value 5 */
		{"000000000000000000004294967295", UINT32_MAX},
		{"000000000000000000004294967296", UINT32_MAX},
		{"18446744073709551616", UINT32_MAX}, /* 2^64: would wrap to 0 */
		{"18446744073709551621", UINT32_MAX}, /* 2^64 + 5 */
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].s, *e = s + strlen(s);
		uint32_t v = 1;

		SK_CHECK(sk_parse_u32(s, e, &v) == e && v == cases[i].v, "%s -> %u", s, v);
	}
	const char *no_digit = "x1";

	SK_CHECK(sk_parse_u32(no_digit, no_digit + 2, &(uint32_t){0}) == NULL, "no digit");
}

int main(void)
{
	SK_RUN(char_classes, "character classes match their ABNF sets");
	SK_RUN(vector_tables, "nibble tables and sk_cls16 agree with sk_ctab");
	SK_RUN(case_fold_compare, "word-wise case-insensitive compare, all lengths");
	SK_RUN(opt_table, "option-tag hash table: slots, fold masks, lookups");
	SK_RUN(decimal_numbers, "decimal parse: saturation, long leading zeros");
	return sk_test_done();
}
