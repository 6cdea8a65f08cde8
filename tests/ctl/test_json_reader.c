/* SPDX-License-Identifier: BSD-3-Clause */
/* The control replies' JSON parser (control/json_reader.c): values, escapes, numbers, errors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static int parse(struct sk_jv_doc *doc, const char *text, char *err, size_t errlen)
{
	return sk_jv_parse(doc, text, strlen(text), err, errlen);
}

static void test_document(void)
{
	const char *text =
		" {\"ok\":true,\"n\":18446744073709551615,\"neg\":-42,\"f\":12.5,"
		"\"e\":1e3,\"z\":-0,\"s\":\"a\\\"b\\\\c\\/\\n\\t\\u0041\\u00e9\\u20ac"
		"\\ud83d\\ude00\",\"nul\":\"x\\u0000y\",\"arr\":[1,\"two\",null,false,{}],"
		"\"empty\":[],\"obj\":{\"inner\":{\"k\":\"v\"}}}\n";
	struct sk_jv_doc doc;
	const struct sk_jv *v, *e;
	char err[128];

	CHECK(parse(&doc, text, err, sizeof(err)) == 0);
	CHECK(doc.root->type == SK_JV_OBJECT && doc.root->count == 11);
	v = sk_jv_get(doc.root, "ok");
	CHECK(v && v->type == SK_JV_BOOL && v->boolean);
	v = sk_jv_get(doc.root, "n");
	CHECK(v && v->is_u64 && v->u64 == UINT64_MAX && !v->is_i64);
	v = sk_jv_get(doc.root, "neg");
	CHECK(v && !v->is_u64 && v->is_i64 && v->i64 == -42 && v->num == -42.0);
	v = sk_jv_get(doc.root, "f");
	CHECK(v && !v->is_u64 && !v->is_i64 && v->num == 12.5 && v->len == 4);
	v = sk_jv_get(doc.root, "e");
	CHECK(v && !v->is_u64 && v->num == 1000.0);
	v = sk_jv_get(doc.root, "z");
	CHECK(v && v->is_u64 && v->u64 == 0);
	v = sk_jv_get(doc.root, "s");
	CHECK(v && v->type == SK_JV_STRING &&
	      strcmp(v->str, "a\"b\\c/\n\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0);
	v = sk_jv_get(doc.root, "nul");
	CHECK(v && v->len == 3 && memcmp(v->str, "x\0y", 3) == 0);
	v = sk_jv_get(doc.root, "arr");
	CHECK(v && v->type == SK_JV_ARRAY && v->count == 5);
	e = v ? v->child : NULL;
	CHECK(e && e->type == SK_JV_NUMBER && e->u64 == 1 && e->key == NULL);
	e = e ? e->next : NULL;
	CHECK(e && e->type == SK_JV_STRING && strcmp(e->str, "two") == 0);
	e = e ? e->next : NULL;
	CHECK(e && e->type == SK_JV_NULL);
	e = e ? e->next : NULL;
	CHECK(e && e->type == SK_JV_BOOL && !e->boolean);
	e = e ? e->next : NULL;
	CHECK(e && e->type == SK_JV_OBJECT && e->count == 0 && e->next == NULL);
	v = sk_jv_get(doc.root, "empty");
	CHECK(v && v->type == SK_JV_ARRAY && v->count == 0 && v->child == NULL);
	v = sk_jv_get(sk_jv_get(sk_jv_get(doc.root, "obj"), "inner"), "k");
	CHECK(v && strcmp(v->str, "v") == 0);
	CHECK(sk_jv_get(doc.root, "missing") == NULL);
	CHECK(sk_jv_get(v, "k") == NULL); /* not an object */
	sk_jv_free(&doc);
	CHECK(doc.root == NULL && doc.text == NULL);
}

/* Many values: the storage grows in chunks; pointers stay valid. */
static void test_large(void)
{
	size_t n = 10000, i, len = 0;
	char *text = malloc(n * 24 + 16);
	struct sk_jv_doc doc;
	const struct sk_jv *e;
	char err[128];

	len += (size_t)sprintf(text + len, "[");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%s{\"i\":%zu}", i ? "," : "", i);
	len += (size_t)sprintf(text + len, "]");
	CHECK(sk_jv_parse(&doc, text, len, err, sizeof(err)) == 0);
	CHECK(doc.root->count == n);
	for (i = 0, e = doc.root->child; e != NULL; e = e->next, i++)
		CHECK(sk_jv_get(e, "i")->u64 == i);
	CHECK(i == n);
	sk_jv_free(&doc);
	free(text);
}

static void test_errors(void)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"", "end of input"},
		{"   ", "end of input"},
		{"{", "member name expected"},
		{"{\"a\" 1}", "':' expected"},
		{"{\"a\":1,}", "member name expected"},
		{"[1 2]", "',' or ']' expected"},
		{"[1,]", "unexpected character"},
		{"{\"a\":1}}", "trailing data"},
		{"{} {}", "trailing data"},
		{"\"abc", "unterminated string"},
		{"\"a\nb\"", "control character"},
		{"\"\\x\"", "unknown escape"},
		{"\"\\u12g4\"", "bad hex digit"},
		{"\"\\u12\"", "truncated \\u escape"},
		{"\"\\ud800\"", "high surrogate"},
		{"\"\\udc00\"", "lone low surrogate"},
		{"tru", "unexpected word"},
		{"nul", "unexpected word"},
		{"-", "bad number"},
		{"1.", "digits expected after '.'"},
		{"1e", "digits expected in exponent"},
		{"01", "trailing data"},
		{"'a'", "unexpected character 0x27"},
	};
	struct sk_jv_doc doc;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(&doc, bad[i].text, err, sizeof(err)) == 0) {
			fprintf(stderr, "parsed %s\n", bad[i].text);
			failures++;
			sk_jv_free(&doc);
			continue;
		}
		if (strstr(err, bad[i].why) == NULL || strncmp(err, "offset ", 7) != 0) {
			fprintf(stderr, "%s: error '%s', expected '%s'\n", bad[i].text, err,
				bad[i].why);
			failures++;
		}
		CHECK(doc.root == NULL && doc.text == NULL && doc.chunks == NULL);
	}
}

static void test_depth(void)
{
	char text[2 * (SK_JV_MAX_DEPTH + 2) + 1];
	struct sk_jv_doc doc;
	char err[128];
	int d;

	/* SK_JV_MAX_DEPTH nested arrays parse; one more is refused. */
	for (d = SK_JV_MAX_DEPTH; d <= SK_JV_MAX_DEPTH + 1; d++) {
		memset(text, '[', (size_t)d);
		memset(text + d, ']', (size_t)d);
		text[2 * d] = '\0';
		if (d == SK_JV_MAX_DEPTH) {
			CHECK(parse(&doc, text, err, sizeof(err)) == 0);
			sk_jv_free(&doc);
		} else {
			CHECK(parse(&doc, text, err, sizeof(err)) < 0 &&
			      strstr(err, "nested deeper") != NULL);
		}
	}
}

int main(void)
{
	test_document();
	test_large();
	test_errors();
	test_depth();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
