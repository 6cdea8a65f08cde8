/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy SIP message parser.
 *
 * The parser reads one UDP payload (possibly a reassembled datagram, at most
 * 65535 bytes) and fills a caller-provided struct sk_sip_msg with offsets and
 * lengths into that buffer. It never copies, never allocates and never writes
 * to the buffer, so the same bytes can be rewritten in place afterwards.
 *
 * Only the headers sipkeep needs are tokenised; every other header line is
 * located (its line is skipped as a whole) but not parsed.
 */
#ifndef SK_SIP_PARSE_H
#define SK_SIP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest message accepted: offsets are 16 bits wide. */
#define SK_SIP_MAX_LEN 65535u

/* Fixed capacities; entries beyond these set a bit in sk_sip_msg.overflow. */
#define SK_SIP_MAX_VIA 8
#define SK_SIP_MAX_CONTACT 8
#define SK_SIP_MAX_CALLINFO 8
#define SK_SIP_MAX_CALLINFO_LINES 8
#define SK_SIP_MAX_HDRS 40

/* A byte range of the message buffer. len == 0 means absent (or empty). */
struct sk_span {
	uint16_t off;
	uint16_t len;
};

static inline const char *sk_span_ptr(const char *buf, struct sk_span s)
{
	return buf + s.off;
}

static inline uint32_t sk_span_end(struct sk_span s)
{
	return (uint32_t)s.off + s.len;
}

enum sk_sip_err {
	SK_SIP_OK = 0,
	SK_SIP_ERR_EMPTY,		  /* zero-length payload */
	SK_SIP_ERR_KEEPALIVE,		  /* only CR/LF/SP: an RFC 5626 keep-alive */
	SK_SIP_ERR_TOO_LARGE,		  /* more than SK_SIP_MAX_LEN bytes */
	SK_SIP_ERR_BAD_START_LINE,	  /* request/status line does not parse */
	SK_SIP_ERR_BAD_VERSION,		  /* SIP version other than 2.0 */
	SK_SIP_ERR_BAD_STATUS,		  /* status code not 100..699 */
	SK_SIP_ERR_BAD_REQUEST_URI,	  /* malformed Request-URI */
	SK_SIP_ERR_TRUNCATED,		  /* no empty line ending the headers */
	SK_SIP_ERR_BAD_HEADER,		  /* header line without name or colon */
	SK_SIP_ERR_DUPLICATE_HEADER,	  /* single-value header seen twice */
	SK_SIP_ERR_MISSING_HEADER,	  /* no Call-ID, CSeq, From, To or Via */
	SK_SIP_ERR_BAD_VIA,		  /* malformed Via value */
	SK_SIP_ERR_BAD_FROM,		  /* malformed From value */
	SK_SIP_ERR_BAD_TO,		  /* malformed To value */
	SK_SIP_ERR_BAD_CALL_ID,		  /* empty or non-word Call-ID */
	SK_SIP_ERR_BAD_CSEQ,		  /* CSeq number/method malformed or >= 2^31 */
	SK_SIP_ERR_CSEQ_MISMATCH,	  /* CSeq method differs from request method */
	SK_SIP_ERR_BAD_CONTACT,		  /* malformed Contact value */
	SK_SIP_ERR_BAD_EXPIRES,		  /* Expires not a number */
	SK_SIP_ERR_BAD_CONTENT_LENGTH,	  /* Content-Length not a number */
	SK_SIP_ERR_CONTENT_LENGTH_BEYOND, /* Content-Length beyond packet */
	SK_SIP_ERR_BAD_OPTION_TAGS,	  /* malformed Supported/Require list */
	/* (a malformed Call-Info line is no error: see sk_sip_msg.n_callinfo_bad) */
	SK_SIP_ERR_COUNT
};

/* Short snake_case name of an error, usable as a counter key. */
const char *sk_sip_err_str(enum sk_sip_err err);

enum sk_sip_method {
	SK_SIP_METHOD_UNKNOWN = 0, /* a valid token that is none of these */
	SK_SIP_INVITE,
	SK_SIP_ACK,
	SK_SIP_BYE,
	SK_SIP_CANCEL,
	SK_SIP_REGISTER,
	SK_SIP_OPTIONS,
	SK_SIP_PRACK,
	SK_SIP_UPDATE,
	SK_SIP_INFO,
	SK_SIP_SUBSCRIBE,
	SK_SIP_NOTIFY,
	SK_SIP_REFER,
	SK_SIP_MESSAGE,
	SK_SIP_PUBLISH,
	SK_SIP_METHOD_COUNT
};

const char *sk_sip_method_str(enum sk_sip_method m);

/* Maps a method token (case-sensitive, as RFC 3261 requires) to its enum. */
enum sk_sip_method sk_sip_method_from(const char *s, size_t len);

/* Known option tags (Supported/Require); each is one bit of a uint32_t. */
enum sk_sip_opt {
	SK_OPT_X_CISCO_SESSIONPERSIST = 0,
	SK_OPT_X_CISCO_CALLINFO,
	SK_OPT_100REL,
	SK_OPT_TIMER,
	SK_OPT_REPLACES,
	SK_OPT_PATH,
	SK_OPT_GRUU,
	SK_OPT_OUTBOUND,
	SK_OPT_JOIN,
	SK_OPT_NOREFERSUB,
	SK_OPT_PRECONDITION,
	SK_OPT_HISTINFO,
	SK_OPT_SDP_ANAT,
	SK_OPT_RESOURCE_PRIORITY,
	SK_OPT_EXTENDED_REFER,
	SK_OPT_FROM_CHANGE,
	SK_OPT_EVENTLIST,
	SK_OPT_X_CISCO_SERVICEURI,
	SK_OPT_X_CISCO_ESCAPECODES,
	SK_OPT_X_CISCO_SERVICE_CONTROL,
	SK_OPT_X_CISCO_SRTP_FALLBACK,
	SK_OPT_X_CISCO_MONREC,
	SK_OPT_X_CISCO_CONFIG,
	SK_OPT_X_CISCO_SIS, /* X-cisco-sis-<version>: any version */
	SK_OPT_X_CISCO_XSI, /* X-cisco-xsi-<version>: any version */
	SK_OPT_KNOWN_COUNT,
	SK_OPT_OTHER = 31 /* set when an unknown tag was present */
};

#define SK_OPT_BIT(o) (UINT32_C(1) << (o))

/* Name of an option tag as sipkeep spells it (NULL for out-of-range). */
const char *sk_sip_opt_str(enum sk_sip_opt o);

/* Looks up one option tag (case-insensitive); -1 when unknown. */
int sk_sip_opt_lookup(const char *s, size_t len);

/* Headers the parser recognises (by long or compact name). */
enum sk_sip_hdr_id {
	SK_HDR_OTHER = 0,
	SK_HDR_VIA,
	SK_HDR_FROM,
	SK_HDR_TO,
	SK_HDR_CALL_ID,
	SK_HDR_CSEQ,
	SK_HDR_CONTACT,
	SK_HDR_EXPIRES,
	SK_HDR_CONTENT_LENGTH,
	SK_HDR_CONTENT_TYPE,
	SK_HDR_SUPPORTED,
	SK_HDR_REQUIRE,
	SK_HDR_CALL_INFO,
	SK_HDR_USER_AGENT,
	/* recognised by name (all compact forms) but not tokenised */
	SK_HDR_SUBJECT,
	SK_HDR_CONTENT_ENCODING,
	SK_HDR_EVENT,
	SK_HDR_REFER_TO,
	SK_HDR_ALLOW_EVENTS,
	SK_HDR_REFERRED_BY,
	SK_HDR_SESSION_EXPIRES,
	SK_HDR_IDENTITY,
	SK_HDR_REJECT_CONTACT,
	SK_HDR_ACCEPT_CONTACT,
	SK_HDR_ID_COUNT
};

/* One recognised header line. */
struct sk_sip_hdr {
	uint8_t id;	      /* enum sk_sip_hdr_id */
	struct sk_span line;  /* name .. CRLF, folded continuation lines included */
	struct sk_span value; /* value, LWS trimmed at both ends (may contain folds) */
};

struct sk_sip_via {
	struct sk_span value;	  /* the whole via-parm (one comma-separated value) */
	struct sk_span transport; /* "UDP", "TCP", "TLS", ... */
	struct sk_span host;	  /* sent-by host, without [] for IPv6 */
	struct sk_span branch;	  /* branch param value */
	struct sk_span received;  /* received param value (as written) */
	struct sk_span rport;	  /* rport value (len 0 when no value) */
	struct sk_span params;	  /* ";..." all params, for sk_sip_param_find() */
	uint16_t port;		  /* 0 when absent */
	uint8_t host_ipv6;	  /* host was a [IPv6reference] */
	uint8_t has_rport;	  /* rport param present (with or without value) */
};

/* From / To. */
struct sk_sip_addr {
	struct sk_span value;	/* whole header value */
	struct sk_span display; /* display name as written (quotes kept), may be empty */
	struct sk_span uri;	/* URI without <> */
	struct sk_span tag;	/* tag param value */
	struct sk_span params;	/* ";..." header params after the URI */
	uint8_t bracketed;	/* URI was inside <> */
};

struct sk_sip_contact {
	struct sk_span value;	 /* whole contact-param (one comma-separated value) */
	struct sk_span display;	 /* display name as written */
	struct sk_span uri;	 /* URI without <> */
	struct sk_span params;	 /* ";..." contact params after the URI */
	struct sk_span instance; /* +sip.instance value without the quotes */
	uint32_t expires;	 /* expires param (saturated at UINT32_MAX) */
	uint32_t feature_opts;	 /* option tags given as feature params (SK_OPT_BIT) */
	uint8_t has_expires;
	uint8_t bracketed;
};

struct sk_sip_callinfo {
	struct sk_span value;  /* "<uri>;params", without surrounding LWS and commas */
	struct sk_span uri;    /* inside <> */
	struct sk_span params; /* ";..." */
	uint8_t line;	       /* index into sk_sip_msg.callinfo_line, 0xff past its capacity */
};

/* Bits of sk_sip_msg.overflow. */
#define SK_SIP_OVF_VIA 0x01
#define SK_SIP_OVF_CONTACT 0x02
#define SK_SIP_OVF_CALLINFO 0x04
#define SK_SIP_OVF_CALLINFO_LINES 0x08
#define SK_SIP_OVF_HDRS 0x10

struct sk_sip_msg {
	/* --- start line --- */
	struct sk_span start_line; /* including its CRLF */
	struct sk_span method_str; /* requests: method token */
	struct sk_span ruri;	   /* requests: Request-URI */
	struct sk_span reason;	   /* responses: reason phrase */
	uint16_t status;	   /* responses: 100..699; 0 for requests */
	uint8_t is_request;
	uint8_t method; /* enum sk_sip_method (requests) */

	/* --- single-value headers --- */
	struct sk_span call_id;
	struct sk_span cseq_method_str;
	uint32_t cseq;
	uint8_t cseq_method; /* enum sk_sip_method */
	uint8_t has_expires;
	uint8_t has_content_length;
	uint8_t contact_star; /* "Contact: *" */
	struct sk_sip_addr from;
	struct sk_sip_addr to;
	uint32_t expires; /* Expires header (saturated at UINT32_MAX) */
	uint32_t content_length;
	struct sk_span content_type; /* whole value, parameters included */
	struct sk_span user_agent;   /* first User-Agent value */
	uint32_t supported;	     /* SK_OPT_BIT mask over all Supported headers */
	uint32_t require;	     /* SK_OPT_BIT mask over all Require headers */

	/* --- framing --- */
	uint16_t hdr_end; /* offset of the first body byte */
	uint16_t msg_len; /* bytes used by this message; trailing bytes ignored */
	struct sk_span body;

	/* --- repeated headers (valid entries: [0, n_xxx)) --- */
	uint8_t n_via;
	uint8_t n_contact;
	uint8_t n_callinfo;
	uint8_t n_callinfo_lines;
	uint8_t n_hdrs;
	uint8_t overflow;   /* SK_SIP_OVF_* */
	uint16_t via_total; /* Via values seen, including those over capacity */
	/*
	 * Call-Info lines whose value does not parse (saturates at 255).  Such
	 * a line does not fail the message: it is left out of callinfo[] and
	 * callinfo_line[] entirely (none of its values is recorded, so nothing
	 * removes any of them) and appears only in hdrs[], as SK_HDR_CALL_INFO.
	 */
	uint8_t n_callinfo_bad;

	/* Arrays last: sk_sip_parse() clears only the fields above. */
	struct sk_sip_via via[SK_SIP_MAX_VIA];
	struct sk_sip_contact contact[SK_SIP_MAX_CONTACT];
	struct sk_sip_callinfo callinfo[SK_SIP_MAX_CALLINFO];
	/* well-formed Call-Info lines, whole (name to CRLF, folds included) */
	struct sk_span callinfo_line[SK_SIP_MAX_CALLINFO_LINES];
	struct sk_sip_hdr hdrs[SK_SIP_MAX_HDRS]; /* recognised header lines */
};

/*
 * Parses one SIP message from buf[0..len).  Returns SK_SIP_OK or the first
 * reason the message is malformed; on error the contents of msg are
 * unspecified.  Line ends may be CRLF or a bare LF.
 */
enum sk_sip_err sk_sip_parse(const char *buf, size_t len, struct sk_sip_msg *msg);

/* First recognised header line with this id at or after index *pos (NULL if none). */
const struct sk_sip_hdr *sk_sip_hdr_find(const struct sk_sip_msg *msg, enum sk_sip_hdr_id id,
					 unsigned *pos);

/*
 * Header parameters (";name[=value]" sequences as stored in the params spans,
 * already validated by the parser).  Names compare case-insensitively; value
 * is returned as written (quotes kept) and is len 0 for a param without value.
 */
struct sk_sip_param_iter {
	uint16_t pos;
	uint16_t end;
};

void sk_sip_param_iter_init(struct sk_sip_param_iter *it, struct sk_span params);
bool sk_sip_param_next(const char *buf, struct sk_sip_param_iter *it, struct sk_span *name,
		       struct sk_span *value);
bool sk_sip_param_find(const char *buf, struct sk_span params, const char *name,
		       struct sk_span *value);

/*
 * Does this Contact carry a feature parameter called name (RFC 3840 "+name"
 * or bare "name"), e.g. "x-cisco-sessionpersist"?  Case-insensitive.
 */
bool sk_sip_contact_has_feature(const char *buf, const struct sk_sip_contact *c, const char *name);

/* Option tags in force for a REGISTER: Supported plus Contact feature params. */
uint32_t sk_sip_msg_opts(const struct sk_sip_msg *msg);

/* --- SIP / SIPS URI helper --- */

enum sk_uri_scheme {
	SK_URI_OTHER = 0,
	SK_URI_SIP,
	SK_URI_SIPS,
	SK_URI_TEL,
};

struct sk_sip_uri {
	struct sk_span user;	 /* user part (without :password), may be empty */
	struct sk_span password; /* rarely present */
	struct sk_span host;	 /* without [] for IPv6 */
	struct sk_span params;	 /* ";..." uri-parameters, up to '?' */
	struct sk_span headers;	 /* after '?', without it */
	uint16_t port;		 /* 0 when absent */
	uint8_t scheme;		 /* enum sk_uri_scheme */
	uint8_t host_ipv6;
	uint8_t has_port;
};

/*
 * Parses a sip: or sips: URI held in buf at uri (e.g. sk_sip_addr.uri).
 * Returns 0 on success, -1 when it is not a well-formed SIP/SIPS URI.  For
 * other schemes it returns -1 with out->scheme set (tel: is SK_URI_TEL).
 */
int sk_sip_uri_parse(const char *buf, struct sk_span uri, struct sk_sip_uri *out);

/*
 * Same, for a URI inside a buffer of buf_len bytes (e.g. the message): lets
 * the scan read whole 16-byte blocks past the URI.  Prefer it on the fast path.
 */
int sk_sip_uri_parse_in(const char *buf, size_t buf_len, struct sk_span uri,
			struct sk_sip_uri *out);

/*
 * Locates the SDP of a message: the body when Content-Type is
 * application/sdp, or the first application/sdp part of a multipart body.
 * Returns true and sets *sdp (offsets into buf) when found.
 */
bool sk_sip_find_sdp(const char *buf, const struct sk_sip_msg *msg, struct sk_span *sdp);

#ifdef __cplusplus
}
#endif

#endif /* SK_SIP_PARSE_H */
