#!/usr/bin/env python3
"""The tus client of scripts/bench-upload: standard library only, one keep-alive connection,
never a process per chunk, so that the client does not limit what is measured.

  client.py upload BASE TOKEN FILE CHUNK OUT.json
      POST /uploads (Upload-Length, Upload-Metadata filename bench-upload.txt, filetype
      text/plain), then one PATCH per CHUNK bytes of FILE (read into one reused buffer, sent with
      Content-Length), each answered 204 with the new Upload-Offset before the next is sent; then
      GET /api/v1/uploads/{id} every 20 ms until the upload is "stored" (or "rejected"), and a
      HEAD. Writes the timings (wall clock, time.time(), comparable with sampler.py's) to OUT.json.
  client.py probe BASE TOKEN N
      N PATCHes of 1 byte each into a fresh upload, and N HEADs of it: the fixed cost of a PATCH
      (begin, fsync of the file, record and flush of the offset) apart from its bytes, and the
      cost of a round trip that touches no disk. Prints KEY=VALUE lines.
  client.py disk DIR FILE CHUNK MIB
      The disk alone, for comparison: writes the first MIB MiB of FILE to a new file in DIR in
      CHUNK-byte pieces, fdatasync after each; then again, with a 100-byte write and fdatasync
      of a second file after each piece (as the server records the offset in its database).
      Prints KEY=VALUE lines; the files are removed.
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse

TUS = "1.0.0"
PATCH_TYPE = "application/offset+octet-stream"


def connect(base):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def request(conn, method, path, headers, body=None):
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    return r, r.read()


def fail(msg):
    print(f"client.py: {msg}", file=sys.stderr)
    sys.exit(1)


def create(conn, token, length, filename="bench-upload.txt"):
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in (("filename", filename), ("filetype", "text/plain")))
    r, body = request(conn, "POST", "/uploads", {
        "Authorization": f"Bearer {token}", "Tus-Resumable": TUS,
        "Upload-Length": str(length), "Upload-Metadata": meta, "Content-Length": "0"})
    if r.status != 201 or not r.getheader("Location"):
        fail(f"POST /uploads answered {r.status}: {body[:300]!r}")
    return urllib.parse.urlsplit(r.getheader("Location")).path


def patch(conn, token, path, offset, data):
    """One PATCH; returns its latency in seconds (headers sent to answer read)."""
    t = time.perf_counter()
    conn.putrequest("PATCH", path, skip_accept_encoding=True)
    for k, v in (("Authorization", f"Bearer {token}"), ("Tus-Resumable", TUS),
                 ("Content-Type", PATCH_TYPE), ("Upload-Offset", str(offset)),
                 ("Content-Length", str(len(data)))):
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(data)
    r = conn.getresponse()
    body = r.read()
    lat = time.perf_counter() - t
    if r.status != 204:
        fail(f"PATCH at offset {offset} answered {r.status}: {body[:300]!r}")
    got = r.getheader("Upload-Offset")
    if got != str(offset + len(data)):
        fail(f"PATCH at offset {offset} of {len(data)} bytes answered Upload-Offset {got}")
    return lat


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def upload(base, token, file, chunk, out):
    size = os.path.getsize(file)
    conn = connect(base)
    path = create(conn, token, size)
    upload_id = path.rsplit("/", 1)[1]
    buf = bytearray(chunk)
    mv = memoryview(buf)
    lats = []
    offset = 0
    cpu0 = os.times()
    with open(file, "rb", buffering=0) as f:
        t_first = time.time()
        p0 = time.perf_counter()
        while offset < size:
            n = f.readinto(buf)
            if not n:
                fail(f"{file} ended at {offset} of {size} bytes")
            lats.append(patch(conn, token, path, offset, mv[:n]))
            offset += n
        p_last = time.perf_counter()
        t_last = time.time()
    cpu1 = os.times()
    # What became of it: verifying (hashed, moved into the blob store) -> stored.
    status_path = f"/api/v1/uploads/{upload_id}"
    auth = {"Authorization": f"Bearer {token}"}
    deadline = time.time() + float(os.environ.get("BENCH_STORED_TIMEOUT", "300"))
    polls, state, doc = 0, None, None
    while True:
        r, body = request(conn, "GET", status_path, auth)
        polls += 1
        if r.status != 200:
            fail(f"GET {status_path} answered {r.status}: {body[:300]!r}")
        doc = json.loads(body)
        state = doc["upload"]["state"]["state"]
        if state in ("stored", "rejected"):
            break
        if time.time() > deadline:
            break
        time.sleep(0.02)
    p_stored = time.perf_counter()
    t_stored = time.time()
    r, _ = request(conn, "HEAD", path, {**auth, "Tus-Resumable": TUS})
    head_offset = r.getheader("Upload-Offset")
    conn.close()
    lats.sort()
    res = {
        "id": upload_id, "size": size, "chunk": chunk, "patches": len(lats),
        "t_first": t_first, "t_last": t_last, "t_stored": t_stored,
        "patch_secs": p_last - p0, "stored_after_secs": p_stored - p_last,
        "first_to_stored_secs": p_stored - p0,
        "lat_p50_ms": pct(lats, 50) * 1e3, "lat_p99_ms": pct(lats, 99) * 1e3,
        "lat_max_ms": lats[-1] * 1e3, "lat_sum_secs": sum(lats),
        "client_cpu_secs": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "polls": polls, "state": state, "upload_state": doc["upload"]["state"],
        "sha256": doc["upload"]["state"].get("sha256", ""),
        "offset": doc["upload"]["offset"], "head_status": r.status, "head_offset": head_offset,
    }
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


def probe(base, token, n):
    conn = connect(base)
    path = create(conn, token, n, "bench-upload-probe.txt")
    one = memoryview(b"x")
    lats = sorted(patch(conn, token, path, k, one) for k in range(n))
    heads = []
    for _ in range(n):
        t = time.perf_counter()
        r, _ = request(conn, "HEAD", path, {"Authorization": f"Bearer {token}", "Tus-Resumable": TUS})
        heads.append(time.perf_counter() - t)
        if r.status != 200:
            fail(f"HEAD {path} answered {r.status}")
    heads.sort()
    conn.close()
    print(f"PROBE_PATCH_P50_MS={pct(lats, 50) * 1e3:.2f}")
    print(f"PROBE_PATCH_P90_MS={pct(lats, 90) * 1e3:.2f}")
    print(f"PROBE_HEAD_P50_MS={pct(heads, 50) * 1e3:.2f}")


def disk(directory, file, chunk, mib):
    total = mib << 20
    for variant in ("data", "journal"):
        target = os.path.join(directory, f"disk-probe-{variant}.bin")
        journal = os.path.join(directory, f"disk-probe-{variant}.journal")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        jd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        syncs = []
        done = 0
        with open(file, "rb", buffering=0) as src:
            buf = bytearray(chunk)
            mv = memoryview(buf)
            t0 = time.perf_counter()
            while done < total:
                k = src.readinto(buf)
                if not k:
                    break
                os.write(fd, mv[:k])
                s = time.perf_counter()
                os.fdatasync(fd)
                if variant == "journal":
                    os.write(jd, b"o" * 100)
                    os.fdatasync(jd)
                syncs.append(time.perf_counter() - s)
                done += k
            secs = time.perf_counter() - t0
        os.close(fd)
        os.close(jd)
        os.unlink(target)
        os.unlink(journal)
        syncs.sort()
        key = "DISK" if variant == "data" else "DISKJ"
        print(f"{key}_MBS={done / secs / 1e6:.0f}")
        print(f"{key}_SYNC_P50_MS={pct(syncs, 50) * 1e3:.2f}")


def sha256_of(file):
    h = hashlib.sha256()
    with open(file, "rb", buffering=0) as f:
        buf = bytearray(8 << 20)
        mv = memoryview(buf)
        while True:
            k = f.readinto(buf)
            if not k:
                break
            h.update(mv[:k])
    print(h.hexdigest())


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "upload":
        upload(args[0], args[1], args[2], int(args[3]), args[4])
    elif cmd == "probe":
        probe(args[0], args[1], int(args[2]))
    elif cmd == "disk":
        disk(args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == "sha256":
        sha256_of(args[0])
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
