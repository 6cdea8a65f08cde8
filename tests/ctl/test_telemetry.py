# SPDX-License-Identifier: BSD-3-Clause
"""DPDK telemetry: /sipkeep/stats, /sipkeep/workers, /sipkeep/config and /sipkeep/ports
through DPDK's own dpdk-telemetry.py, while the control socket is busy too."""

import json
import os
import shutil
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest.checks import check
from sktest.daemon import Daemon, main

SKIP = 77


def find_script():
    for p in (shutil.which("dpdk-telemetry.py"), "/usr/bin/dpdk-telemetry.py",
              "/usr/local/bin/dpdk-telemetry.py"):
        if p and os.path.exists(p):
            return p
    return None


def telemetry(script, prefix, commands):
    """Run dpdk-telemetry.py non-interactively: one JSON line per command."""
    r = subprocess.run([sys.executable, script, "-f", prefix], input="\n".join(commands) + "\n",
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "dpdk-telemetry.py: rc %d, stderr %s" % (r.returncode, r.stderr))
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    check(len(lines) == len(commands), "dpdk-telemetry.py printed %r" % r.stdout[:2000])
    out = {}
    for cmd, line in zip(commands, lines):
        doc = json.loads(line)
        key = cmd.split(",")[0]
        check(list(doc.keys()) == [key], "reply to %s: %r" % (cmd, line[:300]))
        out[cmd] = doc[key]
    return out


def run(sipkeep, sipkeepctl):
    script = find_script()
    if script is None:
        print("SKIP: dpdk-telemetry.py not found")
        raise SystemExit(SKIP)
    d = Daemon.with_socket(sipkeep, sipkeepctl, "telemetry")
    try:
        d.start()
        check(d.ctl_json("set", "media_silence_ms", "750")["value"] == 750, "set")
        check(d.ctl_json("set", "callinfo_policy", "pass")["value"] == "pass", "set")

        # Keep the control thread busy with socket commands meanwhile.
        stop = threading.Event()
        errors = []

        def hammer():
            while not stop.is_set():
                try:
                    if not d.request("show stats").get("ok"):
                        errors.append("bad reply")
                except Exception as e:
                    errors.append(repr(e))
                    return

        t = threading.Thread(target=hammer, daemon=True)
        t.start()
        cmds = ["/", "/sipkeep/stats", "/sipkeep/workers", "/sipkeep/config", "/sipkeep/ports",
                "/sipkeep/stats,extra", "/help,/sipkeep/stats"]
        first = telemetry(script, d.prefix, cmds)
        second = telemetry(script, d.prefix, ["/sipkeep/stats"] * 20)
        stop.set()
        t.join(10)
        check(not errors, "socket client failed while telemetry ran: %r" % errors)

        for c in ("/sipkeep/stats", "/sipkeep/workers", "/sipkeep/config", "/sipkeep/ports"):
            check(c in first["/"], "%s not registered: %r" % (c, first["/"]))
        st = first["/sipkeep/stats"]
        check(st["mode"] == "live", "stats mode %r" % st.get("mode"))
        for side in ("access", "core"):
            for k in ("rx", "tx", "tx_dropped"):
                check(isinstance(st["ports"][side][k], int), "stats ports.%s.%s" % (side, k))
        check(st["ports"]["access"]["rx"] > 0, "no traffic in telemetry counters")
        check(st["counters"]["frames_non_ip"] > 0, "frames_non_ip %r" % st["counters"])
        check("sip_messages" in st["counters"], "sip_messages missing")
        # Arrays of objects become dicts keyed by index (DPDK 22.11 telemetry nesting).
        check(st["workers"]["0"]["access"]["rx"] > 0, "per-worker counters %r" % st["workers"])
        later = second["/sipkeep/stats"]
        check(later["ports"]["access"]["rx"] >= st["ports"]["access"]["rx"], "counters went back")

        w = first["/sipkeep/workers"]
        check(w["tsc_hz"] > 0 and w["workers"]["0"]["polls"] > 0, "workers %r" % w)
        cfg = first["/sipkeep/config"]["config"]
        check(cfg["media_silence_ms"] == 750 and cfg["callinfo_policy"] == "pass",
              "telemetry config does not follow set: %r" % cfg)
        check(cfg["control_socket"] == d.sock, "control_socket %r" % cfg["control_socket"])
        ports = first["/sipkeep/ports"]["ports"]
        check(ports["0"]["side"] == "access" and ports["1"]["driver"] == "net_null",
              "ports %r" % ports)
        check("no argument" in first["/sipkeep/stats,extra"]["error"], "bad params: %r"
              % first["/sipkeep/stats,extra"])
        check(first["/help,/sipkeep/stats"]["/sipkeep/stats"], "help text")

        final = d.stop_clean()
        check(final["ports"]["access"]["rx"] > 0, "final counters")
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
