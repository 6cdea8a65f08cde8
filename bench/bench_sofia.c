/* SPDX-License-Identifier: BSD-3-Clause */
/* sofia-sip side of the parser benchmark: msg_make() with the SIP mclass, then SDP. */
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sdp.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "bench_parse.h"

uint64_t parse_sofia(const struct msgbuf *mb)
{
	msg_t *msg = msg_make(sip_default_mclass(), 0, mb->buf, (ssize_t)mb->len);
	sip_t *sip;
	uint64_t acc;

	if (msg == NULL)
		abort();
	sip = sip_object(msg);
	if (sip == NULL || sip->sip_call_id == NULL || sip->sip_error != NULL)
		abort();
	acc = sip->sip_cseq ? sip->sip_cseq->cs_seq : 0;
	if (sip->sip_payload != NULL && sip->sip_content_type != NULL &&
	    strcmp(sip->sip_content_type->c_type, "application/sdp") == 0) {
		sdp_parser_t *p = sdp_parse(msg_home(msg), sip->sip_payload->pl_data,
					    (issize_t)sip->sip_payload->pl_len, 0);
		sdp_session_t *s = sdp_session(p);

		if (s == NULL)
			abort();
		acc += s->sdp_media ? s->sdp_media->m_port : 0;
		sdp_parser_free(p);
	}
	msg_destroy(msg);
	return acc;
}
