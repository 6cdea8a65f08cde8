/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Access to header parameters after parsing.  The params spans were already
 * validated by sk_sip_parse(), but these helpers still re-check bounds so a
 * caller passing a span of its own cannot make them over-read.
 */
#include <string.h>

#include "sip_lex.h"

void sk_sip_param_iter_init(struct sk_sip_param_iter *it, struct sk_span params)
{
	it->pos = params.off;
	it->end = (uint16_t)sk_span_end(params);
}

bool sk_sip_param_next(const char *buf, struct sk_sip_param_iter *it, struct sk_span *name,
		       struct sk_span *value)
{
	const char *p = buf + it->pos, *e = buf + it->end, *n, *v;
	size_t nl, vl;

	p = sk_skip_ws(p, e);
	if (p >= e || *p != ';')
		return false;
	p = sk_param_one(p + 1, e, e, &n, &nl, &v, &vl);
	if (p == NULL) {
		it->pos = it->end;
		return false;
	}
	*name = sk_mkspan(buf, n, n + nl);
	*value = v ? sk_mkspan(buf, v, v + vl) : sk_mkspan(buf, p, p);
	it->pos = (uint16_t)(p - buf);
	return true;
}

static bool name_eq(const char *p, size_t pn, const char *name)
{
	size_t n = strlen(name);

	if (pn != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sk_lower(p[i]) != sk_lower(name[i]))
			return false;
	return true;
}

bool sk_sip_param_find(const char *buf, struct sk_span params, const char *name,
		       struct sk_span *value)
{
	struct sk_sip_param_iter it;
	struct sk_span n, v;

	sk_sip_param_iter_init(&it, params);
	while (sk_sip_param_next(buf, &it, &n, &v)) {
		if (name_eq(buf + n.off, n.len, name)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

bool sk_sip_contact_has_feature(const char *buf, const struct sk_sip_contact *c, const char *name)
{
	struct sk_sip_param_iter it;
	struct sk_span n, v;

	if (*name == '+')
		name++;
	sk_sip_param_iter_init(&it, c->params);
	while (sk_sip_param_next(buf, &it, &n, &v)) {
		const char *p = buf + n.off;
		size_t len = n.len;

		if (len > 0 && *p == '+') {
			p++;
			len--;
		}
		if (name_eq(p, len, name))
			return true;
	}
	return false;
}

uint32_t sk_sip_msg_opts(const struct sk_sip_msg *msg)
{
	uint32_t opts = msg->supported;

	for (unsigned i = 0; i < msg->n_contact; i++)
		opts |= msg->contact[i].feature_opts;
	return opts;
}
