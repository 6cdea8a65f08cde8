/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every counter sipkeep keeps, declared once. The lists below generate the
 * enum, the names printed in --stats-json / at shutdown, and the help text.
 *
 * Counters are owned by one writer each (a worker, or the control thread) and
 * summed by the control thread when stats are read. Writers use relaxed atomic
 * stores so that a concurrent reader never sees a torn value; on x86-64 this
 * compiles to a plain add.
 */
#ifndef SK_COUNTERS_H
#define SK_COUNTERS_H

#include <stdint.h>

#include "sk_common.h"

/* Per-port counters: one set per side, kept by each worker for its queues. */
#define SK_PORT_COUNTERS(X)                                                                        \
	X(rx, "frames received")                                                                   \
	X(tx, "frames transmitted")                                                                \
	X(tx_dropped, "frames dropped because the TX queue stayed full")

enum sk_port_counter {
#define SK_X(name, help) SK_PCTR_##name,
	SK_PORT_COUNTERS(SK_X)
#undef SK_X
		SK_PCTR_COUNT
};

/* Per-worker counters of what the data plane saw and did. */
#define SK_WORKER_COUNTERS(X)                                                                      \
	X(frames_non_ip, "frames that are neither IPv4 nor IPv6 (ARP, LLDP, ...), passed")         \
	X(frames_l3_malformed, "IP/UDP headers truncated or inconsistent, passed unchanged")       \
	X(frames_ip_other, "IP frames that are not UDP, passed")                                   \
	X(frames_ip_fragment, "IP fragments")                                                      \
	X(frag_reassembled, "IP datagrams reassembled from fragments")                             \
	X(frag_sent,                                                                               \
	  "fragments sent for reassembled datagrams (the originals, rewritten in place "           \
	  "when the message changed)")                                                             \
	X(frag_passed_unreassembled,                                                               \
	  "fragments forwarded as they came, not reassembled (timeout, "                           \
	  "eviction, per-source bound, inconsistent, not UDP, ...)")                               \
	X(frag_evicted,                                                                            \
	  "incomplete datagrams evicted, oldest first, to make room (frag_max_flows "              \
	  "or frag_max_held reached): their fragments forwarded unchanged")                        \
	X(frag_source_limited, "fragments not held: their source had frag_max_per_source "         \
			       "incomplete datagrams; forwarded unchanged")                        \
	X(frag_inconsistent, "datagrams given up: fragments overlapped or disagreed, or more "     \
			     "than 16 pieces; their fragments forwarded unchanged")                \
	X(frag_split_failed, "changed datagrams that could not be fragmented again: the rewrite "  \
			     "skipped, the original fragments forwarded unchanged")                \
	X(frag_emptied_by_rewrite, "fragments not sent because a rewrite shortened the message "   \
				   "so much that none of its bytes were left in them")             \
	X(frames_udp_other, "UDP frames not to or from a SIP port")                                \
	X(frames_fast_passed, "frames the passthrough fast path forwarded (not tracked: counted "  \
			      "in their class too)")                                               \
	X(frames_sip, "UDP frames to or from a SIP port")                                          \
	X(frames_tcp_sip, "TCP segments to or from a SIP port (SIP over TCP)")                     \
	X(frames_tls, "TCP segments to or from sip_tls_port (SIP over TLS), passed untouched")     \
	X(tcp_streams_tracked, "TCP directions on a SIP port picked up (at SYN, or mid-stream)")   \
	X(tcp_streams_table_full, "TCP directions not tracked: tcp_max_streams reached; passed")   \
	X(tcp_streams_closed, "TCP directions forgotten at FIN or RST")                            \
	X(tcp_streams_expired, "TCP directions forgotten after tcp_idle_timeout_ms of silence")    \
	X(tcp_messages, "SIP messages framed on TCP (also in sip_messages)")                       \
	X(tcp_keepalives, "CR/LF keep-alives between SIP messages on TCP (RFC 5626), skipped")     \
	X(tcp_out_of_order, "TCP segments beyond a hole, copied until it fills")                   \
	X(tcp_retransmissions, "TCP segments carrying bytes already seen: never framed twice")     \
	X(tcp_retransmissions_rewritten,                                                           \
	  "retransmitted TCP segments rewritten exactly like the original (Call-Info)")            \
	X(tcp_fallback_buffer_full, "TCP directions that fell back to passthrough: a message or "  \
				    "a hole larger than tcp_buffer_bytes")                         \
	X(tcp_fallback_no_buffer, "TCP directions that fell back to passthrough: all tcp_buffers " \
				  "in use")                                                        \
	X(tcp_fallback_hole, "TCP directions that fell back to passthrough: a hole or a cut "      \
			     "message waited longer than tcp_hole_timeout_ms")                     \
	X(tcp_fallback_bad_framing, "TCP directions that fell back to passthrough: bytes that do " \
				    "not frame as SIP (parse error, no Content-Length)")           \
	X(tcp_resynced, "TCP directions that found a SIP message boundary again after a fallback") \
	X(tcp_segments_held, "TCP segments held because their message's header block continued "   \
			     "in a later segment (callinfo_policy is not pass)")                   \
	X(tcp_held_released_unchanged, "held TCP segments released unchanged: the rest of the "    \
				       "header block did not come within tcp_hole_timeout_ms, or " \
				       "the direction ended")                                      \
	X(tcp_held_duplicates_dropped, "retransmissions of a held TCP segment dropped: the held "  \
				       "copy leaves instead, rewritten if needed")                 \
	X(tcp_callinfo_missed, "Call-Info on TCP that could not be removed: its bytes had left "   \
			       "in a segment that could not be held")                              \
	X(sip_messages, "SIP messages parsed")                                                     \
	X(sip_parse_errors,                                                                        \
	  "SIP messages that did not parse (by reason: sip_parse_error_reasons)")                  \
	X(sip_keepalives, "CRLF keep-alives on a SIP port (RFC 5626), passed")                     \
	X(sip_scanner_matched,                                                                     \
	  "requests from access whose User-Agent names a scanner (scanner_signatures)")            \
	X(sip_scanner_dropped, "of those, dropped (scanner_action = drop)")                        \
	X(sip_detected_other_port, "SIP found on a port outside sip_ports (sip_detect = any)")     \
	X(sip_events_dropped, "SIP messages not tracked: event ring full or event pool empty")     \
	X(sip_fields_too_long, "SIP messages not tracked: Call-ID, tag or AOR longer than kept")   \
	X(sip_redirected, "SIP from core to a moved user's old contact, sent to the new one")      \
	X(handovers_fired, "handovers published by the worker forwarding their 2xx (armed)")       \
	X(callinfo_removed, "urn:x-cisco-remotecc Call-Info values removed (callinfo_policy)")     \
	X(callinfo_messages_rewritten, "SIP messages whose Call-Info was rewritten")               \
	X(callinfo_malformed, "Call-Info header lines that did not parse: left alone")             \
	X(callinfo_left_too_many, "messages with more Call-Info than tracked: left unchanged")     \
	X(rtp_rewritten_downlink, "RTP/RTCP toward a moved user, destination rewritten")           \
	X(downlink_other_core_source, "media to a moved flow's access address from another core "  \
				      "address than the flow's: not its call's, passed unchanged") \
	X(rtp_rewritten_uplink, "RTP/RTCP from a moved user, source rewritten to the old address") \
	X(rtp_latched, "new media ports latched after a handover")                                 \
	X(rtp_relatched, "latches moved to the port whose packets carry the stream's known SSRC")  \
	X(latch_refused, "uplink media refused: not the committed IP, or not its latched port")    \
	X(media_family_mismatch, "handover across IPv4/IPv6: media cannot be rewritten, passed")

enum sk_worker_counter {
#define SK_X(name, help) SK_WCTR_##name,
	SK_WORKER_COUNTERS(SK_X)
#undef SK_X
		SK_WCTR_COUNT
};

/* Counters of the control thread: registrations, dialogs, handovers. */
#define SK_CONTROL_COUNTERS(X)                                                                     \
	X(sip_events_applied, "SIP events from workers applied to the session state")              \
	X(sip_events_ring_high_water, "the most SIP events found waiting on the event ring by "    \
				      "the control thread (a high-water mark, not a count)")       \
	X(registrations_committed, "REGISTERs committed by a 2xx from core (incl. unregister)")    \
	X(registrations_rejected, "REGISTERs answered with a non-2xx final response")              \
	X(registrations_stale_response, "REGISTER responses matching no pending transaction")      \
	X(registrations_expired, "registrations that ran out without a refresh")                   \
	X(registrations_unregistered, "registrations ended by Expires 0")                          \
	X(registrations_pending_evicted,                                                           \
	  "unanswered REGISTERs forgotten, oldest first, to make room in a full pending table")    \
	X(registrations_pending_refused, "REGISTERs not tracked: pending table full")              \
	X(registrations_pending_source_refused, "REGISTERs not tracked: their source IP already "  \
						"has max_pending_per_source pending")              \
	X(registrations_pending_expired, "REGISTER transactions forgotten unanswered "             \
					 "(register_timeout_ms)")                                  \
	X(registrations_conflicting, "2xx for a REGISTER sent from two source ports that share "   \
				     "its reply address: committed nowhere")                       \
	X(users_refused, "registrations not tracked: user table full")                             \
	X(contacts_refused, "signalling addresses not published: contact table full")              \
	X(contacts_foreign, "Contact addresses already another user's: not taken")                 \
	X(users_suspended, "users whose uplink media went silent during a call")                   \
	X(users_resumed, "suspended users whose media came back from the same address")            \
	X(handovers_committed, "re-registrations that moved a user's media")                       \
	X(handovers_armed, "re-REGISTERs armed: their 2xx would move the user (handover_arm_ms)")  \
	X(handovers_arm_cancelled, "arms taken back unfired: answer not 2xx, too late, or the "    \
				   "user changed first")                                           \
	X(handovers_arm_refused, "re-REGISTERs not armed: no free arm slot or handover record")    \
	X(handovers_expired, "suspended users released: no re-registration within the window")     \
	X(handovers_refused_no_persist, "re-registrations from a new address without "             \
					"X-cisco-sessionpersist: nothing moved")                   \
	X(handovers_refused_window, "re-registrations from a new address after the window: "       \
				    "nothing moved")                                               \
	X(dialogs_created, "dialogs tracked")                                                      \
	X(dialogs_ended, "dialogs ended (BYE, CANCEL, failed INVITE, user gone) and freed")        \
	X(dialogs_refused, "dialogs not tracked: dialog table full")                               \
	X(dialogs_refused_user_early, "INVITEs not tracked: their user has "                       \
				      "max_early_dialogs_per_user dialogs without a 2xx")          \
	X(dialogs_unowned, "INVITEs whose access side is no registered user: not tracked")         \
	X(streams_refused, "media flows not tracked: stream table full or address in use")         \
	X(flow_keys_refused, "media flows not tracked: an address of theirs is a live flow's")     \
	X(streams_taken_from_ended, "media flows of an ended (lingering) call retired because a "  \
				    "new call uses the same address")                              \
	X(streams_foreign_address, "media not tracked: the access SDP address is not an address "  \
				   "the user registered from")                                     \
	X(streams_address_claimed, "media not tracked: another user's live dialog declared this "  \
				   "access address and port first")                                \
	X(hep_frames, "HEP frames received (UDP datagrams, TCP frames, replay frames)")            \
	X(hep_source_refused, "HEP frames from an address outside hep_sources: ignored")           \
	X(hep_auth_refused, "HEP frames without the hep_auth_key: ignored")                        \
	X(hep_truncated, "HEP frames shorter than their header or total length")                   \
	X(hep_bad_magic, "datagrams on hep_listen that are neither HEPv3 nor HEPv2")               \
	X(hep_bad_length, "HEP frames with a total or chunk length that does not fit")             \
	X(hep_duplicate_chunk, "HEP frames that give a chunk twice")                               \
	X(hep_missing_chunks, "HEP frames without family, addresses and ports that agree")         \
	X(hep_compressed, "HEP frames with a compressed payload (chunk 0x0010): not taken")        \
	X(hep_no_payload, "HEP frames without a payload, or with an empty one")                    \
	X(hep_payload_too_big, "HEP frames whose payload is larger than 16 KiB")                   \
	X(hep_not_sip, "HEP frames of another protocol type than SIP (1): ignored")                \
	X(hep_unknown_chunks, "HEP chunks skipped: unknown type or another vendor's")              \
	X(hep_sip_parse_errors, "HEP payloads that did not parse as SIP")                          \
	X(hep_side_unknown, "mirrored SIP whose addresses are both in access_prefixes, or "        \
			    "neither: no side, ignored")                                           \
	X(hep_fields_too_long, "mirrored SIP not tracked: Call-ID, tag or AOR longer than kept")   \
	X(hep_duplicates, "mirrored SIP already applied (from the wire or the mirror): ignored")   \
	X(hep_applied, "mirrored SIP messages applied to the session state")                       \
	X(hep_tcp_refused, "HEP TCP connections refused: hep connection limit reached")            \
	X(hep_tcp_closed_bad, "HEP TCP connections closed: bytes that do not frame as HEPv3")      \
	X(hep_tcp_closed_idle, "HEP TCP connections closed after 60 s without a byte")

enum sk_control_counter {
#define SK_X(name, help) SK_CCTR_##name,
	SK_CONTROL_COUNTERS(SK_X)
#undef SK_X
		SK_CCTR_COUNT
};

extern const char *const sk_port_counter_names[SK_PCTR_COUNT];
extern const char *const sk_control_counter_names[SK_CCTR_COUNT];
extern const char *const sk_worker_counter_names[SK_WCTR_COUNT];

static inline void sk_ctr_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* A gauge with one writer that other threads read with an atomic load. */
static inline void sk_gauge_add(uint32_t *g, int32_t n)
{
	__atomic_store_n(g, *g + (uint32_t)n, __ATOMIC_RELAXED);
}

static inline uint64_t sk_ctr_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif /* SK_COUNTERS_H */
