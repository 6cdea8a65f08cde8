/* SPDX-License-Identifier: BSD-3-Clause */
/* Messages for the parser's tests, on top of the harness (tests/sk_test.h). */
#ifndef SK_SIP_FIXTURE_H
#define SK_SIP_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "sip_parse.h"
#include "sk_test.h"

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

#define SK_CHECK_SPAN(buf, span, str)                                                              \
	SK_CHECK(span_eq((buf), (span), (str)), "got \"%.*s\", want \"%s\"", (int)(span).len,      \
		 (buf) + (span).off, (str))

#endif /* SK_SIP_FIXTURE_H */
