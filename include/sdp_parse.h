/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy SDP parser (RFC 4566 subset sipkeep needs for media tracking):
 * c= (session and media level), m=, a=rtcp, a=rtcp-mux and the direction
 * attributes.  Offsets are into the same buffer as the SIP message, so the
 * rewriter can patch addresses and ports in place.
 */
#ifndef SK_SDP_PARSE_H
#define SK_SDP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "sip_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SK_SDP_MAX_MEDIA 8

enum sk_sdp_err {
	SK_SDP_OK = 0,
	SK_SDP_ERR_EMPTY,	   /* zero-length body */
	SK_SDP_ERR_NO_VERSION,	   /* first line is not v=0 */
	SK_SDP_ERR_BAD_LINE,	   /* a line that is not <letter>=<value> */
	SK_SDP_ERR_BAD_CONNECTION, /* malformed c= (or a=rtcp address) */
	SK_SDP_ERR_BAD_MEDIA,	   /* malformed m= */
	SK_SDP_ERR_BAD_RTCP,	   /* malformed a=rtcp */
	SK_SDP_ERR_COUNT
};

const char *sk_sdp_err_str(enum sk_sdp_err err);

enum sk_sdp_af {
	SK_SDP_AF_NONE = 0, /* no c= line */
	SK_SDP_AF_FQDN = 1, /* a host name, left unresolved (text only) */
	SK_SDP_AF_IP4 = 4,
	SK_SDP_AF_IP6 = 6,
};

struct sk_sdp_conn {
	struct sk_span line; /* whole line, line end included */
	struct sk_span addr_text;
	uint8_t af;	  /* enum sk_sdp_af */
	uint8_t ttl;	  /* IP4 multicast "/ttl" (0 when absent) */
	uint16_t n_addr;  /* "/<number of addresses>", 1 when absent */
	uint8_t addr[16]; /* network byte order; IPv4 in addr[0..3] */
};

enum sk_sdp_dir {
	SK_SDP_DIR_UNSPEC = 0, /* no attribute: sendrecv by default */
	SK_SDP_SENDRECV,
	SK_SDP_SENDONLY,
	SK_SDP_RECVONLY,
	SK_SDP_INACTIVE,
};

struct sk_sdp_media {
	struct sk_span line;	  /* m= line, line end included */
	struct sk_span media;	  /* "audio", "video", ... */
	struct sk_span port_text; /* the port digits, for in-place rewrite */
	struct sk_span proto;	  /* "RTP/AVP", "RTP/SAVP", ... */
	struct sk_span fmts;	  /* format list as written */
	uint16_t port;
	uint16_t n_ports;	  /* "/n" suffix, 1 when absent */
	uint16_t rtcp_port;	  /* a=rtcp port (valid when has_rtcp) */
	struct sk_span rtcp_text; /* a=rtcp port digits */
	uint8_t has_rtcp;
	uint8_t rtcp_mux;
	uint8_t dir;		      /* enum sk_sdp_dir, media level only */
	struct sk_sdp_conn conn;      /* media-level c=, af NONE when absent */
	struct sk_sdp_conn rtcp_addr; /* a=rtcp address, af NONE when absent */
};

struct sk_sdp {
	struct sk_sdp_conn conn; /* session-level c= */
	uint8_t dir;		 /* session-level direction */
	uint8_t n_media;
	uint8_t overflow;     /* more than SK_SDP_MAX_MEDIA m= lines */
	uint16_t media_total; /* m= lines seen, including those over capacity */
	struct sk_sdp_media media[SK_SDP_MAX_MEDIA];
};

/* Parses the SDP held in buf at body (e.g. sk_sip_msg.body). */
enum sk_sdp_err sk_sdp_parse(const char *buf, struct sk_span body, struct sk_sdp *sdp);

/* Effective connection of media i: media-level c=, else session-level. */
const struct sk_sdp_conn *sk_sdp_media_conn(const struct sk_sdp *sdp, unsigned i);

/* Effective direction of media i (media level, else session, else sendrecv). */
enum sk_sdp_dir sk_sdp_media_dir(const struct sk_sdp *sdp, unsigned i);

/* RTCP port of media i: its RTP port with rtcp-mux, a=rtcp, else port + 1. */
uint16_t sk_sdp_media_rtcp_port(const struct sk_sdp *sdp, unsigned i);

/* Textual IPv4 / IPv6 address to network byte order; 0 on success, -1 otherwise. */
int sk_ip4_parse(const char *s, size_t len, uint8_t out[4]);
int sk_ip6_parse(const char *s, size_t len, uint8_t out[16]);

#ifdef __cplusplus
}
#endif

#endif /* SK_SDP_PARSE_H */
