#!/usr/bin/python3
"""Watch how much CPU sipkeep's threads get while the demo runs.

Every 20 ms, for each thread of PID: the time it has run and the time it has
waited runnable for a CPU (/proc/PID/task/TID/schedstat). The report uses it to
tell "sipkeep was slow" from "sipkeep was not given the CPU" (a busy-polling
worker that waits runnable for hundreds of milliseconds is starved by other
load on its core, not stuck).

Usage: schedwatch.py PID OUT   (until PID exits; lines "time tid comm run_ns wait_ns")
"""
import os
import sys
import time


def main():
    pid, out = sys.argv[1], sys.argv[2]
    with open(out, "w", buffering=1 << 16) as f:
        while os.path.exists("/proc/%s" % pid):
            now = time.time()
            try:
                tids = os.listdir("/proc/%s/task" % pid)
            except OSError:
                break
            for tid in tids:
                try:
                    with open("/proc/%s/task/%s/comm" % (pid, tid)) as c:
                        comm = c.read().strip().replace(" ", "_")
                    with open("/proc/%s/task/%s/schedstat" % (pid, tid)) as s:
                        run_ns, wait_ns = s.read().split()[:2]
                except OSError:
                    continue
                f.write("%.6f %s %s %s %s\n" % (now, tid, comm, run_ns, wait_ns))
            time.sleep(0.02)
    return 0


if __name__ == "__main__":
    sys.exit(main())
