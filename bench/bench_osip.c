/* SPDX-License-Identifier: BSD-3-Clause */
/* libosip2 side of the parser benchmark: SIP message, then SDP of the body. */
#include <stdlib.h>

#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>

#include "bench_parse.h"

void bench_osip_init(void)
{
	parser_init();
}

uint64_t parse_osip(const struct msgbuf *mb)
{
	osip_message_t *sip;
	osip_body_t *body = NULL;
	uint64_t acc;

	if (osip_message_init(&sip) != 0)
		abort();
	if (osip_message_parse(sip, mb->buf, mb->len) != 0)
		abort();
	acc = (uint64_t)osip_list_size(&sip->vias) + (uint64_t)osip_list_size(&sip->contacts);
	if (osip_message_get_body(sip, 0, &body) >= 0 && body != NULL && body->body != NULL) {
		sdp_message_t *sdp;

		sdp_message_init(&sdp);
		if (sdp_message_parse(sdp, body->body) != 0)
			abort();
		acc += (uint64_t)osip_list_size(&sdp->m_medias);
		sdp_message_free(sdp);
	}
	osip_message_free(sip);
	return acc;
}
