/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What sipkeep does with each SIP method, stated once, one row per method
 * (the Linux SIP connection-tracking helper keeps its sip_handlers[] the same
 * way). A message is judged by its CSeq method, which is a response's only
 * method, and by the side it came from; never by its transport, so UDP frames
 * and, later, TCP streams and HEP copies all go through this table.
 *
 * Each row gives the method's roles and which of its messages are tracked.
 * A worker posts a message to the control thread only when sk_sip_tracked()
 * passes it; there, the roles say who applies it (registration or dialog
 * tracking) and what it does to a dialog. Methods without a row (OPTIONS,
 * INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, PUBLISH, unknown ones) are
 * forwarded and never tracked.
 */
#ifndef SK_SIP_METHODS_H
#define SK_SIP_METHODS_H

#include <stdbool.h>
#include <stdint.h>

#include "sip_parse.h"
#include "sk_common.h"

/* Roles of a method. */
#define SK_SIP_REGISTRATION 0x01u /* a REGISTER transaction: control/session.c */
#define SK_SIP_DIALOG 0x02u	  /* a message within a dialog: control/dialogs.c */
/* An initial request (no To tag) opens a dialog; the answers to it confirm or fail it. */
#define SK_SIP_OPENS_DIALOG 0x04u
#define SK_SIP_ENDS_DIALOG 0x08u /* the request ends its dialog */
#define SK_SIP_ENDS_EARLY 0x10u	 /* the request ends its dialog if still unanswered */
/* The request's SDP describes the media (a success or provisional answer's always does). */
#define SK_SIP_REQUEST_SDP 0x20u

/* Messages of a method that are tracked: requests and answers, by the side they come from. */
#define SK_SIP_REQ_FROM_ACCESS 0x01u
#define SK_SIP_REQ_FROM_CORE 0x02u
#define SK_SIP_ANS_FROM_ACCESS 0x04u
#define SK_SIP_ANS_FROM_CORE 0x08u
#define SK_SIP_ALL_MESSAGES 0x0fu

/*
 * X(arg, method, roles, tracked messages). A phone registers from access and
 * its registrar answers from core: a REGISTER the other way round is somebody
 * else's registration passing through.
 */
#define SK_SIP_METHOD_TABLE(X, arg)                                                                \
	X(arg, REGISTER, SK_SIP_REGISTRATION, SK_SIP_REQ_FROM_ACCESS | SK_SIP_ANS_FROM_CORE)       \
	X(arg, INVITE, SK_SIP_DIALOG | SK_SIP_OPENS_DIALOG | SK_SIP_REQUEST_SDP,                   \
	  SK_SIP_ALL_MESSAGES)                                                                     \
	X(arg, ACK, SK_SIP_DIALOG | SK_SIP_REQUEST_SDP, SK_SIP_ALL_MESSAGES)                       \
	X(arg, PRACK, SK_SIP_DIALOG | SK_SIP_REQUEST_SDP, SK_SIP_ALL_MESSAGES)                     \
	X(arg, UPDATE, SK_SIP_DIALOG | SK_SIP_REQUEST_SDP, SK_SIP_ALL_MESSAGES)                    \
	X(arg, BYE, SK_SIP_DIALOG | SK_SIP_ENDS_DIALOG, SK_SIP_ALL_MESSAGES)                       \
	X(arg, CANCEL, SK_SIP_DIALOG | SK_SIP_ENDS_EARLY, SK_SIP_ALL_MESSAGES)

_Static_assert(SK_SIP_METHOD_COUNT <= 32, "a method is one bit of a uint32_t");

#define SK_SIP_METHOD_BIT(m) (UINT32_C(1) << (m))

#define SK_SIP_ROLES_CASE_(arg, m, roles, tracked)                                                 \
	case SK_SIP_##m:                                                                           \
		return (roles);
#define SK_SIP_TRACKED_BIT_(want, m, roles, tracked)                                               \
	| (((tracked) & (want)) ? SK_SIP_METHOD_BIT(SK_SIP_##m) : 0)

/* The methods tracked for one kind of message (SK_SIP_REQ_FROM_ACCESS, ...), one bit each. */
#define SK_SIP_TRACKED_METHODS(want) (0 SK_SIP_METHOD_TABLE(SK_SIP_TRACKED_BIT_, want))

/* The roles of a method (enum sk_sip_method): SK_SIP_REGISTRATION, ...; 0 without a row. */
static inline unsigned int sk_sip_method_roles(unsigned int method)
{
	switch (method) {
		SK_SIP_METHOD_TABLE(SK_SIP_ROLES_CASE_, )
	default:
		return 0;
	}
}

/*
 * Does registration or dialog tracking care about this message? The
 * table's last column as one bitmask of methods per kind of message, so the
 * fast path pays one AND.
 */
static inline bool sk_sip_tracked(unsigned int cseq_method, bool is_request, enum sk_side from)
{
	static const uint32_t methods[2][SK_SIDE_COUNT] = {
		[false][SK_SIDE_ACCESS] = SK_SIP_TRACKED_METHODS(SK_SIP_ANS_FROM_ACCESS),
		[false][SK_SIDE_CORE] = SK_SIP_TRACKED_METHODS(SK_SIP_ANS_FROM_CORE),
		[true][SK_SIDE_ACCESS] = SK_SIP_TRACKED_METHODS(SK_SIP_REQ_FROM_ACCESS),
		[true][SK_SIDE_CORE] = SK_SIP_TRACKED_METHODS(SK_SIP_REQ_FROM_CORE),
	};

	return (methods[is_request][from] & SK_SIP_METHOD_BIT(cseq_method)) != 0;
}

#endif /* SK_SIP_METHODS_H */
