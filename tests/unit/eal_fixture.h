/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL for unit tests that need DPDK memory: no hugepages, no devices, no
 * shared config, no telemetry, one lcore, a file prefix of the test's own (meson
 * runs tests in parallel). sk_test_eal_stop() frees it all again, so that
 * LeakSanitizer stays on in an ASan build, and removes the runtime directory
 * DPDK leaves behind.
 */
#ifndef SK_TEST_EAL_FIXTURE_H
#define SK_TEST_EAL_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

/* Start the EAL for test NAME; -1 (and a FAIL line) when it does not come up. */
static inline int sk_test_eal_start(const char *argv0, const char *name)
{
	static char prefix[64];
	char *eal_argv[] = {
		(char *)argv0,	 "--no-huge",	   "--no-pci", "-m", "128",
		"--no-shconf",	 "--no-telemetry", "-l",       "0",  "--log-level=lib.eal:error",
		"--file-prefix", prefix,
	};

	snprintf(prefix, sizeof(prefix), "sk_test_%s_%ld", name, (long)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		printf("FAIL rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static inline void sk_test_eal_stop(void)
{
	char runtime_dir[PATH_MAX];

	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir); /* empty with --no-shconf; DPDK leaves it behind */
}

#endif /* SK_TEST_EAL_FIXTURE_H */
