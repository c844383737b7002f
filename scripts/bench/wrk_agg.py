#!/usr/bin/env python3
"""Adds up the rounds of one wrk test against one server (for scripts/bench-delivery).

usage: wrk_agg.py WANT_BODY_BYTES EXACT(1|0) CONNECTIONS FILE...

Each FILE is the output of one wrk run with scripts/bench/ranges.lua, whose done()
prints a `BENCH_RESULT k=v ...` line. Prints `key value` lines for the results file:
rps, mbps, p99_ms (worst round), requests, socket_errors (connect/read/write/timeout),
rounds (req/s and MB/s of each round) and check (`ok` or what was wrong).

The check: no status >= 400 and, per round, the mean bytes per completed response
(headers and responses cut off when wrk stopped included) must be at least the
expected body size and, when EXACT, at most that plus headers plus one cut-off body per
connection spread over the requests.
"""

import sys


def parse(path):
    with open(path, errors="replace") as f:
        lines = [l for l in f if l.startswith("BENCH_RESULT ")]
    if not lines:
        return None
    return {k: float(v) for k, v in (kv.split("=", 1) for kv in lines[-1].split()[1:])}


def main():
    want, exact, conns = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
    rounds, problems = [], []
    for path in sys.argv[4:]:
        r = parse(path)
        if r is None:
            problems.append(f"no wrk result in {path}")
        else:
            rounds.append(r)
    if not rounds:
        print("check " + "; ".join(problems or ["no rounds"]))
        return 0
    dur = sum(r["duration_s"] for r in rounds)
    reqs = sum(r["requests"] for r in rounds)
    nbytes = sum(r["bytes"] for r in rounds)
    status_errors = sum(r["status_errors"] for r in rounds)
    if status_errors:
        problems.append(f"{status_errors:.0f} responses with status >= 400")
    for i, r in enumerate(rounds, 1):
        if r["requests"] == 0:
            problems.append(f"round {i}: no request completed")
            continue
        per = r["bytes_per_req"]
        upper = want + 4096 + conns * (want + 4096) / r["requests"]
        if per < want or (exact and per > upper):
            problems.append(f"round {i}: mean {per:.0f} bytes per response, "
                            f"expected {want} body bytes + headers")
    errs = "/".join(str(int(sum(r[k] for r in rounds)))
                    for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    print(f"rps {reqs / dur:.1f}")
    print(f"mbps {nbytes / dur / 1e6:.1f}")
    print(f"p99_ms {max(r['p99_ms'] for r in rounds):.2f}")
    print(f"requests {reqs:.0f}")
    print(f"socket_errors {errs}")
    print("rounds " + ", ".join(f"{r['rps']:.0f} req/s {r['mbps']:.0f} MB/s" for r in rounds))
    print("check " + ("; ".join(problems) if problems else "ok"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
