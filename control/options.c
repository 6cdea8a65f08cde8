/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "sk_config.h"

enum {
	OPT_CONFIG = 256,
	OPT_ACCESS_PORT,
	OPT_CORE_PORT,
	OPT_WORKERS,
	OPT_STATS_JSON,
	OPT_REPLAY,
	OPT_REPLAY_OUT,
	OPT_REPLAY_CONTROL_LAG,
	OPT_HELP,
};

static const struct option long_options[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"access-port", required_argument, NULL, OPT_ACCESS_PORT},
	{"core-port", required_argument, NULL, OPT_CORE_PORT},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"stats-json", required_argument, NULL, OPT_STATS_JSON},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"replay-out", required_argument, NULL, OPT_REPLAY_OUT},
	{"replay-control-lag", required_argument, NULL, OPT_REPLAY_CONTROL_LAG},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

void sk_options_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage:\n"
		"  %s [EAL options] -- [--config FILE] [--access-port N] [--core-port N]\n"
		"          [--workers N] [--stats-json FILE]\n"
		"  %s --replay IN.pcap --replay-out OUT.pcap [--config FILE] [--stats-json "
		"FILE]\n"
		"          [--replay-control-lag N]\n"
		"\n"
		"sipkeep is an inline SIP middlebox: every frame received on the access port\n"
		"leaves on the core port and the other way round; SIP and RTP may be rewritten.\n"
		"\n"
		"Options:\n"
		"  --config FILE       settings, 'key = value' lines (see below)\n"
		"  --access-port N     DPDK port facing phones and clients (default 0)\n"
		"  --core-port N       DPDK port facing the call agent (default 1)\n"
		"  --workers N         workers to run (default: one per lcore besides the main "
		"one)\n"
		"  --stats-json FILE   write the final counters to FILE as JSON at exit\n"
		"  --replay IN.pcap    run over a capture instead of ports: no NIC, no hugepages;\n"
		"                      trace time drives the timers, access_prefixes the "
		"direction\n"
		"  --replay-out FILE   where replay writes the frames it forwards (pcap)\n"
		"  --replay-control-lag N\n"
		"                      replay: the control thread applies events and runs timers\n"
		"                      only before every Nth frame (default 1: before each), as a\n"
		"                      live control thread lags the workers\n"
		"  --help              this text\n"
		"\n"
		"Config keys:\n",
		prog, prog);
	sk_config_usage(f);
	fprintf(f, "\nSignals: SIGINT/SIGTERM stop polling, drain, print the counters and exit.\n");
}

static int parse_uint(const char *opt, const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno != 0 || *text == '\0' || *end != '\0' || *out > max) {
		fprintf(stderr, "sipkeep: %s: '%s' is not a number in 0..%lu\n", opt, text, max);
		return -1;
	}
	return 0;
}

int sk_options_parse(struct sk_options *o, int argc, char **argv)
{
	unsigned long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->access_port = 0;
	o->core_port = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_ACCESS_PORT:
			if (parse_uint("--access-port", optarg, UINT16_MAX - 1, &v) < 0)
				return -1;
			o->access_port = (uint16_t)v;
			break;
		case OPT_CORE_PORT:
			if (parse_uint("--core-port", optarg, UINT16_MAX - 1, &v) < 0)
				return -1;
			o->core_port = (uint16_t)v;
			break;
		case OPT_WORKERS:
			if (parse_uint("--workers", optarg, 1024, &v) < 0)
				return -1;
			if (v == 0) {
				fprintf(stderr, "sipkeep: --workers: at least 1\n");
				return -1;
			}
			o->workers = (unsigned int)v;
			break;
		case OPT_STATS_JSON:
			o->stats_json = optarg;
			break;
		case OPT_REPLAY:
			o->replay_in = optarg;
			break;
		case OPT_REPLAY_OUT:
			o->replay_out = optarg;
			break;
		case OPT_REPLAY_CONTROL_LAG:
			if (parse_uint("--replay-control-lag", optarg, 1000000, &v) < 0)
				return -1;
			o->replay_control_lag = (unsigned int)v;
			break;
		case 'h':
		case OPT_HELP:
			o->help = true;
			break;
		case ':':
			fprintf(stderr, "sipkeep: %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "sipkeep: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sipkeep: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (o->help)
		return 0;
	if (o->access_port == o->core_port) {
		fprintf(stderr, "sipkeep: --access-port and --core-port are both %u\n",
			o->access_port);
		return -1;
	}
	if ((o->replay_in == NULL) != (o->replay_out == NULL)) {
		fprintf(stderr, "sipkeep: --replay and --replay-out go together\n");
		return -1;
	}
	return 0;
}
