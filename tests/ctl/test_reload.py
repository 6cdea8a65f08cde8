# SPDX-License-Identifier: BSD-3-Clause
"""Config reload on a live daemon while net_null traffic flows: `sipkeepctl reload`
and SIGHUP read the --config file again. One case per run (the third argument):
  reload_good_file: a key settable at run time changes, visible in `show config`;
  reload_bad_file_changes_nothing: an error names the file, line and key, and
    nothing changes, not even the good keys before the bad line;
  reload_restart_key_listed: a key read at start only is listed as needing a
    restart and keeps its value;
  reload_by_sighup: kill -HUP, then `show config` shows the new value."""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest import checks
from sktest.checks import Failure, check
from sktest.daemon import Daemon


def rx_total(d):
    p = d.request("show stats")["ports"]
    return p["access"]["rx"] + p["core"]["rx"]


def check_forwarding(d, what):
    """Traffic still flows: the ports' rx counters keep rising."""
    a = rx_total(d)
    deadline = time.time() + 10
    while rx_total(d) <= a:
        check(time.time() < deadline, "no frame received in 10 s %s" % what, d.output())
        time.sleep(0.05)


def write_cfg(d, body):
    with open(d.cfg, "w") as f:
        f.write("# rewritten by test_reload\ncontrol_socket = %s\n%s" % (d.sock, body))


def config(d):
    return d.request("show config")["config"]


def wait_log(d, text, timeout=10):
    deadline = time.time() + timeout
    while text not in d.output():
        check(time.time() < deadline, "log line %r not seen" % text, d.output())
        time.sleep(0.05)


def good_file(d):
    before = config(d)
    check(before["persist_window_ms"] == 12000, "persist_window_ms at start: %r" % before)
    write_cfg(d, "persist_window_ms = 5000\ncallinfo_policy = strip\n")
    r = d.ctl_json("reload")
    check(r.get("ok") is True and r["file"] == d.cfg, "reload reply %r" % r)
    changed = {c["key"]: (c["old"], c["new"]) for c in r["changed"]}
    check(changed == {"persist_window_ms": (12000, 5000),
                      "callinfo_policy": ("registered", "strip")},
          "changed %r" % r["changed"])
    check(r["needs_restart"] == [], "needs_restart %r" % r["needs_restart"])
    after = config(d)
    check(after["persist_window_ms"] == 5000 and after["callinfo_policy"] == "strip",
          "show config after reload %r" % after)
    check_forwarding(d, "after reload")
    wait_log(d, "reload: persist_window_ms changed from 12000 to 5000")
    # The same file again: nothing changes.
    r = d.ctl_json("reload")
    check(r["changed"] == [] and r["needs_restart"] == [], "second reload %r" % r)
    # The human form goes through sipkeepctl too.
    p = d.ctl("reload")
    check(p.returncode == 0, "sipkeepctl reload: rc %d %r" % (p.returncode, p.stderr))


def bad_file(d):
    before = config(d)
    write_cfg(d, "persist_window_ms = 5000\n# a comment\nmedia_silence_ms = lots\n")
    r = d.request("reload")
    check("error" in r and "ok" not in r, "reload of a bad file: %r" % r)
    msg = r["error"]
    # Line 5: the header comment, control_socket, persist_window_ms, the comment, then it.
    for w in (d.cfg + ":5:", "media_silence_ms", "nothing changed"):
        check(w in msg, "error %r does not name %r" % (msg, w))
    check(config(d) == before, "show config changed by a bad file: %r" % config(d))
    wait_log(d, "media_silence_ms")
    p = d.ctl("reload")
    check(p.returncode != 0 and "media_silence_ms" in p.stderr + p.stdout,
          "sipkeepctl reload of a bad file: rc %d %r %r" % (p.returncode, p.stdout, p.stderr))
    # An unknown key is an error too, named with its line.
    write_cfg(d, "no_such_key = 1\n")
    r = d.request("reload")
    check("error" in r and d.cfg + ":3:" in r["error"] and "no_such_key" in r["error"],
          "unknown key: %r" % r)
    # A file that went away.
    os.unlink(d.cfg)
    r = d.request("reload")
    check("error" in r and d.cfg in r["error"], "missing file: %r" % r)
    check(config(d) == before, "show config changed: %r" % config(d))
    check_forwarding(d, "after failed reloads")
    write_cfg(d, "")


def restart_key(d):
    before = config(d)
    check(before["max_users"] == 16384, "max_users at start %r" % before["max_users"])
    write_cfg(d, "max_users = 1024\nmedia_silence_ms = 750\n")
    r = d.ctl_json("reload")
    check(r["needs_restart"] == [{"key": "max_users", "running": 16384, "file": 1024}],
          "needs_restart %r" % r["needs_restart"])
    check([c["key"] for c in r["changed"]] == ["media_silence_ms"], "changed %r" % r["changed"])
    after = config(d)
    check(after["max_users"] == 16384 and after["media_silence_ms"] == 750,
          "show config %r" % after)
    wait_log(d, "max_users is 1024")
    check_forwarding(d, "after reload")


def by_sighup(d):
    write_cfg(d, "scanner_action = drop\npersist_window_ms = 7000\n")
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while config(d)["persist_window_ms"] != 7000:
        check(time.time() < deadline, "SIGHUP: persist_window_ms unchanged", d.output())
        time.sleep(0.05)
    check(config(d)["scanner_action"] == "drop", "SIGHUP: scanner_action %r" % config(d))
    wait_log(d, "reload: SIGHUP received")
    check_forwarding(d, "after SIGHUP")
    # A bad file on SIGHUP: logged, nothing changes, the daemon runs on.
    write_cfg(d, "persist_window_ms = -3\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_log(d, d.cfg + ":3:")
    check(config(d)["persist_window_ms"] == 7000, "bad file on SIGHUP changed a key")
    check_forwarding(d, "after a bad SIGHUP")


CASES = {
    "reload_good_file": good_file,
    "reload_bad_file_changes_nothing": bad_file,
    "reload_restart_key_listed": restart_key,
    "reload_by_sighup": by_sighup,
}


def run(sipkeep, sipkeepctl, case):
    d = Daemon.with_socket(sipkeep, sipkeepctl, "reload-" + case.split("_")[1])
    try:
        d.start()
        check_forwarding(d, "at start")
        CASES[case](d)
        d.stop_clean()
    finally:
        d.cleanup()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print("usage: %s SIPKEEP SIPKEEPCTL CASE (%s)" % (sys.argv[0], ", ".join(CASES)),
              file=sys.stderr)
        raise SystemExit(2)
    checks.print_ok = False
    try:
        run(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3])
    except Failure:
        raise SystemExit(1)
    print("PASS")
