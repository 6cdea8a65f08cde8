/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include "json_writer.h"

void sk_json_init(struct sk_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

static void put_escaped(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c); /* bytes from packets are not trusted UTF-8 */
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Comma, newline and indentation before a member, then its key if inside an object. */
static void member(struct sk_json *j, const char *key)
{
	int i;

	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->pretty && j->depth > 0) {
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	if (key) {
		put_escaped(j->f, key, strlen(key));
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void nest_open(struct sk_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < SK_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void nest_close(struct sk_json *j, char c)
{
	bool empty = j->first[j->depth];
	int i;

	if (j->depth > 0)
		j->depth--;
	if (j->pretty && !empty) {
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void sk_json_obj_begin(struct sk_json *j, const char *key)
{
	nest_open(j, key, '{');
}

void sk_json_obj_end(struct sk_json *j)
{
	nest_close(j, '}');
}

void sk_json_arr_begin(struct sk_json *j, const char *key)
{
	nest_open(j, key, '[');
}

void sk_json_arr_end(struct sk_json *j)
{
	nest_close(j, ']');
}

void sk_json_u64(struct sk_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void sk_json_i64(struct sk_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void sk_json_double(struct sk_json *j, const char *key, double v)
{
	member(j, key);
	fprintf(j->f, "%.6g", v);
}

void sk_json_bool(struct sk_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void sk_json_str(struct sk_json *j, const char *key, const char *v)
{
	sk_json_strn(j, key, v, strlen(v));
}

void sk_json_strn(struct sk_json *j, const char *key, const char *v, size_t len)
{
	member(j, key);
	put_escaped(j->f, v, len);
}

void sk_json_null(struct sk_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}
