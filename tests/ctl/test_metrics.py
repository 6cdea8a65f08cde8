# SPDX-License-Identifier: BSD-3-Clause
"""Prometheus metrics (metrics_listen): a real scrape checked by promtool and against
`show stats`, clients that never send or never read, 100 connections at once, and no
listener by default. One case per meson test: test_metrics.py SIPKEEP SIPKEEPCTL CASE."""

import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest import checks
from sktest.checks import Failure, check
from sktest.daemon import Daemon

SKIP = 77
# control/metrics.h
MAX_CLIENTS = 16
REQUEST_TIMEOUT = 5.0
REPLY_TIMEOUT = 10.0

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(sipkeep, sipkeepctl, name):
    port = free_port()
    d = Daemon.with_socket(sipkeep, sipkeepctl, name,
                           cfg_extra="metrics_listen = 127.0.0.1:%d\n" % port)
    d.metrics_port = port
    d.start()
    return d


def scrape(d, timeout=10):
    """GET /metrics: (status, content type, body text)."""
    url = "http://127.0.0.1:%d/metrics" % d.metrics_port
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def parse(text):
    """{(name, labels): value} plus {family: type}; every sample has HELP and TYPE."""
    samples, types, helps = {}, {}, set()
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split()
            types[fam] = typ
            continue
        check(not line.startswith("#"), "unexpected comment %r" % line)
        m = SAMPLE.match(line)
        check(m is not None, "not a sample line: %r" % line)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        check(name in types and name in helps, "%s without TYPE or HELP" % name)
        samples[(name, labels)] = float(value)
    return samples, types


def value(samples, name, labels=""):
    check((name, labels) in samples, "no sample %s%s" % (name, labels))
    return samples[(name, labels)]


def case_scrape(sipkeep, sipkeepctl):
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIP: promtool not found (Debian package prometheus; scripts/install-deps.sh)")
        raise SystemExit(SKIP)
    d = start(sipkeep, sipkeepctl, "metrics-scrape")
    try:
        # net_null receives endlessly: wait until the workers have counted traffic.
        deadline = time.time() + 20
        while d.request("show stats")["ports"]["access"]["rx"] == 0:
            check(time.time() < deadline, "no traffic counted on net_null")
            time.sleep(0.1)
        before = d.request("show stats")
        status, ctype, body = scrape(d)
        after = d.request("show stats")
        check(status == 200, "status %d" % status)
        check(ctype == "text/plain; version=0.0.4; charset=utf-8", "Content-Type %r" % ctype)

        # The real scrape, through curl, checked by promtool (format and naming lint).
        curl = shutil.which("curl")
        if curl:
            r = subprocess.run([curl, "-sS", "-f", "http://127.0.0.1:%d/metrics" % d.metrics_port],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, "curl: rc %d %s" % (r.returncode, r.stderr))
            body_curl = r.stdout
        else:
            body_curl = body
        r = subprocess.run([promtool, "check", "metrics"], input=body_curl, capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, "promtool check metrics: rc %d\n%s%s"
              % (r.returncode, r.stdout, r.stderr))

        samples, types = parse(body)
        # Every counter of `show stats` is there, as a counter, between the two readings.
        for name, v in before["counters"].items():
            if name.endswith("_active"):
                continue
            fam = "sipkeep_%s_total" % name
            check(types.get(fam) == "counter", "%s: type %r" % (fam, types.get(fam)))
            got = value(samples, fam)
            check(v <= got <= after["counters"][name],
                  "%s = %d, show stats said %d then %d" % (fam, got, v, after["counters"][name]))
        for side in ("access", "core"):
            for c in ("rx", "tx", "tx_dropped"):
                got = value(samples, "sipkeep_port_%s_total" % c, '{port="%s"}' % side)
                lo, hi = before["ports"][side][c], after["ports"][side][c]
                check(lo <= got <= hi, "port %s %s = %d, show stats %d..%d"
                      % (side, c, got, lo, hi))
            check(value(samples, "sipkeep_port_rx_total", '{port="%s"}' % side) > 0,
                  "no traffic in the metrics")
            for c in ("rx_missed", "rx_nombuf", "rx_errors", "tx_errors"):
                value(samples, "sipkeep_port_%s_total" % c, '{port="%s"}' % side)
        for reason, v in before["sip_parse_error_reasons"].items():
            got = value(samples, "sipkeep_sip_parse_errors_by_reason_total",
                        '{reason="%s"}' % reason)
            check(v <= got <= after["sip_parse_error_reasons"][reason], "reason %s" % reason)
        for i, w in enumerate(before["workers"]):
            wa = after["workers"][i]
            lab = '{worker="%d"}' % i
            for c in ("busy_cycles", "idle_cycles"):
                got = value(samples, "sipkeep_worker_%s_total" % c, lab)
                check(w[c] <= got <= wa[c], "worker %d %s" % (i, c))
            check(value(samples, "sipkeep_worker_polls_total", lab) > 0, "worker %d polls" % i)
            check(value(samples, "sipkeep_worker_info",
                        '{worker="%d",lcore="%d",queue="%d"}' % (i, w["lcore"], w["queue"])) == 1,
                  "worker_info")
            for side in ("access", "core"):
                for c in ("rx", "tx", "tx_dropped"):
                    got = value(samples, "sipkeep_worker_port_%s_total" % c,
                                '{worker="%d",port="%s"}' % (i, side))
                    check(w[side][c] <= got <= wa[side][c], "worker %d %s %s" % (i, side, c))
        # Table usage: the gauges of `show stats`, and the capacities of `show config`.
        cfg = d.request("show config")["config"]
        for table, gauge, cap in (("users", "users_active", cfg["max_users"]),
                                  ("dialogs", "dialogs_active", cfg["max_dialogs"]),
                                  ("flows", "streams_active", 2 * cfg["max_streams"])):
            lab = '{table="%s"}' % table
            check(types["sipkeep_table_in_use"] == "gauge", "table_in_use type")
            check(value(samples, "sipkeep_table_in_use", lab) == before["counters"][gauge],
                  "table_in_use %s" % table)
            check(value(samples, "sipkeep_table_capacity", lab) == cap, "capacity %s" % table)
        check(value(samples, "sipkeep_uptime_seconds") > 0, "uptime")
        check(value(samples, "sipkeep_metrics_connections") == 1, "metrics_connections")
        served = value(samples, "sipkeep_metrics_requests_served_total")
        check(served == 1, "requests_served %d, expected 1 (this one)" % served)
        check(cfg["metrics_listen"] == "127.0.0.1:%d" % d.metrics_port, "show config")

        # Other paths and methods.
        for method, path, code in (("GET", "/", 404), ("GET", "/metricsx", 404),
                                   ("POST", "/metrics", 405), ("HEAD", "/metrics", 405),
                                   ("GET", "/metrics?x=1", 200)):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.metrics_port, path),
                                         method=method, data=b"x" if method == "POST" else None)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    got = r.status
            except urllib.error.HTTPError as e:
                got = e.code
            check(got == code, "%s %s: %d, expected %d" % (method, path, got, code))
        s = socket.create_connection(("127.0.0.1", d.metrics_port), timeout=10)
        s.sendall(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n")
        check(s.recv(100).startswith(b"HTTP/1.1 431"), "oversized request not refused")
        s.close()
        samples, _ = parse(scrape(d)[2])
        check(value(samples, "sipkeep_metrics_requests_bad_total") == 5, "requests_bad")
        d.stop_clean()
    finally:
        d.cleanup()


def closed_by_peer(s, timeout):
    """Read until the server closes: the seconds it took, or None if still open."""
    t0 = time.time()
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.time() - t0


def case_slow_client(sipkeep, sipkeepctl):
    d = start(sipkeep, sipkeepctl, "metrics-slow")
    try:
        t0 = time.time()
        silent = socket.create_connection(("127.0.0.1", d.metrics_port), timeout=10)
        partial = socket.create_connection(("127.0.0.1", d.metrics_port), timeout=10)
        partial.sendall(b"GET /metr")
        # Asks, then never reads: with a tiny receive window (and the server's small send
        # buffer, SK_METRICS_SNDBUF) the reply cannot all be taken.
        reader = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        reader.connect(("127.0.0.1", d.metrics_port))
        reader.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")

        # Meanwhile the daemon answers: scrapes and the control socket, promptly.
        for _ in range(5):
            t = time.time()
            status, _, body = scrape(d, timeout=3)
            check(status == 200 and "sipkeep_port_rx_total" in body, "scrape during slow clients")
            check(time.time() - t < 2, "scrape took %.1f s" % (time.time() - t))
            check(d.request("show stats", timeout=3).get("ok"), "show stats")
            time.sleep(0.3)
        samples, _ = parse(body)
        # The two idle ones, this scrape, and the non-reader unless its reply fit in buffers.
        check(value(samples, "sipkeep_metrics_connections") in (3, 4),
              "connections %d, expected 3 or 4" % value(samples, "sipkeep_metrics_connections"))

        # The two that never finished a request: cut off at the request timeout.
        for name, s in (("silent", silent), ("partial", partial)):
            left = REQUEST_TIMEOUT + 3 - (time.time() - t0)
            took = closed_by_peer(s, max(left, 0.1))
            check(took is not None, "%s client not cut off within %.0f s"
                  % (name, REQUEST_TIMEOUT + 3))
            check(time.time() - t0 >= REQUEST_TIMEOUT - 0.5, "%s client cut off after %.1f s"
                  % (name, time.time() - t0))
            s.close()
        # The one that does not read: gone after the reply timeout.
        deadline = t0 + REQUEST_TIMEOUT + REPLY_TIMEOUT + 5
        while True:
            samples, _ = parse(scrape(d, timeout=3)[2])
            if value(samples, "sipkeep_metrics_connections") == 1:
                break
            check(time.time() < deadline, "the client that never reads is still connected")
            time.sleep(0.5)
        gone = time.time() - t0
        check(gone >= REPLY_TIMEOUT - 0.5, "the non-reader was cut off after %.1f s, before the "
              "reply timeout (%.0f s)" % (gone, REPLY_TIMEOUT))
        # It got the start of the reply (what the buffers hold), never all of it.
        got = b""
        reader.settimeout(5)
        try:
            while True:
                chunk = reader.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        reader.close()
        head, _, body = got.partition(b"\r\n\r\n")
        m = re.search(rb"Content-Length: (\d+)", head)
        check(head.startswith(b"HTTP/1.1 200 OK") and m is not None and len(body) < int(m.group(1)),
              "the non-reader got %d bytes of the reply: %r" % (len(body), head[:200]))
        check(value(samples, "sipkeep_metrics_connections_timed_out_total") == 3,
              "timed_out counter %d, expected 3"
              % value(samples, "sipkeep_metrics_connections_timed_out_total"))
        check(d.request("show stats").get("ok"), "show stats after")
        d.stop_clean()
    finally:
        d.cleanup()


def one_client(port):
    """One scrape over a raw socket: 'served', 'refused' (503 or closed), or an error."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    buf = b""
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (ConnectionResetError, BrokenPipeError):
        if buf == b"" or buf.startswith(b"HTTP/1.1 503"):
            return "refused"
        return "reset after %r" % buf[:100]
    except OSError as e:
        return "error %r" % e
    finally:
        s.close()
    if buf == b"" or buf.startswith(b"HTTP/1.1 503 "):
        return "refused"
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", head)
    if head.startswith(b"HTTP/1.1 200 OK") and m and int(m.group(1)) == len(body) \
            and body.endswith(b"\n"):
        return "served"
    return "bad reply %r" % buf[:200]


def case_many_connections(sipkeep, sipkeepctl):
    d = start(sipkeep, sipkeepctl, "metrics-many")
    try:
        n = 100
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
            results = list(ex.map(lambda _: one_client(d.metrics_port), range(n)))
        served = results.count("served")
        refused = results.count("refused")
        check(served + refused == n, "not all served or refused: %r"
              % [r for r in results if r not in ("served", "refused")][:5])
        check(served >= 1, "none served")
        samples, _ = parse(scrape(d)[2])
        check(value(samples, "sipkeep_metrics_requests_served_total") == served + 1,
              "served counter %d, clients saw %d (+1)"
              % (value(samples, "sipkeep_metrics_requests_served_total"), served))
        check(value(samples, "sipkeep_metrics_connections_refused_total") == refused,
              "refused counter %d, clients saw %d"
              % (value(samples, "sipkeep_metrics_connections_refused_total"), refused))
        check(value(samples, "sipkeep_metrics_connections") == 1, "connections left open")
        check(d.request("show stats").get("ok"), "show stats after")
        print("100 at once: %d served, %d refused" % (served, refused))
        d.stop_clean()
    finally:
        d.cleanup()


def tcp_listeners(pid):
    """Inodes of the TCP sockets in LISTEN state that process PID holds."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().split("\n")[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and cols[9] in inodes:
                found.append(cols[1])
    return found


def case_off_by_default(sipkeep, sipkeepctl):
    d = Daemon.with_socket(sipkeep, sipkeepctl, "metrics-off")
    try:
        d.start()
        check(d.request("show config")["config"]["metrics_listen"] == "",
              "metrics_listen not empty by default")
        check(tcp_listeners(d.proc.pid) == [], "a TCP listener: %r" % tcp_listeners(d.proc.pid))
        check("metrics:" not in d.output(), "log mentions metrics: %s" % d.output())
        d.stop_clean()
    finally:
        d.cleanup()
    # A malformed address: refused at start, naming the key.
    for bad in ("localhost:9100", "127.0.0.1", "127.0.0.1:0", "::1:9100", "[::1]9100"):
        d = Daemon.with_socket(sipkeep, sipkeepctl, "metrics-bad",
                               cfg_extra="metrics_listen = %s\n" % bad)
        try:
            d.start(wait=False)
            rc = d.wait(60)
            check(rc != 0 and "metrics_listen" in d.output(),
                  "metrics_listen = %s: rc %r\n%s" % (bad, rc, d.output()[-1000:]))
        finally:
            d.cleanup()
    # An address in use: refused at start, naming the key; the control socket is removed.
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    d = Daemon.with_socket(sipkeep, sipkeepctl, "metrics-busy",
                           cfg_extra="metrics_listen = 127.0.0.1:%d\n" % busy.getsockname()[1])
    try:
        d.start(wait=False)
        rc = d.wait(60)
        check(rc != 0 and "metrics_listen" in d.output() and "in use" in d.output(),
              "metrics_listen on a port in use: rc %r\n%s" % (rc, d.output()[-1000:]))
        check(not os.path.exists(d.sock), "control socket left behind")
    finally:
        d.cleanup()
        busy.close()


CASES = {
    "scrape": case_scrape,
    "slow_client": case_slow_client,
    "many_connections": case_many_connections,
    "off_by_default": case_off_by_default,
}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print("usage: %s SIPKEEP SIPKEEPCTL %s" % (sys.argv[0], "|".join(CASES)),
              file=sys.stderr)
        raise SystemExit(2)
    checks.print_ok = False
    try:
        CASES[sys.argv[3]](os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
    except Failure:
        raise SystemExit(1)
    print("PASS")


if __name__ == "__main__":
    main()
