# SPDX-License-Identifier: BSD-3-Clause
"""sipkeep's Python test library. meson puts tests/pylib on PYTHONPATH for every
Python test; scripts import the modules they need:

- sktest.checks:  check()/Failure (fatal), Check (a tally), Workdir, SKIP
- sktest.capture: pcap/pcapng reading and writing, the classification oracle
- sktest.daemon:  running sipkeep (replay and live), its control socket
- sktest.sipscen: SIP/RTP scenarios as captures, the standard calls and handovers
- sktest.replay:  a scenario through replay mode, and the frame model it is checked against

Run the tests with /usr/bin/python3 (Debian's, which has scapy); sipscen and
replay import scapy, the others do not.
"""
