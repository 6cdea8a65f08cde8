/* SPDX-License-Identifier: BSD-3-Clause */
/* sipkeep's DPDK log type, registered once for every program that links the data plane. */
#include "sk_log.h"

RTE_LOG_REGISTER_DEFAULT(sk_logtype, INFO);
