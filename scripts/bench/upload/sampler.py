#!/usr/bin/env python3
"""The server's memory and CPU during scripts/bench-upload.

  sampler.py run PID OUT INTERVAL_MS
      Every INTERVAL_MS, one line to OUT: wall time (time.time()), VmRSS and VmHWM (kB), CPU
      ticks (utime + stime), threads, and write_bytes from /proc/PID/io (-1 if unreadable).
      Runs until PID exits or it is sent SIGTERM.
  sampler.py summary OUT CLIENT.json
      KEY=VALUE lines: the baseline (samples before the first PATCH), the peak RSS while PATCHes
      ran and while the upload was finishing (last 204 -> stored), VmHWM before and after, and
      server CPU seconds in each phase.
"""
import json
import os
import signal
import sys
import time


def run(pid, out, interval_ms):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    interval = interval_ms / 1000
    with open(out, "w") as f:
        nxt = time.time()
        while not stop:
            t = time.time()
            try:
                with open(f"/proc/{pid}/status") as s:
                    status = s.read()
                with open(f"/proc/{pid}/stat") as s:
                    stat = s.read()
            except (FileNotFoundError, ProcessLookupError):
                break
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            kb = lambda k: int(fields.get(k, "0 kB").split()[0])
            rest = stat[stat.rindex(")") + 2:].split()
            ticks = int(rest[11]) + int(rest[12])
            wbytes = -1
            try:
                with open(f"/proc/{pid}/io") as s:
                    for line in s:
                        if line.startswith("write_bytes:"):
                            wbytes = int(line.split()[1])
            except OSError:
                pass
            f.write(f"{t:.3f} {kb('VmRSS')} {kb('VmHWM')} {ticks} {fields.get('Threads', '0').strip()} {wbytes}\n")
            f.flush()
            nxt += interval
            time.sleep(max(0.0, nxt - time.time()))


def summary(out, client_json):
    c = json.load(open(client_json))
    rows = [tuple(float(x) for x in line.split()) for line in open(out) if line.strip()]
    if not rows:
        sys.exit("sampler.py: no samples")
    tck = os.sysconf("SC_CLK_TCK")
    before = [r for r in rows if r[0] < c["t_first"]] or rows[:1]
    during = [r for r in rows if c["t_first"] <= r[0] <= c["t_last"]]
    finishing = [r for r in rows if c["t_last"] < r[0] <= c["t_stored"]]
    after = [r for r in rows if r[0] > c["t_stored"]]
    mb = lambda kb: kb * 1024 / 1e6

    def cpu_between(a, b):
        # Ticks at the samples nearest before a and after b.
        lo = max((r for r in rows if r[0] <= a), key=lambda r: r[0], default=rows[0])
        hi = min((r for r in rows if r[0] >= b), key=lambda r: r[0], default=rows[-1])
        return (hi[3] - lo[3]) / tck

    base = before[-1]
    peak_during = max((r[1] for r in during), default=base[1])
    peak_finish = max((r[1] for r in finishing), default=base[1])
    peak = max(peak_during, peak_finish)
    hwm_end = max(r[2] for r in rows)
    print(f"SAMPLES={len(rows)}")
    print(f"SAMPLES_DURING={len(during)}")
    print(f"RSS_BASE_MB={mb(base[1]):.1f}")
    print(f"HWM_BASE_MB={mb(base[2]):.1f}")
    print(f"RSS_PEAK_PATCH_MB={mb(peak_during):.1f}")
    print(f"RSS_PEAK_FINISH_MB={mb(peak_finish):.1f}")
    print(f"RSS_PEAK_MB={mb(peak):.1f}")
    print(f"RSS_GROWTH_MB={mb(peak - base[1]):.1f}")
    print(f"RSS_AFTER_MB={mb(after[-1][1] if after else rows[-1][1]):.1f}")
    print(f"HWM_END_MB={mb(hwm_end):.1f}")
    # VmHWM catches a peak between two samples; it only says something if it rose.
    print(f"HWM_GROWTH_MB={mb(hwm_end - base[1]):.1f}")
    print(f"THREADS_MAX={int(max(r[4] for r in rows))}")
    print(f"CPU_PATCH_SECS={cpu_between(c['t_first'], c['t_last']):.2f}")
    print(f"CPU_FINISH_SECS={cpu_between(c['t_last'], c['t_stored']):.2f}")
    if base[5] >= 0 and during:
        last = min((r for r in rows if r[0] >= c["t_last"]), key=lambda r: r[0], default=rows[-1])
        print(f"WRITE_MB={(last[5] - base[5]) / 1e6:.0f}")
    else:
        print("WRITE_MB=-")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "run":
        run(int(args[0]), args[1], int(args[2]))
    elif cmd == "summary":
        summary(args[0], args[1])
    else:
        sys.exit(f"sampler.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
