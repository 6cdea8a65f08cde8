#!/usr/bin/python3
"""Report (and, with --check, verdict) of one handover demo run.

Reads the run's folder: the captures on both TAP interfaces (access.pcapng:
what the phone's network saw; core.pcapng: what the call agent saw), the hook's
timestamps (events), sipkeep's log with the time of each line, its final
counters (stats.json), the sipkeepctl snapshots (ctl-*.txt) and, for the
forged variant, what the intruder got (forge.json).

Usage: report.py WORK [--check] [--json FILE]
Exit: 0, or 1 with --check when the variant did not behave as it must.
"""
import argparse
import json
import os
import re
import subprocess
import sys

SIP_PORT = 5060


def read_env(work):
    env = {}
    with open(os.path.join(work, "env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v.strip("'")
    return env


class Pkt:
    __slots__ = ("t", "src", "dst", "sport", "dport", "method", "status", "cseq_method", "cseq", "call_id",
                 "callinfo", "payload")

    def __init__(self, f):
        self.t = float(f[0])
        self.src, self.dst = f[1], f[2]
        self.sport, self.dport = int(f[3] or 0), int(f[4] or 0)
        self.method, self.status = f[5], int(f[6]) if f[6] else 0
        self.cseq_method, self.cseq = f[7], int(f[8]) if f[8] else 0
        self.call_id, self.callinfo = f[9], f[10]
        self.payload = bytes.fromhex(f[11].replace(":", "")) if f[11] else b""

    def is_sip(self):
        return self.sport == SIP_PORT or self.dport == SIP_PORT or self.method or self.status


def read_capture(path):
    fields = ["frame.time_epoch", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "sip.Method",
              "sip.Status-Code", "sip.CSeq.method", "sip.CSeq.seq", "sip.Call-ID", "sip.Call-Info", "udp.payload"]
    cmd = ["tshark", "-n", "-r", path, "-Y", "udp && !icmp", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for fl in fields:
        cmd += ["-e", fl]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit("tshark failed on %s: %s" % (path, out.stderr[-500:]))
    pkts = []
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 12 or not f[1]:
            continue
        pkts.append(Pkt(f))
    return pkts


def read_events(work):
    ev = {}
    try:
        with open(os.path.join(work, "events")) as f:
            for line in f:
                name, t = line.split()
                ev.setdefault(name, float(t))
    except FileNotFoundError:
        pass
    return ev


def read_log(work):
    lines = []
    try:
        with open(os.path.join(work, "sipkeep.log"), errors="replace") as f:
            for line in f:
                t, _, text = line.rstrip("\n").partition(" ")
                try:
                    lines.append((float(t), text))
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return lines


def log_time(log, needle):
    for t, text in log:
        if needle in text:
            return t, text
    return None, None


def max_gap(times):
    """Largest inter-arrival gap and where it starts."""
    best, at = 0.0, None
    for a, b in zip(times, times[1:]):
        if b - a > best:
            best, at = b - a, a
    return best, at


def first(pkts, pred, after=0.0):
    for p in pkts:
        if p.t >= after and pred(p):
            return p
    return None


def condense(text):
    """sipkeepctl's "key: value" lines, with list items (a.b[3]: x) joined on one line."""
    out, lists = [], {}
    for line in text.rstrip("\n").splitlines():
        m = re.match(r"^(\S*?)\[(\d+)\]: (.*)$", line)
        if m and "." not in line[m.end(2):m.end(2) + 2]:
            key = m.group(1)
            if key not in lists:
                lists[key] = []
                out.append((key, None))
            lists[key].append(m.group(3))
        else:
            out.append((None, line))
    return [line if key is None else "%s: %s" % (key, ", ".join(lists[key])) for key, line in out]


class Checks:
    """Results; a timing check is not judged in a disturbed run (see starvation())."""

    def __init__(self):
        self.results = []  # (ok, what, judged)
        self.disturbed = False

    def __call__(self, cond, what, timing=False):
        self.results.append((bool(cond), what, not (timing and self.disturbed)))

    def failed(self):
        return [w for ok, w, judged in self.results if judged and not ok]


def read_sched(work):
    """schedwatch.py samples: {tid: (comm, [(t, run_ns, wait_ns)])}."""
    threads = {}
    try:
        with open(os.path.join(work, "sched.log")) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 5:
                    continue
                t, tid, comm, run, wait = parts
                threads.setdefault(tid, (comm, []))[1].append((float(t), int(run), int(wait)))
    except FileNotFoundError:
        pass
    return threads


def starvation(threads, t_from, t_to):
    """Longest time (s) one of sipkeep's threads waited runnable for a CPU without
    getting it, per thread name: stretches of samples in which it waited for more
    than half of the time."""
    out = {}
    for tid, (comm, samples) in threads.items():
        best = cur = 0.0
        for (t0, r0, w0), (t1, r1, w1) in zip(samples, samples[1:]):
            if t1 < t_from or t0 > t_to:
                continue
            dt = t1 - t0
            if dt > 0 and (w1 - w0) / 1e9 > dt / 2:
                cur += dt
                best = max(best, cur)
            else:
                cur = 0.0
        out[comm] = max(out.get(comm, 0.0), best)
    return out


def sender_pause(times, skip=None):
    """Largest gap between a sender's own packets (outside SKIP = (t0, t1))."""
    best = 0.0
    for a, b in zip(times, times[1:]):
        if skip and b > skip[0] and a < skip[1]:
            continue
        best = max(best, b - a)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    work = a.work
    env = read_env(work)
    variant = env["VARIANT"]
    lte, wifi, forge_ip = env["IP_LTE"], env["IP_WIFI"], env["IP_FORGE"]
    core_ip = env["CORE_IP"]
    rtp_port, core_rtp = int(env["RTP_PORT"]), int(env["CORE_RTP_PORT"])
    acc = read_capture(os.path.join(work, "access.pcapng"))
    cor = read_capture(os.path.join(work, "core.pcapng"))
    ev = read_events(work)
    log = read_log(work)
    try:
        with open(os.path.join(work, "stats.json")) as f:
            stats = json.load(f)
        ctr = stats.get("counters", {})
    except (FileNotFoundError, ValueError):
        stats, ctr = None, {}
    forge = None
    if os.path.exists(os.path.join(work, "forge.json")):
        with open(os.path.join(work, "forge.json")) as f:
            forge = json.load(f)

    def c(name):
        return ctr.get(name, 0)

    # --- SIP landmarks ------------------------------------------------------------------
    def sip_req(pkts, method, cseq=None, src=None, dst=None):
        return first(pkts, lambda p: p.method == method and (cseq is None or p.cseq == cseq)
                     and (src is None or p.src == src) and (dst is None or p.dst == dst))

    def sip_resp(pkts, method, cseq, status=None, after=0.0):
        return first(pkts, lambda p: p.status and p.cseq_method == method and p.cseq == cseq
                     and (status is None or p.status == status), after)

    reg1 = sip_req(acc, "REGISTER", 1, src=lte)
    reg1_ok = sip_resp(acc, "REGISTER", 1, 200)
    invite = sip_req(acc, "INVITE")
    ringing_a = sip_resp(acc, "INVITE", invite.cseq, 180) if invite else None
    ok_inv_a = sip_resp(acc, "INVITE", invite.cseq, 200) if invite else None
    ringing_c = sip_resp(cor, "INVITE", invite.cseq, 180) if invite else None
    ok_inv_c = sip_resp(cor, "INVITE", invite.cseq, 200) if invite else None
    ack = sip_req(acc, "ACK")
    reg2 = sip_req(acc, "REGISTER", 2, src=wifi)
    reg2_ans = sip_resp(acc, "REGISTER", 2) if reg2 else None
    forged_reg = sip_req(acc, "REGISTER", src=forge_ip)
    forged_ans = first(acc, lambda p: p.status and p.cseq_method == "REGISTER" and p.dst == forge_ip)
    bye_c = sip_req(cor, "BYE")
    bye_a = sip_req(acc, "BYE")
    t0 = reg1.t if reg1 else (acc[0].t if acc else 0.0)

    t_lost, t_gained = ev.get("lost"), ev.get("gained")
    outage = (t_gained - t_lost) if (t_lost and t_gained) else 0.0
    # Frames the phone sent just before its address went are still on their way
    # through sipkeep when the hook notes the loss: "after the switch" starts later.
    t_after = (t_lost + 0.1) if t_lost else None
    t_commit = reg2_ans.t if (reg2_ans and reg2_ans.status == 200) else None
    t_end = (bye_a.t if bye_a else (bye_c.t if bye_c else max((p.t for p in acc), default=0.0)))

    # --- media --------------------------------------------------------------------------
    def is_down(p):
        return p.src == core_ip and p.sport == core_rtp and p.dport == rtp_port

    def is_up_core(p):
        return p.dst == core_ip and p.dport == core_rtp

    down_every = [p for p in acc if is_down(p)]
    down_all = [p for p in down_every if p.t <= t_end]

    def delivered(p):
        """Did this downlink packet reach an address the phone had at that moment?"""
        if p.dst == lte:
            return t_lost is None or p.t < t_lost
        if p.dst == wifi:
            return t_gained is not None and p.t >= t_gained
        return False

    down_ok = [p for p in down_all if delivered(p)]
    down_lost = [p for p in down_all if not delivered(p)]
    down_new = [p for p in down_every if p.dst == wifi]
    down_forge = [p for p in acc if p.dst == forge_ip and p.sport == core_rtp]
    up_core_old = [p for p in cor if is_up_core(p) and p.src == lte and p.sport == rtp_port and p.t <= t_end]
    up_core_new = [p for p in cor if is_up_core(p) and p.src == wifi]
    up_core_forge = [p for p in cor if is_up_core(p) and p.src == forge_ip]
    gap_down, gap_down_at = max_gap([p.t for p in down_ok])
    gap_up, gap_up_at = max_gap([p.t for p in up_core_old])
    # Media that stopped at the switch and never came back has no gap: it has an end.
    down_stopped = bool(t_lost) and not any(p.t > t_after for p in down_ok)
    up_stopped = bool(t_lost) and not any(p.t > t_after for p in up_core_old)
    resumed_down = first(down_ok, lambda p: p.dst == wifi)
    resumed_up = first(up_core_old, lambda p: True, after=t_after) if t_lost else None

    # How long frames spent inside sipkeep (and its TAP queues): the same RTP
    # payload in both captures. Both captures share the machine's clock.
    def transit(src_pkts, dst_pkts):
        seen = {}
        for p in src_pkts:
            seen.setdefault(p.payload, p.t)
        d = sorted(q.t - seen[q.payload] for q in dst_pkts if q.payload in seen)
        return d

    tr_up = transit([p for p in acc if is_up_core(p)], [p for p in cor if is_up_core(p)])
    tr_down = transit([p for p in cor if p.src == core_ip and p.sport == core_rtp],
                      [p for p in acc if p.src == core_ip and p.sport == core_rtp])

    def pct(d, q):
        return d[min(len(d) - 1, int(q * len(d)))] if d else 0.0

    # --- Call-Info ----------------------------------------------------------------------
    urn = env.get("CALLINFO_URN", "urn:x-cisco-remotecc:callinfo")
    ci_core = [p for p in (ringing_c, ok_inv_c) if p]
    ci_acc = [p for p in (ringing_a, ok_inv_a) if p]
    ci_core_has = [urn in p.callinfo for p in ci_core]
    ci_acc_has = [urn in p.callinfo for p in ci_acc]

    def without_callinfo(payload):
        lines = payload.split(b"\r\n")
        return b"\r\n".join(l for l in lines if not l.lower().startswith(b"call-info:"))

    ci_exact = all(pa.payload == without_callinfo(pc.payload) for pa, pc in zip(ci_acc, ci_core)) \
        if ci_acc and ci_core else False

    # --- report -------------------------------------------------------------------------
    def rel(t):
        return "%8.3f" % (t - t0) if t else "       -"

    out = []
    w = out.append
    w("")
    w("=" * 78)
    w(" sipkeep handover demo: variant '%s'" % variant)
    w("=" * 78)
    w(" phone %s@%s: LTE %s -> Wi-Fi %s (namespace %s)" % (env["USER"], env["DOMAIN"], lte, wifi,
                                                          env["NS_ACCESS"]))
    w(" call agent %s: registrar + media (namespace %s), via access gateway %s" % (core_ip, env["NS_CORE"],
                                                                                  env["IP_GW"]))
    w(" sipkeep: persist_window_ms=%s media_silence_ms=%s callinfo_policy=registered"
      % (env["WINDOW_MS"], env["SILENCE_MS"]))
    w("")
    w(" Timeline (seconds from the first REGISTER; SIP and RTP times from the captures)")
    tl = []

    def ev_line(t, text):
        if t:
            tl.append((t, text))

    if reg1:
        tags = env["SUPPORTED"].split(",")
        shown = [t for t in ("X-cisco-sessionpersist", "X-cisco-callinfo") if t in tags]
        ev_line(reg1.t, "REGISTER from %s (Supported: %s + %d more tags)" % (lte, ", ".join(shown),
                                                                            len(tags) - len(shown)))
    if reg1_ok:
        ev_line(reg1_ok.t, "200 OK: registered")
    if invite:
        ev_line(invite.t, "INVITE with SDP %s:%d" % (lte, rtp_port))
    if ok_inv_a:
        ev_line(ok_inv_a.t, "200 OK (SDP %s:%d): call up" % (core_ip, core_rtp))
    d0 = first(down_ok, lambda p: True)
    u0 = first(up_core_old, lambda p: True)
    if d0 and u0:
        ev_line(max(d0.t, u0.t), "RTP flowing both ways")
    ev_line(t_lost, "LTE lost: %s removed from the phone" % lte)
    t_susp, _ = log_time(log, "suspended")
    ev_line(t_susp, "sipkeep: uplink silent %s ms: user suspended, window %s ms starts"
            % (env["SILENCE_MS"], env["WINDOW_MS"]))
    t_rel, _ = log_time(log, "call media released")
    ev_line(t_rel, "sipkeep: window over: call media released")
    ev_line(t_gained, "Wi-Fi up: phone has %s" % wifi)
    if reg2:
        ev_line(reg2.t, "re-REGISTER from %s" % wifi)
    if reg2_ans:
        ev_line(reg2_ans.t, "%d %s" % (reg2_ans.status, "OK: re-registered" if reg2_ans.status == 200
                                       else "from the registrar"))
    t_ho, ho_text = log_time(log, "handover committed")
    if t_ho:
        ev_line(t_ho, "sipkeep: handover committed (%s)" % ho_text.split("handover committed: ", 1)[-1])
    t_nomove, _ = log_time(log, "media not moved")
    ev_line(t_nomove, "sipkeep: re-registration moves no media")
    t_nomedia, _ = log_time(log, "no active media")
    ev_line(t_nomedia, "sipkeep: registration moved; no call media left to move: the call's RTP is "
            "no longer carried")
    if forged_reg:
        ev_line(forged_reg.t, "forged REGISTER for %s from %s" % (env["USER"], forge_ip))
    if forged_ans:
        ev_line(forged_ans.t, "%d from the registrar to %s" % (forged_ans.status, forge_ip))
    if resumed_down:
        ev_line(resumed_down.t, "media resumed at the phone: downlink RTP reaches %s" % wifi)
    if resumed_up and (t_commit or variant == "forged"):
        ev_line(resumed_up.t, "media resumed at the call agent: uplink from %s:%d (unchanged)" % (lte, rtp_port))
    if bye_c and bye_c.dst == core_ip:
        pass
    if bye_c and bye_c.src == core_ip:
        where = ("delivered to %s (redirected by sipkeep)" % bye_a.dst) if (bye_a and bye_a.dst != bye_c.dst) \
            else "delivered unchanged"
        ev_line(bye_c.t, "BYE from the call agent to %s: %s" % (bye_c.dst, where))
    elif bye_a:
        ev_line(bye_a.t, "BYE from the phone (%s)" % bye_a.src)
    for t, text in sorted(tl):
        w("  %s  %s" % (rel(t), text))

    w("")
    w(" Media (RTP, 20 ms packets)")
    if t_lost:
        w("  phone without an address:           %6.0f ms" % (outage * 1000))
    def gap_text(gap, stopped):
        return "stopped at the switch, never resumed" if stopped else "%6.0f ms" % (gap * 1000)

    w("  largest gap, downlink at the phone:  %s  (%d packets delivered, %d sent to an address "
      "the phone no longer had)" % (gap_text(gap_down, down_stopped), len(down_ok), len(down_lost)))
    w("  largest gap, uplink at call agent:   %s  (%d packets from %s:%d)"
      % (gap_text(gap_up, up_stopped), len(up_core_old), lte, rtp_port))
    if t_lost and variant in ("normal", "no-callinfo"):
        w("  after the handover: downlink to %s: %d packets; uplink reaching the call agent from %s "
          "(rewritten): %d; from %s (before the commit, unchanged): %d"
          % (wifi, len(down_new), lte, len([p for p in up_core_old if p.t > t_lost]), wifi, len(up_core_new)))
    if variant == "late":
        carried = bool(down_new) or not up_stopped
        w("  media after the switch: %s" % (
            "CARRIED (unexpected)" if carried else
            "NOT carried: the re-registration came after the window; sipkeep had released the call's "
            "media (%d downlink packets went to the old address)" % len([p for p in down_lost if p.t > t_lost])))
    w("  time inside sipkeep (same packet in both captures): uplink median %.1f ms, max %.1f ms; "
      "downlink median %.1f ms, max %.1f ms" % (pct(tr_up, 0.5) * 1000, pct(tr_up, 1.0) * 1000,
                                             pct(tr_down, 0.5) * 1000, pct(tr_down, 1.0) * 1000))
    # Was the machine too busy for the timing to mean anything? sipkeep's threads
    # waiting runnable for a CPU, or the peers themselves pausing their streams.
    t_first = min((p.t for p in acc), default=0.0)
    # The threads that move frames: the worker lcore(s), and the main one (it runs
    # the control loop, and often net_tap's SIGIO handler, without which the tap
    # PMD does not read).
    starved = {k: v for k, v in starvation(read_sched(work), t_first, t_end).items()
               if k == "sipkeep" or "worker" in k}
    worst_thread = max(starved, key=starved.get) if starved else None
    pause_down = sender_pause([p.t for p in cor if p.src == core_ip and p.sport == core_rtp and p.t <= t_end])
    pause_up = sender_pause([p.t for p in acc if is_up_core(p) and p.src in (lte, wifi) and p.t <= t_end],
                            (t_lost - 0.05, t_gained + 0.05) if t_lost and t_gained else
                            ((t_lost - 0.05, t_end) if t_lost else None))
    reasons = []
    if worst_thread and starved[worst_thread] > 0.050:
        reasons.append("sipkeep's %s thread waited %.0f ms in a row for a CPU"
                       % ("main" if worst_thread == "sipkeep" else worst_thread, starved[worst_thread] * 1000))
    held = max(pct(tr_up, 1.0), pct(tr_down, 1.0))
    if not starved and held > 0.100:
        reasons.append("sipkeep held packets for up to %.0f ms (no scheduler data to tell why; taken as load)"
                       % (held * 1000))
    if pause_down > 0.060:
        reasons.append("the call agent's sipp paused its RTP for %.0f ms" % (pause_down * 1000))
    if pause_up > 0.060:
        reasons.append("the phone paused its RTP for %.0f ms (outside the outage)" % (pause_up * 1000))
    disturbed = bool(reasons)
    if starved:
        w("  CPU for sipkeep: longest wait for a CPU %s" % ", ".join(
            "%s %.0f ms" % ("main" if k == "sipkeep" else k, v * 1000) for k, v in sorted(starved.items())))
    if disturbed:
        w("  WARNING: this machine was too busy for the timing to be judged: %s." % "; ".join(reasons))
        w("  Gaps measured in this run include that; the timing checks are not judged.")
    if variant == "forged" and forge:
        w("  intruder %s: answer '%s'; sent %d RTP packets with the phone's SSRC, got %d back"
          % (forge_ip, forge.get("answer"), forge.get("rtp_sent", 0), forge.get("rtp_received", 0)))

    w("")
    w(" sipkeep counters (--stats-json at exit)")
    if stats is None:
        w("  (no stats.json: sipkeep did not exit cleanly)")
    else:
        names = ["registrations_committed", "registrations_rejected", "users_suspended", "handovers_committed",
                 "handovers_expired", "rtp_rewritten_downlink", "rtp_rewritten_uplink", "rtp_latched",
                 "latch_refused", "sip_redirected", "callinfo_removed"]
        for i in range(0, len(names), 3):
            w("  " + "  ".join("%-24s %5d" % (n, c(n)) for n in names[i:i + 3]))

    w("")
    w(" Call-Info <%s> from the call agent (180, 200)" % urn)
    if ci_core:
        at_core = "present" if all(ci_core_has) else "absent"
        at_phone = "present" if all(ci_acc_has) else ("absent" if not any(ci_acc_has) else "partly")
        verdict = "passed" if at_phone == "present" else "removed"
        w("  sent by the call agent: %s; at the phone: %s -> %s (callinfo_removed=%d)%s"
          % (at_core, at_phone, verdict, c("callinfo_removed"),
             "; messages otherwise byte-identical" if verdict == "removed" and ci_exact else ""))

    for name, title in (("users-call", "sipkeepctl show users (during the call, on LTE)"),
                        ("calls-call", "sipkeepctl show calls (during the call, on LTE)"),
                        ("users-after", "sipkeepctl show users (1 s after the %s)" %
                         ("forged REGISTER" if variant == "forged" else "re-registration")),
                        ("calls-after", "sipkeepctl show calls (after)")):
        p = os.path.join(work, "ctl-%s.txt" % name)
        if os.path.exists(p):
            w("")
            w(" " + title)
            with open(p) as f:
                for line in condense(f.read()):
                    w("  | " + line)

    # --- checks -------------------------------------------------------------------------
    ck = Checks()
    ck.disturbed = disturbed
    ck(env.get("PHONE_SIPP_RC") == "0", "the phone's sipp completed its call (exit %s)" % env.get("PHONE_SIPP_RC"))
    ck(env.get("CORE_SIPP_RC") == "0", "the call agent's sipp completed its call (exit %s)"
       % env.get("CORE_SIPP_RC"))
    ck(env.get("SIPKEEP_ALIVE", "1") == "1", "sipkeep kept running through the call")
    ck(stats is not None, "sipkeep wrote its counters at exit")
    ck(reg1_ok is not None and ok_inv_a is not None, "registered and call set up through sipkeep")
    before = t_lost or (forged_reg.t if forged_reg else t_end)
    ck(any(p.t < before for p in down_ok) and any(p.t < before for p in up_core_old),
       "RTP both ways before the switch")
    slack = 0.100
    if variant in ("normal", "no-callinfo"):
        ck(t_commit is not None, "the re-REGISTER from Wi-Fi was answered 200")
        ck(c("handovers_committed") == 1 and c("handovers_expired") == 0,
           "one handover committed, none expired (%d, %d)" % (c("handovers_committed"), c("handovers_expired")))
        ck(len(down_new) > 0, "downlink RTP reaches the phone at its new address (%d packets)" % len(down_new))
        # After the commit as the control thread logged it (a frame read before it may leave after the 200 OK).
        t_ref = max(t_commit or 0, t_ho or 0) + 0.05
        late_old = [p for p in down_all if p.dst == lte and t_commit and p.t > t_ref]
        ck(not late_old, "no downlink RTP to the old address after the handover (%d)" % len(late_old), timing=True)
        after_up = [p for p in up_core_old if t_commit and p.t > t_commit]
        ck(len(after_up) > 0, "the call agent sees the uplink from the unchanged old address %s:%d (%d packets)"
           % (lte, rtp_port, len(after_up)))
        stray = [p for p in up_core_new if t_commit and p.t > t_ref]
        ck(not stray, "the call agent sees no uplink from the new address after the handover (%d)" % len(stray),
           timing=True)
        ck(c("rtp_rewritten_downlink") == len(down_new),
           "rtp_rewritten_downlink (%d) = downlink packets seen at the new address (%d)"
           % (c("rtp_rewritten_downlink"), len(down_new)))
        # Every uplink packet the phone sent from Wi-Fi reached the call agent either
        # rewritten (from the old address) or, before the commit, unchanged.
        n_up_wifi = len([p for p in acc if is_up_core(p) and p.src == wifi])
        ck(c("rtp_rewritten_uplink") == n_up_wifi - len(up_core_new),
           "rtp_rewritten_uplink (%d) = uplink packets sent from %s (%d) less those that reached the call "
           "agent unchanged before the commit (%d)" % (c("rtp_rewritten_uplink"), wifi, n_up_wifi, len(up_core_new)))
        ck(c("latch_refused") == len(up_core_new), "latch_refused (%d) = those unchanged packets (%d)"
           % (c("latch_refused"), len(up_core_new)))
        ck(c("rtp_latched") == 1, "one RTP port latched (%d)" % c("rtp_latched"))
        # The phone is out of reach until it re-registers from Wi-Fi; how soon it does
        # after it has its address is the phone's (sipp's) doing, not sipkeep's: the gap
        # sipkeep answers for ends at the re-REGISTER, plus the slack.
        unreachable = (reg2.t - t_lost) if (reg2 and t_lost) else outage
        ck(gap_down <= unreachable + slack, "downlink gap %.0f ms <= time until the re-REGISTER %.0f ms + %.0f ms"
           % (gap_down * 1000, unreachable * 1000, slack * 1000), timing=True)
        ck(gap_up <= unreachable + slack, "uplink gap %.0f ms <= time until the re-REGISTER %.0f ms + %.0f ms"
           % (gap_up * 1000, unreachable * 1000, slack * 1000), timing=True)
        ck(bye_c is not None and bye_c.dst == lte and bye_a is not None and bye_a.dst == wifi,
           "the call agent's BYE to the old contact %s reached the phone at %s" % (lte, wifi))
        ck(c("sip_redirected") >= 1, "sip_redirected >= 1 (%d)" % c("sip_redirected"))
    if variant == "normal":
        ck(ci_core and all(ci_core_has) and all(ci_acc_has) and len(ci_acc) == len(ci_core),
           "Call-Info passed to the phone (registered with X-cisco-callinfo)")
        ck(c("callinfo_removed") == 0, "callinfo_removed = 0 (%d)" % c("callinfo_removed"))
    if variant == "no-callinfo":
        ck(ci_core and all(ci_core_has), "the call agent sent Call-Info in 180 and 200")
        ck(ci_acc and not any(ci_acc_has), "Call-Info removed toward the phone (registered without "
                                           "X-cisco-callinfo)")
        ck(ci_exact, "180 and 200 at the phone are the call agent's, byte for byte, less the Call-Info line")
        ck(c("callinfo_removed") >= len(ci_core), "callinfo_removed >= %d (%d)" % (len(ci_core),
                                                                                   c("callinfo_removed")))
    if variant == "late":
        ck(reg2_ans is not None and reg2_ans.status == 200, "the late re-REGISTER was answered 200 (registrar)")
        ck(c("handovers_committed") == 0, "no handover committed (%d)" % c("handovers_committed"))
        ck(c("handovers_expired") == 1, "the window expired once (handovers_expired=%d)" % c("handovers_expired"))
        ck(c("rtp_rewritten_downlink") == 0 and c("rtp_rewritten_uplink") == 0, "no RTP rewritten")
        ck(not down_new, "no downlink RTP reaches the new address (%d)" % len(down_new))
        ck(any(p.dst == lte and p.t > t_lost for p in down_all),
           "the call agent kept sending to the old address (media not carried)")
        ck(up_stopped and down_stopped, "media stopped at the switch and did not resume", timing=True)
    if variant == "forged":
        ck(forged_ans is not None and forged_ans.status == 403, "the forged REGISTER was answered 403")
        ck(c("registrations_rejected") >= 1, "registrations_rejected >= 1 (%d)" % c("registrations_rejected"))
        ck(c("handovers_committed") == 0, "no handover committed (%d)" % c("handovers_committed"))
        ck(c("rtp_rewritten_downlink") == 0 and c("rtp_rewritten_uplink") == 0, "no RTP rewritten")
        ck(forge is not None and forge.get("rtp_sent", 0) > 0, "the intruder sent RTP with the phone's SSRC")
        if forge:
            ck(forge.get("rtp_received", 1) == 0 and not down_forge, "the intruder received no RTP")
            ck(len(up_core_forge) == forge.get("rtp_sent"), "its packets reached the call agent unchanged "
                                                           "(%d of %d)" % (len(up_core_forge), forge.get("rtp_sent")))
            ck(c("latch_refused") >= forge.get("rtp_sent", 0), "latch_refused (%d) >= intruder packets (%d)"
               % (c("latch_refused"), forge.get("rtp_sent", 0)))
        ck(not down_new and all(p.dst == lte for p in down_all), "downlink stays with the phone at %s" % lte)
        ck(gap_down <= slack and gap_up <= slack, "no media gap at either end (%.0f ms, %.0f ms <= %.0f ms)"
           % (gap_down * 1000, gap_up * 1000, slack * 1000), timing=True)

    failed = ck.failed()
    w("")
    w(" Checks")
    for ok, what, judged in ck.results:
        w("  %s %s" % ("ok  " if ok else ("FAIL" if judged else "n/j "), what))
    if any(not judged for ok, what, judged in ck.results):
        w("  (n/j: a timing check not judged, this run being disturbed; see WARNING above)")
    w("")
    w(" Result: %s%s" % ("as expected" if not failed else "%d check(s) failed" % len(failed),
                         " (timing not judged: disturbed run)" if disturbed else ""))
    print("\n".join(out))

    res = {
        "variant": variant,
        "outage_ms": round(outage * 1000, 1),
        "gap_downlink_ms": None if down_stopped else round(gap_down * 1000, 1),
        "gap_uplink_ms": None if up_stopped else round(gap_up * 1000, 1),
        "downlink_delivered": len(down_ok),
        "downlink_undelivered": len(down_lost),
        "downlink_to_new_address": len(down_new),
        "uplink_at_core_from_old_address": len(up_core_old),
        "uplink_at_core_from_new_address": len(up_core_new),
        "disturbed": disturbed,
        "transit_ms": {"uplink_median": round(pct(tr_up, 0.5) * 1000, 2), "uplink_max": round(pct(tr_up, 1.0) * 1000, 2),
                       "downlink_median": round(pct(tr_down, 0.5) * 1000, 2),
                       "downlink_max": round(pct(tr_down, 1.0) * 1000, 2)},
        "counters": {k: v for k, v in ctr.items() if isinstance(v, int) and v},
        "callinfo_at_phone": ci_acc_has,
        "callinfo_from_core": ci_core_has,
        "forge": forge,
        "disturbed_by": reasons,
        "starved_ms": {k: round(v * 1000, 1) for k, v in starved.items()},
        "checks": [{"ok": ok, "what": what, "judged": judged} for ok, what, judged in ck.results],
    }
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 1 if (a.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
