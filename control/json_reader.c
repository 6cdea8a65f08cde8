/* SPDX-License-Identifier: BSD-3-Clause */
/* Recursive-descent JSON parser (RFC 8259), strings decoded in place in a private copy. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

#define SK_JV_CHUNK 256

struct sk_jv_chunk {
	struct sk_jv_chunk *next;
	size_t used;
	struct sk_jv v[SK_JV_CHUNK];
};

struct parser {
	struct sk_jv_doc *doc;
	char *s;
	size_t len;
	size_t pos;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "offset %zu: ", p->pos);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static struct sk_jv *new_value(struct parser *p, enum sk_jv_type type)
{
	struct sk_jv_chunk *c = p->doc->chunks;
	struct sk_jv *v;

	if (c == NULL || c->used == SK_JV_CHUNK) {
		c = malloc(sizeof(*c));
		if (c == NULL) {
			fail(p, "out of memory");
			return NULL;
		}
		c->next = p->doc->chunks;
		c->used = 0;
		p->doc->chunks = c;
	}
	v = &c->v[c->used++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int hex4(struct parser *p, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	if (p->len - p->pos < 4)
		return fail(p, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos + (size_t)i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return fail(p, "bad hex digit in \\u escape");
	}
	p->pos += 4;
	*out = v;
	return 0;
}

/* Encode code point CP as UTF-8 at *w; the escape it came from is always longer. */
static void put_utf8(char **w, unsigned int cp)
{
	unsigned char *o = (unsigned char *)*w;

	if (cp < 0x80) {
		*o++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*o++ = (unsigned char)(0xc0 | (cp >> 6));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (unsigned char)(0xe0 | (cp >> 12));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (unsigned char)(0xf0 | (cp >> 18));
		*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*w = (char *)o;
}

/* At an opening quote: decode the string in place into OUT and OUTLEN. */
static int parse_string(struct parser *p, const char **out, size_t *outlen)
{
	char *start, *w;

	p->pos++; /* opening quote */
	start = w = p->s + p->pos;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return fail(p, "control character in string");
		if (c != '\\') {
			*w++ = (char)c;
			p->pos++;
			continue;
		}
		if (++p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*w++ = (char)c;
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'u': {
			unsigned int cp, lo;

			if (hex4(p, &cp) < 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(p, "lone low surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (!literal(p, "\\u") || hex4(p, &lo) < 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return fail(p, "high surrogate without its low half");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(&w, cp);
			break;
		}
		default:
			p->pos--;
			return fail(p, "unknown escape '\\%c'", c);
		}
	}
	*w = '\0'; /* at or before the closing quote, which is consumed */
	*out = start;
	*outlen = (size_t)(w - start);
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, struct sk_jv *v)
{
	size_t start = p->pos;
	bool neg = false, integer = true, overflow = false;
	uint64_t mag = 0;
	char *end;

	if (p->s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return fail(p, "bad number");
	if (p->s[p->pos] == '0') {
		p->pos++;
	} else {
		while (p->pos < p->len && is_digit(p->s[p->pos])) {
			unsigned int d = (unsigned int)(p->s[p->pos] - '0');

			if (mag > (UINT64_MAX - d) / 10)
				overflow = true;
			mag = mag * 10 + d;
			p->pos++;
		}
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		integer = false;
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return fail(p, "bad number: digits expected after '.'");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		integer = false;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return fail(p, "bad number: digits expected in exponent");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	v->str = p->s + start;
	v->len = p->pos - start;
	/* The text copy is NUL-terminated and the number ends at a non-number byte. */
	errno = 0;
	v->num = strtod(v->str, &end);
	if (integer && !overflow) {
		if (!neg) {
			v->is_u64 = true;
			v->u64 = mag;
			if (mag <= (uint64_t)INT64_MAX) {
				v->is_i64 = true;
				v->i64 = (int64_t)mag;
			}
		} else if (mag <= (uint64_t)INT64_MAX + 1) {
			v->is_i64 = true;
			v->i64 = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
			if (mag == 0) {
				v->is_u64 = true;
				v->u64 = 0;
			}
		}
	}
	return 0;
}

static struct sk_jv *parse_value(struct parser *p, int depth);

static int parse_container(struct parser *p, struct sk_jv *v, int depth)
{
	bool object = v->type == SK_JV_OBJECT;
	char close = object ? '}' : ']';
	struct sk_jv **tail = &v->child;

	if (depth >= SK_JV_MAX_DEPTH)
		return fail(p, "nested deeper than %d", SK_JV_MAX_DEPTH);
	p->pos++; /* '{' or '[' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		size_t keylen;
		struct sk_jv *item;

		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "member name expected");
			if (parse_string(p, &key, &keylen) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, "':' expected after member name");
			p->pos++;
		}
		item = parse_value(p, depth + 1);
		if (item == NULL)
			return -1;
		item->key = key;
		*tail = item;
		tail = &item->next;
		v->count++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return fail(p, "',' or '%c' expected", close);
	}
}

static struct sk_jv *parse_value(struct parser *p, int depth)
{
	struct sk_jv *v;
	char c;

	skip_ws(p);
	if (p->pos >= p->len) {
		fail(p, "value expected, got end of input");
		return NULL;
	}
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		v = new_value(p, c == '{' ? SK_JV_OBJECT : SK_JV_ARRAY);
		if (v == NULL || parse_container(p, v, depth) < 0)
			return NULL;
		return v;
	case '"':
		v = new_value(p, SK_JV_STRING);
		if (v == NULL || parse_string(p, &v->str, &v->len) < 0)
			return NULL;
		return v;
	case 't':
	case 'f':
		v = new_value(p, SK_JV_BOOL);
		if (v == NULL)
			return NULL;
		v->boolean = c == 't';
		if (!literal(p, c == 't' ? "true" : "false")) {
			fail(p, "unexpected word");
			return NULL;
		}
		return v;
	case 'n':
		v = new_value(p, SK_JV_NULL);
		if (v == NULL)
			return NULL;
		if (!literal(p, "null")) {
			fail(p, "unexpected word");
			return NULL;
		}
		return v;
	default:
		if (c != '-' && !is_digit(c)) {
			fail(p, "unexpected character 0x%02x", (unsigned char)c);
			return NULL;
		}
		v = new_value(p, SK_JV_NUMBER);
		if (v == NULL || parse_number(p, v) < 0)
			return NULL;
		return v;
	}
}

int sk_jv_parse(struct sk_jv_doc *doc, const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p = {.doc = doc, .len = len, .err = err, .errlen = errlen};

	memset(doc, 0, sizeof(*doc));
	doc->text = malloc(len + 1);
	if (doc->text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(doc->text, text, len);
	doc->text[len] = '\0';
	p.s = doc->text;
	doc->root = parse_value(&p, 0);
	if (doc->root == NULL) {
		sk_jv_free(doc);
		return -1;
	}
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, "trailing data after the document");
		sk_jv_free(doc);
		return -1;
	}
	return 0;
}

void sk_jv_free(struct sk_jv_doc *doc)
{
	struct sk_jv_chunk *c = doc->chunks;

	while (c != NULL) {
		struct sk_jv_chunk *next = c->next;

		free(c);
		c = next;
	}
	free(doc->text);
	memset(doc, 0, sizeof(*doc));
}

const struct sk_jv *sk_jv_get(const struct sk_jv *obj, const char *key)
{
	const struct sk_jv *m;

	if (obj == NULL || obj->type != SK_JV_OBJECT)
		return NULL;
	for (m = obj->child; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

const char *sk_jv_type_name(enum sk_jv_type t)
{
	switch (t) {
	case SK_JV_NULL:
		return "null";
	case SK_JV_BOOL:
		return "boolean";
	case SK_JV_NUMBER:
		return "number";
	case SK_JV_STRING:
		return "string";
	case SK_JV_ARRAY:
		return "array";
	case SK_JV_OBJECT:
		return "object";
	}
	return "?";
}
