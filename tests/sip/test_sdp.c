/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the SDP parser and the IPv4/IPv6 address parsers.
 */
#include "sdp_parse.h"
#include "sip_fixture.h"

static struct tbuf tb;
static struct sk_sdp sdp;

static enum sk_sdp_err P(const char *text)
{
	tbuf_set(&tb, text, strlen(text));
	return sk_sdp_parse(tb.buf, (struct sk_span){0, (uint16_t)tb.len}, &sdp);
}

#define B tb.buf
#define HEAD "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"

static void session_conn(void)
{
	SK_CHECK_EQ(P(HEAD "c=IN IP4 192.0.2.10\r\nm=audio 49170 RTP/AVP 0 8 101\r\n"
			   "m=video 51372 RTP/SAVP 99\r\n"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK_EQ(sdp.conn.af, SK_SDP_AF_IP4, "%s", __func__);
	SK_CHECK(memcmp(sdp.conn.addr, "\xc0\x00\x02\x0a", 4) == 0, "192.0.2.10 in network order");
	SK_CHECK_SPAN(B, sdp.conn.addr_text, "192.0.2.10");
	SK_CHECK_SPAN(B, sdp.conn.line, "c=IN IP4 192.0.2.10\r\n");
	SK_CHECK_EQ(sdp.n_media, 2, "%s", __func__);
	SK_CHECK_SPAN(B, sdp.media[0].media, "audio");
	SK_CHECK_EQ(sdp.media[0].port, 49170, "%s", __func__);
	SK_CHECK_SPAN(B, sdp.media[0].port_text, "49170");
	SK_CHECK_EQ(sdp.media[0].n_ports, 1, "%s", __func__);
	SK_CHECK_SPAN(B, sdp.media[0].proto, "RTP/AVP");
	SK_CHECK_SPAN(B, sdp.media[0].fmts, "0 8 101");
	SK_CHECK_SPAN(B, sdp.media[0].line, "m=audio 49170 RTP/AVP 0 8 101\r\n");
	SK_CHECK_SPAN(B, sdp.media[1].proto, "RTP/SAVP");
	SK_CHECK(sk_sdp_media_conn(&sdp, 1) == &sdp.conn, "media falls back to session c=");
	SK_CHECK_EQ(sk_sdp_media_rtcp_port(&sdp, 0), 49171, "%s", __func__);
	SK_CHECK(sk_sdp_media_conn(&sdp, 2) == NULL, "out of range");
}

static void media_conn(void)
{
	SK_CHECK_EQ(P(HEAD
		      "c=IN IP4 192.0.2.10\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.1.2.3\r\n"
		      "m=video 5000 RTP/AVP 31\r\nc=IN IP6 2001:db8::1\r\nc=IN IP6 2001:db8::2\r\n"
		      "m=audio 6000 RTP/AVP 0\r\n"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_conn(&sdp, 0)->af, SK_SDP_AF_IP4, "%s", __func__);
	SK_CHECK(memcmp(sk_sdp_media_conn(&sdp, 0)->addr, "\x0a\x01\x02\x03", 4) == 0, "media c=");
	SK_CHECK_EQ(sk_sdp_media_conn(&sdp, 1)->af, SK_SDP_AF_IP6, "%s", __func__);
	SK_CHECK(memcmp(sk_sdp_media_conn(&sdp, 1)->addr,
			"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16) == 0,
		 "first media-level c= kept");
	SK_CHECK(sk_sdp_media_conn(&sdp, 2) == &sdp.conn, "third uses session");
	/* no session c=, media-level only (RFC 5118 4.8 shape) */
	SK_CHECK_EQ(P(HEAD "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.1.2.3\r\n"), SK_SDP_OK, "%s",
		    __func__);
	SK_CHECK_EQ(sdp.conn.af, SK_SDP_AF_NONE, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_conn(&sdp, 0)->af, SK_SDP_AF_IP4, "%s", __func__);
	/* multicast ttl / address count, IPv6 count, host name */
	SK_CHECK_EQ(P(HEAD "c=IN IP4 224.2.1.1/127/3\r\nm=audio 4000 RTP/AVP 0\r\n"
			   "c=IN IP6 ff15::101/3\r\nm=audio 4002 RTP/AVP 0\r\nc=IN IP4 "
			   "media.example.com\r\n"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK(sdp.conn.ttl == 127 && sdp.conn.n_addr == 3, "ttl 127, 3 addresses");
	SK_CHECK_SPAN(B, sdp.conn.addr_text, "224.2.1.1");
	SK_CHECK(sdp.media[0].conn.af == SK_SDP_AF_IP6 && sdp.media[0].conn.n_addr == 3, "v6 /3");
	SK_CHECK_EQ(sdp.media[1].conn.af, SK_SDP_AF_FQDN, "%s", __func__);
	SK_CHECK_SPAN(B, sdp.media[1].conn.addr_text, "media.example.com");
	SK_CHECK_EQ(P(HEAD "c=IN IP6 ::ffff:192.0.2.2\r\n"), SK_SDP_OK, "%s", __func__);
	SK_CHECK(memcmp(sdp.conn.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x02", 16) == 0,
		 "IPv4-mapped");
}

static void rtcp_attrs(void)
{
	SK_CHECK_EQ(P(HEAD "c=IN IP4 10.0.0.1\r\nm=audio 49170 RTP/AVP 0\r\na=rtcp:53020\r\n"
			   "m=audio 49180 RTP/AVP 0\r\na=rtcp:53021 IN IP4 126.16.64.4\r\n"
			   "m=audio 49190 RTP/AVP 0\r\na=rtcp-mux\r\n"
			   "m=audio 49200 RTP/AVP 0\r\na=rtcp:49200\r\na=rtcp-mux\r\n"
			   "m=video 49210 RTP/AVP 0\r\na=rtcp:9 IN IP6 2001:db8::5\r\n"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK(sdp.media[0].has_rtcp && sdp.media[0].rtcp_port == 53020, "a=rtcp port");
	SK_CHECK_SPAN(B, sdp.media[0].rtcp_text, "53020");
	SK_CHECK_EQ(sdp.media[0].rtcp_addr.af, SK_SDP_AF_NONE, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_rtcp_port(&sdp, 0), 53020, "%s", __func__);
	SK_CHECK_EQ(sdp.media[1].rtcp_addr.af, SK_SDP_AF_IP4, "%s", __func__);
	SK_CHECK(memcmp(sdp.media[1].rtcp_addr.addr, "\x7e\x10\x40\x04", 4) == 0, "rtcp addr");
	SK_CHECK(sdp.media[2].rtcp_mux && !sdp.media[2].has_rtcp, "rtcp-mux");
	SK_CHECK_EQ(sk_sdp_media_rtcp_port(&sdp, 2), 49190, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_rtcp_port(&sdp, 3), 49200, "%s", __func__);
	SK_CHECK_EQ(sdp.media[4].rtcp_addr.af, SK_SDP_AF_IP6, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:\r\n"), SK_SDP_ERR_BAD_RTCP, "%s",
		    __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:70000\r\n"), SK_SDP_ERR_BAD_RTCP, "%s",
		    __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:5 IN IP4\r\n"), SK_SDP_ERR_BAD_RTCP, "%s",
		    __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:5x\r\n"), SK_SDP_ERR_BAD_RTCP, "%s",
		    __func__);
}

static void directions(void)
{
	SK_CHECK_EQ(P(HEAD
		      "a=sendonly\r\nm=audio 1 RTP/AVP 0\r\nm=audio 3 RTP/AVP 0\r\na=recvonly\r\n"
		      "m=audio 5 RTP/AVP 0\r\na=inactive\r\nm=audio 7 RTP/AVP 0\r\na=sendrecv\r\n"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK_EQ(sdp.dir, SK_SDP_SENDONLY, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_dir(&sdp, 0), SK_SDP_SENDONLY, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_dir(&sdp, 1), SK_SDP_RECVONLY, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_dir(&sdp, 2), SK_SDP_INACTIVE, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_dir(&sdp, 3), SK_SDP_SENDRECV, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 1 RTP/AVP 0\r\na=sendonlyx\r\n"), SK_SDP_OK, "%s", __func__);
	SK_CHECK_EQ(sk_sdp_media_dir(&sdp, 0), SK_SDP_SENDRECV, "%s", __func__);
}

static void ports_and_shape(void)
{
	SK_CHECK_EQ(P(HEAD "m=video 49170/2 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\n"), SK_SDP_OK,
		    "%s", __func__);
	SK_CHECK(sdp.media[0].port == 49170 && sdp.media[0].n_ports == 2, "port count");
	SK_CHECK_EQ(sdp.media[1].port, 0, "%s", __func__);
	/* LF-only, blank lines, no final line end */
	SK_CHECK_EQ(P("v=0\no=- 1 1 IN IP4 1.1.1.1\n\nc=IN IP4 1.2.3.4\nm=audio 9 RTP/AVP 0"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK_EQ(sdp.media[0].port, 9, "%s", __func__);
	SK_CHECK_SPAN(B, sdp.media[0].line, "m=audio 9 RTP/AVP 0");
	SK_CHECK_EQ(P(HEAD "m=audio 1 RTP/AVP 0\r\n\r\n\r\n"), SK_SDP_OK, "%s", __func__);
	/* capacity */
	SK_CHECK_EQ(P(HEAD "m=a 1 P 0\r\nm=a 2 P 0\r\nm=a 3 P 0\r\nm=a 4 P 0\r\nm=a 5 P 0\r\n"
			   "m=a 6 P 0\r\nm=a 7 P 0\r\nm=a 8 P 0\r\nm=a 9 P 0\r\nm=a 10 P 0\r\n"),
		    SK_SDP_OK, "%s", __func__);
	SK_CHECK(sdp.n_media == SK_SDP_MAX_MEDIA && sdp.overflow && sdp.media_total == 10,
		 "overflow");
	SK_CHECK_EQ(sdp.media[7].port, 8, "%s", __func__);
}

static void malformed(void)
{
	struct sk_sdp s2;

	SK_CHECK_EQ(sk_sdp_parse("", (struct sk_span){0, 0}, &s2), SK_SDP_ERR_EMPTY, "%s",
		    __func__);
	SK_CHECK_EQ(P("o=- 1 1 IN IP4 1.1.1.1\r\nv=0\r\n"), SK_SDP_ERR_NO_VERSION, "%s", __func__);
	SK_CHECK_EQ(P("v=1\r\n"), SK_SDP_ERR_NO_VERSION, "%s", __func__);
	SK_CHECK_EQ(P("\r\n\r\n"), SK_SDP_ERR_NO_VERSION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "garbage\r\n"), SK_SDP_ERR_BAD_LINE, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "M=audio 1 RTP/AVP 0\r\n"), SK_SDP_ERR_BAD_LINE, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m =audio 1 RTP/AVP 0\r\n"), SK_SDP_ERR_BAD_LINE, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP4 999.1.1.1\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP4 1.2.3\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP5 1.2.3.4\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=ATM NSAP 47.0005\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP6 2001:db8::g\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP4\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP4 1.2.3.4 extra\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s",
		    __func__);
	SK_CHECK_EQ(P(HEAD "c=IN IP4 224.1.1.1/300\r\n"), SK_SDP_ERR_BAD_CONNECTION, "%s",
		    __func__);
	SK_CHECK_EQ(P(HEAD "m=audio abc RTP/AVP 0\r\n"), SK_SDP_ERR_BAD_MEDIA, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 70000 RTP/AVP 0\r\n"), SK_SDP_ERR_BAD_MEDIA, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 5004/0 RTP/AVP 0\r\n"), SK_SDP_ERR_BAD_MEDIA, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m=audio 5004\r\n"), SK_SDP_ERR_BAD_MEDIA, "%s", __func__);
	SK_CHECK_EQ(P(HEAD "m=\r\n"), SK_SDP_ERR_BAD_MEDIA, "%s", __func__);
	for (int e = 0; e < SK_SDP_ERR_COUNT; e++)
		SK_CHECK(sk_sdp_err_str((enum sk_sdp_err)e)[0] != '\0', "name %d", e);
}

static void ip_parsers(void)
{
	static const char *const good6[] = {"::",
					    "::1",
					    "2001:db8::",
					    "1:2:3:4:5:6:7:8",
					    "::ffff:1.2.3.4",
					    "1:2:3:4:5:6:1.2.3.4",
					    "fe80::1:2",
					    "2001:DB8:0:0:8:800:200C:417A"};
	static const char *const bad6[] = {"",
					   ":",
					   "1:",
					   ":1",
					   "1:2:3:4:5:6:7:8:9",
					   "1::2::3",
					   "12345::",
					   "1:2:3:4:5:6:7:1.2.3.4",
					   "::1.2.3",
					   "g::",
					   "1:::2"};
	static const char *const bad4[] = {"",	     "1.2.3",	 "1.2.3.4.5",  "256.1.1.1",
					   "1..2.3", "1.2.3.4 ", "0001.2.3.4", "a.b.c.d"};
	uint8_t a[16];

	for (unsigned i = 0; i < sizeof(good6) / sizeof(good6[0]); i++)
		SK_CHECK(sk_ip6_parse(good6[i], strlen(good6[i]), a) == 0, "rejected %s", good6[i]);
	for (unsigned i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++)
		SK_CHECK(sk_ip6_parse(bad6[i], strlen(bad6[i]), a) == -1, "accepted %s", bad6[i]);
	for (unsigned i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		SK_CHECK(sk_ip4_parse(bad4[i], strlen(bad4[i]), a) == -1, "accepted %s", bad4[i]);
	SK_CHECK(sk_ip6_parse("2001:db8::1:0:0:1", 17, a) == 0 &&
			 memcmp(a, "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01", 16) == 0,
		 "layout");
	SK_CHECK(sk_ip4_parse("255.0.10.1", 10, a) == 0 && memcmp(a, "\xff\x00\x0a\x01", 4) == 0,
		 "ip4");
}

int main(void)
{
	SK_RUN(session_conn, "session c=, m= fields, fallback, rtcp default");
	SK_RUN(media_conn, "media c= (IP4/IP6/FQDN), multicast /ttl/n, mapped");
	SK_RUN(rtcp_attrs, "a=rtcp port [addr], a=rtcp-mux, malformed rtcp");
	SK_RUN(directions, "session default + per-media direction");
	SK_RUN(ports_and_shape, "port counts, LF/blank lines, media capacity");
	SK_RUN(malformed, "named malformed SDP");
	SK_RUN(ip_parsers, "IPv4/IPv6 text to binary, good and bad");
	tbuf_free(&tb);
	return sk_test_done();
}
