/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HEP mirror (docs/HEP.md): SIP that a SIP server decrypted and mirrored
 * as HEP, applied by the control thread through the same event builder and
 * session logic as SIP seen on the wire. Live, it listens on hep_listen (UDP,
 * and TCP framed by the HEPv3 header); in replay, UDP frames addressed to
 * hep_listen are the mirror and do not leave on the output.
 */
#ifndef SK_HEP_LISTEN_H
#define SK_HEP_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sk_common.h"

struct sk_app;
struct sk_sip_event;

/* Set up (sockets only when live); 0 also when hep_listen is empty (off). */
int sk_hep_open(struct sk_app *app);
void sk_hep_close(struct sk_app *app);

/* Live: bounded work per call (datagrams, connections, frames). */
void sk_hep_poll(struct sk_app *app, sk_time_ns now);

/* One HEP datagram or frame sent by FAMILY (4 or 6) address FROM. */
void sk_hep_input(struct sk_app *app, int family, const uint8_t *from, const uint8_t *data,
		  size_t len, sk_time_ns now);

/* Replay: is this Ethernet frame UDP to hep_listen? Then it was taken as the mirror. */
bool sk_hep_replay_frame(struct sk_app *app, const uint8_t *frame, uint32_t len, sk_time_ns now);

#endif /* SK_HEP_LISTEN_H */
