#!/usr/bin/env python3
"""Renders the table of scripts/bench-delivery from its results file.

usage: report.py RESULTS OUT_TXT

RESULTS holds one `key value` per line (value = rest of the line), written by the
bench script:  meta.<name> ..., <side>.<test>.<field> ... where side is yuanjiao or
nginx, test is small|random|full|slow, and `<side>.<test>.check` is `ok` or the
reason the responses were wrong. The table goes to stdout and to OUT_TXT.

Targets: every throughput ratio yuanjiao/nginx >= 0.8; all slow clients served by
yuanjiao with its peak RSS < 100 MB. Exit status is 0 whether targets are met or not.
"""

import sys

RATIO_TARGET = 0.8
RSS_TARGET_MB = 100.0


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            k, _, v = line.partition(" ")
            r[k] = v
    return r


def num(r, key):
    v = r.get(key)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(x, digits=1):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def main():
    results_path, out_path = sys.argv[1], sys.argv[2]
    r = load(results_path)
    yj_label = r.get("meta.yuanjiao_label", "yuanjiao")
    rows = []      # (metric, yj, ng, ratio, target, result)
    notes = []
    verdicts = []  # True/False per target that could be judged

    def check_of(side, test):
        c = r.get(f"{side}.{test}.check")
        return c if c is not None else None

    def throughput_row(metric, test, field, digits=1):
        yj, ng = num(r, f"yuanjiao.{test}.{field}"), num(r, f"nginx.{test}.{field}")
        yc, nc = check_of("yuanjiao", test), check_of("nginx", test)
        ratio = yj / ng if yj is not None and ng else None
        if (yc not in (None, "ok")) or (nc not in (None, "ok")):
            result = "INVALID"
        elif ratio is None:
            result = "n/a"
        else:
            ok = ratio >= RATIO_TARGET
            verdicts.append(ok)
            result = "PASS" if ok else "FAIL"
        yjs = fmt(yj, digits) + ("" if yc in (None, "ok") else " !")
        ngs = fmt(ng, digits) + ("" if nc in (None, "ok") else " !")
        rows.append((metric, yjs, ngs, "-" if ratio is None else f"{ratio:.2f}",
                     f">= {RATIO_TARGET}", result))

    def info_row(metric, test, field, digits=2):
        yj, ng = num(r, f"yuanjiao.{test}.{field}"), num(r, f"nginx.{test}.{field}")
        ratio = yj / ng if yj is not None and ng else None
        rows.append((metric, fmt(yj, digits), fmt(ng, digits),
                     "-" if ratio is None else f"{ratio:.2f}", "(info)", ""))

    conns = r.get("meta.connections", "?")
    full_conns = r.get("meta.full_connections", "?")
    file_mib = num(r, "meta.file_bytes")
    file_desc = f"{file_mib / 1048576:.0f} MiB" if file_mib else "file"

    throughput_row(f"1 KiB range bytes=0-1023, req/s ({conns} conns)", "small", "rps")
    info_row("  p99 latency ms", "small", "p99_ms")
    throughput_row(f"1 MiB random ranges, req/s ({conns} conns)", "random", "rps")
    throughput_row("1 MiB random ranges, MB/s", "random", "mbps")
    info_row("  p99 latency ms", "random", "p99_ms")
    throughput_row(f"full {file_desc} GET, MB/s ({full_conns} conns)", "full", "mbps")
    info_row("  full GETs completed per s", "full", "rps")

    # slow clients
    clients = num(r, "meta.slow_clients")
    ncl = int(clients) if clients else 0
    yserved, nserved = num(r, "yuanjiao.slow.served"), num(r, "nginx.slow.served")
    def served_s(v):
        return "-" if v is None else f"{int(v)}/{ncl}"
    if yserved is None:
        res = "n/a"
    else:
        ok = int(yserved) == ncl
        verdicts.append(ok)
        res = "PASS" if ok else "FAIL"
    rows.append((f"slow clients (8 KiB/s) served, of {ncl}", served_s(yserved), served_s(nserved),
                 "-", f"= {ncl}", res))
    yrss, nrss = num(r, "yuanjiao.slow.peak_rss_kb"), num(r, "nginx.slow.peak_rss_kb")
    yrss_mb = yrss / 1024 if yrss is not None and yrss >= 0 else None
    nrss_mb = nrss / 1024 if nrss is not None and nrss >= 0 else None
    if yrss_mb is None:
        res = "n/a"
    else:
        ok = yrss_mb < RSS_TARGET_MB
        verdicts.append(ok)
        res = "PASS" if ok else "FAIL"
    rows.append(("slow clients: server peak RSS MB", fmt(yrss_mb), fmt(nrss_mb),
                 "-" if yrss_mb is None or not nrss_mb else f"{yrss_mb / nrss_mb:.2f}",
                 f"< {RSS_TARGET_MB:.0f}", res))
    for field, label in (("baseline_rss_kb", "  RSS before the test MB"),
                         ("end_rss_kb", "  RSS after clients closed MB")):
        yv, nv = num(r, f"yuanjiao.slow.{field}"), num(r, f"nginx.slow.{field}")
        rows.append((label, fmt(yv / 1024 if yv is not None and yv >= 0 else None),
                     fmt(nv / 1024 if nv is not None and nv >= 0 else None), "-", "(info)", ""))
    for field, label in (("connected", "  connected"), ("status_200", "  got 200 status line"),
                         ("stalled", "  stalled (a read waited > max gap)"),
                         ("failed", "  failed")):
        yv, nv = num(r, f"yuanjiao.slow.{field}"), num(r, f"nginx.slow.{field}")
        rows.append((label, fmt(yv, 0), fmt(nv, 0), "-", "(info)", ""))

    for side, label in (("yuanjiao", yj_label), ("nginx", "nginx")):
        if r.get(f"{side}.precheck"):
            notes.append(f"{label}: not measured, curl checks failed: {r[f'{side}.precheck']}")
        for test in ("small", "random", "full", "slow"):
            c = r.get(f"{side}.{test}.check")
            if c not in (None, "ok") and not c.startswith("not measured"):
                notes.append(f"{label} {test}: responses wrong: {c}")
            e = r.get(f"{side}.{test}.socket_errors")
            if e not in (None, "0/0/0/0"):
                notes.append(f"{label} {test}: wrk socket errors connect/read/write/timeout = {e}")
        f = r.get(f"{side}.slow.failures")
        if f not in (None, "none"):
            notes.append(f"{label} slow clients failures: {f}")
        if r.get(f"{side}.slow.server_gone") == "1":
            notes.append(f"{label}: server process disappeared during the slow-client test")

    spread = []
    for test in ("small", "random", "full"):
        for side, label in (("yuanjiao", yj_label), ("nginx", "nginx")):
            rr = r.get(f"{side}.{test}.rounds")
            if rr:
                spread.append(f"{test:<6} {label}: {rr}")

    headers = ("metric", yj_label, "nginx", "ratio", "target", "result")
    widths = [max(len(str(row[i])) for row in rows + [headers]) for i in range(len(headers))]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]))
        return " | ".join(out).rstrip()

    text = []
    text.append("yuanjiao vs nginx delivery benchmark (ratio = yuanjiao/nginx)")
    for k in r:
        if k.startswith("meta.") and k not in ("meta.yuanjiao_label",):
            text.append(f"  {k[5:]}: {r[k]}")
    text.append("")
    text.append(line(headers))
    text.append("-+-".join("-" * w for w in widths))
    for row in rows:
        text.append(line(row))
    text.append("")
    if verdicts:
        passed = sum(verdicts)
        overall = "PASS" if all(verdicts) else "FAIL"
        text.append(f"targets: {passed}/{len(verdicts)} met -> {overall} "
                    f"(throughput ratios >= {RATIO_TARGET}; all slow clients served with "
                    f"yuanjiao RSS < {RSS_TARGET_MB:.0f} MB)")
    else:
        text.append("targets: none judged (one side was not measured)")
    if spread:
        text.append("wrk rounds (run-to-run spread):")
        text.extend(f"  {x}" for x in spread)
    if notes:
        text.append("notes:")
        text.extend(f"  - {n}" for n in notes)
    out = "\n".join(text) + "\n"
    sys.stdout.write(out)
    with open(out_path, "w") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
