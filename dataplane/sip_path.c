/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP frames on the fast path: parse in place, post what registration and
 * dialog tracking need to the control thread, move the signalling target of a
 * handed-over user, and remove the Call-Info values the policy keeps from the
 * phone (callinfo.c), shrinking the frame in place.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "sk_commit_arm.h"
#include "sk_events.h"
#include "sk_rewrite.h"
#include "sk_sip_methods.h"
#include "worker_internal.h"

/* Copy a span as a C string; false (nothing tracked) if it does not fit. */
static bool copy_span(char *dst, size_t cap, const char *buf, struct sk_span s)
{
	if (s.len >= cap)
		return false;
	memcpy(dst, buf + s.off, s.len);
	dst[s.len] = '\0';
	return true;
}

/* The AOR of a To/From URI: user@host with the host lower-cased (RFC 3261 19.1.4). */
static bool copy_aor(char *dst, size_t cap, const char *buf, struct sk_span uri_span)
{
	struct sk_sip_uri uri;
	size_t i, n;

	if (sk_sip_uri_parse(buf, uri_span, &uri) < 0)
		return copy_span(dst, cap, buf, uri_span); /* tel: and others: as written */
	n = (size_t)uri.user.len + 1 + uri.host.len;
	if (n >= cap)
		return false;
	memcpy(dst, buf + uri.user.off, uri.user.len);
	dst[uri.user.len] = '@';
	for (i = 0; i < uri.host.len; i++) {
		char c = buf[uri.host.off + i];

		dst[uri.user.len + 1 + i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	dst[n] = '\0';
	return true;
}

static void fill_media(const struct sk_sip_msg *msg, struct sk_sdp *sdp, struct sk_sip_event *ev,
		       const char *buf)
{
	struct sk_span body;
	unsigned int i;

	if (!sk_sip_find_sdp(buf, msg, &body) || sk_sdp_parse(buf, body, sdp) != SK_SDP_OK)
		return;
	ev->has_sdp = 1;
	ev->n_media = (uint8_t)RTE_MIN((unsigned int)sdp->n_media, (unsigned int)SK_EV_MAX_MEDIA);
	for (i = 0; i < ev->n_media; i++) {
		const struct sk_sdp_conn *c = sk_sdp_media_conn(sdp, i);
		struct sk_ev_media *em = &ev->media[i];

		if (c != NULL && (c->af == SK_SDP_AF_IP4 || c->af == SK_SDP_AF_IP6)) {
			em->family = c->af;
			memcpy(em->addr, c->addr, 16);
		}
		em->port = sdp->media[i].port;
		em->rtcp_port = sk_sdp_media_rtcp_port(sdp, i);
		em->rtcp_mux = sdp->media[i].rtcp_mux;
		em->dir = (uint8_t)sk_sdp_media_dir(sdp, i);
	}
}

/* The address of a Contact URI whose host is an IP literal (port 0 otherwise). */
static void contact_addr(struct sk_ev_contact *ec, const char *buf, uint32_t buf_len,
			 struct sk_span uri_span)
{
	struct sk_sip_uri uri;

	if (sk_sip_uri_parse_in(buf, buf_len, uri_span, &uri) < 0)
		return;
	if (uri.host_ipv6) {
		if (sk_ip6_parse(buf + uri.host.off, uri.host.len, ec->addr) != 0)
			return;
		ec->family = 6;
	} else {
		if (sk_ip4_parse(buf + uri.host.off, uri.host.len, ec->addr) != 0)
			return;
		ec->family = 4;
	}
	ec->port = rte_cpu_to_be_16(uri.has_port ? uri.port
						 : (uri.scheme == SK_URI_SIPS ? 5061 : 5060));
}

/*
 * Identity of a Contact URI, to tell a device's bindings apart (FNV-1a). Byte
 * by byte: the URI sits at any offset in the packet, and DPDK's hashes read
 * it in words in place.
 */
static uint32_t uri_hash(const char *p, uint32_t len)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

/*
 * What a REGISTER tells registration tracking: the user, where the answer
 * goes, and every Contact the parser kept with its own expiry. Only REGISTER
 * requests from access pay for this (a URI parse per Contact).
 */
static bool register_fields(struct sk_sip_event *ev, const struct sk_sip_msg *msg,
			    const struct sk_pkt_meta *meta, const char *buf, uint32_t len)
{
	const struct sk_sip_via *via = &msg->via[0];
	bool have_uri = false, have_instance = false;
	unsigned int i, n;

	ev->opts = sk_sip_msg_opts(msg);
	if (!copy_aor(ev->aor, sizeof(ev->aor), buf, msg->to.uri))
		return false;
	if (msg->has_expires) {
		ev->expires = msg->expires;
		ev->has_expires = 1;
	}
	/*
	 * RFC 3261 18.2.2, RFC 3581: the source port with rport, else the Via's
	 * port; on TCP and TLS the answer comes back on the connection, to its
	 * source port.
	 */
	ev->reply_port = ev->transport == SK_TRANSPORT_UDP && msg->n_via > 0 && !via->has_rport
				 ? rte_cpu_to_be_16(via->port != 0 ? via->port : 5060)
				 : rte_cpu_to_be_16(meta->sport);
	n = RTE_MIN((unsigned int)msg->n_contact, (unsigned int)SK_EV_MAX_CONTACTS);
	for (i = 0; i < n; i++) {
		const struct sk_sip_contact *c = &msg->contact[i];
		struct sk_ev_contact *ec = &ev->contacts[i];

		memset(ec, 0, sizeof(*ec));
		ec->uri_hash = uri_hash(buf + c->uri.off, c->uri.len);
		if (c->has_expires) {
			ec->expires = c->expires;
			ec->has_expires = 1;
		} else {
			ec->expires = ev->expires;
			ec->has_expires = ev->has_expires;
		}
		contact_addr(ec, buf, len, c->uri);
		if (!have_instance && c->instance.len > 0) {
			if (!copy_span(ev->instance, sizeof(ev->instance), buf, c->instance))
				return false;
			have_instance = true;
		}
		if (!have_uri && (ec->expires != 0 || !ec->has_expires || i == n - 1)) {
			if (!copy_span(ev->contact, sizeof(ev->contact), buf, c->uri))
				return false;
			have_uri = true;
		}
	}
	ev->n_contacts = (uint8_t)n;
	return true;
}

/*
 * REGISTER: a request's fields (register_fields), or the user its answer is
 * for: the answer names its transaction's user too (To is copied from the
 * request).
 */
static bool register_event(struct sk_sip_event *ev, const struct sk_sip_msg *msg,
			   const struct sk_pkt_meta *meta, const char *buf, uint32_t len)
{
	if (msg->is_request)
		return register_fields(ev, msg, meta, buf, len);
	return copy_aor(ev->aor, sizeof(ev->aor), buf, msg->to.uri);
}

/*
 * What every tracked message tells the control thread, then the REGISTER or
 * the dialog part (sk_events.h). False: a field too long for the event. The
 * workers and the HEP listener (control/hep_listen.c) both build their
 * events here.
 */
bool sk_sip_event_fill(struct sk_sip_event *ev, const struct sk_sip_msg *msg, struct sk_sdp *sdp,
		       enum sk_side from, const struct sk_pkt_meta *meta, const char *buf,
		       uint32_t len, enum sk_transport transport, sk_time_ns now, uint16_t worker)
{
	memset(ev, 0, offsetof(struct sk_sip_event, call_id));
	ev->ts = now;
	ev->side = (uint8_t)from;
	ev->transport = (uint8_t)transport;
	ev->family = meta->ip_version;
	ev->is_request = msg->is_request;
	ev->method = msg->method;
	ev->cseq_method = msg->cseq_method;
	ev->status = msg->status;
	ev->sport = rte_cpu_to_be_16(meta->sport);
	ev->dport = rte_cpu_to_be_16(meta->dport);
	ev->worker = worker;
	ev->cseq = msg->cseq;
	ev->contact_star = msg->contact_star;
	memcpy(ev->src, meta->src, 16);
	memcpy(ev->dst, meta->dst, 16);
	ev->instance[0] = ev->contact[0] = ev->aor[0] = '\0';
	if (!copy_span(ev->call_id, sizeof(ev->call_id), buf, msg->call_id) ||
	    !copy_span(ev->from_tag, sizeof(ev->from_tag), buf, msg->from.tag) ||
	    !copy_span(ev->to_tag, sizeof(ev->to_tag), buf, msg->to.tag))
		return false;
	if (msg->cseq_method == SK_SIP_REGISTER)
		return register_event(ev, msg, meta, buf, len);
	fill_media(msg, sdp, ev, buf);
	return true;
}

static void post_event(struct sk_worker *w, enum sk_side from, const struct sk_pkt_meta *meta,
		       const char *buf, uint32_t len, enum sk_transport transport, sk_time_ns now)
{
	struct sk_sip_event *ev;
	uint32_t arm = UINT32_MAX;
	uint64_t arm_word = 0;
	void *obj;

	if (unlikely(rte_mempool_get(w->event_pool, &obj) != 0)) {
		sk_count(w, SK_WCTR_sip_events_dropped);
		return;
	}
	ev = obj;
	if (!sk_sip_event_fill(ev, &w->sip, &w->sdp, from, meta, buf, len, transport, now,
			       (uint16_t)w->index)) {
		rte_mempool_put(w->event_pool, ev);
		sk_count(w, SK_WCTR_sip_fields_too_long);
		return;
	}
	/* A 2xx to REGISTER from core may commit an armed handover: matched while EV is ours. */
	if (unlikely(sk_arm_candidate(ev)))
		arm = sk_arm_match(w->arms, ev, now, &arm_word);
	if (unlikely(rte_ring_mp_enqueue(w->events, ev) != 0)) {
		rte_mempool_put(w->event_pool, ev);
		sk_count(w, SK_WCTR_sip_events_dropped);
		return;
	}
	/*
	 * The control thread will apply the 2xx (its event is posted): publish the
	 * move now, before the 2xx leaves, so that the next downlink frame of any
	 * worker finds it.
	 */
	if (arm != UINT32_MAX &&
	    sk_arm_fire(w->arms, w->tables, arm, arm_word, now, (uint16_t)w->index))
		sk_count(w, SK_WCTR_handovers_fired);
}

/*
 * SIP from core to a moved user's old contact address leaves toward the new
 * one: only the IP destination and UDP port change.
 */
static bool redirect(struct sk_worker *w, uint8_t *frame, struct sk_pkt_meta *meta)
{
	const struct sk_tables *t = w->tables;
	const struct sk_move *mv;
	struct sk_addr_key key;
	uint16_t port;
	uint32_t ref;

	sk_addr_key_set(&key, meta->ip_version, meta->dst, rte_cpu_to_be_16(meta->dport));
	ref = sk_contact_lookup_ref(t, &key);
	if (ref == SK_NO_INDEX)
		return false;
	mv = sk_user_move(t, ref & ~SK_CONTACT_FROM_HDR);
	if (mv == NULL || mv->family != meta->ip_version)
		return false;
	/* An old Contact address maps to the new Contact, an old source to the new source. */
	port = (ref & SK_CONTACT_FROM_HDR) && mv->contact_port != 0 ? mv->contact_port
								    : mv->sip_port;
	if (memcmp(mv->addr, meta->dst, mv->family == 4 ? 4 : 16) == 0 &&
	    port == rte_cpu_to_be_16(meta->dport))
		return false; /* already addressed to the new contact */
	sk_rewrite_endpoint(frame, meta, SK_EP_DST, mv->addr, port);
	sk_count(w, SK_WCTR_sip_redirected);
	return true;
}

bool sk_callinfo_unwanted(struct sk_worker *w, enum sk_side from, const struct sk_pkt_meta *meta)
{
	enum sk_callinfo_policy policy =
		__atomic_load_n(&w->cfg->callinfo_policy, __ATOMIC_RELAXED);
	struct sk_addr_key key;
	uint32_t user;

	if (policy != SK_CALLINFO_REGISTERED)
		return policy == SK_CALLINFO_STRIP;
	/* The access endpoint is the destination of what core sends, the source of the rest. */
	if (from == SK_SIDE_CORE)
		sk_addr_key_set(&key, meta->ip_version, meta->dst, rte_cpu_to_be_16(meta->dport));
	else
		sk_addr_key_set(&key, meta->ip_version, meta->src, rte_cpu_to_be_16(meta->sport));
	user = w->tables ? sk_contact_lookup(w->tables, &key) : SK_NO_INDEX;
	return user == SK_NO_INDEX ||
	       !__atomic_load_n(&w->tables->user[user].callinfo_ok, __ATOMIC_ACQUIRE);
}

static bool apply_callinfo_policy(struct sk_worker *w, enum sk_side from, uint8_t *frame,
				  uint32_t *frame_len, struct sk_pkt_meta *meta)
{
	char *buf = (char *)frame + meta->payload_off;
	uint32_t tail = *frame_len - meta->payload_off - meta->payload_len;
	unsigned int n_removed;
	int removed;

	if (likely(w->sip.n_callinfo == 0 && !(w->sip.overflow & SK_SIP_OVF_CALLINFO)) ||
	    !sk_callinfo_has_remotecc(buf, &w->sip) || !sk_callinfo_unwanted(w, from, meta))
		return false;
	removed = sk_callinfo_strip(buf, meta->payload_len, tail, &w->sip, &n_removed);
	if (removed < 0) {
		sk_count(w, SK_WCTR_callinfo_left_too_many);
		return false;
	}
	if (removed == 0)
		return false;
	sk_rewrite_udp_shrunk(frame, meta, (uint32_t)removed);
	*frame_len -= (uint32_t)removed;
	sk_ctr_add(&w->ctr[SK_WCTR_callinfo_removed], n_removed);
	sk_count(w, SK_WCTR_callinfo_messages_rewritten);
	return true;
}

bool sk_sip_track(struct sk_worker *w, enum sk_side from, const struct sk_pkt_meta *meta,
		  const char *buf, uint32_t len, enum sk_transport transport, sk_time_ns now)
{
	bool drop = false;

	sk_count(w, SK_WCTR_sip_messages);
	if (unlikely(w->sip.n_callinfo_bad != 0))
		sk_ctr_add(&w->ctr[SK_WCTR_callinfo_malformed], w->sip.n_callinfo_bad);
	/* Scanners send requests from outside: responses and core's traffic are never judged. */
	if (w->scanner != NULL && from == SK_SIDE_ACCESS && w->sip.is_request &&
	    unlikely(sk_scanner_match(w->scanner, buf, &w->sip))) {
		sk_count(w, SK_WCTR_sip_scanner_matched);
		drop = __atomic_load_n(&w->cfg->scanner_action, __ATOMIC_RELAXED) ==
		       SK_SCANNER_DROP;
		if (drop && transport == SK_TRANSPORT_UDP) {
			sk_count(w, SK_WCTR_sip_scanner_dropped);
			return true;
		}
	}
	/* The event copies what it needs before any byte of the message moves. */
	if (w->tables != NULL && sk_sip_tracked(w->sip.cseq_method, w->sip.is_request, from))
		post_event(w, from, meta, buf, len, transport, now);
	return false;
}

enum sk_verdict sk_sip_handle(struct sk_worker *w, enum sk_side from, uint8_t *frame,
			      uint32_t *frame_len, struct sk_pkt_meta *meta, sk_time_ns now)
{
	const char *buf = (const char *)frame + meta->payload_off;
	enum sk_sip_err err;
	bool changed = false;

	err = sk_sip_parse(buf, meta->payload_len, &w->sip);
	if (unlikely(err != SK_SIP_OK)) {
		if (err == SK_SIP_ERR_KEEPALIVE) {
			sk_count(w, SK_WCTR_sip_keepalives);
			return SK_FORWARD;
		}
		sk_count(w, SK_WCTR_sip_parse_errors);
		sk_ctr_add(&w->sip_parse_error[err], 1);
		return SK_FORWARD;
	}
	if (sk_sip_track(w, from, meta, buf, meta->payload_len, SK_TRANSPORT_UDP, now))
		return SK_DROP;
	if (w->tables != NULL && from == SK_SIDE_CORE)
		changed = redirect(w, frame, meta);
	changed |= apply_callinfo_policy(w, from, frame, frame_len, meta);
	return changed ? SK_FORWARD_CHANGED : SK_FORWARD;
}
