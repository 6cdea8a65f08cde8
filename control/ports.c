/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_ethdev.h>

#include "ports.h"
#include "sk_log.h"

/*
 * RSS over addresses and UDP/TCP ports; fragments hash on addresses only, so
 * they meet. Every segment of one TCP direction hashes alike, so one worker
 * owns each direction's stream (docs/TCP.md).
 */
#define SK_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP)

int sk_port_start(struct sk_app *app, uint16_t port, uint16_t n_queues)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = (uint16_t)app->cfg.rx_descriptors;
	uint16_t nb_txd = (uint16_t)app->cfg.tx_descriptors;
	int socket;
	uint16_t q;
	int rc;

	if (!rte_eth_dev_is_valid_port(port)) {
		SK_LOG(ERR, "port %u does not exist (%u ports found; give --vdev or bind a NIC)",
		       port, rte_eth_dev_count_avail());
		return -1;
	}
	socket = rte_eth_dev_socket_id(port);
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		SK_LOG(ERR, "port %u: cannot read device info: %s", port, rte_strerror(-rc));
		return -1;
	}
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		SK_LOG(ERR,
		       "port %u (%s): %u workers need %u RX and TX queues, the device has %u RX "
		       "and %u TX; use --workers %u",
		       port, info.driver_name, n_queues, n_queues, info.max_rx_queues,
		       info.max_tx_queues, RTE_MIN(info.max_rx_queues, info.max_tx_queues));
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (n_queues > 1) {
		uint64_t hf = SK_RSS_HF & info.flow_type_rss_offloads;

		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			SK_LOG(WARNING,
			       "port %u (%s): no RSS over IP/UDP/TCP; each queue gets what the "
			       "device puts there",
			       port, info.driver_name);
		}
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = rte_eth_dev_configure(port, n_queues, n_queues, &conf);
	if (rc != 0) {
		SK_LOG(ERR, "port %u: configure failed: %s", port, rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0) {
		SK_LOG(ERR, "port %u: descriptor counts refused: %s", port, rte_strerror(-rc));
		return -1;
	}
	for (q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, socket, NULL, app->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, nb_txd, socket, NULL);
		if (rc != 0) {
			SK_LOG(ERR, "port %u queue %u: setup failed: %s", port, q,
			       rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		SK_LOG(ERR, "port %u: start failed: %s", port, rte_strerror(-rc));
		return -1;
	}
	/* A bump in the wire forwards every frame, whatever its destination MAC. */
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0 && rc != -ENOTSUP)
		SK_LOG(WARNING, "port %u: promiscuous mode refused: %s", port, rte_strerror(-rc));
	SK_LOG(INFO, "port %u (%s): %u queue(s), %u/%u descriptors, RSS %s", port, info.driver_name,
	       n_queues, nb_rxd, nb_txd, conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off");
	return 0;
}

void sk_ports_close(struct sk_app *app)
{
	int side;

	for (side = 0; side < SK_SIDE_COUNT; side++) {
		uint16_t port = app->port_id[side];

		if (!rte_eth_dev_is_valid_port(port))
			continue;
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
}
