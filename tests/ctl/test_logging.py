# SPDX-License-Identifier: BSD-3-Clause
"""sipkeep's log type "sipkeep" and its rate limit. One case per run (the third argument):
  log_debug_shown: a live daemon started with the EAL option --log-level=sipkeep:debug
    prints the debug line of each REGISTER answer;
  log_debug_hidden: without it (INFO, the default) the same traffic prints the INFO
    line of each new registration and no debug line;
  log_flood_limited: a replay of N forged REGISTER/200 pairs, each registering a new
    user, prints at most SK_LOG_RATE "registered from" lines per second, and the
    "suppressed" summary lines account for every other one."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from scapy.all import IP, UDP, Ether, Raw, wrpcap

from sktest import checks
from sktest.checks import Failure, check
from sktest.daemon import Daemon, run_sipkeep

REGISTRAR = "192.0.2.10"
RATE = 10  # SK_LOG_RATE in include/sk_log.h
REGISTERED = "registered from"
DEBUG_LINE = "REGISTER answered 200"


def message(first, ip, user, to_tag=""):
    hdrs = [first,
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-1;rport" % (ip, user),
            "From: <sip:%s@example.com>;tag=f-%s" % (user, user),
            "To: <sip:%s@example.com>%s" % (user, to_tag),
            "Call-ID: reg-%s" % user, "CSeq: 1 REGISTER",
            "Contact: <sip:%s@%s:5060>" % (user, ip),
            "Expires: 3600", "Content-Length: 0", "", ""]
    return "\r\n".join(hdrs).encode()


def phone_ip(i):
    return "10.1.%d.%d" % (i // 250, i % 250 + 1)


def pairs(n):
    """(REGISTERs from access, 200 OKs from core), one new user each."""
    eth_a = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    eth_c = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
    access, core = [], []
    for i in range(n):
        ip, user = phone_ip(i), "user%d" % i
        access.append(eth_a / IP(src=ip, dst=REGISTRAR) / UDP(sport=5060, dport=5060)
                      / Raw(message("REGISTER sip:example.com SIP/2.0", ip, user)))
        core.append(eth_c / IP(src=REGISTRAR, dst=ip) / UDP(sport=5060, dport=5060)
                    / Raw(message("SIP/2.0 200 OK", ip, user, ";tag=r")))
    return access, core


class LevelDaemon(Daemon):
    """A Daemon with EAL options of the test's own before the '--'."""

    eal_extra = []

    def argv(self):
        a = super().argv()
        i = a.index("--")
        return a[:i] + self.eal_extra + a[i:]


def live(sipkeep, sipkeepctl, eal_extra, n=3):
    """N registrations through a live daemon on net_pcap ports; returns its output."""
    d = LevelDaemon.with_socket(sipkeep, sipkeepctl, "log", vdevs=[],
                                cfg_extra="access_prefixes = 10.0.0.0/8\n")
    d.eal_extra = eal_extra
    try:
        access, core = pairs(n)
        a_in, c_in = os.path.join(d.tmp, "access-in.pcap"), os.path.join(d.tmp, "core-in.pcap")
        wrpcap(a_in, access)
        wrpcap(c_in, core)
        # Same count on both ports: each answer is read in the same poll as its REGISTER,
        # after it (the worker takes the access burst first).
        d.vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (a_in, os.path.join(d.tmp, "a-out.pcap")),
                   "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (c_in, os.path.join(d.tmp, "c-out.pcap"))]
        d.start()
        deadline = time.time() + 30
        while d.request("show users").get("users_active") != n:
            check(time.time() < deadline, "%d users registered" % n, d.output())
            time.sleep(0.1)
        d.stop_clean()
        return d.output()
    finally:
        d.cleanup()


def debug_shown(sipkeep, sipkeepctl):
    out = live(sipkeep, sipkeepctl, ["--log-level=sipkeep:debug"])
    check(out.count(DEBUG_LINE) == 3, "3 debug lines %r with --log-level=sipkeep:debug"
          % DEBUG_LINE, out)
    check(out.count(REGISTERED) == 3, "3 INFO lines %r" % REGISTERED, out)


def debug_hidden(sipkeep, sipkeepctl):
    out = live(sipkeep, sipkeepctl, [])
    check(out.count(REGISTERED) == 3, "3 INFO lines %r by default" % REGISTERED, out)
    check(DEBUG_LINE not in out, "no debug line by default", out)
    # A level below INFO hides the INFO lines too: the option names our type.
    out = live(sipkeep, sipkeepctl, ["--log-level=sipkeep:warning"])
    check(REGISTERED not in out, "--log-level=sipkeep:warning hides the INFO lines", out)


def flood(sipkeep, sipkeepctl):
    n = 300
    tmp = tempfile.mkdtemp(prefix="sk-logflood-")
    inp, outp, conf = (os.path.join(tmp, x) for x in ("in.pcap", "out.pcap", "sk.conf"))
    access, core = pairs(n)
    frames = []
    for i in range(n):  # the answer 1 ms after its REGISTER, the next pair 1 ms later
        access[i].time, core[i].time = 1700000000 + i * 0.002, 1700000000 + i * 0.002 + 0.001
        frames += [access[i], core[i]]
    wrpcap(inp, frames)
    with open(conf, "w") as f:
        f.write("access_prefixes = 10.0.0.0/8\n")
    t0 = time.monotonic()
    try:
        rc, out = run_sipkeep(sipkeep, ["--replay", inp, "--replay-out", outp, "--config", conf])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - t0
    check(rc == 0, "replay exits 0", out)
    shown = sum(1 for line in out.split("\n") if REGISTERED in line and "suppressed" not in line)
    suppressed = [int(m.group(1)) for m in re.finditer(
        r'suppressed (\d+) line\(s\) like "user %s%s%s: registered from', out)]
    check(suppressed, "a suppression summary", out[-3000:])
    # One window per started second of the run, and one more for a window cut by its end.
    most = RATE * (int(elapsed) + 2)
    check(shown <= most, "%d lines %r in %.1f s: at most %d" % (shown, REGISTERED, elapsed, most),
          out[-3000:])
    check(shown + sum(suppressed) == n, "%d shown + %d suppressed == %d registrations"
          % (shown, sum(suppressed), n), out[-3000:])


CASES = {"log_debug_shown": debug_shown, "log_debug_hidden": debug_hidden,
         "log_flood_limited": flood}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print("usage: %s SIPKEEP SIPKEEPCTL CASE (%s)" % (sys.argv[0], ", ".join(CASES)),
              file=sys.stderr)
        raise SystemExit(2)
    checks.print_ok = False
    try:
        CASES[sys.argv[3]](os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
    except Failure:
        raise SystemExit(1)
    print("PASS")
