/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HEPv3 and HEPv2 decoding (sk_hep.h). Every length is checked against what
 * is left before a byte is read; a frame either decodes whole or is refused
 * with one reason.
 */
#include <string.h>

#include "sk_hep.h"

#define HEP2_AF_INET 2
#define HEP2_AF_INET6 10
#define HEP3_CHUNK_HDR 6

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

long sk_hep_frame_len(const uint8_t *buf, size_t len)
{
	uint16_t total;

	if (len < SK_HEP3_HDR_LEN)
		return memcmp(buf, "HEP3", len < 4 ? len : 4) == 0 ? 0 : -1;
	if (memcmp(buf, "HEP3", 4) != 0)
		return -1;
	total = rd16(buf + 4);
	return total < SK_HEP3_HDR_LEN ? -1 : (long)total;
}

/* The size a fixed-size chunk must have (0: any size). */
static unsigned int chunk_size(uint16_t type)
{
	switch (type) {
	case SK_HEP_CH_FAMILY:
	case SK_HEP_CH_PROTO:
	case SK_HEP_CH_PROTO_TYPE:
		return 1;
	case SK_HEP_CH_SPORT:
	case SK_HEP_CH_DPORT:
		return 2;
	case SK_HEP_CH_SRC4:
	case SK_HEP_CH_DST4:
	case SK_HEP_CH_TS_SEC:
	case SK_HEP_CH_TS_USEC:
	case SK_HEP_CH_CAPTURE_ID:
		return 4;
	case SK_HEP_CH_SRC6:
	case SK_HEP_CH_DST6:
		return 16;
	default:
		return 0;
	}
}

static void chunk_take(struct sk_hep_msg *m, uint16_t type, const uint8_t *d, uint16_t n)
{
	switch (type) {
	case SK_HEP_CH_FAMILY:
		m->family = d[0] == HEP2_AF_INET ? 4 : d[0] == HEP2_AF_INET6 ? 6 : 0;
		break;
	case SK_HEP_CH_PROTO:
		m->ip_proto = d[0];
		break;
	case SK_HEP_CH_SRC4:
	case SK_HEP_CH_SRC6:
		memcpy(m->src, d, n);
		break;
	case SK_HEP_CH_DST4:
	case SK_HEP_CH_DST6:
		memcpy(m->dst, d, n);
		break;
	case SK_HEP_CH_SPORT:
		m->sport = rd16(d);
		break;
	case SK_HEP_CH_DPORT:
		m->dport = rd16(d);
		break;
	case SK_HEP_CH_TS_SEC:
		m->ts_sec = rd32(d);
		break;
	case SK_HEP_CH_TS_USEC:
		m->ts_usec = rd32(d);
		break;
	case SK_HEP_CH_PROTO_TYPE:
		m->proto_type = d[0];
		break;
	case SK_HEP_CH_CAPTURE_ID:
		m->capture_id = rd32(d);
		break;
	case SK_HEP_CH_AUTH_KEY:
		m->auth = d;
		m->auth_len = n;
		break;
	case SK_HEP_CH_PAYLOAD:
		m->payload = d;
		m->payload_len = n;
		break;
	default:
		break;
	}
}

static enum sk_hep_err check_payload(const struct sk_hep_msg *m)
{
	if (m->payload == NULL || m->payload_len == 0)
		return SK_HEP_ERR_NO_PAYLOAD;
	if (m->payload_len > SK_HEP_PAYLOAD_MAX)
		return SK_HEP_ERR_PAYLOAD_BIG;
	return SK_HEP_OK;
}

static enum sk_hep_err parse_v3(const uint8_t *buf, size_t len, struct sk_hep_msg *m)
{
	uint32_t seen = 0; /* one bit per known chunk type, 0x0001 to 0x0010 */
	size_t off = SK_HEP3_HDR_LEN, total = rd16(buf + 4);
	bool gz = false;

	if (total < SK_HEP3_HDR_LEN)
		return SK_HEP_ERR_BAD_LENGTH;
	if (total > len)
		return SK_HEP_ERR_TRUNCATED;
	m->version = 3;
	while (off < total) {
		uint16_t vendor, type, clen, dlen;
		const uint8_t *d;

		if (total - off < HEP3_CHUNK_HDR)
			return SK_HEP_ERR_BAD_LENGTH;
		vendor = rd16(buf + off);
		type = rd16(buf + off + 2);
		clen = rd16(buf + off + 4);
		if (clen < HEP3_CHUNK_HDR || clen > total - off)
			return SK_HEP_ERR_BAD_LENGTH;
		d = buf + off + HEP3_CHUNK_HDR;
		dlen = (uint16_t)(clen - HEP3_CHUNK_HDR);
		off += clen;
		if (vendor != 0 || type == 0 || type > SK_HEP_CH_PAYLOAD_GZ || type == 0x000d) {
			m->n_unknown++;
			continue;
		}
		if (seen & (1u << type))
			return SK_HEP_ERR_DUPLICATE;
		seen |= 1u << type;
		if (chunk_size(type) != 0 && dlen != chunk_size(type))
			return SK_HEP_ERR_BAD_LENGTH;
		if (type == SK_HEP_CH_PAYLOAD_GZ) {
			gz = true;
			continue;
		}
		chunk_take(m, type, d, dlen);
	}
	if (m->family == 0 || !(seen & (1u << SK_HEP_CH_SPORT)) ||
	    !(seen & (1u << SK_HEP_CH_DPORT)))
		return SK_HEP_ERR_MISSING;
	if (m->family == 4 &&
	    (!(seen & (1u << SK_HEP_CH_SRC4)) || !(seen & (1u << SK_HEP_CH_DST4))))
		return SK_HEP_ERR_MISSING;
	if (m->family == 6 &&
	    (!(seen & (1u << SK_HEP_CH_SRC6)) || !(seen & (1u << SK_HEP_CH_DST6))))
		return SK_HEP_ERR_MISSING;
	if (m->proto_type != SK_HEP_PROTO_SIP)
		return SK_HEP_ERR_NOT_SIP;
	if (gz && m->payload == NULL)
		return SK_HEP_ERR_COMPRESSED;
	return check_payload(m);
}

/*
 * HEPv2: version, header length, family, protocol, source and destination
 * port, source and destination address, then seconds, microseconds, capture
 * id (16 bits) and 2 bytes of padding; the payload is the rest. No protocol
 * type: the payload is taken as SIP, as HEPv2 senders only send SIP.
 */
static enum sk_hep_err parse_v2(const uint8_t *buf, size_t len, struct sk_hep_msg *m)
{
	size_t alen, hlen;

	if (len < 4)
		return SK_HEP_ERR_TRUNCATED;
	if (buf[2] == HEP2_AF_INET)
		alen = 4;
	else if (buf[2] == HEP2_AF_INET6)
		alen = 16;
	else
		return SK_HEP_ERR_MISSING;
	hlen = 8 + 2 * alen;
	if (buf[1] != hlen)
		return SK_HEP_ERR_BAD_LENGTH;
	if (len < hlen + 12)
		return SK_HEP_ERR_TRUNCATED;
	m->version = 2;
	m->family = alen == 4 ? 4 : 6;
	m->ip_proto = buf[3];
	m->sport = rd16(buf + 4);
	m->dport = rd16(buf + 6);
	memcpy(m->src, buf + 8, alen);
	memcpy(m->dst, buf + 8 + alen, alen);
	/* The time header is in the sender's byte order: little-endian in practice. */
	m->ts_sec = (uint32_t)buf[hlen] | (uint32_t)buf[hlen + 1] << 8 |
		    (uint32_t)buf[hlen + 2] << 16 | (uint32_t)buf[hlen + 3] << 24;
	m->ts_usec = (uint32_t)buf[hlen + 4] | (uint32_t)buf[hlen + 5] << 8 |
		     (uint32_t)buf[hlen + 6] << 16 | (uint32_t)buf[hlen + 7] << 24;
	m->capture_id = (uint32_t)buf[hlen + 8] | (uint32_t)buf[hlen + 9] << 8;
	m->proto_type = SK_HEP_PROTO_SIP;
	m->payload = buf + hlen + 12;
	m->payload_len = (uint32_t)(len - hlen - 12);
	return check_payload(m);
}

enum sk_hep_err sk_hep_parse(const uint8_t *buf, size_t len, struct sk_hep_msg *out)
{
	memset(out, 0, sizeof(*out));
	if (len >= SK_HEP3_HDR_LEN && memcmp(buf, "HEP3", 4) == 0)
		return parse_v3(buf, len, out);
	if (len >= 1 && buf[0] == 2)
		return parse_v2(buf, len, out);
	return len < SK_HEP3_HDR_LEN ? SK_HEP_ERR_TRUNCATED : SK_HEP_ERR_BAD_MAGIC;
}

bool sk_hep_auth_ok(const struct sk_hep_msg *m, const char *key)
{
	size_t n = strlen(key), i;
	unsigned int diff;

	if (n == 0)
		return true;
	/* Senders may count a trailing NUL in the chunk. */
	if (m->auth == NULL || (m->auth_len != n && !(m->auth_len == n + 1 && m->auth[n] == 0)))
		return false;
	diff = 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned int)(m->auth[i] ^ (uint8_t)key[i]);
	return diff == 0;
}

const char *sk_hep_err_name(enum sk_hep_err e)
{
	static const char *const names[SK_HEP_ERR_COUNT] = {
		[SK_HEP_OK] = "ok",
		[SK_HEP_ERR_TRUNCATED] = "truncated",
		[SK_HEP_ERR_BAD_MAGIC] = "not HEP",
		[SK_HEP_ERR_BAD_LENGTH] = "length does not fit",
		[SK_HEP_ERR_DUPLICATE] = "chunk given twice",
		[SK_HEP_ERR_MISSING] = "address chunks missing",
		[SK_HEP_ERR_COMPRESSED] = "compressed payload",
		[SK_HEP_ERR_NO_PAYLOAD] = "no payload",
		[SK_HEP_ERR_PAYLOAD_BIG] = "payload too big",
		[SK_HEP_ERR_NOT_SIP] = "not SIP",
	};

	return (unsigned int)e < SK_HEP_ERR_COUNT ? names[e] : "?";
}
