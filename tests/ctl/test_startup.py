# SPDX-License-Identifier: BSD-3-Clause
"""The control socket's life: directory created 0750, socket 0660, a stale socket file
replaced, a second daemon on the same path refused, a non-socket path refused, the file
removed at exit."""

import os
import socket
import stat
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest.checks import check
from sktest.daemon import Daemon, main


def run_to_exit(d, timeout=60):
    """Start D expecting it to refuse: returns (rc, log)."""
    d.start(wait=False)
    try:
        rc = d.wait(timeout)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        d.wait(60)
        rc = None
    return rc, d.output()


def run(sipkeep, sipkeepctl):
    first = Daemon.with_socket(sipkeep, sipkeepctl, "startup", sock_rel="run/sipkeep/ctl.sock")
    others = []
    try:
        # A stale socket file where the directory will be: not possible (no directory yet),
        # so first check the directory creation and modes.
        check(not os.path.exists(os.path.dirname(first.sock)), "directory exists already")
        first.start()
        for dirpath in (os.path.dirname(first.sock), os.path.dirname(os.path.dirname(first.sock))):
            mode = stat.S_IMODE(os.stat(dirpath).st_mode)
            check(mode == 0o750, "%s has mode %o, expected 750" % (dirpath, mode))
        st = os.lstat(first.sock)
        check(stat.S_ISSOCK(st.st_mode), "not a socket")
        check(stat.S_IMODE(st.st_mode) == 0o660, "socket mode %o, expected 660"
              % stat.S_IMODE(st.st_mode))

        # A second daemon on the same socket path: refused, with a clear message, exit != 0.
        second = Daemon.with_socket(sipkeep, sipkeepctl, "startup2", sock_path=first.sock)
        others.append(second)
        rc, log = run_to_exit(second)
        check(rc is not None and rc != 0, "second daemon on a live socket: rc %r" % rc)
        check("another sipkeep is already answering there" in log and first.sock in log,
              "second daemon's message: %s" % log[-2000:])
        # The first one is unharmed and still owns the path.
        check(first.request("show config")["config"]["control_socket"] == first.sock,
              "first daemon no longer answers")
        check(os.lstat(first.sock).st_ino == st.st_ino, "socket file replaced")
        first.stop_clean()

        # A stale socket file (bound, never listened, closed): removed, daemon starts.
        stale = Daemon.with_socket(sipkeep, sipkeepctl, "startup3", sock_path=first.sock)
        others.append(stale)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(first.sock)
        s.close()
        check(os.path.exists(first.sock), "stale socket not created")
        stale.start()
        check("removed a stale socket file" in stale.output(), "stale removal not logged")
        check(stale.ctl_json("show", "stats")["ok"], "daemon over a stale socket answers")
        stale.stop_clean()

        # A regular file at the path: refused, the file left alone.
        with open(first.sock, "w") as f:
            f.write("not a socket\n")
        blocked = Daemon.with_socket(sipkeep, sipkeepctl, "startup4", sock_path=first.sock)
        others.append(blocked)
        rc, log = run_to_exit(blocked)
        check(rc is not None and rc != 0, "daemon over a regular file: rc %r" % rc)
        check("exists and is not a socket" in log, "message: %s" % log[-2000:])
        with open(first.sock) as f:
            check(f.read() == "not a socket\n", "the regular file was touched")
        os.unlink(first.sock)

        # A directory that cannot be created: refused, with the reason.
        bad = Daemon.with_socket(sipkeep, sipkeepctl, "startup5",
                     sock_path=os.path.join(first.tmp, "file", "sub", "s.sock"))
        others.append(bad)
        with open(os.path.join(first.tmp, "file"), "w"):
            pass
        rc, log = run_to_exit(bad)
        check(rc is not None and rc != 0, "daemon with an impossible directory: rc %r" % rc)
        check("cannot create directory" in log, "message: %s" % log[-2000:])
    finally:
        for d in others:
            d.cleanup()
        first.cleanup()


if __name__ == "__main__":
    main(run)
