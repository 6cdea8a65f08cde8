#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The daemon live, on DPDK virtual devices (no NIC, no hugepages).

Cases (--case):
  pcap1    1 worker, two net_pcap ports fed with the generated mix: every frame
           leaves by the other port byte-identical and in order; counters
  pcap2    2 workers, 2 queues per port (one rx/tx pcap file per queue; net_pcap
           has no RSS): each direction's output is the input as a multiset, and
           each output queue is one input queue of the other port, in order
  null2    2 workers on net_null ports for ~2 s: rx on each side == tx + tx_dropped
           on the other, all non-zero
  sigint   SIGINT stops it cleanly: exit 0, counters written
  errors   --workers beyond the lcores, no worker lcore, a missing port, bad
           options and config: non-zero exit with a clear message

Progress is read from the daemon's periodic counter log (stats_interval_ms),
then SIGTERM stops it: net_pcap writes its tx files when the ports close.
"""

import os
import signal
import time

from sktest import capture
from sktest.checks import Check, Workdir
from sktest.daemon import (cleanup_runtime_dir, common_args, Daemon, file_prefix, load_json,
                           run_sipkeep, tail)

EAL_BASE = ["--no-huge", "-m", "512", "--no-pci"]


def lcores(n_workers):
    """-l 0-N, or pinned to the CPUs we have when there are fewer (oversubscribed)."""
    ncpu = os.cpu_count() or 1
    if ncpu > n_workers:
        return ["-l", f"0-{n_workers}"]
    cpus = f"(0-{ncpu - 1})" if ncpu > 1 else "0"
    return ["--lcores", ",".join(f"{i}@{cpus}" for i in range(n_workers + 1))]


def write_config(wd, extra=""):
    conf = os.path.join(wd, "live.conf")
    with open(conf, "w") as f:
        f.write("stats_interval_ms = 100\n"
                f"control_socket = {os.path.join(wd, 'ctl.sock')}\n"
                "callinfo_policy = pass\n"
                "sip_ports = 5060, 5080\n" + extra)
    return conf


def pcap_port(idx, rx_files, tx_files):
    args = ",".join([f"net_pcap{idx}"] + [f"rx_pcap={p}" for p in rx_files]
                    + [f"tx_pcap={p}" for p in tx_files])
    return ["--vdev", args]


def check_port_json(ck, what, stats, n_access, n_core):
    ports = stats.get("ports", {})
    a, c = ports.get("access", {}), ports.get("core", {})
    ck.eq(a.get("rx"), n_access, f"{what}: access rx")
    ck.eq(c.get("tx"), n_access, f"{what}: core tx (= access rx)")
    ck.eq(c.get("rx"), n_core, f"{what}: core rx")
    ck.eq(a.get("tx"), n_core, f"{what}: access tx (= core rx)")
    ck.eq(a.get("tx_dropped"), 0, f"{what}: access tx_dropped")
    ck.eq(c.get("tx_dropped"), 0, f"{what}: core tx_dropped")
    ck.ok(a.get("rx_nombuf", 0) == 0 and c.get("rx_nombuf", 0) == 0
          and a.get("rx_missed", 0) == 0 and c.get("rx_missed", 0) == 0,
          f"{what}: no rx_nombuf / rx_missed at the ports")
    ck.eq(stats.get("mode"), "live", f"{what}: stats say mode live")


def run_pcap(ck, binary, n_workers):
    import mix

    tag = f"pcap{n_workers}"
    frames = mix.build_mix()
    acc = [f for f in frames if f.side == "access"]
    core = [f for f in frames if f.side == "core"]
    exp_cls = {c: sum(f.cls == c for f in frames) for c in capture.CLASSES}
    prefix = file_prefix(tag)
    with Workdir(ck, f"live-{tag}") as wd:
        # Queue q of each port reads its own file. Frames are dealt as RSS on L3
        # would (README, On real NICs: fragments of a datagram reach one queue); of a few hash
        # salts, the one that spreads the frames most evenly is used.
        def deal(salt):
            qa = [[f for f in acc if capture.rss_queue(f.data, n_workers, salt) == q]
                  for q in range(n_workers)]
            qc = [[f for f in core if capture.rss_queue(f.data, n_workers, salt) == q]
                  for q in range(n_workers)]
            return min(len(q) for q in qa + qc), qa, qc

        _, qa, qc = max((deal(salt) for salt in range(64)), key=lambda d: d[0])
        acc_in, core_in, acc_out, core_out = [], [], [], []
        for q in range(n_workers):
            acc_in.append(os.path.join(wd, f"access-in{q}.pcap"))
            core_in.append(os.path.join(wd, f"core-in{q}.pcap"))
            acc_out.append(os.path.join(wd, f"access-out{q}.pcap"))
            core_out.append(os.path.join(wd, f"core-out{q}.pcap"))
            capture.write_pcap(acc_in[q], mix.records(qa[q]))
            capture.write_pcap(core_in[q], mix.records(qc[q]))
        ck.note(f"{tag}: access queues {[len(q) for q in qa]}, core queues {[len(q) for q in qc]}")
        js = os.path.join(wd, "stats.json")
        args = (EAL_BASE + ["--file-prefix", prefix] + lcores(n_workers)
                + pcap_port(0, acc_in, acc_out) + pcap_port(1, core_in, core_out)
                + ["--", "--config", write_config(wd), "--stats-json", js,
                   "--workers", str(n_workers)])
        t0 = time.monotonic()
        d = Daemon(binary, args).start()
        done = d.wait_until(
            lambda s: s.get("access", {}).get("rx") == len(acc)
            and s.get("core", {}).get("rx") == len(core)
            and s.get("access", {}).get("tx") == len(core)
            and s.get("core", {}).get("tx") == len(acc), timeout=90)
        if not done and not d.port_stats() and d.proc.poll() is None:
            ck.note(f"{tag}: no counter lines in the log (stats_interval_ms): stopping after "
                    "a fixed wait; the output files decide")
            time.sleep(5)
        else:
            ck.ok(done, f"{tag}: the counter log shows all {len(acc)}+{len(core)} frames "
                  f"received and sent ({time.monotonic() - t0:.1f} s)", tail(d.output()))
        rc = d.stop(signal.SIGTERM)
        cleanup_runtime_dir(prefix)
        text = d.output()
        ck.eq(rc, 0, f"{tag}: SIGTERM: exit code")
        ck.ok(f"{n_workers} worker(s)" in text, f"{tag}: log says {n_workers} worker(s)",
              tail(text))
        if not os.path.exists(js):
            ck.ok(False, f"{tag}: --stats-json written at exit", tail(text))
            return
        stats = load_json(js)
        check_port_json(ck, tag, stats, len(acc), len(core))
        ctr = stats.get("counters", {})
        for c in capture.CLASSES:
            ck.eq(ctr.get(c), exp_cls[c], f"{tag}: {c}")
        workers = stats.get("workers", [])
        ck.eq(len(workers), n_workers, f"{tag}: workers in the stats")
        ck.ok(all(w.get("access", {}).get("rx", 0) > 0 and w.get("core", {}).get("rx", 0) > 0
                  for w in workers), f"{tag}: every worker received on both ports")

        outs = {}
        for side, files in (("access", acc_out), ("core", core_out)):
            outs[side] = []
            for p in files:
                lt, recs = capture.read_output(ck, tag, p)
                outs[side].append([r.data for r in recs])
        # Frames from access leave by core and the other way round.
        for frm, to, src in (("access", "core", acc), ("core", "access", core)):
            got = [x for q in outs[to] for x in q]
            want = [f.data for f in src]
            ck.ok(sorted(got) == sorted(want),
                  f"{tag}: the {len(want)} frames received on {frm} leave on {to}, "
                  "byte-identical (as a multiset)",
                  f"{len(got)} frames out; missing {len([w for w in want if w not in got])}, "
                  f"unexpected {len([g for g in got if g not in want])}")
            ins = [[f.data for f in q] for q in (qa if frm == "access" else qc)]
            if n_workers == 1:
                ck.ok(outs[to][0] == ins[0], f"{tag}: {frm} -> {to} in input order")
            else:
                matched = sorted(ins.index(q) if q in ins else -1 for q in outs[to])
                ck.ok(matched == list(range(n_workers)),
                      f"{tag}: each {to} tx queue carries one {frm} rx queue, in order",
                      f"tx queue -> rx queue: {matched}")


def case_pcap1(ck, binary):
    run_pcap(ck, binary, 1)


def case_pcap2(ck, binary):
    run_pcap(ck, binary, 2)


def case_null2(ck, binary):
    prefix = file_prefix("null2")
    with Workdir(ck, "live-null2") as wd:
        js = os.path.join(wd, "stats.json")
        args = (EAL_BASE + ["--file-prefix", prefix] + lcores(2)
                + ["--vdev", "net_null0", "--vdev", "net_null1",
                   "--", "--config", write_config(wd), "--stats-json", js, "--workers", "2"])
        d = Daemon(binary, args).start()
        started = d.wait_until(lambda s: s.get("access", {}).get("rx", 0) > 0
                               and s.get("core", {}).get("rx", 0) > 0, timeout=60)
        ck.ok(started, "null2: frames flowing both ways", tail(d.output()))
        time.sleep(2)
        rc = d.stop(signal.SIGTERM)
        cleanup_runtime_dir(prefix)
        ck.eq(rc, 0, "null2: SIGTERM: exit code")
        if not os.path.exists(js):
            ck.ok(False, "null2: --stats-json written", tail(d.output()))
            return
        stats = load_json(js)
        a, c = stats["ports"]["access"], stats["ports"]["core"]
        ck.note(f"null2: access {a}, core {c}")
        ck.ok(a["rx"] == c["tx"] + c["tx_dropped"],
              "null2: access rx == core tx + core tx_dropped",
              f"{a['rx']} vs {c['tx']} + {c['tx_dropped']}")
        ck.ok(c["rx"] == a["tx"] + a["tx_dropped"],
              "null2: core rx == access tx + access tx_dropped",
              f"{c['rx']} vs {a['tx']} + {a['tx_dropped']}")
        ck.ok(min(a["rx"], a["tx"], c["rx"], c["tx"]) > 0, "null2: rx and tx non-zero both ways")
        total = a["rx"] + c["rx"]
        ck.eq(stats["counters"].get("frames_non_ip"), total,
              "null2: every null frame (all zero bytes) counted non_ip")
        ws = stats.get("workers", [])
        ck.ok(len(ws) == 2 and all(w["access"]["rx"] > 0 and w["core"]["rx"] > 0 for w in ws),
              "null2: both workers polled both ports")


def case_sigint(ck, binary):
    import mix

    prefix = file_prefix("sigint")
    frames = mix.build_mix()[:10]
    with Workdir(ck, "live-sigint") as wd:
        a_in, c_in = os.path.join(wd, "a.pcap"), os.path.join(wd, "c.pcap")
        capture.write_pcap(a_in, mix.records(frames))
        capture.write_pcap(c_in, [])
        js = os.path.join(wd, "stats.json")
        args = (EAL_BASE + ["--file-prefix", prefix] + lcores(1)
                + pcap_port(0, [a_in], [os.path.join(wd, "a-out.pcap")])
                + pcap_port(1, [c_in], [os.path.join(wd, "c-out.pcap")])
                + ["--", "--config", write_config(wd), "--stats-json", js])
        d = Daemon(binary, args).start()
        done = d.wait_until(lambda s: s.get("core", {}).get("tx") == len(frames), timeout=60)
        ck.ok(done, "sigint: frames forwarded before the signal", tail(d.output()))
        t0 = time.monotonic()
        rc = d.stop(signal.SIGINT, timeout=30)
        took = time.monotonic() - t0
        cleanup_runtime_dir(prefix)
        text = d.output()
        ck.eq(rc, 0, "sigint: exit code after SIGINT")
        ck.ok(took < 10, f"sigint: stopped within 10 s ({took:.1f} s)")
        ck.ok("stopping" in text, "sigint: log says it is stopping", tail(text))
        ck.ok(os.path.exists(js) and load_json(js)["ports"]["access"]["rx"] == len(frames),
              "sigint: final counters written to --stats-json")
        lt, recs = capture.read_output(ck, "sigint", os.path.join(wd, "c-out.pcap"))
        ck.eq([r.data for r in recs], [f.data for f in frames],
              "sigint: tx capture flushed and complete at exit")


def case_errors(ck, binary):
    with Workdir(ck, "live-errors") as wd:
        conf = write_config(wd)
        n = [0]

        def run(eal, opts):
            n[0] += 1
            prefix = file_prefix(f"err{n[0]}")
            rc, text = run_sipkeep(binary, EAL_BASE + ["--file-prefix", prefix] + eal
                                   + ["--"] + opts, timeout=60)
            cleanup_runtime_dir(prefix)
            return rc, text

        nulls = ["--vdev", "net_null0", "--vdev", "net_null1"]
        rc, text = run(["-l", "0-1"] + nulls, ["--config", conf, "--workers", "3"])
        ck.ok(rc not in (0, None) and rc > 0, "--workers 3 with 1 worker lcore: non-zero exit",
              f"rc {rc}")
        ck.ok("--workers 3" in text and "lcore" in text,
              "--workers 3: message names the option and the lcores", tail(text))

        rc, text = run(["-l", "0"] + nulls, ["--config", conf])
        ck.ok(rc > 0, "only the main lcore: non-zero exit", f"rc {rc}")
        ck.ok("lcore" in text and "-l 0-1" in text,
              "only the main lcore: message says to give a worker lcore", tail(text))

        rc, text = run(["-l", "0-1", "--vdev", "net_null0"], ["--config", conf])
        ck.ok(rc > 0, "one port only (core port 1 missing): non-zero exit", f"rc {rc}")
        ck.ok("port 1" in text and "does not exist" in text,
              "missing port: 'port 1 does not exist'", tail(text))

        rc, text = run(["-l", "0-1"] + nulls, ["--config", conf, "--core-port", "5"])
        ck.ok(rc > 0, "--core-port 5 with 2 ports: non-zero exit", f"rc {rc}")
        ck.ok("port 5" in text, "--core-port 5: message names port 5", tail(text))

        rc, text = run(["-l", "0-1"] + nulls, ["--access-port", "1", "--core-port", "1"])
        ck.eq(rc, 2, "same access and core port: exit code 2")
        ck.ok("--access-port" in text, "same port twice: message names the options", tail(text))

        rc, text = run(["-l", "0-1"] + nulls, ["--workers", "zero"])
        ck.eq(rc, 2, "--workers zero: exit code 2")

        bad = os.path.join(wd, "bad.conf")
        with open(bad, "w") as f:
            f.write("\n\nsip_ports = 5060, 99999\n")
        rc, text = run(["-l", "0-1"] + nulls, ["--config", bad])
        ck.eq(rc, 2, "bad config in live mode: exit code 2")
        ck.ok(f"{bad}:3:" in text and "sip_ports" in text,
              "bad config in live mode: message names FILE:3 and the key", tail(text))

        rc, text = run(["-l", "0-1"] + nulls, ["--replay", "x.pcap", "--replay-out", "y.pcap"])
        ck.eq(rc, 2, "--replay after EAL arguments: exit code 2")
        ck.ok("--replay" in text, "--replay after EAL arguments: message explains", tail(text))


CASES = {"pcap1": case_pcap1, "pcap2": case_pcap2, "null2": case_null2,
         "sigint": case_sigint, "errors": case_errors}


def main():
    args = common_args(__doc__)
    ck = Check(f"live {args.case}")
    todo = CASES if args.case == "all" else {args.case: CASES[args.case]}
    for name, fn in todo.items():
        print(f"## live case {name}", flush=True)
        fn(ck, args.sipkeep)
    ck.done()


if __name__ == "__main__":
    main()
