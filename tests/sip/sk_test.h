/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal test harness: CHECK() records and reports, RUN() prints one line
 * per test saying what it checked, sk_test_done() prints the closing
 * "N passed, N failed" line and gives the exit status.
 */
#ifndef SK_TEST_H
#define SK_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_parse.h"

static int sk_checks_failed, sk_checks_passed, sk_tests_failed, sk_tests_passed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			sk_checks_passed++;                                                        \
		} else {                                                                           \
			sk_checks_failed++;                                                        \
			fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	CHECK((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))

#define RUN(fn, what)                                                                              \
	do {                                                                                       \
		int f0_ = sk_checks_failed;                                                        \
		fn();                                                                              \
		if (sk_checks_failed == f0_)                                                       \
			sk_tests_passed++;                                                         \
		else                                                                               \
			sk_tests_failed++;                                                         \
		printf("%s %-34s %s\n", sk_checks_failed == f0_ ? "ok  " : "FAIL", #fn, what);     \
	} while (0)

static inline int sk_test_done(void)
{
	printf("%d checks passed, %d checks failed\n", sk_checks_passed, sk_checks_failed);
	printf("%d passed, %d failed\n", sk_tests_passed, sk_tests_failed);
	return sk_tests_failed ? 1 : 0;
}

/* An exactly-sized heap copy, so ASan flags any read past the message. */
struct tbuf {
	char *buf;
	size_t len;
};

static inline void tbuf_set(struct tbuf *t, const char *data, size_t len)
{
	free(t->buf);
	t->buf = malloc(len ? len : 1);
	if (t->buf == NULL)
		abort();
	memcpy(t->buf, data, len);
	t->len = len;
}

static inline void tbuf_free(struct tbuf *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
}

static inline int span_eq(const char *buf, struct sk_span s, const char *str)
{
	return s.len == strlen(str) && memcmp(buf + s.off, str, s.len) == 0;
}

#define CHECK_SPAN(buf, span, str)                                                                 \
	CHECK(span_eq((buf), (span), (str)), "got \"%.*s\", want \"%s\"", (int)(span).len,         \
	      (buf) + (span).off, (str))

#endif /* SK_TEST_H */
