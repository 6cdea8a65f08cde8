/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "Is this UDP payload SIP?" for sip_detect = any.  Runs on every UDP packet
 * on a non-SIP port (mostly RTP), so it must reject in a few instructions:
 * the first byte and the position of the first SP settle almost all
 * non-SIP payloads before any string compare.
 */
#include <string.h>

#include "sip_detect.h"

static bool is_space(char c)
{
	/* \s of the reference regex: SP HT LF VT FF CR */
	return c == ' ' || (c >= '\t' && c <= '\r');
}

bool sk_sip_detect(const char *buf, size_t len)
{
	const char *p = buf, *e = buf + len, *sp;
	size_t n;

	if (len < 12)
		return false;
	if (p[0] == 'S' && memcmp(p, "SIP/2.0 ", 8) == 0)
		return p[8] >= '1' && p[8] <= '6' && p[9] >= '0' && p[9] <= '9' && p[10] >= '0' &&
		       p[10] <= '9' && p[11] == ' ';
	if (p[0] < 'A' || p[0] > 'U')
		return false;
	/* longest method is SUBSCRIBE (9) */
	sp = memchr(p, ' ', len < 10 ? len : 10);
	if (sp == NULL)
		return false;
	n = (size_t)(sp - p);
	if (sk_sip_method_from(p, n) == SK_SIP_METHOD_UNKNOWN)
		return false;
	p = sp + 1;
	sp = p;
	while (p < e && !is_space(*p))
		p++;
	if (p == sp || e - p < 9 || *p != ' ' || memcmp(p + 1, "SIP/2.0", 7) != 0)
		return false;
	p += 8;
	if (*p == '\n')
		return true;
	return *p == '\r' && e - p >= 2 && p[1] == '\n';
}
