/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sk_pkt_parse: Ethernet / 802.1Q / IPv4 / IPv6 (+ extension chain) / UDP.
 * Every frame is built byte by byte and handed to the parser in a heap buffer
 * of exactly its length, so that a read past the end is caught by ASan.
 */
#include <stdlib.h>

#include "frames.h"
#include "sk_pkt.h"
#include "sk_test.h"

static struct fb F;
static unsigned int n_parsed; /* frames parsed both ways by parse_len() */

static const char *cls_name(unsigned int c)
{
	return sk_pkt_class_name((enum sk_pkt_class)c);
}

/* Parse the first LEN bytes of F from an exact-size heap copy. */
static struct sk_pkt_meta parse_len(uint32_t len)
{
	struct sk_pkt_meta m;
	uint8_t *copy = malloc(len ? len : 1);
	struct sk_pkt_meta full;

	memcpy(copy, F.b, len);
	memset(&m, 0xa5, sizeof(m)); /* the parser must set what it reports */
	sk_pkt_parse(copy, len, &m);
	/* The inline fast path and the full walk agree on every frame. */
	memset(&full, 0x5a, sizeof(full));
	sk_pkt_parse_full(copy, len, &full);
	n_parsed++;
	if (memcmp(&m, &full, offsetof(struct sk_pkt_meta, src)) != 0 ||
	    (m.cls == SK_PKT_UDP && m.ip_version == 4 &&
	     (memcmp(m.src, full.src, 4) != 0 || memcmp(m.dst, full.dst, 4) != 0)))
		SK_CHECK(false, "fast path and full parse disagree (class %s, %u bytes)",
			 cls_name(m.cls), len);
	free(copy);
	return m;
}

static struct sk_pkt_meta parse(void)
{
	return parse_len(F.len);
}

#define CHECK_CLS(m, expected, name)                                                               \
	SK_CHECK((m).cls == (expected), "%s: class %s (got %s)", name, cls_name(expected),         \
		 cls_name((m).cls))

static void test_class_names(void)
{
	SK_CHECK_STR(sk_pkt_class_name(SK_PKT_NON_IP), "non_ip", "class name non_ip");
	SK_CHECK_STR(sk_pkt_class_name(SK_PKT_L3_MALFORMED), "l3_malformed",
		     "class name l3_malformed");
	SK_CHECK_STR(sk_pkt_class_name(SK_PKT_IP_OTHER), "ip_other", "class name ip_other");
	SK_CHECK_STR(sk_pkt_class_name(SK_PKT_IP_FRAGMENT), "ip_fragment",
		     "class name ip_fragment");
	SK_CHECK_STR(sk_pkt_class_name(SK_PKT_UDP), "udp", "class name udp");
}

static void test_ipv4_udp(void)
{
	static const char *payload = "OPTIONS sip:x SIP/2.0\r\n\r\n";
	uint32_t plen = (uint32_t)strlen(payload);
	struct sk_pkt_meta m;

	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5062, 5060, payload);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "plain IPv4/UDP");
	SK_CHECK_EQ(m.ip_version, 4, "plain IPv4/UDP: ip_version 4");
	SK_CHECK_EQ(m.l4_proto, P_UDP, "plain IPv4/UDP: l4_proto UDP");
	SK_CHECK_EQ(m.has_vlan, 0, "plain IPv4/UDP: no VLAN");
	SK_CHECK_EQ(m.l3_off, 14, "plain IPv4/UDP: IP header at 14");
	SK_CHECK_EQ(m.l4_off, 34, "plain IPv4/UDP: UDP header at 34");
	SK_CHECK_EQ(m.payload_off, 42, "plain IPv4/UDP: payload at 42");
	SK_CHECK_EQ(m.payload_len, plen, "plain IPv4/UDP: payload length from the UDP header");
	SK_CHECK_EQ(m.l3_end, 14 + 28 + plen, "plain IPv4/UDP: l3_end = end of the datagram");
	SK_CHECK_EQ(m.sport, 5062, "plain IPv4/UDP: source port in host order");
	SK_CHECK_EQ(m.dport, 5060, "plain IPv4/UDP: destination port in host order");
	SK_CHECK(memcmp(m.src, A4_ACCESS, 4) == 0, "plain IPv4/UDP: source address 10.1.2.3");
	SK_CHECK(memcmp(m.dst, A4_CORE, 4) == 0, "plain IPv4/UDP: destination address 192.0.2.10");
	SK_CHECK(memcmp(F.b + m.payload_off, payload, plen) == 0,
		 "plain IPv4/UDP: payload_off points at the SIP text");

	/* Options: IHL 8 = 32-byte header, the UDP header follows the options. */
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 8, 32 + 8 + 4, 0, P_UDP, A4_CORE, A4_ACCESS);
	fb_udp(&F, 1234, 5678, 12);
	fb_bytes(&F, "abcd", 4);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv4 with 12 bytes of options");
	SK_CHECK_EQ(m.l4_off, 14 + 32, "IPv4 options: UDP header after the options (IHL 8)");
	SK_CHECK_EQ(m.payload_off, 14 + 40, "IPv4 options: payload offset");
	SK_CHECK_EQ(m.payload_len, 4, "IPv4 options: payload length 4");
	SK_CHECK_EQ(m.sport, 1234, "IPv4 options: sport");
	SK_CHECK_EQ(m.dport, 5678, "IPv4 options: dport");
	SK_CHECK(memcmp(m.src, A4_CORE, 4) == 0 && memcmp(m.dst, A4_ACCESS, 4) == 0,
		 "IPv4 options: addresses");

	/* Zero-length UDP payload: UDP length 8 exactly. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "");
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv4/UDP with an empty payload");
	SK_CHECK_EQ(m.payload_len, 0, "empty UDP payload: payload_len 0");
	SK_CHECK_EQ(m.payload_off, m.l3_end, "empty UDP payload: payload_off == l3_end");

	/* DF set is not a fragment. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "x");
	fb_set16(&F, 14 + 6, 0x4000);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv4 with DF set only: a whole datagram");
}

static void test_vlan(void)
{
	struct sk_pkt_meta m;

	fb_ipv4_udp(&F, 1, A4_ACCESS, A4_CORE, 40000, 5060, "REGISTER");
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "VLAN-tagged IPv4/UDP");
	SK_CHECK_EQ(m.has_vlan, 1, "VLAN IPv4: has_vlan");
	SK_CHECK_EQ(m.vlan_tci, 0x2064, "VLAN IPv4: TCI (PCP 1, VID 100)");
	SK_CHECK_EQ(m.ip_version, 4, "VLAN IPv4: ip_version 4");
	SK_CHECK_EQ(m.l3_off, 18, "VLAN IPv4: IP header at 18");
	SK_CHECK_EQ(m.l4_off, 38, "VLAN IPv4: UDP header at 38");
	SK_CHECK_EQ(m.payload_off, 46, "VLAN IPv4: payload at 46");
	SK_CHECK_EQ(m.payload_len, 8, "VLAN IPv4: payload length 8");
	SK_CHECK_EQ(m.sport, 40000, "VLAN IPv4: sport");
	SK_CHECK_EQ(m.dport, 5060, "VLAN IPv4: dport");

	fb_ipv6_udp(&F, 1, A6_ACCESS, A6_CORE, 5060, 5070, "INVITE");
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "VLAN-tagged IPv6/UDP");
	SK_CHECK_EQ(m.has_vlan, 1, "VLAN IPv6: has_vlan");
	SK_CHECK_EQ(m.vlan_tci, 0x2064, "VLAN IPv6: TCI");
	SK_CHECK_EQ(m.ip_version, 6, "VLAN IPv6: ip_version 6");
	SK_CHECK_EQ(m.l3_off, 18, "VLAN IPv6: IP header at 18");
	SK_CHECK_EQ(m.l4_off, 58, "VLAN IPv6: UDP header at 58");
	SK_CHECK_EQ(m.payload_off, 66, "VLAN IPv6: payload at 66");
	SK_CHECK_EQ(m.payload_len, 6, "VLAN IPv6: payload length 6");
	SK_CHECK_EQ(m.l3_end, 18 + 40 + 14, "VLAN IPv6: l3_end");
	SK_CHECK_EQ(m.sport, 5060, "VLAN IPv6: sport");
	SK_CHECK_EQ(m.dport, 5070, "VLAN IPv6: dport");
	SK_CHECK(memcmp(m.src, A6_ACCESS, 16) == 0, "VLAN IPv6: 16-byte source address");
	SK_CHECK(memcmp(m.dst, A6_CORE, 16) == 0, "VLAN IPv6: 16-byte destination address");

	fb_ipv6_udp(&F, 0, A6_CORE, A6_ACCESS, 5060, 5060, "SIP/2.0 200 OK");
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "untagged IPv6/UDP");
	SK_CHECK_EQ(m.l3_off, 14, "IPv6: IP header at 14");
	SK_CHECK_EQ(m.l4_off, 54, "IPv6: UDP header at 54");
	SK_CHECK_EQ(m.payload_len, 14, "IPv6: payload length");
	SK_CHECK(memcmp(m.src, A6_CORE, 16) == 0 && memcmp(m.dst, A6_ACCESS, 16) == 0,
		 "IPv6: addresses");

	/* VLAN-tagged ARP: tagged, but not IP. */
	fb_arp(&F, 1);
	m = parse();
	CHECK_CLS(m, SK_PKT_NON_IP, "VLAN-tagged ARP");
	SK_CHECK_EQ(m.has_vlan, 1, "VLAN ARP: has_vlan");
	SK_CHECK_EQ(m.vlan_tci, 0x0064, "VLAN ARP: TCI");
	SK_CHECK_EQ(m.ip_version, 0, "VLAN ARP: ip_version 0");
}

static void test_non_ip(void)
{
	struct sk_pkt_meta m;

	fb_arp(&F, 0);
	m = parse();
	CHECK_CLS(m, SK_PKT_NON_IP, "ARP");
	SK_CHECK_EQ(m.ip_version, 0, "ARP: ip_version 0");
	SK_CHECK_EQ(m.has_vlan, 0, "ARP: no VLAN");

	fb_lldp(&F);
	m = parse();
	CHECK_CLS(m, SK_PKT_NON_IP, "LLDP");
	SK_CHECK_EQ(m.ip_version, 0, "LLDP: ip_version 0");

	/* 802.3 length field instead of an EtherType (e.g. STP over LLC). */
	fb_reset(&F);
	fb_eth(&F, 0x0026);
	fb_u8(&F, 0x42);
	fb_u8(&F, 0x42);
	fb_u8(&F, 0x03);
	fb_fill(&F, 0, 60 - F.len);
	m = parse();
	CHECK_CLS(m, SK_PKT_NON_IP, "802.3/LLC (STP) frame");

	/* Three stacked tags: deeper than SK_PKT_MAX_VLAN, not looked into. */
	fb_reset(&F);
	fb_eth(&F, 0x88a8);
	fb_vlan(&F, 10, ET_VLAN);
	fb_vlan(&F, 20, ET_VLAN);
	fb_vlan(&F, 30, ET_IPV4);
	fb_ipv4(&F, 5, 28, 0, P_UDP, A4_ACCESS, A4_CORE);
	fb_udp(&F, 5060, 5060, 8);
	m = parse();
	CHECK_CLS(m, SK_PKT_NON_IP, "three VLAN tags: not looked into");
}

/* Ethernet + two tags (OUTER_TPID, VID 10 then 0x8100 VID 20) + IPv4/UDP + PAYLOAD. */
static void qinq_ipv4_udp(unsigned int outer_tpid, unsigned int inner_tpid, const char *payload)
{
	uint32_t plen = (uint32_t)strlen(payload);

	fb_reset(&F);
	fb_eth(&F, outer_tpid);
	fb_vlan(&F, 0xa00a, inner_tpid); /* PCP 5, VID 10 */
	fb_vlan(&F, 0x0014, ET_IPV4);	 /* VID 20 */
	fb_ipv4(&F, 5, 20 + 8 + plen, 0, P_UDP, A4_ACCESS, A4_CORE);
	fb_udp(&F, 40000, 5060, 8 + plen);
	fb_bytes(&F, payload, plen);
}

static void test_qinq(void)
{
	static const struct {
		unsigned int tpid;
		const char *name;
	} outer[] = {{0x88a8, "802.1ad + 802.1Q"},
		     {0x8100, "802.1Q twice"},
		     {0x9100, "0x9100 + 802.1Q"}};
	struct sk_pkt_meta m;
	unsigned int i;
	uint32_t len;

	for (i = 0; i < sizeof(outer) / sizeof(outer[0]); i++) {
		const char *n = outer[i].name;

		qinq_ipv4_udp(outer[i].tpid, ET_VLAN, "INVITE");
		m = parse();
		SK_CHECK(m.cls == SK_PKT_UDP, "%s IPv4/UDP: class udp (got %s)", n,
			 cls_name(m.cls));
		SK_CHECK(m.has_vlan == 2, "%s: two tags", n);
		SK_CHECK(m.vlan_tci == 0xa00a && m.vlan_tci_inner == 0x0014,
			 "%s: outer TCI 0xa00a, inner 0x0014 (got 0x%04x, 0x%04x)", n, m.vlan_tci,
			 m.vlan_tci_inner);
		SK_CHECK(m.l3_off == 22 && m.l4_off == 42 && m.payload_off == 50 &&
				 m.payload_len == 6 && m.l3_end == 22 + 34,
			 "%s: IP at 22, UDP at 42, payload at 50 (6 bytes)", n);
		SK_CHECK(m.sport == 40000 && m.dport == 5060, "%s: ports", n);
		SK_CHECK(memcmp(m.src, A4_ACCESS, 4) == 0 && memcmp(m.dst, A4_CORE, 4) == 0,
			 "%s: addresses", n);
		/* Cut inside either tag: no IP header to read, nothing read past the end. */
		for (len = 14; len < 22; len++) {
			m = parse_len(len);
			SK_CHECK(m.cls == SK_PKT_NON_IP && m.ip_version == 0,
				 "%s cut at %u bytes: non_ip", n, len);
		}
		m = parse_len(22 + 19);
		SK_CHECK(m.cls == SK_PKT_L3_MALFORMED && m.has_vlan == 2,
			 "%s + 19 bytes of IPv4: l3_malformed, two tags reported", n);
	}

	/* An S-tag alone (802.1ad, one tag) is a tag like any other. */
	fb_reset(&F);
	fb_eth(&F, 0x88a8);
	fb_vlan(&F, 0x0064, ET_IPV4);
	fb_ipv4(&F, 5, 28, 0, P_UDP, A4_ACCESS, A4_CORE);
	fb_udp(&F, 5060, 5060, 8);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "single 802.1ad tag IPv4/UDP");
	SK_CHECK(m.has_vlan == 1 && m.vlan_tci == 0x0064 && m.vlan_tci_inner == 0 && m.l3_off == 18,
		 "single 802.1ad tag: one tag, TCI 0x0064, IP at 18");

	/* QinQ IPv6 with the 802.1Q tag twice. */
	fb_reset(&F);
	fb_eth(&F, ET_VLAN);
	fb_vlan(&F, 0x0010, ET_VLAN);
	fb_vlan(&F, 0x0020, ET_IPV6);
	fb_ipv6(&F, 8 + 3, P_UDP, A6_ACCESS, A6_CORE);
	fb_udp(&F, 5060, 5060, 8 + 3);
	fb_bytes(&F, "BYE", 3);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "QinQ IPv6/UDP");
	SK_CHECK(m.has_vlan == 2 && m.vlan_tci == 0x0010 && m.vlan_tci_inner == 0x0020 &&
			 m.l3_off == 22 && m.l4_off == 62 && m.payload_len == 3 &&
			 m.ip_version == 6,
		 "QinQ IPv6: two tags, IP at 22, UDP at 62");

	/* A QinQ first fragment: a fragment, with its tags. */
	fb_reset(&F);
	fb_eth(&F, 0x88a8);
	fb_vlan(&F, 10, ET_VLAN);
	fb_vlan(&F, 20, ET_IPV4);
	fb_ipv4(&F, 5, 20 + 16, 0x2000, P_UDP, A4_ACCESS, A4_CORE);
	fb_udp(&F, 5060, 5060, 100);
	fb_fill(&F, 'x', 8);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "QinQ first fragment");
	SK_CHECK(m.has_vlan == 2 && m.l3_off == 22, "QinQ fragment: two tags, IP at 22");

	/* QinQ ARP: tagged twice, not IP. */
	fb_reset(&F);
	fb_eth(&F, 0x88a8);
	fb_vlan(&F, 10, ET_VLAN);
	fb_vlan(&F, 20, 0x0806);
	fb_fill(&F, 0, 28);
	m = parse();
	CHECK_CLS(m, SK_PKT_NON_IP, "QinQ ARP");
	SK_CHECK(m.has_vlan == 2 && m.ip_version == 0, "QinQ ARP: two tags, not IP");
}

static void test_truncated_l2(void)
{
	struct sk_pkt_meta m;
	uint32_t len;

	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "x");
	for (len = 0; len < 14; len++) {
		m = parse_len(len);
		SK_CHECK(m.cls == SK_PKT_NON_IP && m.ip_version == 0,
			 "truncated Ethernet header (%u bytes): non_ip, nothing read past the end",
			 len);
	}
	m = parse_len(14);
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "Ethernet header with IPv4 EtherType and no IP bytes");
	SK_CHECK_EQ(m.ip_version, 4, "IPv4 EtherType, no IP bytes: ip_version 4");

	fb_ipv4_udp(&F, 1, A4_ACCESS, A4_CORE, 5060, 5060, "x");
	for (len = 14; len < 18; len++) {
		m = parse_len(len);
		SK_CHECK(m.cls == SK_PKT_NON_IP && m.ip_version == 0,
			 "truncated 802.1Q tag (%u bytes): non_ip", len);
	}
	m = parse_len(18);
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "complete VLAN tag with IPv4 EtherType, no IP bytes");
	m = parse_len(18 + 19);
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "VLAN + 19 bytes of IPv4 header");
	SK_CHECK_EQ(m.has_vlan, 1, "VLAN + truncated IPv4: has_vlan still reported");
}

static void test_ipv4_malformed(void)
{
	struct sk_pkt_meta m;
	uint32_t len;

	/* Truncated IPv4 header: 1..19 bytes of it. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "hello");
	for (len = 15; len < 34; len++) {
		m = parse_len(len);
		SK_CHECK(m.cls == SK_PKT_L3_MALFORMED && m.ip_version == 4,
			 "truncated IPv4 header (%u of 20 bytes): l3_malformed", len - 14);
	}

	/* IHL below 5. */
	for (len = 0; len < 5; len++) {
		fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "hello");
		F.b[14] = (uint8_t)(0x40 | len);
		m = parse();
		CHECK_CLS(m, SK_PKT_L3_MALFORMED,
			  len == 0   ? "IHL 0"
			  : len == 4 ? "IHL 4"
				     : "IHL < 5");
	}

	/* IHL 15 (60 bytes) but only a 20-byte header and 8 bytes of UDP follow. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "");
	F.b[14] = 0x4f;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IHL 15 beyond the bytes present (total 28 < IHL 60)");

	/* IHL 15, total_length claims 68 bytes, frame has 42: total beyond the frame. */
	F.b[14] = 0x4f;
	fb_set16(&F, 16, 68);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IHL 15 with total_length past the frame");

	/* IHL 6: the UDP header would start 4 bytes later; UDP length no longer fits. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "");
	F.b[14] = 0x46;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IHL 6 on a 28-byte datagram: UDP header truncated");

	/* Version nibble 6 under the IPv4 EtherType. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "hello");
	F.b[14] = 0x65;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv4 EtherType with IP version 6");

	/* total_length one byte more than the frame holds. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "hello");
	fb_set16(&F, 16, fb_get16(&F, 16) + 1);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "total_length 1 byte beyond the frame");
	fb_set16(&F, 16, 0xffff);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "total_length 65535 on a short frame");

	/* total_length smaller than the header. */
	fb_set16(&F, 16, 19);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "total_length 19 < IHL 20");
	fb_set16(&F, 16, 0);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "total_length 0");

	/* total_length == IHL: no room for a UDP header. */
	fb_set16(&F, 16, 20);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "total_length 20: UDP header outside the datagram");

	/* total_length == IHL for TCP: no room for the TCP header. */
	fb_set16(&F, 16, 20);
	F.b[14 + 9] = P_TCP;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "TCP protocol with total_length 20: l3_malformed");
}

static void test_padding_and_udp_length(void)
{
	struct sk_pkt_meta m;

	/* A 2-byte payload: 44 bytes of frame, padded to the 60-byte minimum with 0xee. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "hi");
	fb_fill(&F, 0xee, 60 - F.len);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "Ethernet padding after a short datagram");
	SK_CHECK_EQ(m.l3_end, 44, "padding: l3_end bounded by IP total_length, not the frame");
	SK_CHECK_EQ(m.payload_len, 2, "padding: payload length excludes the padding");

	/* Same padding, but UDP claims to run into it: beyond the IP payload. */
	fb_set16(&F, 34 + 4, 8 + 2 + 10);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED,
		  "UDP length past the IP payload into Ethernet padding: l3_malformed");

	/* UDP length shorter than the IP payload: legal, the UDP length bounds the payload. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "0123456789");
	fb_set16(&F, 34 + 4, 8 + 4);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "UDP length shorter than the IP payload");
	SK_CHECK_EQ(m.payload_len, 4, "short UDP length: payload length from the UDP header");
	SK_CHECK_EQ(m.l3_end, 14 + 20 + 18, "short UDP length: l3_end still the IP end");

	/* UDP length < 8. */
	fb_set16(&F, 34 + 4, 7);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "UDP length 7 (< header)");
	fb_set16(&F, 34 + 4, 0);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "UDP length 0");

	/* UDP length > IP payload. */
	fb_set16(&F, 34 + 4, 8 + 11);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "UDP length 1 byte more than the IP payload");

	/* IP payload too short for a UDP header. */
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 27, 0, P_UDP, A4_ACCESS, A4_CORE);
	fb_u16(&F, 5060);
	fb_u16(&F, 5060);
	fb_u16(&F, 8);
	fb_u8(&F, 0);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "7 bytes of UDP header");

	/* IPv6: UDP length past the IPv6 payload. */
	fb_ipv6_udp(&F, 0, A6_ACCESS, A6_CORE, 5060, 5060, "abc");
	fb_set16(&F, 54 + 4, 8 + 4);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6: UDP length past the payload");
	fb_set16(&F, 54 + 4, 6);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6: UDP length 6");

	/* IPv6 padded frame: payload_len bounds the datagram. */
	fb_ipv6_udp(&F, 0, A6_ACCESS, A6_CORE, 5060, 5060, "abc");
	fb_fill(&F, 0xee, 20);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv6 with trailing bytes after the datagram");
	SK_CHECK_EQ(m.l3_end, 14 + 40 + 11, "IPv6 trailing bytes: l3_end from payload_len");
	SK_CHECK_EQ(m.payload_len, 3, "IPv6 trailing bytes: payload length 3");
}

static void test_ipv4_fragments(void)
{
	struct sk_pkt_meta m;

	/* First fragment: MF, offset 0; the UDP header is there but must not be trusted. */
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "REGISTER sip:x SIP/2.0\r\n");
	fb_set16(&F, 14 + 6, 0x2000);
	fb_set16(&F, 34 + 4, 3000); /* UDP length of the whole datagram */
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv4 first fragment (MF, offset 0)");
	SK_CHECK_EQ(m.ip_version, 4, "IPv4 first fragment: ip_version");
	SK_CHECK_EQ(m.l4_proto, P_UDP, "IPv4 first fragment: l4_proto UDP");
	SK_CHECK(memcmp(m.src, A4_ACCESS, 4) == 0 && memcmp(m.dst, A4_CORE, 4) == 0,
		 "IPv4 first fragment: addresses extracted");

	/* Middle fragment: MF + offset. */
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 20 + 16, 0x2000 | 185, P_UDP, A4_CORE, A4_ACCESS);
	fb_fill(&F, 'a', 16);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv4 middle fragment (MF, offset 185)");
	SK_CHECK(memcmp(m.src, A4_CORE, 4) == 0, "IPv4 middle fragment: source");

	/* Last fragment: offset only; 3 bytes of data (no room for a UDP header). */
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 23, 370, P_UDP, A4_CORE, A4_ACCESS);
	fb_fill(&F, 'z', 3);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv4 last fragment (offset 370, no MF, 3 bytes)");
	SK_CHECK_EQ(m.l3_end, 14 + 23, "IPv4 last fragment: l3_end");

	/* DF + offset (nonsense, but a fragment by the fields). */
	fb_set16(&F, 14 + 6, 0x4000 | 1);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv4 DF with a nonzero offset: fragment");

	/* A fragment of TCP is a fragment too. */
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 40, 0x2000, P_TCP, A4_CORE, A4_ACCESS);
	fb_tcp(&F, 5060, 5060);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv4 fragment of TCP");
	SK_CHECK_EQ(m.l4_proto, P_TCP, "IPv4 fragment of TCP: l4_proto TCP");

	/* Fragment with an inconsistent total_length is malformed first. */
	fb_set16(&F, 14 + 2, 400);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv4 fragment whose total_length exceeds the frame");
}

/* Start an IPv6 frame; the caller appends extension headers and patches payload_len. */
static void v6_begin(unsigned int next)
{
	fb_reset(&F);
	fb_eth(&F, ET_IPV6);
	fb_ipv6(&F, 0, next, A6_ACCESS, A6_CORE);
}

static void v6_finish(void)
{
	fb_set16(&F, 14 + 4, F.len - 54);
}

static void v6_udp_tail(unsigned int plen)
{
	fb_udp(&F, 5060, 5080, 8 + plen);
	fb_fill(&F, 'p', plen);
	v6_finish();
}

static void test_ipv6_ext(void)
{
	struct sk_pkt_meta m;
	unsigned int n, i;

	/* Hop-by-hop (8) + routing (24) + destination options (16) + UDP. */
	v6_begin(P_HOPOPTS);
	fb_ext_opts(&F, P_ROUTING, 0);
	fb_ext_routing(&F, P_DSTOPTS, 2);
	fb_ext_opts(&F, P_UDP, 1);
	v6_udp_tail(5);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv6 hop-by-hop + routing + destination options + UDP");
	SK_CHECK_EQ(m.l4_off, 54 + 8 + 24 + 16, "IPv6 ext chain: UDP header after 48 bytes");
	SK_CHECK_EQ(m.payload_off, 54 + 48 + 8, "IPv6 ext chain: payload offset");
	SK_CHECK_EQ(m.payload_len, 5, "IPv6 ext chain: payload length");
	SK_CHECK_EQ(m.l4_proto, P_UDP, "IPv6 ext chain: final header UDP");
	SK_CHECK_EQ(m.sport, 5060, "IPv6 ext chain: sport");
	SK_CHECK_EQ(m.dport, 5080, "IPv6 ext chain: dport");

	/* AH: payload length 4 = (4 + 2) * 4 = 24 bytes. */
	v6_begin(P_AH);
	fb_ext_ah(&F, P_UDP, 4);
	v6_udp_tail(3);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv6 AH (24 bytes, 4-byte units) + UDP");
	SK_CHECK_EQ(m.l4_off, 54 + 24, "IPv6 AH: UDP header at 54 + 24");
	SK_CHECK_EQ(m.payload_len, 3, "IPv6 AH: payload length");

	/* AH then destination options then UDP. */
	v6_begin(P_AH);
	fb_ext_ah(&F, P_DSTOPTS, 1); /* 12 bytes */
	fb_ext_opts(&F, P_UDP, 0);
	v6_udp_tail(0);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv6 AH (12 bytes) + destination options + UDP");
	SK_CHECK_EQ(m.l4_off, 54 + 12 + 8, "IPv6 AH + dstopts: UDP offset");

	/* AH followed by ESP: ip_other, l4_proto ESP. */
	v6_begin(P_AH);
	fb_ext_ah(&F, P_ESP, 4);
	fb_fill(&F, 0x55, 32);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_OTHER, "IPv6 AH + ESP");
	SK_CHECK_EQ(m.l4_proto, P_ESP, "IPv6 AH + ESP: l4_proto ESP");

	/* Fragment header: first fragment (offset 0, M). */
	v6_begin(P_FRAGMENT);
	fb_ext_frag(&F, P_UDP, 0, 1);
	v6_udp_tail(16);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv6 fragment header, offset 0, M set");
	SK_CHECK_EQ(m.l4_proto, P_UDP, "IPv6 first fragment: l4_proto from the fragment header");
	SK_CHECK_EQ(m.ip_version, 6, "IPv6 first fragment: ip_version 6");
	SK_CHECK(memcmp(m.src, A6_ACCESS, 16) == 0, "IPv6 first fragment: source address");

	/* Last fragment: offset set, M clear. */
	v6_begin(P_FRAGMENT);
	fb_ext_frag(&F, P_UDP, 181, 0);
	fb_fill(&F, 'q', 20);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv6 fragment header, offset 181, M clear");

	/* Fragment header after hop-by-hop. */
	v6_begin(P_HOPOPTS);
	fb_ext_opts(&F, P_FRAGMENT, 0);
	fb_ext_frag(&F, P_UDP, 100, 1);
	fb_fill(&F, 'q', 24);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_FRAGMENT, "IPv6 hop-by-hop + fragment header (middle fragment)");

	/* Atomic fragment (RFC 6946): offset 0, M clear: a whole datagram. */
	v6_begin(P_FRAGMENT);
	fb_ext_frag(&F, P_UDP, 0, 0);
	v6_udp_tail(7);
	m = parse();
	CHECK_CLS(m, SK_PKT_UDP, "IPv6 atomic fragment (offset 0, M clear): whole UDP datagram");
	SK_CHECK_EQ(m.l4_off, 54 + 8, "IPv6 atomic fragment: UDP after the 8-byte header");
	SK_CHECK_EQ(m.payload_len, 7, "IPv6 atomic fragment: payload length");

	/* Truncated fragment header (7 bytes of payload). */
	v6_begin(P_FRAGMENT);
	fb_fill(&F, 0, 7);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 fragment header truncated to 7 bytes");

	/* Long chains: up to SK_PKT_MAX_IPV6_EXT headers are walked. */
	for (n = SK_PKT_MAX_IPV6_EXT - 2; n <= SK_PKT_MAX_IPV6_EXT - 1; n++) {
		v6_begin(P_DSTOPTS);
		for (i = 0; i < n; i++)
			fb_ext_opts(&F, i + 1 < n ? P_DSTOPTS : P_UDP, 0);
		v6_udp_tail(1);
		m = parse();
		SK_CHECK(m.cls == SK_PKT_UDP && m.l4_off == 54 + 8 * n,
			 "IPv6 chain of %u extension headers: UDP at %u (got %s at %u)", n,
			 54 + 8 * n, cls_name(m.cls), m.l4_off);
	}
	for (n = SK_PKT_MAX_IPV6_EXT + 1; n <= SK_PKT_MAX_IPV6_EXT + 40; n += 39) {
		v6_begin(P_DSTOPTS);
		for (i = 0; i < n; i++)
			fb_ext_opts(&F, i + 1 < n ? P_DSTOPTS : P_UDP, 0);
		v6_udp_tail(1);
		m = parse();
		SK_CHECK(m.cls == SK_PKT_L3_MALFORMED,
			 "IPv6 chain of %u extension headers (limit %d): l3_malformed (got %s)", n,
			 SK_PKT_MAX_IPV6_EXT, cls_name(m.cls));
	}

	/* Truncated extension header: payload_len covers 1 byte of hop-by-hop. */
	v6_begin(P_HOPOPTS);
	fb_u8(&F, P_UDP);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 hop-by-hop truncated to 1 byte");

	/* Same but the frame is what is short: payload_len 8, 1 byte present. */
	fb_set16(&F, 14 + 4, 8);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 payload_len 8 with 1 byte in the frame");

	/* AH truncated to 1 byte. */
	v6_begin(P_AH);
	fb_u8(&F, P_UDP);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 AH truncated to 1 byte");

	/* Extension length beyond the payload: hop-by-hop says 16 bytes, 8 present. */
	v6_begin(P_HOPOPTS);
	fb_ext_opts(&F, P_UDP, 0);
	v6_finish();
	F.b[54 + 1] = 1;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 hop-by-hop length 16 with 8 bytes of payload");

	/* Routing header length 255 (2048 bytes) with UDP after a short header. */
	v6_begin(P_ROUTING);
	fb_ext_routing(&F, P_UDP, 0);
	v6_udp_tail(4);
	F.b[54 + 1] = 255;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 routing header claiming 2048 bytes");

	/* AH length beyond the payload. */
	v6_begin(P_AH);
	fb_ext_ah(&F, P_UDP, 1);
	v6_udp_tail(0);
	F.b[54 + 1] = 200;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 AH length beyond the payload");

	/* Extension header in the frame, but outside payload_len (in the padding). */
	v6_begin(P_DSTOPTS);
	fb_ext_opts(&F, P_UDP, 0);
	v6_udp_tail(0);
	fb_set16(&F, 14 + 4, 4);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED,
		  "IPv6 destination options outside payload_len (bytes only in padding)");

	/* The fixed header alone. */
	v6_begin(P_NONE);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_OTHER, "IPv6 no next header (59), empty payload");
	SK_CHECK_EQ(m.l4_proto, P_NONE, "IPv6 no next header: l4_proto 59");

	/* Truncated fixed header. */
	fb_ipv6_udp(&F, 0, A6_ACCESS, A6_CORE, 5060, 5060, "x");
	for (n = 1; n < 40; n += 13) {
		m = parse_len(14 + n);
		SK_CHECK(m.cls == SK_PKT_L3_MALFORMED && m.ip_version == 6,
			 "IPv6 fixed header truncated to %u bytes: l3_malformed", n);
	}
	/* payload_len larger than the frame. */
	fb_set16(&F, 14 + 4, 10);
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 payload_len 1 byte past the frame");
	/* Version 4 nibble under the IPv6 EtherType. */
	fb_ipv6_udp(&F, 0, A6_ACCESS, A6_CORE, 5060, 5060, "x");
	F.b[14] = 0x40;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "IPv6 EtherType with IP version 4");
}

/* TCP: ports, sequence number, flags and the payload after the header's own length. */
static void test_tcp(void)
{
	struct sk_pkt_meta m;

	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 40 + 5, 0x4000, P_TCP, A4_ACCESS, A4_CORE);
	fb_tcp(&F, 40001, 5060);
	fb_bytes(&F, "hello", 5);
	m = parse();
	CHECK_CLS(m, SK_PKT_TCP, "IPv4 TCP to port 5060");
	SK_CHECK_EQ(m.l4_proto, P_TCP, "IPv4 TCP: l4_proto 6");
	SK_CHECK_EQ(m.ip_version, 4, "IPv4 TCP: ip_version 4");
	SK_CHECK(memcmp(m.src, A4_ACCESS, 4) == 0 && memcmp(m.dst, A4_CORE, 4) == 0,
		 "IPv4 TCP: addresses extracted");
	SK_CHECK_EQ(m.sport, 40001, "IPv4 TCP: source port");
	SK_CHECK_EQ(m.dport, 5060, "IPv4 TCP: destination port");
	SK_CHECK_EQ(sk_pkt_tcp_seq(F.b, &m), 1000, "IPv4 TCP: sequence number");
	SK_CHECK_EQ(sk_pkt_tcp_flags(F.b, &m), 0x02, "IPv4 TCP: flags (SYN)");
	SK_CHECK_EQ(m.l4_off, 34, "IPv4 TCP: header at 34");
	SK_CHECK_EQ(m.payload_off, 54, "IPv4 TCP: payload after 20 header bytes");
	SK_CHECK_EQ(m.payload_len, 5, "IPv4 TCP: payload to the end of the datagram");
	SK_CHECK_STR(sk_pkt_class_name(SK_PKT_TCP), "tcp", "class name tcp");

	/* A data offset under 5 words, or past the datagram, is a lie. */
	F.b[34 + 12] = 0x40;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "TCP data offset 4 words: l3_malformed");
	F.b[34 + 12] = 0x70;
	m = parse();
	CHECK_CLS(m, SK_PKT_L3_MALFORMED, "TCP data offset past the datagram: l3_malformed");
	F.b[34 + 12] = 0x60; /* 24 bytes: 4 option bytes, 1 payload byte */
	m = parse();
	CHECK_CLS(m, SK_PKT_TCP, "TCP with 4 option bytes");
	SK_CHECK_EQ(m.payload_off, 58, "TCP options: payload after them");
	SK_CHECK_EQ(m.payload_len, 1, "TCP options: what is left is payload");
}

static void test_ip_other(void)
{
	struct sk_pkt_meta m;

	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 28, 0, P_ICMP, A4_CORE, A4_ACCESS);
	fb_u8(&F, 8); /* echo request */
	fb_u8(&F, 0);
	fb_u16(&F, 0xf7fe);
	fb_u32(&F, 1);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_OTHER, "IPv4 ICMP echo");
	SK_CHECK_EQ(m.l4_proto, P_ICMP, "IPv4 ICMP: l4_proto 1");

	fb_reset(&F);
	fb_eth(&F, ET_VLAN);
	fb_vlan(&F, 5, ET_IPV6);
	fb_ipv6(&F, 8, P_ICMPV6, A6_ACCESS, A6_CORE);
	fb_u8(&F, 128);
	fb_u8(&F, 0);
	fb_u16(&F, 0);
	fb_u32(&F, 1);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_OTHER, "VLAN IPv6 ICMPv6 echo");
	SK_CHECK_EQ(m.l4_proto, P_ICMPV6, "ICMPv6: l4_proto 58");

	v6_begin(P_HOPOPTS);
	fb_ext_opts(&F, P_TCP, 0);
	fb_tcp(&F, 5060, 5060);
	v6_finish();
	m = parse();
	CHECK_CLS(m, SK_PKT_TCP, "IPv6 hop-by-hop + TCP");
	SK_CHECK_EQ(m.l4_proto, P_TCP, "IPv6 hop-by-hop + TCP: l4_proto 6");
	SK_CHECK_EQ(m.payload_len, 0, "IPv6 hop-by-hop + TCP: no payload");

	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 20 + 28, 0, 4 /* IP-in-IP */, A4_CORE, A4_ACCESS);
	fb_ipv4(&F, 5, 28, 0, P_UDP, A4_CORE, A4_ACCESS);
	fb_udp(&F, 5060, 5060, 8);
	m = parse();
	CHECK_CLS(m, SK_PKT_IP_OTHER, "IPv4-in-IPv4 tunnel: outer protocol 4");
}

/* Every prefix of a valid frame parses without reading past its end; short ones are not UDP. */
static void test_all_prefixes(void)
{
	struct sk_pkt_meta m;
	uint32_t len, full, bad = 0;

	v6_begin(P_HOPOPTS);
	fb_ext_opts(&F, P_AH, 0);
	fb_ext_ah(&F, P_FRAGMENT, 2);
	fb_ext_frag(&F, P_UDP, 0, 0);
	v6_udp_tail(9);
	full = F.len;
	for (len = 0; len < full; len++) {
		m = parse_len(len);
		if (m.cls == SK_PKT_UDP || (len >= 14 && m.cls != SK_PKT_L3_MALFORMED))
			bad++;
	}
	m = parse_len(full);
	SK_CHECK(m.cls == SK_PKT_UDP && bad == 0,
		 "IPv6 hop-by-hop+AH+atomic fragment+UDP: each of %u shorter prefixes is "
		 "malformed or non_ip, the full frame is UDP",
		 full);

	bad = 0;
	fb_ipv4_udp(&F, 1, A4_ACCESS, A4_CORE, 5060, 5060, "INVITE sip:a@b SIP/2.0\r\n");
	full = F.len;
	for (len = 0; len < full; len++) {
		m = parse_len(len);
		if (m.cls == SK_PKT_UDP || (len >= 18 && m.cls != SK_PKT_L3_MALFORMED))
			bad++;
	}
	SK_CHECK(bad == 0, "VLAN IPv4/UDP: each of %u shorter prefixes is malformed or non_ip",
		 full);
}

/* Random bytes under IP EtherTypes: no crash, no over-read (ASan), a valid class. */
static void test_random(void)
{
	uint32_t seed = 12345, iter, bad = 0;
	struct sk_pkt_meta m;

	for (iter = 0; iter < 20000; iter++) {
		uint32_t len, i;

		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % 200;
		fb_reset(&F);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			F.b[i] = (uint8_t)(seed >> 16);
		}
		if (len >= 14) {
			static const unsigned int types[] = {ET_IPV4, ET_IPV6, ET_VLAN};

			fb_set16(&F, 12, types[iter % 3]);
			if (len >= 18 && iter % 3 == 2)
				fb_set16(&F, 16, (iter / 3) % 2 ? ET_IPV4 : ET_IPV6);
			if (len > 18)
				F.b[iter % 3 == 2 ? 18 : 14] =
					(uint8_t)((iter / 3) % 2 ? 0x45 : 0x60) | (F.b[14] & 0x0f);
			if (iter % 5 == 0 && len >= 20)
				fb_set16(&F, (iter % 3 == 2 ? 18 : 14) + 2, len - 18);
		}
		m = parse_len(len);
		if (m.cls > SK_PKT_UDP)
			bad++;
		else if (m.cls == SK_PKT_UDP &&
			 (m.payload_off + m.payload_len > len || m.l3_end > len))
			bad++;
	}
	SK_CHECK(bad == 0, "20000 random frames: valid class, offsets within the frame");
}

int main(void)
{
	test_class_names();
	test_ipv4_udp();
	test_vlan();
	test_qinq();
	test_non_ip();
	test_truncated_l2();
	test_ipv4_malformed();
	test_padding_and_udp_length();
	test_ipv4_fragments();
	test_ipv6_ext();
	test_tcp();
	test_ip_other();
	test_all_prefixes();
	test_random();
	SK_CHECK(n_parsed > 20000, "inline fast path and full parse agreed on all %u frames above",
		 n_parsed);
	return sk_test_done();
}
