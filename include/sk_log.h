/* SPDX-License-Identifier: BSD-3-Clause */
/* sipkeep's DPDK log type: `--log-level=sipkeep:debug` on the EAL command line. */
#ifndef SK_LOG_H
#define SK_LOG_H

#include <rte_log.h>

extern int sk_logtype;

#define SK_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, sk_logtype, "sipkeep: " fmt "\n", ##__VA_ARGS__)

#endif /* SK_LOG_H */
