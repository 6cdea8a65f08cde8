/* SPDX-License-Identifier: BSD-3-Clause */
/* Print the config keys as a tbl(1) table for sipkeep's man page: one row per key. */
#include <stdio.h>

#include "sk_config.h"

int main(void)
{
	sk_config_man_table(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
