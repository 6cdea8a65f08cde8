/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HEP (Homer Encapsulation Protocol) decoding, bytes only: no sockets, no
 * DPDK, so the unit tests and the fuzzer link it alone. HEPv3 ("HEP3", a
 * 16-bit total length, then chunks of vendor, type, length) and HEPv2 (a
 * fixed header, then the payload: the rest of the datagram).
 */
#ifndef SK_HEP_H
#define SK_HEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload taken (a SIP message); a longer one is refused and counted. */
#define SK_HEP_PAYLOAD_MAX 16384
/* The HEPv3 header: "HEP3" and the frame's total length (it included). */
#define SK_HEP3_HDR_LEN 6

/* HEPv3 chunk types of vendor 0 (the generic ones). */
enum sk_hep_chunk {
	SK_HEP_CH_FAMILY = 0x0001,
	SK_HEP_CH_PROTO = 0x0002,
	SK_HEP_CH_SRC4 = 0x0003,
	SK_HEP_CH_DST4 = 0x0004,
	SK_HEP_CH_SRC6 = 0x0005,
	SK_HEP_CH_DST6 = 0x0006,
	SK_HEP_CH_SPORT = 0x0007,
	SK_HEP_CH_DPORT = 0x0008,
	SK_HEP_CH_TS_SEC = 0x0009,
	SK_HEP_CH_TS_USEC = 0x000a,
	SK_HEP_CH_PROTO_TYPE = 0x000b,
	SK_HEP_CH_CAPTURE_ID = 0x000c,
	SK_HEP_CH_AUTH_KEY = 0x000e,
	SK_HEP_CH_PAYLOAD = 0x000f,
	SK_HEP_CH_PAYLOAD_GZ = 0x0010,
};

#define SK_HEP_PROTO_SIP 1

/* Why a frame was refused; each has its own counter (hep_* in sk_counters.h). */
enum sk_hep_err {
	SK_HEP_OK = 0,
	SK_HEP_ERR_TRUNCATED,	/* shorter than its header or its total length */
	SK_HEP_ERR_BAD_MAGIC,	/* neither HEP3 nor HEPv2 */
	SK_HEP_ERR_BAD_LENGTH,	/* a length that lies: total or chunk */
	SK_HEP_ERR_DUPLICATE,	/* a chunk given twice */
	SK_HEP_ERR_MISSING,	/* no family, addresses or ports that agree */
	SK_HEP_ERR_COMPRESSED,	/* compressed payload (0x0010): not taken */
	SK_HEP_ERR_NO_PAYLOAD,	/* no payload, or an empty one */
	SK_HEP_ERR_PAYLOAD_BIG, /* payload above SK_HEP_PAYLOAD_MAX */
	SK_HEP_ERR_NOT_SIP,	/* protocol type not 1 (SIP), or none */
	SK_HEP_ERR_COUNT
};

struct sk_hep_msg {
	uint8_t version; /* 2 or 3 */
	uint8_t family;	 /* 4 or 6 */
	uint8_t ip_proto;
	uint8_t proto_type;
	uint8_t src[16]; /* IPv4 in the first 4 bytes, network order */
	uint8_t dst[16];
	uint16_t sport; /* host order */
	uint16_t dport;
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t capture_id;
	uint16_t n_unknown; /* chunks skipped: unknown type or another vendor */
	uint16_t auth_len;  /* 0: no auth key chunk */
	const uint8_t *auth;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* Decode one HEPv3 frame or HEPv2 datagram of LEN bytes. Never reads past LEN. */
enum sk_hep_err sk_hep_parse(const uint8_t *buf, size_t len, struct sk_hep_msg *out);

/*
 * Framing a HEPv3 byte stream (TCP): the length of the frame at BUF once its
 * header is in (0: fewer than SK_HEP3_HDR_LEN bytes yet), or -1 when the bytes
 * are no HEPv3 header or announce a frame shorter than one.
 */
long sk_hep_frame_len(const uint8_t *buf, size_t len);

/* Does the frame carry KEY (NUL-terminated) as its auth key? Constant time in the key's length. */
bool sk_hep_auth_ok(const struct sk_hep_msg *m, const char *key);

const char *sk_hep_err_name(enum sk_hep_err e);

#endif /* SK_HEP_H */
