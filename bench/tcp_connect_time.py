#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP connection setup time, for scripts/bench-synflood.sh.

Opens up to --count connections to HOST:PORT one after the other, each with
a connect timeout of --timeout seconds, and times connect() alone (SYN out to
SYN-ACK in and the ACK queued: the three-way handshake as the client sees
it). Each connection is then closed normally. Stops early after --budget
seconds so a dead server cannot make it hang. Prints one line:

  connect: N tried, OK ok, F failed (T timeout, R refused, O other); median M us, p95 P us

median and p95 are over the successful connects ("n/a" if none).
"""
import argparse
import errno
import math
import socket
import sys
import time


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, math.ceil(p / 100.0 * len(sorted_vals)) - 1))  # nearest rank
    return sorted_vals[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--gap-ms", type=float, default=2.0, help="pause between connects")
    ap.add_argument("--warmup", type=int, default=0, help="untimed connects first")
    a = ap.parse_args()

    for _ in range(a.warmup):  # caches warm (ARP, Python, the route); failures ignored
        try:
            socket.create_connection((a.host, a.port), timeout=a.timeout).close()
        except OSError:
            pass
    times, timeouts, refused, other = [], 0, 0, 0
    start = time.monotonic()
    tried = 0
    while tried < a.count and time.monotonic() - start < a.budget:
        tried += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        t0 = time.perf_counter_ns()
        try:
            s.connect((a.host, a.port))
            times.append((time.perf_counter_ns() - t0) / 1000.0)
        except socket.timeout:
            timeouts += 1
        except ConnectionRefusedError:
            refused += 1
        except OSError as e:
            if e.errno in (errno.ETIMEDOUT, errno.EINPROGRESS, errno.EAGAIN):
                timeouts += 1
            else:
                other += 1
        finally:
            s.close()
        if a.gap_ms > 0:
            time.sleep(a.gap_ms / 1000.0)
    times.sort()
    failed = timeouts + refused + other
    med, p95 = pct(times, 50), pct(times, 95)
    fmt = lambda v: "n/a" if v is None else "%.0f" % v
    print("connect: %d tried, %d ok, %d failed (%d timeout, %d refused, %d other); "
          "median %s us, p95 %s us; %.1f s"
          % (tried, len(times), failed, timeouts, refused, other, fmt(med), fmt(p95),
             time.monotonic() - start), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
