/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay input: classic pcap (either byte order, micro- or nanosecond) and
 * pcapng (any number of sections and interfaces, each with its own link type
 * and timestamp resolution), read record by record.
 *
 * Written for replay rather than taken from libpcap, whose reader refuses a
 * pcapng whose interfaces have different link types and gives up a capture
 * cut in the middle of a record without saying how much was good. Here every
 * record carries its interface's link type, and a cut or damaged tail ends the
 * input with a reason (sk_cap_next() returns -1) after every whole record
 * before it has been returned.
 */
#ifndef SK_CAPTURE_IN_H
#define SK_CAPTURE_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types as stored in capture files (LINKTYPE_*, tcpdump.org). */
enum {
	SK_LT_NULL = 0,
	SK_LT_ETHERNET = 1,
	SK_LT_RAW = 101,
	SK_LT_LOOP = 108,
	SK_LT_LINUX_SLL = 113,
	SK_LT_LINUX_SLL2 = 276,
};

struct sk_cap_in;

struct sk_cap_rec {
	uint64_t sec;
	uint32_t usec; /* finer resolutions are truncated to microseconds */
	uint32_t caplen;
	uint32_t origlen;
	uint32_t linktype;   /* the record's interface's LINKTYPE_* value */
	uint32_t ifindex;    /* pcapng interface number in its section (0 for pcap) */
	const uint8_t *data; /* valid until the next sk_cap_next() */
};

/*
 * Open PATH and read its file header (pcap) or first section header (pcapng).
 * NULL with a message in ERR when the file cannot be read or is not a capture.
 */
struct sk_cap_in *sk_cap_open(const char *path, char *err, size_t errlen);

/* "pcap" or "pcapng". */
const char *sk_cap_format(const struct sk_cap_in *c);

/* The link type of a classic pcap file (pcapng: of its first interface, if any yet). */
uint32_t sk_cap_file_linktype(const struct sk_cap_in *c);

/*
 * The next packet record: 1 and *REC filled; 0 at a clean end of file; -1 when
 * the input stops early (cut in the middle of a record, a damaged block, a
 * read error): ERR says why and where.
 */
int sk_cap_next(struct sk_cap_in *c, struct sk_cap_rec *rec, char *err, size_t errlen);

void sk_cap_close(struct sk_cap_in *c);

/* True for the link types replay turns into Ethernet frames. */
bool sk_cap_linktype_supported(uint32_t linktype);

#endif /* SK_CAPTURE_IN_H */
