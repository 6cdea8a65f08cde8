#!/usr/bin/python3
"""Session state on Redis (docs/REDIS.md) with a real redis-server, one per case.

Nodes are sipkeep in replay mode: the same worker and control code as a live
node. A node that must stay up while something else happens (be killed, or
follow a peer) reads its capture from a FIFO that the test writes as it goes.
Outputs are checked frame by frame against the independent model of
sktest.replay (Move), counters from --stats-json. Usage: redis_cases.py SIPKEEP CASE
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from scapy.utils import PcapWriter

from sktest import sipscen
from sktest.checks import Failure, check
from sktest.redisserver import RedisServer
from sktest.replay import ACCESS_PREFIXES, Move, compare, ctr, model, run_case
from sktest.sipscen import LTE, MEDIA, WIFI, handover_scenario

USER_KEY = "t:u:alice@example.com||reg-alice"
DIALOG_KEY = "t:d:call-1|a1"


def conf(tmp, name, redis, extra=""):
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        f.write("access_prefixes = %s\npersist_window_ms = 12000\nmedia_silence_ms = 2000\n"
                "dialog_linger_ms = 2000\nredis = %s\nredis_prefix = t\nnode_id = %s\n%s\n"
                % (ACCESS_PREFIXES, redis, name, extra))
    return path


class Node:
    """sipkeep --replay over a FIFO (live=True: frames written as the test goes) or a file."""

    def __init__(self, sipkeep, tmp, name, redis, frames=None, extra=""):
        self.tmp, self.name = tmp, name
        self.inp = os.path.join(tmp, name + ".in.pcap")
        self.out = os.path.join(tmp, name + ".out.pcap")
        self.stats = os.path.join(tmp, name + ".stats.json")
        self.log = open(os.path.join(tmp, name + ".log"), "w")
        self.frames = []
        if frames is None:
            os.mkfifo(self.inp)
        else:
            write_frames(self.inp, frames)
        self.proc = subprocess.Popen([sipkeep, "--replay", self.inp, "--replay-out", self.out, "--config",
                                      conf(tmp, name, redis, extra), "--stats-json", self.stats],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.w = PcapWriter(self.inp, sync=True, linktype=1) if frames is None else None

    def send(self, frames):
        for t, f in frames:
            f.time = t
            self.w.write(f)
            self.frames.append((t, f))

    def finish(self):
        if self.w is not None:
            self.w.close()
        rc = self.proc.wait(120)
        self.log.close()
        sys.stdout.write(open(self.log.name).read()[-2500:])
        check(rc == 0, "node %s exits 0" % self.name)
        with open(self.stats) as f:
            st = json.load(f)
        return sipscen.read_frames(self.inp) if self.w is None else \
            [(t, bytes(f)) for t, f in self.frames], sipscen.read_frames(self.out), st

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()
        try:
            self.w.close()
        except (BrokenPipeError, OSError):
            pass

    def stop_quietly(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def write_frames(path, frames):
    w = PcapWriter(path, sync=False, linktype=1)
    for t, f in frames:
        f.time = t
        w.write(f)
    w.close()


def wait_for(what, pred, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.01)
    raise Failure("timed out waiting for %s" % what)


def rstats(st):
    check("redis" in st, "stats carry a redis section")
    return st["redis"]


def scenario():
    s, old, new, flows = handover_scenario()
    s.frames.sort(key=lambda tf: tf[0])
    return s, old, new, flows


def nodes_cleanup(nodes):
    for n in nodes:
        n.stop_quietly()


# --- cases ---------------------------------------------------------------------------------

def case_failover(sipkeep):
    """A carries the call and commits the handover, is SIGKILLed; B restores and carries on."""
    s, old, new, flows = scenario()
    part1 = [(t, f) for t, f in s.frames if t < 10.0]
    part2 = [(t, f) for t, f in s.frames if t >= 10.0]
    tmp = tempfile.mkdtemp(prefix="sk-redis-")
    nodes = []
    with RedisServer() as r:
        try:
            a = Node(sipkeep, tmp, "a", r.url)
            nodes.append(a)
            a.send(part1)
            wait_for("A's handover commit in Redis", lambda: "epoch=1;" in r.cli("GET", USER_KEY)
                     and "a0=4,%s,4000" % LTE in r.cli("GET", DIALOG_KEY))
            a.kill()
            v = r.cli("GET", USER_KEY)
            print("user value: " + v)
            check("mv=4,%s,5062,5062" % WIFI in v, "the user's value carries the new address")
            check(0 < int(r.cli("PTTL", USER_KEY)) <= 3600 * 1000, "the user's key has the registration's TTL")
            b = Node(sipkeep, tmp, "b", r.url, frames=part2)
            nodes.append(b)
            inp, out, st = b.finish()
        finally:
            nodes_cleanup(nodes)
        n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, -1, flows)))
        rs = rstats(st)
        check(rs["restored"] == 2, "B restored the user and the dialog (%d)" % rs["restored"])
        check(ctr(st, "handovers_committed") == 0, "B committed no handover of its own")
        check(ctr(st, "registrations_committed") == 1, "B saw only the final unregister: nothing re-registered")
        check(ctr(st, "rtp_rewritten_downlink") > 0 and ctr(st, "rtp_rewritten_uplink") > 0,
              "B rewrote downlink to %s with the latched port and uplink back to %s (%d frames)"
              % (new.ip, old.ip, n))
        check(ctr(st, "rtp_latched") == 2, "B latched RTP and RTCP from the new address")
        check(ctr(st, "sip_redirected") == 1, "B redirected the core's INFO to the new contact")
        print("left in Redis: %r" % r.cli("--scan"))
        check(r.cli("EXISTS", USER_KEY) == "0" and r.cli("EXISTS", DIALOG_KEY) == "0",
              "B deleted the keys at the unregister and the BYE")


def case_split_path(sipkeep):
    """The re-REGISTER and its 200 cross B; the call's RTP crosses A: A rewrites from B's commit."""
    s, old, new, flows = scenario()
    is_rereg = lambda f: b"CSeq: 2 REGISTER" in bytes(f)
    b_frames = [(t, f) for t, f in s.frames if is_rereg(f)]
    a_before = [(t, f) for t, f in s.frames if t < 8.0 and not is_rereg(f)]
    a_after = [(t, f) for t, f in s.frames if t >= 8.0 and not is_rereg(f)]
    check(len(b_frames) == 2, "the re-REGISTER and its 200 go to B")
    tmp = tempfile.mkdtemp(prefix="sk-redis-")
    nodes = []
    with RedisServer() as r:
        try:
            a = Node(sipkeep, tmp, "a", r.url, extra="redis_resync_ms = 600000")
            nodes.append(a)
            a.send(a_before)
            wait_for("A's call in Redis", lambda: r.cli("EXISTS", DIALOG_KEY) == "1")
            b = Node(sipkeep, tmp, "b", r.url, frames=b_frames, extra="redis_follow = 0")
            nodes.append(b)
            _, _, stb = b.finish()
            check(ctr(stb, "handovers_committed") == 1, "B committed the handover")
            check("epoch=1;" in r.cli("GET", USER_KEY) and ";node=b;" in r.cli("GET", USER_KEY),
                  "B's commit is in Redis")
            time.sleep(0.5)  # A reads it now; it applies it before its next frame
            a.send(a_after)
            inp, out, st = a.finish()
        finally:
            nodes_cleanup(nodes)
        n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, len(a_before) - 1, flows)))
        rs = rstats(st)
        check(rs["peer_updates_applied"] >= 1, "A applied B's update")
        check(ctr(st, "handovers_committed") == 0, "A committed nothing itself")
        check(ctr(st, "rtp_rewritten_downlink") > 0 and ctr(st, "rtp_rewritten_uplink") > 0,
              "A rewrote the call's media from B's commit (%d frames)" % n)
        print("DELAY B commit -> A's Redis thread read it: %d ms" % rs["last_peer_handover_read_ms"])


def case_unreachable_at_start(sipkeep):
    """No Redis: the node starts, says so, keeps retrying, and forwards and moves as before."""
    s, old, new, flows = scenario()
    tmp = tempfile.mkdtemp(prefix="sk-redis-")
    b = Node(sipkeep, tmp, "n", "unix:" + os.path.join(tmp, "nothing.sock"), frames=s.frames)
    try:
        inp, out, st = b.finish()
    finally:
        b.stop_quietly()
    log = open(os.path.join(tmp, "n.log")).read()
    check("unreachable" in log, "the node says Redis is unreachable")
    compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index_of(inp, 2), flows)))
    rs = rstats(st)
    check(rs["link"] != "up" and rs["errors"] >= 1, "link down, connect errors counted (%d)" % rs["errors"])
    check(ctr(st, "handovers_committed") == 1, "the local handover went on")


def commit_index_of(frames, cseq):
    from sktest.replay import commit_index
    return commit_index(frames, cseq)


def case_stopped_mid_call(sipkeep):
    """Redis stops mid-call: forwarding and the local handover go on; Redis back: resynced."""
    s, old, new, flows = scenario()
    tmp = tempfile.mkdtemp(prefix="sk-redis-")
    nodes = []
    with RedisServer() as r:
        try:
            a = Node(sipkeep, tmp, "a", r.url)
            nodes.append(a)
            a.send([(t, f) for t, f in s.frames if t < 4.0])
            wait_for("the call in Redis", lambda: r.cli("EXISTS", DIALOG_KEY) == "1")
            r.stop()
            a.send([(t, f) for t, f in s.frames if 4.0 <= t < 10.0])
            time.sleep(0.3)
            r.start()  # empty: nothing persisted
            # Back: the node reconnects (backoff) and writes its state again. It runs its
            # control loop as frames arrive, so they are fed in small steps meanwhile.
            rest = [(t, f) for t, f in s.frames if 10.0 <= t < 14.0]
            back = None
            t0 = time.time()
            while rest:
                a.send(rest[:10])
                rest = rest[10:]
                if back is None and r.cli("EXISTS", USER_KEY) == "1" and r.cli("EXISTS", DIALOG_KEY) == "1":
                    back = time.time() - t0
                time.sleep(0.05)
            check(back is not None, "the node wrote its user and call again after Redis came back "
                  "(%.1f s)" % (back or -1))
            check("epoch=1;" in r.cli("GET", USER_KEY), "with the handover committed while Redis was away")
            inp, out, st = a.finish()
        finally:
            nodes_cleanup(nodes)
        compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index_of(inp, 2), flows)))
        rs = rstats(st)
        check(ctr(st, "handovers_committed") == 1, "the handover committed while Redis was down")
        check(rs["errors"] >= 1, "the lost link is counted (%d errors)" % rs["errors"])
        check(rs["connects"] >= 2, "the node reconnected (%d connects)" % rs["connects"])


def case_garbage_values(sipkeep):
    """Garbage and wrong-version values: ignored and counted; a good one restored."""
    s, old, new, flows = scenario()
    tmp = tempfile.mkdtemp(prefix="sk-redis-")
    bad = {
        "t:u:sip:x@example.com||c1": "v=2;node=z;epoch=1;reg=1;contact=4,10.1.0.9,5060",
        "t:u:sip:y@example.com||c1": "garbage",
        "t:u:sip:z@example.com||c1": "v=1;node=z;epoch=1;reg=1;contact=4,999.1.0.9,5060",
        "t:u:sip:w@example.com||c1": "v=1;node=z;epoch=1;reg=1;contact=4,10.1.0.9,70000",
        "t:u:broken": "v=1;node=z;reg=1;contact=4,10.1.0.9,5060",
        "t:d:call-9|x": "v=1;node=z;user=sip:y@example.com||c1;a0=4,10.1.0.9,4000,4001,0,9999",
        "t:d:call-8": "v=1;node=z;user=sip:y@example.com||c1",
        "t:u:sip:v@example.com||c1": "v=1;v=1;node=z;reg=1;contact=4,10.1.0.9,5060",
        "t:u:sip:e@example.com||c1": "",
    }
    with RedisServer() as r:
        for k, v in bad.items():
            r.cli("SET", k, v, "PX", 600000)
        r.cli("SET", "t:u:sip:good@example.com||c1",
              "v=1;node=z;epoch=0;reg=1;tr=0;opts=0;contact=4,10.3.0.9,5060;sig=4,10.3.0.9,5060,0", "PX", 600000)
        r.cli("SET", "other:u:sip:q@example.com||c1", "v=1;node=z;reg=1;contact=4,10.1.0.9,5060")
        n = Node(sipkeep, tmp, "n", r.url, frames=s.frames)
        try:
            inp, out, st = n.finish()
        finally:
            n.stop_quietly()
    rs = rstats(st)
    check(rs["values_rejected"] == len(bad), "%d bad values rejected (%d)" % (len(bad), rs["values_rejected"]))
    check(rs["restored"] == 1, "the one good value restored (%d)" % rs["restored"])
    compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index_of(inp, 2), flows)))


def case_keys_expire(sipkeep):
    """Keys carry the registration's lifetime: a dead node leaves nothing lasting."""
    s = sipscen.Scenario()
    phone = sipscen.Endpoint(LTE, 5060, 4000)
    s.register(0.0, phone, sipscen.REGISTRAR, "alice", "reg-alice", 1, sipscen.PERSIST, expires=2)
    sipscen.basic_call(s, phone, supported=None)
    sipscen.media_both_ways(s, LTE, 4000, MEDIA, 1.2, 1.5)
    s.frames.sort(key=lambda tf: tf[0])
    tmp = tempfile.mkdtemp(prefix="sk-redis-")
    nodes = []
    with RedisServer() as r:
        try:
            a = Node(sipkeep, tmp, "a", r.url)
            nodes.append(a)
            a.send(s.frames)
            wait_for("the call in Redis", lambda: r.cli("EXISTS", DIALOG_KEY) == "1")
            ut, dt = int(r.cli("PTTL", USER_KEY)), int(r.cli("PTTL", DIALOG_KEY))
            check(0 < ut <= 2000, "the user's key lives as long as its registration (%d ms)" % ut)
            check(0 < dt <= 60000, "the dialog's key has a bounded lifetime (%d ms)" % dt)
            a.kill()
            time.sleep(2.2)
            check(r.cli("EXISTS", USER_KEY) == "0", "the dead node's user key is gone with its registration")
        finally:
            nodes_cleanup(nodes)


if __name__ == "__main__":
    run_case(globals())
