/* SPDX-License-Identifier: BSD-3-Clause */
/* The steps of sk_worker_process, one file each: media rewriting and SIP handling. */
#ifndef SK_WORKER_INTERNAL_H
#define SK_WORKER_INTERNAL_H

#include <rte_mbuf.h>

#include "sk_pkt.h"
#include "sk_worker.h"

static inline void sk_count(struct sk_worker *w, enum sk_worker_counter c)
{
	sk_ctr_add(&w->ctr[c], 1);
}

/* A UDP frame that is not SIP: RTP/RTCP lookup, latching and rewriting (media.c). */
void sk_media_handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
		     struct sk_pkt_meta *meta, sk_time_ns now);

/* A UDP frame on a SIP port: parse, tell the control thread, redirect (sip_path.c). */
void sk_sip_handle(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
		   struct sk_pkt_meta *meta, sk_time_ns now);

#endif /* SK_WORKER_INTERNAL_H */
