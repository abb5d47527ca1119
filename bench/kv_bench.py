#!/usr/bin/env python3
"""KV benchmark (issue 2): soup-c against a grpc-go in-memory KV server,
in the same run, with h2load (nghttp2-client) and 100 concurrent streams.

Prints one table: req/s, p50/p99 latency, RSS, and the ratio to the Go
reference; plus the disk's own fsync rate for the durable-Put comparison.
It measures only; it never decides pass or fail.

Usage: bench/kv_bench.py [--requests N] [--soupc PATH] [--kvref PATH]
Run with /usr/bin/python3 (Debian's). Builds release soup-c and the Go
peers if they are not given.
"""

import argparse
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def grpc_body(fields):
    """A gRPC-framed protobuf message of length-delimited fields (built by
    hand because h2load needs the raw bytes in a file)."""
    msg = b"".join(bytes([(num << 3) | 2]) + varint(len(v)) + v for num, v in fields)
    return b"\x00" + struct.pack(">I", len(msg)) + msg


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(cmd, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    deadline = time.time() + 60
    for line in proc.stdout:
        m = re.search(r"Server listening on (\S+)", line)
        if m:
            addr = m.group(1)
            port = addr.rsplit(":", 1)[1]
            return proc, port
        if time.time() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start")


def h2load_run(port, method, body_path, requests, clients, streams, log_path=None):
    cmd = ["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams),
           "-t", "1", "-d", body_path,
           "-H", "content-type: application/grpc", "-H", "te: trailers"]
    if log_path:
        cmd += ["--log-file", log_path]
    cmd.append(f"http://127.0.0.1:{port}/proto.KV/{method}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    rps = float(m.group(3))
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed",
                  out)
    return rps, int(m.group(1)), int(m.group(2))


def h2load(port, method, body_path, requests, clients, streams, log_path):
    """req/s from a run without per-request logging (h2load's --log-file
    costs the client enough to cap the faster server), then p50/p99 from a
    second, logged run of a quarter of the requests."""
    rps, succeeded, failed = h2load_run(port, method, body_path, requests, clients,
                                        streams)
    _, ok2, failed2 = h2load_run(port, method, body_path, max(requests // 4, 100),
                                 clients, streams, log_path)
    succeeded += ok2
    failed += failed2
    lat = []
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                lat.append(int(parts[2]) / 1000.0)  # µs -> ms
    lat.sort()
    p50 = lat[len(lat) // 2] if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    return rps, p50, p99, succeeded, failed


def grpc_status_of(port, method, body_path):
    """h2load counts HTTP status only: check grpc-status with nghttp."""
    r = subprocess.run(["nghttp", "-v", "-d", body_path,
                        "-H", "content-type: application/grpc", "-H", "te: trailers",
                        f"http://127.0.0.1:{port}/proto.KV/{method}"],
                       capture_output=True, text=True)
    m = re.search(r"grpc-status: (\d+)", r.stdout)
    return int(m.group(1)) if m else None


def fsync_rate(directory, seconds=2.0):
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    n = 0
    end = time.time() + seconds
    block = b"x" * 4096
    while time.time() < end:
        os.pwrite(fd, block, 0)
        os.fsync(fd)
        n += 1
    os.close(fd)
    os.unlink(path)
    return n / seconds


def ensure_builds(args):
    if not args.soupc:
        subprocess.run(["cmake", "--preset", "release"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "--preset", "release", "--target", "soup-c"],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        args.soupc = os.path.join(REPO, "build", "release", "soup-c")
    if not args.kvref:
        out = os.path.join(REPO, "build", "release", "go-peers")
        subprocess.run([os.path.join(REPO, "peers", "go", "build.sh"), out], check=True,
                       stdout=subprocess.DEVNULL)
        args.kvref = os.path.join(out, "kvref")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--put-requests", type=int, default=50000)
    ap.add_argument("--soupc")
    ap.add_argument("--kvref")
    args = ap.parse_args()
    ensure_builds(args)

    work = tempfile.mkdtemp(prefix="soupc-bench-")
    procs = []
    try:
        key = b"bench-key"
        bodies = {
            "get": grpc_body([(1, key)]),
            "put": grpc_body([(1, key), (2, b"v" * 64)]),
        }
        paths = {}
        for name, body in bodies.items():
            paths[name] = os.path.join(work, f"{name}.bin")
            with open(paths[name], "wb") as f:
                f.write(body)

        store = os.path.join(work, "store")
        soupc, sport = start([args.soupc, "rpc", "kv", "server", "--standalone",
                              "--listen", "127.0.0.1:0", "--storage-dir", store,
                              "--sync", "full", "--log-level", "error"])
        procs.append(soupc)
        goref, gport = start([args.kvref, "--listen", "127.0.0.1:0"])
        procs.append(goref)
        time.sleep(0.5)
        idle = {"soup-c": rss_kib(soupc.pid), "go kvref": rss_kib(goref.pid)}
        servers = {"soup-c": (soupc, sport), "go kvref": (goref, gport)}

        rows = []
        for name, (proc, port) in servers.items():
            # Seed the key, then check grpc-status of each call type once.
            h2load(port, "Put", paths["put"], 100, 1, 1, os.path.join(work, "seed.log"))
            st_put = grpc_status_of(port, "Put", paths["put"])
            st_get = grpc_status_of(port, "Get", paths["get"])
            rps, p50, p99, ok, failed = h2load(port, "Get", paths["get"], args.requests,
                                               4, 25, os.path.join(work, "get.log"))
            rows.append((name, "Get", rps, p50, p99, rss_kib(proc.pid), ok, failed, st_get))
            rps, p50, p99, ok, failed = h2load(port, "Put", paths["put"],
                                               args.put_requests, 4, 25,
                                               os.path.join(work, "put.log"))
            rows.append((name, "Put" + (" (sync full)" if name == "soup-c" else " (memory)"),
                         rps, p50, p99, rss_kib(proc.pid), ok, failed, st_put))
        fsync = fsync_rate(work)

        ref = {r[1].split()[0]: r[2] for r in rows if r[0] == "go kvref"}
        print(f"\nKV benchmark: h2load, 100 concurrent streams (4 connections x 25), "
              f"{args.requests} Gets / {args.put_requests} Puts, 64-byte values, "
              f"{os.cpu_count()} cores\n")
        print(f"| server | call | req/s | p50 ms | p99 ms | RSS MiB | vs Go | ok | failed | grpc-status |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, call, rps, p50, p99, rss, ok, failed, st in rows:
            ratio = rps / ref[call.split()[0]] if ref.get(call.split()[0]) else float("nan")
            print(f"| {name} | {call} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | "
                  f"{rss / 1024:.1f} | {ratio:.2f}x | {ok} | {failed} | {st} |")
        put_rps = [r[2] for r in rows if r[0] == "soup-c" and r[1].startswith("Put")][0]
        print(f"\nidle RSS: soup-c {idle['soup-c'] / 1024:.2f} MiB, "
              f"go kvref {idle['go kvref'] / 1024:.2f} MiB")
        print(f"disk fsync rate (4 KiB write + fsync, same dir): {fsync:,.0f}/s; "
              f"durable Put with 100 writers: {put_rps:,.0f}/s = "
              f"{put_rps / fsync:.1f}x the fsync rate")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
