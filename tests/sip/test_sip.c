/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the SIP parser: start line, every tokenised header in its
 * spellings (long, compact, case variants, folded, repeated, comma lists
 * with quoted commas), framing, URI helper, and named malformed cases.
 */
#include "sip_parse.h"
#include "sip_fixture.h"

static struct tbuf tb;
static struct sk_sip_msg msg;

static enum sk_sip_err P(const char *text)
{
	tbuf_set(&tb, text, strlen(text));
	return sk_sip_parse(tb.buf, tb.len, &msg);
}

#define B tb.buf

#define RL "INVITE sip:bob@example.com SIP/2.0\r\n"
#define VIA "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
#define FROM "From: <sip:alice@example.com>;tag=1\r\n"
#define TO "To: <sip:bob@example.com>\r\n"
#define CID "Call-ID: c1@x\r\n"
#define CSEQ "CSeq: 1 INVITE\r\n"
#define MAND VIA FROM TO CID CSEQ
#define END "Content-Length: 0\r\n\r\n"

static void start_line_methods(void)
{
	static const char *const names[] = {"INVITE",  "ACK",	"BYE",	   "CANCEL", "REGISTER",
					    "OPTIONS", "PRACK", "UPDATE",  "INFO",   "SUBSCRIBE",
					    "NOTIFY",  "REFER", "MESSAGE", "PUBLISH"};
	char text[512];

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text),
			 "%s sip:bob@example.com SIP/2.0\r\n" VIA FROM TO CID "CSeq: 7 %s\r\n" END,
			 names[i], names[i]);
		SK_CHECK_EQ(P(text), SK_SIP_OK, "%s", __func__);
		SK_CHECK_EQ(msg.method, SK_SIP_INVITE + i, "%s", __func__);
		SK_CHECK_EQ(msg.cseq_method, SK_SIP_INVITE + i, "%s", __func__);
		SK_CHECK(msg.is_request, "%s", names[i]);
		SK_CHECK(strcmp(sk_sip_method_str((enum sk_sip_method)msg.method), names[i]) == 0,
			 "%s", names[i]);
	}
	SK_CHECK_EQ(P("FOO-BAR sip:b@x SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 FOO-BAR\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.method, SK_SIP_METHOD_UNKNOWN, "%s", __func__);
	SK_CHECK_SPAN(B, msg.method_str, "FOO-BAR");
	/* methods are case-sensitive: "invite" is an extension method */
	SK_CHECK_EQ(P("invite sip:b@x SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 invite\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.method, SK_SIP_METHOD_UNKNOWN, "%s", __func__);
}

static void start_line_status(void)
{
	SK_CHECK_EQ(P("SIP/2.0 180 Ringing\r\n" MAND END), SK_SIP_OK, "%s", __func__);
	SK_CHECK(!msg.is_request, "response");
	SK_CHECK_EQ(msg.status, 180, "%s", __func__);
	SK_CHECK_SPAN(B, msg.reason, "Ringing");
	SK_CHECK_EQ(P("SIP/2.0 699 \r\n" MAND END), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.status, 699, "%s", __func__);
	SK_CHECK_EQ(P("SIP/2.0 200\r\n" MAND END), SK_SIP_OK, "%s",
		    __func__); /* reason missing: tolerated */
	SK_CHECK_EQ(P("sip/2.0 200 OK\r\n" MAND END), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(P("SIP/2.0 099 Low\r\n" MAND END), SK_SIP_ERR_BAD_STATUS, "%s", __func__);
	SK_CHECK_EQ(P("SIP/2.0 700 High\r\n" MAND END), SK_SIP_ERR_BAD_STATUS, "%s", __func__);
	SK_CHECK_EQ(P("SIP/2.0 2000 OK\r\n" MAND END), SK_SIP_ERR_BAD_STATUS, "%s", __func__);
	SK_CHECK_EQ(P("SIP/2.0 2x0 OK\r\n" MAND END), SK_SIP_ERR_BAD_STATUS, "%s", __func__);
	SK_CHECK_EQ(P("SIP/3.0 200 OK\r\n" MAND END), SK_SIP_ERR_BAD_VERSION, "%s", __func__);
	SK_CHECK_EQ(P("SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_VERSION, "%s", __func__);
}

static void start_line_malformed(void)
{
	SK_CHECK_EQ(P(""), SK_SIP_ERR_EMPTY, "%s", __func__);
	SK_CHECK_EQ(P("\r\n\r\n"), SK_SIP_ERR_KEEPALIVE, "%s", __func__);
	SK_CHECK_EQ(P("\r\n"), SK_SIP_ERR_KEEPALIVE, "%s", __func__);
	SK_CHECK_EQ(P("INVITE sip:b@x SIP/2.1\r\n" MAND END), SK_SIP_ERR_BAD_VERSION, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE sip:b@x HTTP/1.1\r\n" MAND END), SK_SIP_ERR_BAD_START_LINE, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE  sip:b@x SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_START_LINE, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE sip:b@x  SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_START_LINE, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE sip:b@x SIP/2.0 \r\n" MAND END), SK_SIP_ERR_BAD_START_LINE, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE sip:b@x\r\n" MAND END), SK_SIP_ERR_BAD_START_LINE, "%s", __func__);
	SK_CHECK_EQ(P("INVITE <sip:b@x> SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_REQUEST_URI, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE b@x SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_REQUEST_URI, "%s",
		    __func__);
	SK_CHECK_EQ(P("INVITE sip:2001:db8::1 SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_REQUEST_URI,
		    "%s", __func__);
	SK_CHECK_EQ(P("INVITE sip:b@x?Subject=hi SIP/2.0\r\n" MAND END), SK_SIP_ERR_BAD_REQUEST_URI,
		    "%s", __func__);
	SK_CHECK_EQ(P("\x80\x01\x12\x34 binary"), SK_SIP_ERR_TRUNCATED, "%s", __func__);
	SK_CHECK_EQ(P("\x80\x01\x12\x34 binary\r\n" MAND END), SK_SIP_ERR_BAD_START_LINE, "%s",
		    __func__);
	/* CRLFs before the start line are skipped (RFC 3261 7.5) */
	SK_CHECK_EQ(P("\r\n\r\n" RL MAND END), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.start_line.off, 4, "%s", __func__);
}

static void framing(void)
{
	SK_CHECK_EQ(P(RL MAND "Content-Length: 5\r\n\r\nhello"), SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.body, "hello");
	SK_CHECK_EQ(msg.content_length, 5, "%s", __func__);
	SK_CHECK_EQ(msg.msg_len, tb.len, "%s", __func__);
	SK_CHECK_EQ(msg.hdr_end, tb.len - 5, "%s", __func__);
	/* bytes after Content-Length are ignored (RFC 4475 3.1.1.8) */
	SK_CHECK_EQ(P(RL MAND "l: 3\r\n\r\nhello"), SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.body, "hel");
	SK_CHECK_EQ(msg.msg_len, tb.len - 2, "%s", __func__);
	/* no Content-Length over UDP: body is the rest of the datagram */
	SK_CHECK_EQ(P(RL MAND "\r\nv=0\r\n"), SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.body, "v=0\r\n");
	SK_CHECK(!msg.has_content_length, "no CL");
	SK_CHECK_EQ(P(RL MAND "Content-Length: 6\r\n\r\nhello"), SK_SIP_ERR_CONTENT_LENGTH_BEYOND,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Content-Length: 99999999999\r\n\r\n"),
		    SK_SIP_ERR_CONTENT_LENGTH_BEYOND, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Content-Length: -1\r\n\r\n"), SK_SIP_ERR_BAD_CONTENT_LENGTH, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Content-Length: 1 2\r\n\r\n"), SK_SIP_ERR_BAD_CONTENT_LENGTH, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Content-Length:\r\n\r\n"), SK_SIP_ERR_BAD_CONTENT_LENGTH, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "CONTENT-LENGTH   :   0  \r\n\r\n"), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Content-Length: 0\r\nl: 0\r\n\r\n"), SK_SIP_ERR_DUPLICATE_HEADER,
		    "%s", __func__);
	/* bare LF line ends are accepted throughout */
	SK_CHECK_EQ(P("INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\nFrom: "
		      "<sip:a@x>;tag=1\nTo: sip:b@x\nCall-ID: lf\nCSeq: 1 INVITE\n"
		      "Content-Length: 2\n\nok"),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.body, "ok");
	SK_CHECK_SPAN(B, msg.call_id, "lf");
	SK_CHECK_EQ(P(RL MAND "Content-Length: 0\r\n"), SK_SIP_ERR_TRUNCATED, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND), SK_SIP_ERR_TRUNCATED, "%s", __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP h"), SK_SIP_ERR_TRUNCATED, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Bogus header line\r\n" END), SK_SIP_ERR_BAD_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND ": no name\r\n" END), SK_SIP_ERR_BAD_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL " folded-first: x\r\n" MAND END), SK_SIP_ERR_BAD_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "X-Unknown: a\r\n  folded\r\n" END), SK_SIP_OK, "%s", __func__);
}

static void mandatory_headers(void)
{
	SK_CHECK_EQ(P(RL FROM TO CID CSEQ END), SK_SIP_ERR_MISSING_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA TO CID CSEQ END), SK_SIP_ERR_MISSING_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM CID CSEQ END), SK_SIP_ERR_MISSING_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CSEQ END), SK_SIP_ERR_MISSING_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID END), SK_SIP_ERR_MISSING_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND FROM END), SK_SIP_ERR_DUPLICATE_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "t: <sip:x@y>\r\n" END), SK_SIP_ERR_DUPLICATE_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "i: again\r\n" END), SK_SIP_ERR_DUPLICATE_HEADER, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND CSEQ END), SK_SIP_ERR_DUPLICATE_HEADER, "%s", __func__);
}

static void via_header(void)
{
	const char *t =
		RL "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport;received=10.1.1.1"
		   ", SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb;rport=6000\r\n"
		   "v: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKc\r\n"
		   "VIA: SIP / 2.0 / UDP\r\n  host.example.com ; branch = z9hG4bKd\r\n"
		   "vIa: sip/2.0/UDP h5;received=[2001:db8::9]\r\n"
		   "via: SIP/2.0/UDP h6;received=2001:db8::9:255;maddr=1.2.3.4;ttl=3\r\n" FROM TO
			   CID CSEQ END;

	SK_CHECK_EQ(P(t), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_via, 6, "%s", __func__);
	SK_CHECK_EQ(msg.via_total, 6, "%s", __func__);
	SK_CHECK_SPAN(B, msg.via[0].transport, "UDP");
	SK_CHECK_SPAN(B, msg.via[0].host, "192.0.2.1");
	SK_CHECK_EQ(msg.via[0].port, 5060, "%s", __func__);
	SK_CHECK_SPAN(B, msg.via[0].branch, "z9hG4bKa");
	SK_CHECK(msg.via[0].has_rport && msg.via[0].rport.len == 0, "rport without value");
	SK_CHECK_SPAN(B, msg.via[0].received, "10.1.1.1");
	SK_CHECK_SPAN(B, msg.via[0].value,
		      "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport;received=10.1.1.1");
	SK_CHECK_SPAN(B, msg.via[1].transport, "TCP");
	SK_CHECK_SPAN(B, msg.via[1].host, "proxy.example.com");
	SK_CHECK_EQ(msg.via[1].port, 0, "%s", __func__);
	SK_CHECK_SPAN(B, msg.via[1].rport, "6000");
	SK_CHECK_SPAN(B, msg.via[2].host, "2001:db8::1");
	SK_CHECK(msg.via[2].host_ipv6, "IPv6 sent-by");
	SK_CHECK_EQ(msg.via[2].port, 5061, "%s", __func__);
	SK_CHECK_SPAN(B, msg.via[3].host, "host.example.com");
	SK_CHECK_SPAN(B, msg.via[3].branch, "z9hG4bKd");
	SK_CHECK_SPAN(B, msg.via[4].received, "[2001:db8::9]");
	SK_CHECK_SPAN(B, msg.via[5].received, "2001:db8::9:255");
	struct sk_span v;
	SK_CHECK(sk_sip_param_find(B, msg.via[5].params, "MADDR", &v), "maddr");
	SK_CHECK_SPAN(B, v, "1.2.3.4");
	SK_CHECK(!sk_sip_param_find(B, msg.via[5].params, "branch", NULL), "no branch");

	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP h:70000\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP h;;\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP h,\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP h;branch=\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/3.0/UDP h\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL "Via: HTTP/2.0/UDP h\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDPh\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP [2001:db8::1\r\n" FROM TO CID CSEQ END),
		    SK_SIP_ERR_BAD_VIA, "%s", __func__);
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP h;rport=x\r\n" FROM TO CID CSEQ END), SK_SIP_ERR_BAD_VIA,
		    "%s", __func__);

	/* over capacity: counted, flagged, still validated */
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP a1,SIP/2.0/UDP a2,SIP/2.0/UDP a3,SIP/2.0/UDP a4\r\n"
			 "Via: SIP/2.0/UDP a5,SIP/2.0/UDP a6,SIP/2.0/UDP a7,SIP/2.0/UDP a8\r\n"
			 "Via: SIP/2.0/UDP a9,SIP/2.0/UDP a10\r\n" FROM TO CID CSEQ END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_via, SK_SIP_MAX_VIA, "%s", __func__);
	SK_CHECK_EQ(msg.via_total, 10, "%s", __func__);
	SK_CHECK(msg.overflow & SK_SIP_OVF_VIA, "overflow flag");
	SK_CHECK_SPAN(B, msg.via[7].host, "a8");
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP a1,SIP/2.0/UDP a2,SIP/2.0/UDP a3,SIP/2.0/UDP a4\r\n"
			 "Via: SIP/2.0/UDP a5,SIP/2.0/UDP a6,SIP/2.0/UDP a7,SIP/2.0/UDP a8\r\n"
			 "Via: SIP/2.0/UDP a9,SIP/2.0/UDP ;;\r\n" FROM TO CID CSEQ END),
		    SK_SIP_ERR_BAD_VIA, "%s", __func__);
}

static void from_to_headers(void)
{
	SK_CHECK_EQ(
		P(RL VIA
		  "From: \"Alice, \\\"A\\\"\" <sip:alice@example.com;user=phone>;tag=abc;x=1\r\n"
		  "t: sip:bob@example.com\r\n" CID CSEQ END),
		SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.from.display, "\"Alice, \\\"A\\\"\"");
	SK_CHECK_SPAN(B, msg.from.uri, "sip:alice@example.com;user=phone");
	SK_CHECK_SPAN(B, msg.from.tag, "abc");
	SK_CHECK_SPAN(B, msg.from.params, ";tag=abc;x=1");
	SK_CHECK(msg.from.bracketed, "bracketed");
	SK_CHECK_SPAN(B, msg.to.uri, "sip:bob@example.com");
	SK_CHECK(!msg.to.bracketed && msg.to.tag.len == 0, "to");

	SK_CHECK_EQ(
		P(RL VIA
		  "f: Alice Smith<sip:a@x>\r\n  ;\r\n  tag = 7\r\nTO :\r\n sip:b@y ; tag=8\r\n" CID
			  CSEQ END),
		SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.from.display, "Alice Smith");
	SK_CHECK_SPAN(B, msg.from.tag, "7");
	SK_CHECK_SPAN(B, msg.to.uri, "sip:b@y");
	SK_CHECK_SPAN(B, msg.to.tag, "8");
	SK_CHECK_EQ(
		P(RL VIA "FROM: <tel:+15551234>;tag=1\r\nto: <urn:service:sos>\r\n" CID CSEQ END),
		SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.from.uri, "tel:+15551234");

	SK_CHECK_EQ(P(RL VIA "From: <sip:a@x;tag=1\r\n" TO CID CSEQ END), SK_SIP_ERR_BAD_FROM, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA "From: \"open <sip:a@x>\r\n" TO CID CSEQ END), SK_SIP_ERR_BAD_FROM,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL VIA "From: Bell, Al <sip:a@x>\r\n" TO CID CSEQ END), SK_SIP_ERR_BAD_FROM,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL VIA "From: < sip:a@x >\r\n" TO CID CSEQ END), SK_SIP_ERR_BAD_FROM, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA "From: <sip:a@x>;tag\r\n" TO CID CSEQ END), SK_SIP_ERR_BAD_FROM, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA "From:\r\n" TO CID CSEQ END), SK_SIP_ERR_BAD_FROM, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM "To: sip:b@y?x=1\r\n" CID CSEQ END), SK_SIP_ERR_BAD_TO, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM "To: <sip:b@y> junk\r\n" CID CSEQ END), SK_SIP_ERR_BAD_TO, "%s",
		    __func__);
}

static void call_id_cseq(void)
{
	SK_CHECK_EQ(P(RL VIA FROM TO "i: abc-123@host.example.com\r\n" CSEQ END), SK_SIP_OK, "%s",
		    __func__);
	SK_CHECK_SPAN(B, msg.call_id, "abc-123@host.example.com");
	SK_CHECK_EQ(P(RL VIA FROM TO "CALL-ID:   x\r\n" CSEQ END), SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.call_id, "x");
	SK_CHECK_EQ(P(RL VIA FROM TO "Call-ID: a b\r\n" CSEQ END), SK_SIP_ERR_BAD_CALL_ID, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO "Call-ID: a@b@c\r\n" CSEQ END), SK_SIP_ERR_BAD_CALL_ID, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO "Call-ID:\r\n" CSEQ END), SK_SIP_ERR_BAD_CALL_ID, "%s",
		    __func__);

	SK_CHECK_EQ(P(RL VIA FROM TO CID "cseq: 0009\r\n  INVITE\r\n" END), SK_SIP_OK, "%s",
		    __func__);
	SK_CHECK_EQ(msg.cseq, 9, "%s", __func__);
	SK_CHECK_EQ(msg.cseq_method, SK_SIP_INVITE, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 2147483647 INVITE\r\n" END), SK_SIP_OK, "%s",
		    __func__);
	SK_CHECK_EQ(msg.cseq, 2147483647u, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 2147483648 INVITE\r\n" END), SK_SIP_ERR_BAD_CSEQ,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: INVITE\r\n" END), SK_SIP_ERR_BAD_CSEQ, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 1INVITE\r\n" END), SK_SIP_ERR_BAD_CSEQ, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 1\r\n" END), SK_SIP_ERR_BAD_CSEQ, "%s", __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 1 INVITE x\r\n" END), SK_SIP_ERR_BAD_CSEQ, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 1 BYE\r\n" END), SK_SIP_ERR_CSEQ_MISMATCH, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL VIA FROM TO CID "CSeq: 1 invite\r\n" END), SK_SIP_ERR_CSEQ_MISMATCH, "%s",
		    __func__);
	/* responses carry the request's method */
	SK_CHECK_EQ(P("SIP/2.0 200 OK\r\n" VIA FROM TO CID "CSeq: 5 REGISTER\r\n" END), SK_SIP_OK,
		    "%s", __func__);
	SK_CHECK_EQ(msg.cseq_method, SK_SIP_REGISTER, "%s", __func__);
}

static void contact_header(void)
{
	SK_CHECK_EQ(P(RL MAND
		      "Contact: \"Doe, J\" <sip:j@10.0.0.1:5060;transport=udp>;expires=60;q=0.5, "
		      "<sip:k@y>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\""
		      ";+x-cisco-sessionpersist\r\n"
		      "m: sip:l@z;expires=0\r\n"
		      "CONTACT: Bob <sips:bob@[2001:db8::2]>;X-cisco-callinfo\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_contact, 4, "%s", __func__);
	SK_CHECK_SPAN(B, msg.contact[0].display, "\"Doe, J\"");
	SK_CHECK_SPAN(B, msg.contact[0].uri, "sip:j@10.0.0.1:5060;transport=udp");
	SK_CHECK(msg.contact[0].has_expires && msg.contact[0].expires == 60, "expires=60");
	SK_CHECK_SPAN(B, msg.contact[0].value,
		      "\"Doe, J\" <sip:j@10.0.0.1:5060;transport=udp>;expires=60;q=0.5");
	struct sk_span q;
	SK_CHECK(sk_sip_param_find(B, msg.contact[0].params, "q", &q), "q param");
	SK_CHECK_SPAN(B, q, "0.5");
	SK_CHECK_SPAN(B, msg.contact[1].instance,
		      "<urn:uuid:00000000-0000-0000-0000-000000000001>");
	SK_CHECK(msg.contact[1].feature_opts & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST),
		 "+feature");
	SK_CHECK(sk_sip_contact_has_feature(B, &msg.contact[1], "x-cisco-sessionpersist"),
		 "helper");
	SK_CHECK(sk_sip_contact_has_feature(B, &msg.contact[1], "+X-Cisco-SessionPersist"),
		 "helper");
	SK_CHECK(!sk_sip_contact_has_feature(B, &msg.contact[0], "x-cisco-sessionpersist"),
		 "absent");
	SK_CHECK(!msg.contact[1].has_expires, "no expires");
	SK_CHECK_SPAN(B, msg.contact[2].uri, "sip:l@z");
	SK_CHECK(msg.contact[2].has_expires && msg.contact[2].expires == 0, "expires=0");
	SK_CHECK(!msg.contact[2].bracketed, "addr-spec");
	SK_CHECK_SPAN(B, msg.contact[3].uri, "sips:bob@[2001:db8::2]");
	SK_CHECK(msg.contact[3].feature_opts & SK_OPT_BIT(SK_OPT_X_CISCO_CALLINFO), "bare feature");
	SK_CHECK(sk_sip_msg_opts(&msg) & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST), "msg opts");

	SK_CHECK_EQ(P("REGISTER sip:r SIP/2.0\r\n" VIA FROM TO CID
		      "CSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK(msg.contact_star && msg.n_contact == 0, "star");
	SK_CHECK(msg.has_expires && msg.expires == 0, "Expires: 0");

	/* commas inside <> or a quoted param value do not split values */
	SK_CHECK_EQ(P(RL MAND "Contact: <sip:a@b;p=1,2>;x=\"u,v\";expires=5 ,<sip:c@d>\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_contact, 2, "%s", __func__);
	SK_CHECK_SPAN(B, msg.contact[0].uri, "sip:a@b;p=1,2");
	SK_CHECK(msg.contact[0].has_expires && msg.contact[0].expires == 5, "expires after quoted");
	SK_CHECK_SPAN(B, msg.contact[1].uri, "sip:c@d");
	SK_CHECK_EQ(P(RL MAND "Contact: <sip:a@b>;;\r\n" END), SK_SIP_ERR_BAD_CONTACT, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Contact: <sip:a@b>,\r\n" END), SK_SIP_ERR_BAD_CONTACT, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Contact: sip:a@b?Route=x\r\n" END), SK_SIP_ERR_BAD_CONTACT, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Contact: <sip:a@b>;expires=soon\r\n" END), SK_SIP_ERR_BAD_CONTACT,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Contact: Bell, A <sip:a@b>\r\n" END), SK_SIP_ERR_BAD_CONTACT, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Contact: <sip:a@b>;expires=99999999999\r\n" END), SK_SIP_OK, "%s",
		    __func__);
	SK_CHECK_EQ(msg.contact[0].expires, UINT32_MAX, "%s", __func__);
}

static void option_tags(void)
{
	SK_CHECK_EQ(P(RL MAND
		      "Supported: replaces,join,sdp-anat,norefersub,resource-priority,"
		      "extended-refer,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,"
		      "X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,"
		      "X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1\r\n"
		      "k: x-CISCO-SESSIONPERSIST , 100rel\r\n"
		      "Supported:\r\n"
		      "supported: timer,\r\n path, gruu, outbound, histinfo, precondition\r\n"
		      "Require: 100rel, x-foo\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	for (int o = 0; o < SK_OPT_KNOWN_COUNT; o++) {
		if (o == SK_OPT_FROM_CHANGE || o == SK_OPT_EVENTLIST)
			SK_CHECK(!(msg.supported & SK_OPT_BIT(o)), "%s absent", sk_sip_opt_str(o));
		else
			SK_CHECK(msg.supported & SK_OPT_BIT(o), "%s present", sk_sip_opt_str(o));
	}
	SK_CHECK(!(msg.supported & SK_OPT_BIT(SK_OPT_OTHER)), "no unknown");
	SK_CHECK_EQ(msg.require, SK_OPT_BIT(SK_OPT_100REL) | SK_OPT_BIT(SK_OPT_OTHER), "%s",
		    __func__);
	for (int o = 0; o < SK_OPT_KNOWN_COUNT; o++) {
		const char *n = sk_sip_opt_str((enum sk_sip_opt)o);

		if (o != SK_OPT_X_CISCO_SIS && o != SK_OPT_X_CISCO_XSI)
			SK_CHECK(sk_sip_opt_lookup(n, strlen(n)) == o, "lookup %s", n);
	}
	SK_CHECK_EQ(sk_sip_opt_lookup("x-cisco-sis-3.0.0", 17), SK_OPT_X_CISCO_SIS, "%s", __func__);
	SK_CHECK_EQ(sk_sip_opt_lookup("X-CISCO-XSI-8.5.1", 17), SK_OPT_X_CISCO_XSI, "%s", __func__);
	SK_CHECK_EQ(sk_sip_opt_lookup("x-cisco-sis", 11), -1, "%s", __func__);
	SK_CHECK_EQ(sk_sip_opt_lookup("", 0), -1, "%s", __func__);
	SK_CHECK_EQ(sk_sip_opt_lookup("X-Cisco-SessionPersist", 22), SK_OPT_X_CISCO_SESSIONPERSIST,
		    "%s", __func__);
	SK_CHECK_EQ(sk_sip_opt_lookup("x-cisco-sessionpersis", 21), -1, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Supported: a,,b\r\n" END), SK_SIP_ERR_BAD_OPTION_TAGS, "%s",
		    __func__);
	SK_CHECK_EQ(P(RL MAND "Require: a b\r\n" END), SK_SIP_ERR_BAD_OPTION_TAGS, "%s", __func__);
}

/*
 * The Supported parser walks 64-byte token/comma bitmaps; check it against a
 * plain split on generated lists (lengths crossing the windows, LWS and folds
 * around commas, known, prefixed and unknown tags, trailing commas).
 */
static void option_tags_generated(void)
{
	static const char *const toks[] = {"replaces",
					   "join",
					   "X-cisco-callinfo",
					   "x-cisco-sis-7.0.0",
					   "100rel",
					   "foo",
					   "a",
					   "X-cisco-sessionpersist",
					   "timer",
					   "bar-baz"};
	static const char *const seps[] = {",", " ,", ", ", ",\r\n "};
	uint64_t rng = 1;
	int bad = 0;

	for (int it = 0; it < 20000; it++) {
		char v[800], text[1200];
		int n = 0, nt, trailing;
		uint32_t want = 0;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		nt = 1 + (int)((rng >> 33) % 30);
		trailing = (rng >> 50) % 7 == 0;
		for (int k = 0; k < nt; k++) {
			const char *tok;
			int o;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			tok = toks[(rng >> 33) % 10];
			if (k > 0)
				n += snprintf(v + n, sizeof(v) - (size_t)n, "%s",
					      seps[(rng >> 40) % 4]);
			n += snprintf(v + n, sizeof(v) - (size_t)n, "%s", tok);
			o = sk_sip_opt_lookup(tok, strlen(tok));
			want |= SK_OPT_BIT(o >= 0 ? o : SK_OPT_OTHER);
		}
		if (trailing)
			v[n++] = ',';
		v[n] = '\0';
		snprintf(text, sizeof(text), RL MAND "Supported: %s\r\n" END, v);
		if (trailing) {
			if (P(text) != SK_SIP_ERR_BAD_OPTION_TAGS && bad++ < 3)
				fprintf(stderr, "  accepted trailing comma: %s\n", v);
		} else if ((P(text) != SK_SIP_OK || msg.supported != want) && bad++ < 3) {
			fprintf(stderr, "  got %x want %x for: %s\n", msg.supported, want, v);
		}
	}
	SK_CHECK(bad == 0, "%d generated Supported lists misparsed", bad);
}

static void expires_ctype_ua(void)
{
	SK_CHECK_EQ(P(RL MAND
		      "Expires: 3600\r\nc: application/sdp\r\nUser-Agent: Cisco-CP8865/14.1\r\n"
		      "User-Agent: second\r\n" END),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK(msg.has_expires && msg.expires == 3600, "expires");
	SK_CHECK_SPAN(B, msg.content_type, "application/sdp");
	SK_CHECK_SPAN(B, msg.user_agent, "Cisco-CP8865/14.1");
	SK_CHECK_EQ(P(RL MAND "EXPIRES: 99999999999\r\n" END), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.expires, UINT32_MAX, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Expires: soon\r\n" END), SK_SIP_ERR_BAD_EXPIRES, "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Expires: 1\r\nExpires: 2\r\n" END), SK_SIP_ERR_DUPLICATE_HEADER,
		    "%s", __func__);
	SK_CHECK_EQ(P(RL MAND "Content-Type: a/b\r\nc: a/c\r\n" END), SK_SIP_ERR_DUPLICATE_HEADER,
		    "%s", __func__);
	/* an identical repeat is tolerated (seen from SIPp in shared/traces) */
	SK_CHECK_EQ(P(RL MAND "Content-Type: a/b\r\nc: a/b\r\n" END), SK_SIP_OK, "%s", __func__);
	SK_CHECK_SPAN(B, msg.content_type, "a/b");
}

static void call_info_header(void)
{
	const char *t = "SIP/2.0 180 Ringing\r\n" MAND
			"Call-Info: <urn:x-cisco-remotecc:callinfo>; security= NotAuthenticated; "
			"orientation= to; gci= 1-3456; isVoip; call-instance= 1\r\n"
			"Call-Info: <http://www.example.com/alice/photo.jpg> ;purpose=icon,\r\n"
			" <urn:x-cisco-remotecc:callinfo>;method=\"NOTIFY;Event=a,b\";x=1 , "
			"<http://www.example.com/alice/> ;purpose=info\r\n" END;

	SK_CHECK_EQ(P(t), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo, 4, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_lines, 2, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo[0].uri, "urn:x-cisco-remotecc:callinfo");
	SK_CHECK_SPAN(
		B, msg.callinfo[0].value,
		"<urn:x-cisco-remotecc:callinfo>; security= NotAuthenticated; orientation= to; "
		"gci= 1-3456; isVoip; call-instance= 1");
	struct sk_span v;
	SK_CHECK(sk_sip_param_find(B, msg.callinfo[0].params, "orientation", &v), "orientation");
	SK_CHECK_SPAN(B, v, "to");
	SK_CHECK(sk_sip_param_find(B, msg.callinfo[0].params, "isvoip", &v) && v.len == 0, "flag");
	SK_CHECK_EQ(msg.callinfo[0].line, 0, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo_line[0],
		      "Call-Info: <urn:x-cisco-remotecc:callinfo>; security= NotAuthenticated; "
		      "orientation= to; gci= 1-3456; isVoip; call-instance= 1\r\n");
	SK_CHECK_SPAN(B, msg.callinfo[1].value,
		      "<http://www.example.com/alice/photo.jpg> ;purpose=icon");
	SK_CHECK_SPAN(B, msg.callinfo[2].value,
		      "<urn:x-cisco-remotecc:callinfo>;method=\"NOTIFY;Event=a,b\";x=1");
	SK_CHECK(sk_sip_param_find(B, msg.callinfo[2].params, "method", &v), "quoted param");
	SK_CHECK_SPAN(B, v, "\"NOTIFY;Event=a,b\"");
	SK_CHECK_SPAN(B, msg.callinfo[3].uri, "http://www.example.com/alice/");
	SK_CHECK_EQ(msg.callinfo[3].line, 1, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo_line[1],
		      "Call-Info: <http://www.example.com/alice/photo.jpg> ;purpose=icon,\r\n"
		      " <urn:x-cisco-remotecc:callinfo>;method=\"NOTIFY;Event=a,b\";x=1 , "
		      "<http://www.example.com/alice/> ;purpose=info\r\n");

	SK_CHECK_EQ(msg.n_callinfo_bad, 0, "%s", __func__);
}

/* Malformed Call-Info values: each is a line that is left alone and counted. */
static void call_info_malformed_lines(void)
{
	static const char *const bad[] = {
		"urn:x-cisco-remotecc:callinfo",	    /* no <> */
		"<urn:a>;",				    /* empty param */
		"<urn:a>,,<urn:b>",			    /* empty value */
		"<urn:a>;x=\"open",			    /* unterminated quote */
		"<urn:x-cisco-remotecc:callinfo>, garbage", /* good value, then not */
		"<urn:x-cisco-remotecc:callinfo> <urn:b>",  /* no comma */
		"<urn:x-cisco-remotecc: callinfo>",	    /* LWS inside <> */
		"<nocolon>",				    /* no scheme */
		"",					    /* empty */
	};
	char text[512];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), RL MAND "Call-Info: %s\r\n" END, bad[i]);
		SK_CHECK(P(text) == SK_SIP_OK, "%s", bad[i]);
		SK_CHECK(msg.n_callinfo == 0 && msg.n_callinfo_lines == 0, "%s", bad[i]);
		SK_CHECK(msg.n_callinfo_bad == 1 && msg.overflow == 0, "%s", bad[i]);
		SK_CHECK(msg.n_hdrs == 7 && msg.hdrs[5].id == SK_HDR_CALL_INFO, "%s", bad[i]);
	}
}

/* A malformed Call-Info line next to good remotecc lines: the good ones are
 * recorded, with line indexes among the good lines only; the bad one is not. */
static void call_info_malformed_next_to_good(void)
{
	const char *t = "SIP/2.0 200 OK\r\n" MAND
			"Call-Info: <urn:x-cisco-remotecc:callinfo>; security= NotAuthenticated; "
			"orientation= to\r\n"
			"Call-Info: <urn:x-cisco-remotecc:callinfo>, <http://x> purpose=icon\r\n"
			"Call-Info: <urn:x-cisco-remotecc:callinfo>;isVoip, <urn:b>\r\n" END;

	SK_CHECK_EQ(P(t), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_bad, 1, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo, 3, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_lines, 2, "%s", __func__);
	SK_CHECK_EQ(msg.overflow, 0, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo[0].uri, "urn:x-cisco-remotecc:callinfo");
	SK_CHECK_EQ(msg.callinfo[0].line, 0, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo[1].value, "<urn:x-cisco-remotecc:callinfo>;isVoip");
	SK_CHECK_EQ(msg.callinfo[1].line, 1, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo[2].uri, "urn:b");
	SK_CHECK_EQ(msg.callinfo[2].line, 1, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo_line[0],
		      "Call-Info: <urn:x-cisco-remotecc:callinfo>; security= NotAuthenticated; "
		      "orientation= to\r\n");
	SK_CHECK_SPAN(B, msg.callinfo_line[1],
		      "Call-Info: <urn:x-cisco-remotecc:callinfo>;isVoip, <urn:b>\r\n");
	/* the bad line is still a recognised header line, range and all */
	SK_CHECK_EQ(msg.hdrs[6].id, SK_HDR_CALL_INFO, "%s", __func__);
	SK_CHECK_SPAN(B, msg.hdrs[6].line,
		      "Call-Info: <urn:x-cisco-remotecc:callinfo>, <http://x> purpose=icon\r\n");

	/* a bad line with more values than callinfo[] holds sets no overflow bit */
	char text[1024];
	int n = snprintf(text, sizeof(text), "%s", "SIP/2.0 200 OK\r\n" MAND "Call-Info: ");
	for (int i = 0; i < SK_SIP_MAX_CALLINFO + 2; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "<urn:x-cisco-remotecc:%d>, ", i);
	snprintf(text + n, sizeof(text) - (size_t)n, "%s", ";\r\nCall-Info: <urn:ok>\r\n" END);
	SK_CHECK_EQ(P(text), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_bad, 1, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo, 1, "%s", __func__);
	SK_CHECK_SPAN(B, msg.callinfo[0].uri, "urn:ok");
	SK_CHECK_EQ(msg.callinfo[0].line, 0, "%s", __func__);
	SK_CHECK_EQ(msg.overflow, 0, "%s", __func__);
}

/* A REGISTER whose only Call-Info is malformed is still parsed whole. */
static void call_info_malformed_only(void)
{
	const char *t = "REGISTER sip:10.1.1.20 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 10.20.30.41:5060;branch=z9hG4bK1b6b3c1e\r\n"
			"From: <sip:1001@10.1.1.20>;tag=0c1a2b3c\r\n"
			"To: <sip:1001@10.1.1.20>\r\n"
			"Call-ID: 0c1a2b3c-4d5e0011@10.20.30.41\r\n"
			"CSeq: 1043 REGISTER\r\n"
			"Call-Info: <urn:x-cisco-remotecc:callinfo>; security=\r\n"
			"Contact: <sip:1001@10.20.30.41:5060>;+sip.instance=\"<urn:uuid:1>\";"
			"+x-cisco-sessionpersist;expires=3600\r\n"
			"Supported: X-cisco-callinfo,replaces\r\n"
			"User-Agent: Cisco-CP8865/14.2.1\r\n"
			"Expires: 3600\r\n"
			"Content-Type: application/sdp\r\n"
			"Content-Length: 4\r\n\r\nv=0\n";

	SK_CHECK_EQ(P(t), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo, 0, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_lines, 0, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_bad, 1, "%s", __func__);
	SK_CHECK_EQ(msg.overflow, 0, "%s", __func__);
	/* everything else, before and after the bad line, as usual */
	SK_CHECK_EQ(msg.method, SK_SIP_REGISTER, "%s", __func__);
	SK_CHECK_EQ(msg.n_via, 1, "%s", __func__);
	SK_CHECK_SPAN(B, msg.via[0].branch, "z9hG4bK1b6b3c1e");
	SK_CHECK_SPAN(B, msg.from.tag, "0c1a2b3c");
	SK_CHECK_SPAN(B, msg.to.uri, "sip:1001@10.1.1.20");
	SK_CHECK_SPAN(B, msg.call_id, "0c1a2b3c-4d5e0011@10.20.30.41");
	SK_CHECK_EQ(msg.cseq, 1043, "%s", __func__);
	SK_CHECK_EQ(msg.cseq_method, SK_SIP_REGISTER, "%s", __func__);
	SK_CHECK_EQ(msg.n_contact, 1, "%s", __func__);
	SK_CHECK_SPAN(B, msg.contact[0].instance, "<urn:uuid:1>");
	SK_CHECK(msg.contact[0].has_expires && msg.contact[0].expires == 3600, "contact expires");
	SK_CHECK(msg.contact[0].feature_opts & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST),
		 "persist");
	SK_CHECK_EQ(msg.supported,
		    SK_OPT_BIT(SK_OPT_X_CISCO_CALLINFO) | SK_OPT_BIT(SK_OPT_REPLACES), "%s",
		    __func__);
	SK_CHECK_SPAN(B, msg.user_agent, "Cisco-CP8865/14.2.1");
	SK_CHECK(msg.has_expires && msg.expires == 3600, "expires");
	SK_CHECK_SPAN(B, msg.content_type, "application/sdp");
	SK_CHECK_SPAN(B, msg.body, "v=0\n");
	SK_CHECK_EQ(msg.n_hdrs, 12, "%s", __func__);

	/* errors after the bad line are still found */
	SK_CHECK_EQ(P(RL MAND "Call-Info: <urn:a>;\r\nExpires: soon\r\n" END),
		    SK_SIP_ERR_BAD_EXPIRES, "%s", __func__);
	/* and the count saturates */
	char text[8192];
	int n = snprintf(text, sizeof(text), "%s", RL MAND);
	for (int i = 0; i < 300; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "Call-Info: x\r\n");
	snprintf(text + n, sizeof(text) - (size_t)n, "%s", END);
	SK_CHECK_EQ(P(text), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo_bad, 255, "%s", __func__);
	SK_CHECK_EQ(msg.n_callinfo, 0, "%s", __func__);
}

static void header_lines(void)
{
	static const struct {
		const char *name;
		enum sk_sip_hdr_id id;
	} compact[] = {
		{"s", SK_HDR_SUBJECT},
		{"e", SK_HDR_CONTENT_ENCODING},
		{"o", SK_HDR_EVENT},
		{"r", SK_HDR_REFER_TO},
		{"u", SK_HDR_ALLOW_EVENTS},
		{"b", SK_HDR_REFERRED_BY},
		{"x", SK_HDR_SESSION_EXPIRES},
		{"y", SK_HDR_IDENTITY},
		{"j", SK_HDR_REJECT_CONTACT},
		{"a", SK_HDR_ACCEPT_CONTACT},
		{"Subject", SK_HDR_SUBJECT},
		{"Session-Expires", SK_HDR_SESSION_EXPIRES},
		{"EVENT", SK_HDR_EVENT},
		{"Accept-Contact", SK_HDR_ACCEPT_CONTACT},
		{"content-encoding", SK_HDR_CONTENT_ENCODING},
		{"Refer-To", SK_HDR_REFER_TO},
		{"ALLOW-EVENTS", SK_HDR_ALLOW_EVENTS},
		{"Referred-By", SK_HDR_REFERRED_BY},
		{"Identity", SK_HDR_IDENTITY},
		{"Reject-Contact", SK_HDR_REJECT_CONTACT},
		{"User-Agent", SK_HDR_USER_AGENT},
		/* near misses stay unknown */
		{"Vias", SK_HDR_OTHER},
		{"Contacts", SK_HDR_OTHER},
		{"Content-Lengthy", SK_HDR_OTHER},
		{"P-Asserted-Identity", SK_HDR_OTHER},
		{"Content-Disposition", SK_HDR_OTHER},
	};
	char text[512];
	const struct sk_sip_hdr *h;
	unsigned pos = 0;

	for (unsigned i = 0; i < sizeof(compact) / sizeof(compact[0]); i++) {
		snprintf(text, sizeof(text), RL MAND "%s : value %u\r\n" END, compact[i].name, i);
		SK_CHECK_EQ(P(text), SK_SIP_OK, "%s", __func__);
		pos = 0;
		if (compact[i].id == SK_HDR_OTHER) {
			SK_CHECK_EQ(msg.n_hdrs, 6, "%s",
				    __func__); /* only the mandatory ones recognised */
			continue;
		}
		h = sk_sip_hdr_find(&msg, compact[i].id, &pos);
		SK_CHECK(h != NULL, "%s", compact[i].name);
		if (h != NULL) {
			char want[64];

			snprintf(want, sizeof(want), "value %u", i);
			SK_CHECK_SPAN(B, h->value, want);
		}
	}
	SK_CHECK_EQ(P(RL "Via: SIP/2.0/UDP a\r\n  ;branch=z9hG4bKx\r\n" FROM TO CID CSEQ END),
		    SK_SIP_OK, "%s", __func__);
	pos = 0;
	h = sk_sip_hdr_find(&msg, SK_HDR_VIA, &pos);
	SK_CHECK(h != NULL && span_eq(B, h->line, "Via: SIP/2.0/UDP a\r\n  ;branch=z9hG4bKx\r\n"),
		 "Via line incl. fold and CRLF");
	SK_CHECK(h != NULL && span_eq(B, h->value, "SIP/2.0/UDP a\r\n  ;branch=z9hG4bKx"), "value");
	SK_CHECK(sk_sip_hdr_find(&msg, SK_HDR_VIA, &pos) == NULL, "one Via line");
	SK_CHECK_EQ(msg.n_hdrs, 6, "%s", __func__);
	SK_CHECK_EQ(msg.hdrs[msg.n_hdrs - 1].id, SK_HDR_CONTENT_LENGTH, "%s", __func__);
}

static void uri_helper(void)
{
	struct sk_sip_uri u;
	struct sk_span s;
	static const char *const bad[] = {
		"sip:",		 "sip:@host",	    "sip:a@",	"sip:a@b:99999", "sip:a@b:",
		"sip:a@[::1",	 "sip:a@b;;x=1",    "sip:a@b;", "sip:a b@c",	 "sip:a@b c",
		"sip:a@b:5060x", "sip:2001:db8::1", "sip:a@[]", "sip:a@b>",
	};

	tbuf_set(&tb, "sip:alice:secret@example.com:5060;transport=udp;lr?subject=hi", 61);
	s = (struct sk_span){0, 61};
	SK_CHECK_EQ(sk_sip_uri_parse(B, s, &u), 0, "%s", __func__);
	SK_CHECK_EQ(u.scheme, SK_URI_SIP, "%s", __func__);
	SK_CHECK_SPAN(B, u.user, "alice");
	SK_CHECK_SPAN(B, u.password, "secret");
	SK_CHECK_SPAN(B, u.host, "example.com");
	SK_CHECK(u.has_port && u.port == 5060, "port");
	SK_CHECK_SPAN(B, u.params, ";transport=udp;lr");
	SK_CHECK_SPAN(B, u.headers, "subject=hi");
	struct sk_span v;
	SK_CHECK(sk_sip_param_find(B, u.params, "transport", &v), "transport");
	SK_CHECK_SPAN(B, v, "udp");

	tbuf_set(&tb, "SIPS:[2001:db8::10]:5070", 24);
	SK_CHECK_EQ(sk_sip_uri_parse(B, (struct sk_span){0, 24}, &u), 0, "%s", __func__);
	SK_CHECK_EQ(u.scheme, SK_URI_SIPS, "%s", __func__);
	SK_CHECK(u.host_ipv6 && u.port == 5070 && u.user.len == 0, "ipv6 host");
	SK_CHECK_SPAN(B, u.host, "2001:db8::10");

	tbuf_set(&tb, "sip:user;par=u%40example.net@example.com", 40);
	SK_CHECK_EQ(sk_sip_uri_parse(B, (struct sk_span){0, 40}, &u), 0, "%s", __func__);
	SK_CHECK_SPAN(B, u.user, "user;par=u%40example.net");
	SK_CHECK_SPAN(B, u.host, "example.com");

	tbuf_set(&tb, "tel:+1555", 9);
	SK_CHECK_EQ(sk_sip_uri_parse(B, (struct sk_span){0, 9}, &u), -1, "%s", __func__);
	SK_CHECK_EQ(u.scheme, SK_URI_TEL, "%s", __func__);

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tbuf_set(&tb, bad[i], strlen(bad[i]));
		SK_CHECK(sk_sip_uri_parse(B, (struct sk_span){0, (uint16_t)tb.len}, &u) == -1,
			 "accepted bad URI %s", bad[i]);
	}
}

static void multipart_sdp(void)
{
	const char *body =
		"--b1\r\nContent-Type: application/isup\r\n\r\nxx\r\n"
		"--b1\r\ncontent-type: Application/SDP\r\n\r\nv=0\r\nc=IN IP4 1.2.3.4\r\n"
		"\r\n--b1--\r\n";
	char t[1024];
	struct sk_span s;

	snprintf(t, sizeof(t),
		 RL MAND
		 "Content-Type: multipart/mixed;boundary=\"b1\"\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	SK_CHECK_EQ(P(t), SK_SIP_OK, "%s", __func__);
	SK_CHECK(sk_sip_find_sdp(B, &msg, &s), "multipart SDP found");
	SK_CHECK_SPAN(B, s, "v=0\r\nc=IN IP4 1.2.3.4\r\n");
	SK_CHECK_EQ(P(RL MAND "c: application/sdp\r\nl: 5\r\n\r\nv=0\r\n"), SK_SIP_OK, "%s",
		    __func__);
	SK_CHECK(sk_sip_find_sdp(B, &msg, &s) && s.len == 5, "plain SDP");
	SK_CHECK_EQ(P(RL MAND "c: text/plain\r\nl: 5\r\n\r\nv=0\r\n"), SK_SIP_OK, "%s", __func__);
	SK_CHECK(!sk_sip_find_sdp(B, &msg, &s), "not SDP");
}

static void err_names(void)
{
	for (int e = 0; e < SK_SIP_ERR_COUNT; e++) {
		const char *n = sk_sip_err_str((enum sk_sip_err)e);

		SK_CHECK(n != NULL && n[0] != '\0', "name of %d", e);
		for (const char *c = n; *c; c++)
			SK_CHECK((*c >= 'a' && *c <= 'z') || *c == '_', "snake_case %s", n);
	}
	SK_CHECK(strcmp(sk_sip_err_str(SK_SIP_ERR_BAD_START_LINE), "bad_start_line") == 0, "name");
	SK_CHECK(strcmp(sk_sip_err_str(SK_SIP_ERR_COUNT), "unknown") == 0, "out of range");
}

int main(void)
{
	SK_RUN(start_line_methods, "14 methods + extension, CSeq method enum");
	SK_RUN(start_line_status, "status lines 100..699, reason, version");
	SK_RUN(start_line_malformed, "named malformed start lines, keep-alive");
	SK_RUN(framing, "Content-Length/l, body bounds, bare LF, truncation");
	SK_RUN(mandatory_headers, "missing / duplicate mandatory headers");
	SK_RUN(via_header, "Via/v: values, LWS, IPv6, params, capacity");
	SK_RUN(from_to_headers, "From/f To/t: display, URI, tag, folding");
	SK_RUN(call_id_cseq, "Call-ID/i, CSeq number/method/mismatch");
	SK_RUN(contact_header, "Contact/m: list, quoted comma, expires, instance, *");
	SK_RUN(option_tags, "Supported/k, Require: known tags, case, lists");
	SK_RUN(option_tags_generated, "20000 generated Supported lists vs plain split");
	SK_RUN(expires_ctype_ua, "Expires, Content-Type/c, User-Agent");
	SK_RUN(call_info_header, "Call-Info values and whole-line ranges");
	SK_RUN(call_info_malformed_lines, "malformed Call-Info lines: left alone, counted");
	SK_RUN(call_info_malformed_next_to_good, "bad Call-Info line next to good remotecc lines");
	SK_RUN(call_info_malformed_only, "only Call-Info malformed: message parses whole");
	SK_RUN(header_lines, "compact forms s e o r u b x y j a, line ranges");
	SK_RUN(uri_helper, "SIP/SIPS URI helper incl. IPv6 and bad URIs");
	SK_RUN(multipart_sdp, "SDP located in plain and multipart bodies");
	SK_RUN(err_names, "error names are snake_case counter keys");
	tbuf_free(&tb);
	return sk_test_done();
}
