/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Option tags (RFC 3261 19.2) sipkeep knows by name.
 */

#include "sip_lex.h"

static const char *const opt_names[SK_OPT_KNOWN_COUNT] = {
	[SK_OPT_X_CISCO_SESSIONPERSIST] = "X-cisco-sessionpersist",
	[SK_OPT_X_CISCO_CALLINFO] = "X-cisco-callinfo",
	[SK_OPT_100REL] = "100rel",
	[SK_OPT_TIMER] = "timer",
	[SK_OPT_REPLACES] = "replaces",
	[SK_OPT_PATH] = "path",
	[SK_OPT_GRUU] = "gruu",
	[SK_OPT_OUTBOUND] = "outbound",
	[SK_OPT_JOIN] = "join",
	[SK_OPT_NOREFERSUB] = "norefersub",
	[SK_OPT_PRECONDITION] = "precondition",
	[SK_OPT_HISTINFO] = "histinfo",
	[SK_OPT_SDP_ANAT] = "sdp-anat",
	[SK_OPT_RESOURCE_PRIORITY] = "resource-priority",
	[SK_OPT_EXTENDED_REFER] = "extended-refer",
	[SK_OPT_FROM_CHANGE] = "from-change",
	[SK_OPT_EVENTLIST] = "eventlist",
	[SK_OPT_X_CISCO_SERVICEURI] = "X-cisco-serviceuri",
	[SK_OPT_X_CISCO_ESCAPECODES] = "X-cisco-escapecodes",
	[SK_OPT_X_CISCO_SERVICE_CONTROL] = "X-cisco-service-control",
	[SK_OPT_X_CISCO_SRTP_FALLBACK] = "X-cisco-srtp-fallback",
	[SK_OPT_X_CISCO_MONREC] = "X-cisco-monrec",
	[SK_OPT_X_CISCO_CONFIG] = "X-cisco-config",
	[SK_OPT_X_CISCO_SIS] = "X-cisco-sis",
	[SK_OPT_X_CISCO_XSI] = "X-cisco-xsi",
};

const char *sk_sip_opt_str(enum sk_sip_opt o)
{
	if (o == SK_OPT_OTHER)
		return "other";
	if ((unsigned)o >= SK_OPT_KNOWN_COUNT)
		return NULL;
	return opt_names[o];
}

/*
 * The SK_OPT_HASH table (sip_lex.h), generated from opt_names (no collision:
 * checked when generated, and by test_tables).
 */
const struct sk_opt_ent sk_opt_tab[64] = {
	[0] = {"join", "\x20\x20\x20\x20", 4, SK_OPT_JOIN},
	[3] = {"eventlist", "\x20\x20\x20\x20\x20\x20\x20\x20\x20", 9, SK_OPT_EVENTLIST},
	[4] = {"path", "\x20\x20\x20\x20", 4, SK_OPT_PATH},
	[5] = {"timer", "\x20\x20\x20\x20\x20", 5, SK_OPT_TIMER},
	[9] = {"x-cisco-srtp-fallback",
	       "\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20", 21,
	       SK_OPT_X_CISCO_SRTP_FALLBACK},
	[12] = {"histinfo", "\x20\x20\x20\x20\x20\x20\x20\x20", 8, SK_OPT_HISTINFO},
	[14] = {"gruu", "\x20\x20\x20\x20", 4, SK_OPT_GRUU},
	[16] = {"replaces", "\x20\x20\x20\x20\x20\x20\x20\x20", 8, SK_OPT_REPLACES},
	[18] = {"x-cisco-config", "\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20", 14,
		SK_OPT_X_CISCO_CONFIG},
	[19] = {"from-change", "\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20", 11,
		SK_OPT_FROM_CHANGE},
	[20] = {"precondition", "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20", 12,
		SK_OPT_PRECONDITION},
	[22] = {"outbound", "\x20\x20\x20\x20\x20\x20\x20\x20", 8, SK_OPT_OUTBOUND},
	[23] = {"x-cisco-service-control",
		"\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20"
		"\x20",
		23, SK_OPT_X_CISCO_SERVICE_CONTROL},
	[30] = {"sdp-anat", "\x20\x20\x20\0\x20\x20\x20\x20", 8, SK_OPT_SDP_ANAT},
	[33] = {"resource-priority",
		"\x20\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20", 17,
		SK_OPT_RESOURCE_PRIORITY},
	[34] = {"x-cisco-monrec", "\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20", 14,
		SK_OPT_X_CISCO_MONREC},
	[39] = {"x-cisco-escapecodes",
		"\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20", 19,
		SK_OPT_X_CISCO_ESCAPECODES},
	[46] = {"x-cisco-serviceuri",
		"\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20", 18,
		SK_OPT_X_CISCO_SERVICEURI},
	[48] = {"extended-refer", "\x20\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20", 14,
		SK_OPT_EXTENDED_REFER},
	[52] = {"x-cisco-callinfo", "\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20",
		16, SK_OPT_X_CISCO_CALLINFO},
	[54] = {"x-cisco-sessionpersist",
		"\x20\0\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
		"\x20",
		22, SK_OPT_X_CISCO_SESSIONPERSIST},
	[56] = {"100rel", "\0\0\0\x20\x20\x20", 6, SK_OPT_100REL},
	[62] = {"norefersub", "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20", 10, SK_OPT_NOREFERSUB},
};

int sk_opt_prefixed(const char *s, size_t len)
{
	if (len > 12 && sk_ci_eq(s, "x-cisco-", 8)) {
		/* X-cisco-sis-3.0.0 / X-cisco-xsi-8.5.1 carry a version suffix. */
		if (sk_ci_eq(s + 8, "sis-", 4))
			return SK_OPT_X_CISCO_SIS;
		if (sk_ci_eq(s + 8, "xsi-", 4))
			return SK_OPT_X_CISCO_XSI;
	}
	return -1;
}

int sk_opt_lookup_lim(const char *s, size_t len, const char *lim)
{
	return sk_opt_lookup_inl(s, len, lim);
}

int sk_sip_opt_lookup(const char *s, size_t len)
{
	return sk_opt_lookup_lim(s, len, s + len);
}
