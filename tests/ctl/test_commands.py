# SPDX-License-Identifier: BSD-3-Clause
"""Every control command through sipkeepctl (tables and --json) and through raw socket writes,
runtime settings followed by show config, and the errors bad commands get."""

import json
import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest.checks import check, fail
from sktest.daemon import Daemon, LineReader, check_error, check_frames, main

SHOW = ["show stats", "show ports", "show workers", "show config", "show tables", "show redis"]
SHOW_SESSION = ["show users", "show user", "show calls"]
SETTABLE = {"callinfo_policy", "scanner_action", "persist_window_ms", "media_silence_ms"}


def check_stats(r):
    check(r.get("ok") is True, "show stats: %r" % r)
    check(r["mode"] == "live", "mode %r" % r["mode"])
    for side in ("access", "core"):
        for c in ("rx", "tx", "tx_dropped"):
            check(isinstance(r["ports"][side][c], int), "ports.%s.%s missing" % (side, c))
    check(isinstance(r["counters"]["sip_messages"], int), "counters.sip_messages missing")
    check(len(r["workers"]) >= 1, "no workers in show stats")
    for w in r["workers"]:
        check(isinstance(w["lcore"], int) and isinstance(w["access"]["rx"], int),
              "worker entry incomplete: %r" % w)


def check_ports(r):
    check(r.get("ok") is True, "show ports: %r" % r)
    sides = [p["side"] for p in r["ports"]]
    check(sides == ["access", "core"], "ports sides %r" % sides)
    for p in r["ports"]:
        check(p["driver"] == "net_null", "driver %r" % p.get("driver"))
        check(isinstance(p["port_id"], int) and p["rx_queues"] >= 1 and p["tx_queues"] >= 1,
              "port ids/queues: %r" % p)
        check(isinstance(p["link_up"], bool), "link_up: %r" % p)
        check(len(p["mac"].split(":")) == 6, "mac %r" % p["mac"])
        for k in ("ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf"):
            check(isinstance(p["stats"][k], int), "stats.%s missing" % k)
    check(r["ports"][0]["port_id"] != r["ports"][1]["port_id"], "two distinct ports")


def check_workers(r):
    check(r.get("ok") is True, "show workers: %r" % r)
    check(r["tsc_hz"] > 0, "tsc_hz")
    check(len(r["workers"]) >= 1, "no workers")
    for w in r["workers"]:
        for k in ("worker", "lcore", "queue", "polls", "busy_cycles", "idle_cycles", "rx", "tx"):
            check(isinstance(w[k], int), "workers[].%s missing: %r" % (k, w))
        check(0 <= w["busy_pct"] <= 100, "busy_pct %r" % w["busy_pct"])
        check(w["polls"] > 0, "worker never polled")


def check_config(r):
    check(r.get("ok") is True, "show config: %r" % r)
    cfg = r["config"]
    for k in ("persist_window_ms", "media_silence_ms", "callinfo_policy", "sip_ports",
              "access_prefixes", "control_socket"):
        check(k in cfg, "show config lacks %s" % k)
    check(set(r["runtime_settable"]) == SETTABLE, "runtime_settable %r" % r["runtime_settable"])
    return cfg


def check_redis(r):
    check(r.get("ok") is True and r.get("configured") is False, "show redis without redis: %r" % r)


CHECKS = {"show stats": check_stats, "show ports": check_ports,
          "show workers": check_workers, "show config": check_config, "show redis": check_redis}


def test_client_without_daemon(d):
    missing = os.path.join(d.tmp, "nobody-here.sock")
    r = d.ctl("show", "stats", sock=missing)
    check(r.returncode == 3, "no daemon: rc %d" % r.returncode)
    check(r.stderr.strip() == "sipkeepctl: cannot connect to %s: No such file or directory "
          "(is sipkeep running?)" % missing, "no daemon: message %r" % r.stderr)
    check(r.stdout == "", "no daemon: nothing on stdout")
    # A socket file nobody listens on.
    stale = os.path.join(d.tmp, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    r = d.ctl("help", sock=stale)
    check(r.returncode == 3 and "Connection refused" in r.stderr, "stale socket: %r" % r.stderr)

    r = subprocess.run([d.sipkeepctl, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.startswith("Usage:"), "--help: %r" % r.stdout[:100])
    r = subprocess.run([d.sipkeepctl], capture_output=True, text=True)
    check(r.returncode == 2 and "Usage:" in r.stderr, "no command: rc %d" % r.returncode)
    r = subprocess.run([d.sipkeepctl, "--bogus", "help"], capture_output=True, text=True)
    check(r.returncode == 2, "bad option: rc %d" % r.returncode)


def test_show_commands(d):
    for cmd in SHOW + ["help"]:
        words = cmd.split()
        # JSON through sipkeepctl and through a raw socket: same shape.
        via_ctl = d.ctl_json(*words)
        via_sock = d.request(cmd)
        if cmd in CHECKS:
            CHECKS[cmd](via_ctl)
            CHECKS[cmd](via_sock)
        check(list(via_ctl.keys()) == list(via_sock.keys()),
              "%s: sipkeepctl and socket replies differ: %r vs %r"
              % (cmd, list(via_ctl), list(via_sock)))
        # Human output: a table, exit 0, nothing on stderr.
        r = d.ctl(*words)
        check(r.returncode == 0 and r.stderr == "", "%s: rc %d stderr %r"
              % (cmd, r.returncode, r.stderr))
        lines = r.stdout.splitlines()
        check(len(lines) >= 3, "%s: table too short: %r" % (cmd, r.stdout))
        check(all(line == line.rstrip() for line in lines), "%s: trailing blanks" % cmd)

    # Table contents follow the JSON.
    r = d.ctl("show", "config")
    rows = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()[1:]
            if line.strip() and not line.startswith("*")}
    check(rows["persist_window_ms"][0] == str(d.ctl_json("show", "config")["config"]
                                              ["persist_window_ms"]), "config table value")
    check(rows["media_silence_ms"][-1] == "*", "settable keys are marked")
    r = d.ctl("show", "workers")
    header = r.stdout.splitlines()[2].split()
    check(header[:3] == ["WORKER", "LCORE", "QUEUE"] and "BUSY_PCT" in header,
          "workers table header %r" % header)
    r = d.ctl("show", "stats")
    check(any(line.split()[:1] == ["frames_non_ip"] for line in r.stdout.splitlines()),
          "stats table lists counters")

    h = d.request("help")
    names = [c["command"] for c in h["commands"]]
    for cmd in SHOW + SHOW_SESSION + ["flush user", "set callinfo_policy", "set persist_window_ms",
                                      "set media_silence_ms"]:
        check(cmd in names, "help does not list %s" % cmd)
    for c in h["commands"]:
        check(c["help"], "no help text for %s" % c["command"])
    h = d.request("help show")
    check(sorted(c["command"] for c in h["commands"]) == sorted(SHOW + SHOW_SESSION), "help show: %r" % h)

    # Command words are case-insensitive; CRLF and tabs are fine.
    check_stats(d.request("SHOW Stats"))
    check_stats(d.request(b"show\tstats\r"))


def test_set(d):
    before = d.ctl_json("show", "config")["config"]
    cases = [("persist_window_ms", "5000", 5000), ("media_silence_ms", "750", 750),
             ("callinfo_policy", "strip", "strip"), ("callinfo_policy", "pass", "pass"),
             ("scanner_action", "drop", "drop"), ("scanner_action", "count", "count")]
    for key, text, value in cases:
        prev = d.ctl_json("show", "config")["config"][key]
        r = d.ctl_json("set", key, text)
        check(r == {"ok": True, "key": key, "value": value, "previous": prev},
              "set %s %s: %r" % (key, text, r))
        cfg = d.request("show config")["config"]
        check(cfg[key] == value, "show config %s = %r after set, expected %r"
              % (key, cfg[key], value))
    # Through the raw socket too, and the human form.
    r = d.request("set persist_window_ms 12001")
    check(r.get("ok") and r["value"] == 12001 and r["previous"] == 5000, "raw set: %r" % r)
    r = d.ctl("set", "media_silence_ms", "2000")
    check(r.returncode == 0 and r.stdout.strip() == "media_silence_ms = 2000 (was 750)",
          "human set: %r" % r.stdout)
    after = d.ctl_json("show", "config")["config"]
    changed = {k for k in before if before[k] != after[k]}
    check(changed <= SETTABLE, "set changed other keys: %r" % changed)
    check(after["persist_window_ms"] == 12001 and after["callinfo_policy"] == "pass",
          "final settings %r" % after)


def test_errors(d):
    cfg = d.request("show config")["config"]
    bad = [
        ("bogus", ["unknown command", "'bogus'", "help"]),
        ("show bogus", ["unknown command", "'show bogus'", "stats", "config"]),
        ("show", ["incomplete command", "stats", "ports", "workers", "config"]),
        ("set", ["incomplete command", "callinfo_policy", "media_silence_ms"]),
        ("set bogus 1", ["unknown command", "'set bogus 1'", "persist_window_ms"]),
        ("show stats now", ["'show stats'", "no argument", "'now'"]),
        ("set media_silence_ms", ["'set media_silence_ms'", "needs", "N"]),
        ("set media_silence_ms abc", ["media_silence_ms", "'abc'", "not a number"]),
        ("set media_silence_ms -5", ["media_silence_ms", "'-5'", "not a number"]),
        ("set media_silence_ms 1", ["media_silence_ms", "out of range", "[50, 600000]"]),
        ("set persist_window_ms 99999999999999999999", ["persist_window_ms", "not a number"]),
        ("set persist_window_ms 1 2", ["'set persist_window_ms'", "unexpected argument", "'2'"]),
        ("set callinfo_policy nope", ["callinfo_policy", "'nope'", "registered", "strip"]),
        ("set max_users 5", ["unknown command", "'set max_users 5'"]),
        ("help nothing", ["no command", "'nothing'"]),
        ("show users abc", ["'abc'", "not a count"]),
        ("show users 0", ["'0'", "not a count"]),
        ("show calls -1", ["'-1'", "not a count"]),
        ("show user", ["'show user'", "needs", "AOR"]),
        ("show user nobody@example.com", ["no user", "'nobody@example.com'"]),
        ("flush user nobody@example.com", ["no user", "'nobody@example.com'"]),
        (" ".join(["w"] * 40), ["more than 32 words"]),
    ]
    for line, words in bad:
        check_error(d.request(line), *words)
        # sipkeepctl: message on stderr, exit 1; --json: the reply on stdout, exit 1.
        r = d.ctl(*line.split())
        check(r.returncode == 1 and r.stdout == "" and r.stderr.startswith("sipkeepctl: "),
              "sipkeepctl %s: rc %d out %r err %r" % (line, r.returncode, r.stdout, r.stderr))
        r = d.ctl(*line.split(), json_out=True)
        check(r.returncode == 1, "sipkeepctl --json %s: rc %d" % (line, r.returncode))
        check_error(json.loads(r.stdout), *words[:1])
    check(d.request("show config")["config"] == cfg, "failed sets changed the config")


def test_session_commands(d):
    # net_null carries no SIP: the tables are empty, and say so in the documented shape.
    u = d.request("show users")
    check(u.get("ok") is True and u["users"] == [] and u["users_active"] == 0 and u["truncated"] is False,
          "show users (empty): %r" % u)
    c = d.request("show calls 5")
    check(c.get("ok") is True and c["calls"] == [] and c["dialogs_active"] == 0 and c["streams_active"] == 0,
          "show calls (empty): %r" % c)
    r = d.ctl("show", "users")
    check(r.returncode == 0, "sipkeepctl show users: rc %d err %r" % (r.returncode, r.stderr))


def test_connection_behaviour(d):
    # Several commands in one write: replies in order, one line each.
    s = d.connect()
    rd = LineReader(s)
    s.sendall(b"help\nshow stats\n\n   \nshow config\nbogus\nshow workers\n")
    check("commands" in rd.reply(), "pipelined 1")
    check_stats(rd.reply())
    check_config(rd.reply())
    check_error(rd.reply(), "bogus")
    check_workers(rd.reply())
    # Blank lines got no reply: nothing more is waiting.
    s.settimeout(0.3)
    try:
        extra = s.recv(100)
        fail("unexpected bytes after the replies: %r" % extra)
    except socket.timeout:
        pass
    # The connection stays usable, byte by byte too.
    s.settimeout(5)
    for b in b"show ports\n":
        s.send(bytes([b]))
    check_ports(rd.reply())
    s.close()

    # A last command without a newline, then half-close: answered, then EOF.
    s = d.connect()
    s.sendall(b"show config")
    s.shutdown(socket.SHUT_WR)
    rd = LineReader(s)
    replies, rest = rd.read_to_end()
    check(len(replies) == 1 and rest == b"", "half-close: %r %r" % (replies, rest))
    check_config(replies[0])
    s.close()


def test_config_keys(d):
    """Each key is declared once (control/config.c): sipkeep --help lists it once, show config
    has exactly those keys, and only the keys settable at run time have a set command."""
    r = subprocess.run([d.binary, "--help"], capture_output=True, text=True)
    check(r.returncode == 0, "sipkeep --help: rc %d" % r.returncode)
    keys = [line.split()[0] for line in r.stdout.splitlines() if re.match(r"  \w+ = ", line)]
    check(len(keys) == len(set(keys)), "sipkeep --help lists a key twice: %r" % keys)
    r = d.request("show config")
    check(list(r["config"]) == keys, "show config keys %r, --help keys %r" % (list(r["config"]), keys))
    check(set(r["runtime_settable"]) <= set(keys), "runtime_settable %r" % r["runtime_settable"])
    for key in keys:
        if key not in r["runtime_settable"]:
            check_error(d.request("set %s %s" % (key, r["config"][key])), "unknown command")
    out = subprocess.run([d.sipkeepctl, "--help"], capture_output=True, text=True).stdout
    listed = [line.split()[0] for line in out.splitlines() if re.match(r"    \w+ ", line)]
    check(listed == r["runtime_settable"], "sipkeepctl --help set keys %r" % listed)


def run(sipkeep, sipkeepctl):
    d = Daemon.with_socket(sipkeep, sipkeepctl, "commands")
    try:
        test_client_without_daemon(d)
        d.start()
        first = d.request("show stats")["ports"]["access"]["rx"]
        test_show_commands(d)
        test_config_keys(d)
        test_set(d)
        test_errors(d)
        test_session_commands(d)
        test_connection_behaviour(d)
        time.sleep(0.2)
        check(d.request("show stats")["ports"]["access"]["rx"] > first, "traffic stopped")
        final = d.stop_clean()
        check_frames(final)
        check(final["ports"]["access"]["rx"] > 0, "no traffic at all")
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
