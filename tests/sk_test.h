/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny assertion kit for sipkeep's C unit tests. Every check prints one line
 * saying what it verified ("ok   ...") or what went wrong ("FAIL ..."), with
 * the file and line; a failed check does not stop the test, so one run shows
 * every broken case. sk_test_done() prints the tally and gives the exit code
 * meson expects (0 = pass, 1 = fail).
 *
 *   SK_CHECK(cond, "what this verifies %d", x);
 *   SK_CHECK_EQ(actual, expected, "field of case %s", name);   integers
 *   SK_CHECK_STR(actual, expected, "...");                     strings
 *   SK_CHECK_CONTAINS(haystack, needle, "...");                substrings
 *   SK_RUN(test_fn, "what it covers");   one line for a test function; its
 *                                         checks print only when they fail
 *   return sk_test_done();
 */
#ifndef SK_TEST_H
#define SK_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned int sk_test_checks;
static unsigned int sk_test_failures;
static unsigned int sk_test_runs, sk_test_runs_failed;
/* Print passing checks too; false inside SK_RUN, or for a test that prints its own lines. */
static bool sk_test_verbose = true;

__attribute__((format(printf, 5, 6))) static inline bool
sk_test_report(bool ok, const char *file, int line, const char *detail, const char *fmt, ...)
{
	va_list ap;

	sk_test_checks++;
	if (!ok)
		sk_test_failures++;
	if (ok && !sk_test_verbose)
		return ok;
	printf("%s %s:%d: ", ok ? "ok  " : "FAIL", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok && detail != NULL && detail[0] != '\0')
		printf(" -- %s", detail);
	printf("\n");
	fflush(stdout);
	return ok;
}

#define SK_CHECK(cond, ...)                                                                        \
	sk_test_report(!!(cond), __FILE__, __LINE__, "false: " #cond, __VA_ARGS__)

#define SK_CHECK_EQ(actual, expected, ...)                                                         \
	__extension__({                                                                            \
		uint64_t sk_a_ = (uint64_t)(actual), sk_e_ = (uint64_t)(expected);                 \
		char sk_d_[160];                                                                   \
		snprintf(sk_d_, sizeof(sk_d_), "%.100s = %" PRIu64 ", expected %" PRIu64, #actual, \
			 sk_a_, sk_e_);                                                            \
		sk_test_report(sk_a_ == sk_e_, __FILE__, __LINE__, sk_d_, __VA_ARGS__);            \
	})

#define SK_CHECK_STR(actual, expected, ...)                                                        \
	__extension__({                                                                            \
		const char *sk_a_ = (actual), *sk_e_ = (expected);                                 \
		char sk_d_[1024];                                                                  \
		snprintf(sk_d_, sizeof(sk_d_), "%.80s = \"%.400s\", expected \"%.400s\"", #actual, \
			 sk_a_ ? sk_a_ : "(null)", sk_e_);                                         \
		sk_test_report(sk_a_ != NULL && strcmp(sk_a_, sk_e_) == 0, __FILE__, __LINE__,     \
			       sk_d_, __VA_ARGS__);                                                \
	})

#define SK_CHECK_CONTAINS(haystack, needle, ...)                                                   \
	__extension__({                                                                            \
		const char *sk_h_ = (haystack), *sk_n_ = (needle);                                 \
		char sk_d_[1024];                                                                  \
		snprintf(sk_d_, sizeof(sk_d_), "%.80s = \"%.400s\" lacks \"%.400s\"", #haystack,   \
			 sk_h_ ? sk_h_ : "(null)", sk_n_);                                         \
		sk_test_report(sk_h_ != NULL && strstr(sk_h_, sk_n_) != NULL, __FILE__, __LINE__,  \
			       sk_d_, __VA_ARGS__);                                                \
	})

#define SK_RUN(fn, what)                                                                           \
	do {                                                                                       \
		unsigned int sk_f0_ = sk_test_failures;                                            \
		bool sk_v0_ = sk_test_verbose;                                                     \
		sk_test_verbose = false;                                                           \
		fn();                                                                              \
		sk_test_verbose = sk_v0_;                                                          \
		sk_test_runs++;                                                                    \
		if (sk_test_failures != sk_f0_)                                                    \
			sk_test_runs_failed++;                                                     \
		printf("%s %-34s %s\n", sk_test_failures == sk_f0_ ? "ok  " : "FAIL", #fn, what);  \
	} while (0)

/* A line of context in the log, not a check. */
#define SK_NOTE(...)                                                                               \
	do {                                                                                       \
		printf("# ");                                                                      \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
	} while (0)

static inline int sk_test_done(void)
{
	if (sk_test_runs > 0)
		printf("%u passed, %u failed\n", sk_test_runs - sk_test_runs_failed,
		       sk_test_runs_failed);
	printf("%u check(s), %u failed\n", sk_test_checks, sk_test_failures);
	return sk_test_failures == 0 && sk_test_checks > 0 ? 0 : 1;
}

#endif /* SK_TEST_H */
