/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a worker tells the control thread about a SIP message it forwarded:
 * the few fields registration and dialog tracking need, copied out of the
 * packet (the packet leaves; the event stays until the control thread has
 * applied it). Events come from a mempool and travel on one multi-producer
 * ring, so the control thread applies them in the order workers saw them.
 * A full ring or an empty pool costs the event, not the frame: the frame is
 * forwarded and sip_events_dropped counts it.
 */
#ifndef SK_EVENTS_H
#define SK_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sk_common.h"

#define SK_EV_CALL_ID_MAX 128
#define SK_EV_TAG_MAX 64
#define SK_EV_AOR_MAX 128
#define SK_EV_INSTANCE_MAX 96
#define SK_EV_CONTACT_MAX 128
#define SK_EV_MAX_MEDIA 4
/* Contacts of one REGISTER carried to the control thread (the parser keeps 8). */
#define SK_EV_MAX_CONTACTS 8

/*
 * One Contact of a REGISTER, judged on its own: its expiry (its expires
 * parameter, else the Expires header; has_expires 0: neither, the default
 * applies), a hash of its URI as written (what names the binding), and its
 * address when the URI's host is an IP literal (port 0 otherwise).
 */
struct sk_ev_contact {
	uint64_t uri_hash;
	uint32_t expires;
	uint8_t has_expires;
	uint8_t family; /* 4 or 6 with an IP literal host */
	uint16_t port;	/* network order; 0: the host is no IP literal */
	uint8_t addr[16];
};

/* How a SIP message travelled. */
enum sk_transport {
	SK_TRANSPORT_UDP = 0,
	SK_TRANSPORT_TCP = 1,
	SK_TRANSPORT_TLS = 2, /* learned from a HEP mirror of a TLS endpoint (docs/HEP.md) */
};

/* As `show users` writes it. */
static inline const char *sk_transport_name(unsigned int t)
{
	return t == SK_TRANSPORT_TCP ? "tcp" : t == SK_TRANSPORT_TLS ? "tls" : "udp";
}

/* One m= line, reduced to what media tracking needs. Port 0: rejected or disabled. */
struct sk_ev_media {
	uint8_t family; /* 4, 6, or 0 when the SDP gave no usable address */
	uint8_t rtcp_mux;
	uint8_t dir; /* enum sk_sdp_dir */
	uint8_t pad;
	uint16_t port;	    /* host order */
	uint16_t rtcp_port; /* host order; == port with rtcp-mux */
	uint8_t addr[16];
};

struct sk_sip_event {
	sk_time_ns ts;
	uint8_t side;	   /* enum sk_side the message came from */
	uint8_t transport; /* enum sk_transport */
	uint8_t family;
	uint8_t is_request;
	uint8_t method;	     /* requests: enum sk_sip_method */
	uint8_t cseq_method; /* enum sk_sip_method */
	uint8_t has_sdp;
	uint8_t n_media;
	uint8_t contact_star;
	uint8_t hep;	 /* 1: learned from the HEP mirror, not seen on the wire */
	uint16_t status; /* responses */
	uint16_t sport;	 /* network order */
	uint16_t dport;	 /* network order */
	uint16_t worker;
	uint32_t cseq;
	uint32_t expires; /* REGISTER: the Expires header */
	uint32_t opts;	  /* SK_OPT_BIT mask: Supported + Contact feature params */
	uint8_t has_expires;
	uint8_t n_contacts; /* REGISTER requests: entries of contacts[] */
	/*
	 * REGISTER requests: where the registrar's answer goes (RFC 3261 18.2.2
	 * and RFC 3581): the source port when the top Via has rport, else the
	 * Via's sent-by port (5060 when absent). Network order.
	 */
	uint16_t reply_port; /* (TCP: always the source port, the connection's) */
	uint8_t src[16];
	uint8_t dst[16];
	char call_id[SK_EV_CALL_ID_MAX];
	char from_tag[SK_EV_TAG_MAX];
	char to_tag[SK_EV_TAG_MAX];
	char aor[SK_EV_AOR_MAX]; /* REGISTER: To URI as user@host, host lower-cased */
	/* REGISTER requests: the first +sip.instance of its Contacts */
	char instance[SK_EV_INSTANCE_MAX];
	/* REGISTER requests: the URI of the first Contact that stays (expiry not 0) */
	char contact[SK_EV_CONTACT_MAX];
	struct sk_ev_media media[SK_EV_MAX_MEDIA];
	struct sk_ev_contact contacts[SK_EV_MAX_CONTACTS];
};

struct sk_sip_msg;
struct sk_sdp;
struct sk_pkt_meta;

/*
 * Build EV from a parsed SIP message (MSG over BUF, LEN bytes) seen FROM a
 * side, with the addresses and ports of META (ip_version, src, dst, sport,
 * dport): one function for the workers and the HEP listener. SDP is scratch
 * for the body. False: a field too long for the event (nothing to apply).
 */
bool sk_sip_event_fill(struct sk_sip_event *ev, const struct sk_sip_msg *msg, struct sk_sdp *sdp,
		       enum sk_side from, const struct sk_pkt_meta *meta, const char *buf,
		       uint32_t len, enum sk_transport transport, sk_time_ns now, uint16_t worker);

#endif /* SK_EVENTS_H */
