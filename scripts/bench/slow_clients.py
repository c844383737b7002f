#!/usr/bin/env python3
"""Slow-client load for scripts/bench-delivery (standard library only).

Opens N concurrent HTTP/1.1 connections to one loopback server, each sending
`GET <path>` for a whole (large) file and then reading about `--read-bytes` every
`--interval` seconds (8 KiB/s by default) for `--duration` seconds before closing.
Each socket gets a small SO_RCVBUF before connect, so the kernel cannot soak up
megabytes on the client side and the server has to hold the connection open.

Meanwhile it samples VmRSS of `--pid` and all of its descendants (nginx: master +
workers) every `--sample-interval` seconds from /proc.

A client counts as
  served  : connected, got an `HTTP/1.x 200` status line, and kept reading until its
            own deadline without EOF or error, never waiting more than `--max-gap` s
            for data;
  stalled : like served but some read waited longer than `--max-gap` s;
  failed  : anything else (connect error/timeout, non-200, no status line, closed early).

Results go to stdout as one line:
  SLOW_RESULT clients=.. connected=.. status_200=.. served=.. stalled=.. failed=..
              peak_open=.. baseline_rss_kb=.. peak_rss_kb=.. end_rss_kb=.. ...
Every load goes to the given host, which must be a loopback address.
"""

import argparse
import asyncio
import collections
import ipaddress
import os
import socket
import sys


def rss_kb_tree(root_pid):
    """Sum of VmRSS (kB) of root_pid and all its descendants; None if root is gone."""
    children = collections.defaultdict(list)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces/parens: split after last ')'
        rest = stat[stat.rfind(b")") + 2:].split()
        if len(rest) > 1:
            children[int(rest[1])].append(int(name))
    total, found, stack = 0, False, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            found = found or pid == root_pid
        except OSError:
            continue
        stack.extend(children.get(pid, ()))
    return total if found else None


class Stats:
    def __init__(self):
        self.connected = 0
        self.status_200 = 0
        self.served = 0
        self.stalled = 0
        self.failures = collections.Counter()
        self.open = 0
        self.peak_open = 0
        self.body_bytes = 0
        self.max_gap = 0.0


async def one_client(args, stats, start_at):
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (args.host, args.port)),
                                   args.connect_timeout)
        except asyncio.TimeoutError:
            stats.failures["connect_timeout"] += 1
            return
        except OSError as e:
            stats.failures[f"connect_{type(e).__name__}"] += 1
            return
        stats.connected += 1
        stats.open += 1
        stats.peak_open = max(stats.peak_open, stats.open)
        try:
            await client_session(args, stats, sock, loop)
        finally:
            stats.open -= 1
    finally:
        sock.close()


async def client_session(args, stats, sock, loop):
    req = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
           f"User-Agent: yuanjiao-bench-slow\r\nAccept: */*\r\n\r\n").encode()
    try:
        await asyncio.wait_for(loop.sock_sendall(sock, req), args.status_timeout)
    except (asyncio.TimeoutError, OSError) as e:
        stats.failures[f"send_{type(e).__name__}"] += 1
        return
    t0 = loop.time()
    deadline = t0 + args.duration
    head = b""
    # Status line: the first read is this second's budget as well.
    while b"\r\n" not in head:
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, args.read_bytes),
                                          args.status_timeout)
        except asyncio.TimeoutError:
            stats.failures["no_status_line"] += 1
            return
        except OSError as e:
            stats.failures[f"recv_{type(e).__name__}"] += 1
            return
        if not data:
            stats.failures["closed_before_status"] += 1
            return
        head += data
        if len(head) > 16384:
            stats.failures["bad_status_line"] += 1
            return
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1."):
        stats.failures["bad_status_line"] += 1
        return
    if status_line[1] != b"200":
        stats.failures[f"status_{status_line[1].decode(errors='replace')}"] += 1
        return
    stats.status_200 += 1

    received = len(head)
    last_data = loop.time()
    max_gap = 0.0
    next_tick = t0 + args.interval
    while True:
        now = loop.time()
        if now >= deadline:
            break
        if next_tick > now:
            await asyncio.sleep(min(next_tick, deadline) - now)
            if loop.time() >= deadline:
                break
        next_tick += args.interval
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, args.read_bytes),
                                          max(0.001, deadline - loop.time()))
        except asyncio.TimeoutError:
            break  # no data until the deadline: the gap is counted below
        except OSError as e:
            stats.failures[f"recv_{type(e).__name__}"] += 1
            return
        if not data:
            stats.failures["closed_early"] += 1
            return
        now = loop.time()
        max_gap = max(max_gap, now - last_data)
        last_data = now
        received += len(data)
    max_gap = max(max_gap, min(loop.time(), deadline) - last_data)
    stats.body_bytes += received
    stats.max_gap = max(stats.max_gap, max_gap)
    if max_gap > args.max_gap:
        stats.stalled += 1
    else:
        stats.served += 1


async def sampler(pid, interval, out, stop):
    while not stop.is_set():
        kb = await asyncio.to_thread(rss_kb_tree, pid)
        if kb is not None:
            out.append(kb)
        else:
            out.append(-1)  # server gone
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass


async def main_async(args):
    loop = asyncio.get_running_loop()
    stats = Stats()
    samples = []
    baseline = rss_kb_tree(args.pid) if args.pid else None
    stop = asyncio.Event()
    sampler_task = (asyncio.create_task(sampler(args.pid, args.sample_interval, samples, stop))
                    if args.pid else None)
    t_start = loop.time()
    tasks = [asyncio.create_task(one_client(args, stats, t_start + args.ramp * i / args.clients))
             for i in range(args.clients)]
    bound = args.ramp + args.connect_timeout + args.status_timeout + args.duration + 15
    done, pending = await asyncio.wait(tasks, timeout=bound)
    for t in pending:
        t.cancel()
        stats.failures["harness_timeout"] += 1
    if pending:
        await asyncio.wait(pending, timeout=5)
    for t in done:
        if t.exception() is not None:
            stats.failures[f"harness_{type(t.exception()).__name__}"] += 1
    elapsed = loop.time() - t_start
    # one more sample after the clients closed (to see memory being given back)
    await asyncio.sleep(args.sample_interval)
    stop.set()
    if sampler_task:
        await sampler_task
    end_rss = rss_kb_tree(args.pid) if args.pid else None
    valid = [s for s in samples if s >= 0]
    failed = args.clients - stats.served - stats.stalled
    result = {
        "clients": args.clients,
        "connected": stats.connected,
        "status_200": stats.status_200,
        "served": stats.served,
        "stalled": stats.stalled,
        "failed": failed,
        "peak_open": stats.peak_open,
        "elapsed_s": f"{elapsed:.1f}",
        "body_mb": f"{stats.body_bytes / 1e6:.1f}",
        "max_gap_s": f"{stats.max_gap:.2f}",
        "server_gone": int(any(s < 0 for s in samples) or (args.pid and end_rss is None)),
        "baseline_rss_kb": baseline if baseline is not None else -1,
        "peak_rss_kb": max(valid) if valid else -1,
        "end_rss_kb": end_rss if end_rss is not None else -1,
        "samples": len(samples),
        "failures": ",".join(f"{k}:{v}" for k, v in sorted(stats.failures.items())) or "none",
    }
    print("SLOW_RESULT " + " ".join(f"{k}={v}" for k, v in result.items()), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--clients", type=int, default=2000)
    p.add_argument("--duration", type=float, default=20.0, help="seconds each client reads")
    p.add_argument("--read-bytes", type=int, default=8192, help="bytes read per interval")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--rcvbuf", type=int, default=16384, help="SO_RCVBUF set before connect")
    p.add_argument("--ramp", type=float, default=2.0, help="seconds over which clients start")
    p.add_argument("--connect-timeout", type=float, default=10.0)
    p.add_argument("--status-timeout", type=float, default=10.0)
    p.add_argument("--max-gap", type=float, default=5.0,
                   help="longest wait for data that still counts as served")
    p.add_argument("--pid", type=int, default=0, help="server pid whose RSS (with children) to sample")
    p.add_argument("--sample-interval", type=float, default=0.5)
    args = p.parse_args()
    if not ipaddress.ip_address(socket.gethostbyname(args.host)).is_loopback:
        sys.exit(f"slow_clients: refusing non-loopback host {args.host}")
    if args.clients < 1:
        sys.exit("slow_clients: --clients must be >= 1")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
