#!/usr/bin/python3
"""KV benchmark: soup-c against grpc-go, etcd, Redis and an nghttpd bound.

Every contender is started by this script, on loopback, and measured in the
same run: for each cell (call, value size, load shape, h2c or TLS) the
contenders take turns, three repetitions each, in a rotating order, so a
noisy machine hurts them alike. Each row shows the median req/s with the
min-max of the repetitions, the server's CPU per request (from
/proc/PID/stat), the load generator's own CPU (from wait4), the server's
peak RSS, calls that did not get grpc-status 0, and the contender's
durability guarantee. The disk's fsync rate is probed before each Put cell.

Contenders (pick with --contenders):
  soup-c        soup-c rpc kv server --standalone, --sync full (TLS: --tls-mode auto)
  soup-c-none   the same with --sync none (Put only)
  kvref         grpc-go in-memory KV (peers/go), TLS with a P-256 certificate
  etcd          etcd 3.4 single member (Debian etcd-server), its gRPC KV
                (Put, Range) driven by the same h2load as soup-c; h2c only
  redis-always  redis-server, appendonly yes, appendfsync always;
                driven by redis-benchmark; plain TCP only
  redis-default redis-server with its defaults (no AOF, RDB snapshots)
  nghttpd       nghttpd serving the Get response bytes as a static file: a
                bound for large Gets (Get only)
  base, base-none  another soup-c binary (--baseline PATH), for before/after
                comparisons of a change in the same run; --baseline-args
                gives it extra flags (--baseline same: the soup-c binary with
                other flags, e.g. the limits of README "Limits" out of reach)

Connection setup (--ops conn,s_time), measured on its own:
  conn          h2load -c N -n N: N connections at once, one 64 B Get each, so
                every call pays for its connection (and, in TLS, a full
                handshake); req/s is then connections per second
  s_time        openssl s_time for --seconds (TLS only, one connection at a
                time): shape 1x1 full TLS 1.3 handshakes (-new), shape 2x1
                TLS 1.2 resumed from the server's session ticket (-reuse;
                s_time cannot resume TLS 1.3, whose tickets come after the
                handshake and which it never reads)

Load shapes are CLIENTSxSTREAMS: h2load -c CLIENTS -m STREAMS, or
redis-benchmark -c CLIENTS -P STREAMS (pipelining). h2load gets
min(CLIENTS, cores) threads and redis-benchmark one unless --gen-threads says
otherwise; the gen% column shows whether the generator was the bound. h2load counts HTTP status only, so the script counts gRPC
successes from the DATA bytes it received (a failed call is trailers-only).

It measures and prints; it never decides pass or fail. Run it with Debian's
/usr/bin/python3. Without --soupc/--kvref it builds the release preset and
the Go peers. A full run takes about an hour on 2 cores; --quick takes a few
minutes; --smoke a few seconds.

Examples:
  bench/kv_bench.py --quick
  bench/kv_bench.py --ops put --sizes 64 --shapes 1x1,16x1,100x1,4x25
  bench/kv_bench.py --ops get --sizes 1M --shapes 100x10,1000x1 --modes h2c,tls
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
NCPU = os.cpu_count() or 1

ALL_CONTENDERS = ["soup-c", "soup-c-none", "kvref", "etcd", "redis-always",
                  "redis-default", "nghttpd", "base", "base-none"]
DURABILITY = {
    "soup-c": "fdatasync before the reply (group commit)",
    "soup-c-none": "page cache; survives a process crash, not power loss",
    "kvref": "memory only; nothing survives",
    "etcd": "WAL fdatasync before the reply (raft, 1 member)",
    "redis-always": "AOF fsync before the reply (appendfsync always)",
    "redis-default": "none before the reply; RDB snapshots only",
    "nghttpd": "static file, read-only bound",
    "base": "as soup-c (--baseline binary)",
    "base-none": "as soup-c-none (--baseline binary)",
}
GET_SHAPES = ["1x1", "4x25", "100x10", "1000x1"]
CONN_SHAPES = ["100x1", "1000x1"]
S_TIME_SHAPES = ["1x1", "2x1"]  # -new (TLS 1.3), -reuse (TLS 1.2)
S_TIME_LABELS = {"1x1": "new TLS 1.3", "2x1": "resumed TLS 1.2"}
PUT_SHAPES = ["1x1", "4x25", "16x1", "100x1", "100x10", "1000x1"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------
# Request bodies


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_bytes_fields(fields):
    return b"".join(bytes([(num << 3) | 2]) + varint(len(v)) + v for num, v in fields)


def grpc_frame(msg):
    return b"\x00" + struct.pack(">I", len(msg)) + msg


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KkMm]?)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use 64, 4K, 1M)")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20}[m.group(2).lower()]


def size_name(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def parse_shape(text):
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad shape {text!r} (use CLIENTSxSTREAMS)")
    return int(m.group(1)), int(m.group(2))


# ------------------------------------------------------------------------
# Processes and /proc


def proc_cpu_s(pid):
    """utime + stime of every thread of @pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE // 1024
    except OSError:
        return 0


class RssSampler:
    """Peak RSS of a process while a run lasts (polled every 50 ms)."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, rss_kib(pid), threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()


def run_timed(cmd, timeout):
    """Runs @cmd; returns (stdout, wall seconds, child CPU seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise RuntimeError(f"{cmd[0]} timed out after {timeout} s:\n{out[-2000:]}")
    wall = time.monotonic() - t0
    # communicate() reaped it; its rusage is in RUSAGE_CHILDREN, but other
    # children may be reaped too, so wait4 is not available here. Use the
    # delta of RUSAGE_CHILDREN taken by the caller instead.
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... exited {p.returncode}:\n{out[-2000:]}")
    return out, wall


def children_cpu_s():
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


class Server:
    def __init__(self, name, proc, port, kind, tls=False, path_prefix="/proto.KV/"):
        self.name, self.proc, self.port, self.kind = name, proc, port, kind
        self.tls, self.path_prefix = tls, path_prefix
        self.idle_rss = 0

    @property
    def pid(self):
        return self.proc.pid


def start_listening(cmd, what):
    """Starts a server that prints 'Server listening on HOST:PORT'."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    for line in proc.stdout:
        m = re.search(r"Server listening on (\S+)", line)
        if m:
            # Keep draining stdout so the server never blocks on it.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, int(m.group(1).rsplit(":", 1)[1])
        if time.time() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"{what} did not start")


# ------------------------------------------------------------------------
# Load generators


def h2load(server, method, body_path, n, clients, streams, threads, timeout):
    scheme = "https" if server.tls else "http"
    cmd = ["h2load", "-n", str(n), "-c", str(clients), "-m", str(streams),
           "-t", str(threads), "-H", "content-type: application/grpc",
           "-H", "te: trailers"]
    if body_path:
        cmd += ["-d", body_path]
    path = method if method.startswith("/") else server.path_prefix + method
    cmd.append(f"{scheme}://127.0.0.1:{server.port}{path}")
    out, wall = run_timed(cmd, timeout)
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored", out)
    done, ok_http = int(m.group(1)), int(m.group(2))
    m = re.search(r"traffic: .*?, [^,]*headers.*?, [^(]*\((\d+)\) data", out)
    data = int(m.group(1)) if m else 0
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out)
    mean_ms = dur_ms(m.group(3)) if m else float("nan")
    return {"secs": secs, "done": done, "ok_http": ok_http, "data": data,
            "mean_ms": mean_ms}


def s_time(server, reuse, seconds, timeout):
    """openssl s_time, one connection at a time; each connection does the
    handshake and closes. @return connections done in the measured wall time."""
    cmd = ["openssl", "s_time", "-connect", f"127.0.0.1:{server.port}",
           "-time", str(max(1, int(round(seconds))))]
    cmd += ["-reuse", "-tls1_2"] if reuse else ["-new"]
    out, wall = run_timed(cmd, timeout)
    m = re.findall(r"(\d+) connections in [\d.]+s;", out)
    if not m:
        raise RuntimeError(f"openssl s_time printed no count:\n{out[-1000:]}")
    done = int(m[-1])
    if reuse:
        # One '*' per full handshake, one 'r' per resumed one.
        marks = "".join(re.findall(r"^[*r]+$", out, re.M))
        if done > 1 and marks.count("r") < done // 2:
            raise RuntimeError("openssl s_time -reuse: the server resumed "
                               f"{marks.count('r')} of {done} sessions")
    return {"secs": wall, "done": done, "ok_http": done, "data": None,
            "mean_ms": 1e3 * wall / max(done, 1)}


def dur_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def redis_bench(server, op, size, n, clients, pipeline, threads, timeout):
    """Get: GET of the key seeded with a SIZE-byte value; Put: redis-benchmark's
    own SET test with -d SIZE (one key, like the gRPC rows)."""
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", str(clients),
           "-n", str(n), "-P", str(pipeline), "--csv"]
    # Multi-threaded redis-benchmark only notices the end every 250 ms, which
    # skews short runs; one thread is the default (see --gen-threads).
    if threads > 1:
        cmd += ["--threads", str(threads)]
    if op == "get":
        cmd += ["GET", key(size).decode()]
    else:
        cmd += ["-d", str(size), "-t", "set"]
    out, wall = run_timed(cmd, timeout)
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split('","')]
        if len(cols) >= 3 and cols[0] != "test":
            rps = float(cols[1])
            secs = n / rps if 0 < rps < float("inf") else wall
            return {"secs": secs, "done": n, "ok_http": n, "data": None,
                    "mean_ms": float(cols[2])}
    raise RuntimeError(f"redis-benchmark printed no {op} row:\n{out[-1000:]}")


def fsync_rate(directory, seconds):
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    n, block = 0, b"x" * 4096
    end = time.monotonic() + seconds
    t0 = time.monotonic()
    while time.monotonic() < end:
        os.pwrite(fd, block, 0)
        os.fsync(fd)
        n += 1
    secs = time.monotonic() - t0
    os.close(fd)
    os.unlink(path)
    return n / secs


# ------------------------------------------------------------------------
# The bench


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="soupc-bench-")
        self.servers = {}  # (contender, mode) -> Server
        self.procs = []
        self.bodies = {}
        self.rate_guess = {}
        self.results = []
        self.fsync = []
        self.loads = []
        self.resp_data = {}  # (server name, size) -> DATA bytes of one success

    # -- setup -------------------------------------------------------------

    def body_file(self, name, data):
        path = os.path.join(self.work, name)
        if path not in self.bodies:
            with open(path, "wb") as f:
                f.write(data)
            self.bodies[path] = len(data)
        return path

    def seed_sizes(self):
        """The value sizes stored: --sizes, and 64 B for the conn cells."""
        return sorted(set(self.args.sizes) | ({64} if "conn" in self.args.ops else set()))

    def get_body(self, size):
        return self.body_file(f"get-{size}.bin", grpc_frame(pb_bytes_fields([(1, key(size))])))

    def put_body(self, size, tag="put"):
        return self.body_file(f"{tag}-{size}.bin", grpc_frame(pb_bytes_fields(
            [(1, key(size, tag)), (2, value(size))])))

    def make_cert(self):
        self.cert = os.path.join(self.work, "cert.pem")
        self.key = os.path.join(self.work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key,
                        "-out", self.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)

    def add(self, srv):
        self.servers[(srv.name, "tls" if srv.tls else "h2c")] = srv
        self.procs.append(srv.proc)

    def start_soupc(self, name, sync, tls, binary=None, extra=()):
        store = os.path.join(self.work, f"store-{name}-{'tls' if tls else 'h2c'}")
        cmd = [binary or self.args.soupc, "rpc", "kv", "server", "--standalone", "--listen",
               "127.0.0.1:0", "--storage-dir", store, "--sync", sync, "--log-level", "error",
               *extra]
        if tls:
            cmd += ["--tls-mode", "auto"]
        proc, port = start_listening(cmd, name)
        self.add(Server(name, proc, port, "grpc", tls))

    def start_kvref(self, tls):
        cmd = [self.args.kvref, "--listen", "127.0.0.1:0", "--max-message-size", str(64 << 20)]
        if tls:
            cmd += ["--cert-file", self.cert, "--key-file", self.key]
        proc, port = start_listening(cmd, "kvref")
        self.add(Server("kvref", proc, port, "grpc", tls))

    def start_etcd(self):
        cport, pport = free_port(), free_port()
        d = os.path.join(self.work, "etcd")
        cmd = ["etcd", "--name", "bench", "--data-dir", d,
               "--listen-client-urls", f"http://127.0.0.1:{cport}",
               "--advertise-client-urls", f"http://127.0.0.1:{cport}",
               "--listen-peer-urls", f"http://127.0.0.1:{pport}",
               "--initial-advertise-peer-urls", f"http://127.0.0.1:{pport}",
               "--initial-cluster", f"bench=http://127.0.0.1:{pport}",
               "--quota-backend-bytes", str(8 << 30), "--max-request-bytes", str(2 << 20),
               "--logger", "zap", "--log-level", "error"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(cport, proc, "etcd")
        srv = Server("etcd", proc, cport, "grpc", False, "/etcdserverpb.KV/")
        self.add(srv)
        # Wait until the member has elected itself and serves a Put.
        body = self.put_body(64, "ready")
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.grpc_status(srv, "Put", body) == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("etcd did not become ready")

    def start_redis(self, name, always):
        port = free_port()
        d = os.path.join(self.work, name)
        os.makedirs(d)
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
               "--protected-mode", "no", "--daemonize", "no", "--logfile", ""]
        if always:
            cmd += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        else:
            cmd += ["--appendonly", "no"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, proc, name)
        self.add(Server(name, proc, port, "redis"))

    def start_nghttpd(self, tls):
        port = free_port()
        docs = os.path.join(self.work, "htdocs")
        os.makedirs(docs, exist_ok=True)
        for size in self.seed_sizes():
            with open(os.path.join(docs, f"get-{size}"), "wb") as f:
                f.write(grpc_frame(pb_bytes_fields([(1, value(size))])))
        cmd = ["nghttpd", "-n", str(NCPU), "-d", docs, "-a", "127.0.0.1", str(port)]
        cmd += [self.key, self.cert] if tls else ["--no-tls"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, proc, "nghttpd")
        self.add(Server("nghttpd", proc, port, "static", tls, "/"))

    def start_all(self):
        a = self.args
        self.make_cert()
        want = set(a.contenders)
        modes = set(a.modes)
        log(f"starting servers in {self.work}")
        for mode in modes:
            tls = mode == "tls"
            if "soup-c" in want:
                self.start_soupc("soup-c", "full", tls)
            if "soup-c-none" in want and "put" in a.ops:
                self.start_soupc("soup-c-none", "none", tls)
            if "base" in want and a.baseline:
                self.start_soupc("base", "full", tls, a.baseline, a.baseline_args)
            if "base-none" in want and a.baseline and "put" in a.ops:
                self.start_soupc("base-none", "none", tls, a.baseline, a.baseline_args)
            if "kvref" in want:
                self.start_kvref(tls)
            if "nghttpd" in want and ("get" in a.ops or "conn" in a.ops or
                                      (tls and "s_time" in a.ops)):
                self.start_nghttpd(tls)
        if "h2c" in modes:
            if "etcd" in want:
                self.start_etcd()
            if "redis-always" in want:
                self.start_redis("redis-always", True)
            if "redis-default" in want:
                self.start_redis("redis-default", False)
        time.sleep(0.5)
        for srv in self.servers.values():
            srv.idle_rss = rss_kib(srv.pid)

    def grpc_status(self, srv, method, body):
        scheme = "https" if srv.tls else "http"
        r = subprocess.run(["nghttp", "-v", "-d", body, "-H", "content-type: application/grpc",
                            "-H", "te: trailers",
                            f"{scheme}://127.0.0.1:{srv.port}{srv.path_prefix}{method}"],
                           capture_output=True)
        out = r.stdout.decode("latin-1")
        m = re.search(r"grpc-status: (\d+)", out)
        return int(m.group(1)) if m else None

    def one_call_data(self, srv, method, body):
        """DATA bytes of one successful call, for counting gRPC successes."""
        scheme = "https" if srv.tls else "http"
        r = subprocess.run(["h2load", "-n", "1", "-c", "1", "-d", body,
                            "-H", "content-type: application/grpc", "-H", "te: trailers",
                            f"{scheme}://127.0.0.1:{srv.port}{srv.path_prefix}{method}"],
                           capture_output=True, text=True)
        m = re.search(r"traffic: .*?, [^,]*headers.*?, [^(]*\((\d+)\) data", r.stdout)
        return int(m.group(1)) if m else None

    def seed(self):
        """Stores each Get value once and records what one success looks like."""
        for (name, mode), srv in self.servers.items():
            for size in self.seed_sizes():
                if srv.kind == "grpc":
                    body = self.body_file(f"seed-{size}.bin", grpc_frame(pb_bytes_fields(
                        [(1, key(size)), (2, value(size))])))
                    st = self.grpc_status(srv, "Put", body)
                    if st != 0:
                        raise RuntimeError(f"{name} {mode}: seeding Put got grpc-status {st}")
                    st = self.grpc_status(srv, self.get_method(srv), self.get_body(size))
                    if st != 0:
                        raise RuntimeError(f"{name} {mode}: Get got grpc-status {st}")
                    self.resp_data[(name, mode, "get", size)] = self.one_call_data(
                        srv, self.get_method(srv), self.get_body(size))
                    self.resp_data[(name, mode, "put", size)] = self.one_call_data(
                        srv, "Put", self.put_body(size))
                elif srv.kind == "redis":
                    r = subprocess.run(["redis-cli", "-p", str(srv.port), "-x", "set",
                                        key(size).decode()], input=value(size),
                                       check=True, capture_output=True)
                    if b"OK" not in r.stdout:
                        raise RuntimeError(f"{name}: seeding SET said {r.stdout!r}")

    @staticmethod
    def get_method(srv):
        return "Range" if srv.name == "etcd" else "Get"

    # -- one measurement -----------------------------------------------------

    def supports(self, contender, mode, op, size):
        if (contender, mode) not in self.servers:
            return False
        if op == "s_time":
            return mode == "tls" and contender in ("soup-c", "kvref", "nghttpd", "base")
        if op == "conn" and contender in ("soup-c-none", "base-none"):
            return False
        if contender in ("nghttpd", "soup-c-none", "base-none"):
            return (op in ("get", "conn")) == (contender == "nghttpd")
        if contender == "etcd" and op == "put" and size > (4 << 10):
            return False  # every Put keeps a revision: 1 MiB ones fill the quota
        return True

    def measure(self, contender, mode, op, size, shape, n):
        srv = self.servers[(contender, mode)]
        clients, streams = shape
        threads = self.args.gen_threads or (1 if srv.kind == "redis" else min(clients, NCPU))
        conc = clients * streams
        timeout = max(120, 20 * self.args.seconds)
        cpu0 = proc_cpu_s(srv.pid)
        gen0 = children_cpu_s()
        t0 = time.monotonic()
        with RssSampler(srv.pid) as rs:
            if op == "s_time":
                r = s_time(srv, clients == 2, self.args.seconds, timeout)
            elif op == "conn":
                path = f"/get-{size}" if srv.kind == "static" else self.get_method(srv)
                r = h2load(srv, path, None if srv.kind == "static" else self.get_body(size),
                           clients, clients, 1, threads, timeout)
            elif srv.kind == "redis":
                r = redis_bench(srv, op, size, n, clients, streams, threads, timeout)
            elif srv.kind == "static":
                r = h2load(srv, f"/get-{size}", None, n, clients, streams, threads, timeout)
            elif op == "get":
                r = h2load(srv, self.get_method(srv), self.get_body(size), n, clients,
                           streams, threads, timeout)
            else:
                r = h2load(srv, "Put", self.put_body(size), n, clients, streams, threads,
                           timeout)
        wall = time.monotonic() - t0
        gen_cpu = children_cpu_s() - gen0
        cpu = proc_cpu_s(srv.pid) - cpu0
        if op == "s_time":
            ok = n = r["done"]  # it runs for a time, not a count; failures abort it
        elif srv.kind == "grpc":
            per = self.resp_data.get((contender, mode, "get" if op == "conn" else op, size))
            ok = min(r["ok_http"], r["data"] // per) if per else r["ok_http"]
        elif srv.kind == "static":
            per = len(grpc_frame(pb_bytes_fields([(1, value(size))])))
            ok = min(r["ok_http"], r["data"] // per)
        else:
            ok = r["done"]
        return {"rps": ok / r["secs"] if r["secs"] > 0 else 0.0, "n": n, "ok": ok,
                "errors": n - ok, "secs": r["secs"], "cpu_us": 1e6 * cpu / max(ok, 1),
                "gen_cpu_us": 1e6 * gen_cpu / max(ok, 1),
                "gen_util": gen_cpu / wall / threads if wall > 0 else 0.0,
                "threads": threads, "mean_ms": r["mean_ms"], "peak_rss": rs.peak,
                "conc": conc}

    def requests_for(self, keyt, shape):
        conc = shape[0] * shape[1]
        if keyt[2] in ("conn", "s_time"):
            return conc  # one call per connection; s_time runs for --seconds
        rate = self.rate_guess.get(keyt)
        if rate is None:
            return None
        n = int(rate * self.args.seconds)
        return max(n, 2 * conc, 50)

    def calibrate(self, keyt, contender, mode, op, size, shape):
        """A short first run (also the warm-up) to size the timed runs."""
        conc = shape[0] * shape[1]
        if op in ("conn", "s_time"):
            self.measure(contender, mode, op, size, shape, conc)  # warm-up only
            return
        n = max(2 * conc, 200 if size <= 4096 else 40)
        if size >= 1 << 20:
            n = max(2 * conc, 20)
        r = self.measure(contender, mode, op, size, shape, n)
        # Grow while the calibration is too short to mean anything.
        for _ in range(4):
            if r["secs"] >= 0.2:
                break
            n = max(n * 10, int(r["rps"] * 0.5)) if r["secs"] < 0.02 else int(r["rps"] * 0.5)
            r = self.measure(contender, mode, op, size, shape, n)
        self.rate_guess[keyt] = max(r["rps"], 1.0)

    # -- the whole run -------------------------------------------------------

    def cells(self):
        a = self.args
        for op in a.ops:
            shapes = a.shapes[op]
            for mode in a.modes:
                for size in ([64] if op in ("conn", "s_time") else a.sizes):
                    for shape_text in shapes:
                        shape = parse_shape(shape_text)
                        conts = [c for c in a.contenders if self.supports(c, mode, op, size)]
                        if conts:
                            yield op, mode, size, shape_text, shape, conts

    def run(self):
        cells = list(self.cells())
        total = sum(len(c[5]) * self.args.reps for c in cells)
        done = 0
        started = time.monotonic()
        for op, mode, size, shape_text, shape, conts in cells:
            self.loads.append(os.getloadavg()[0])
            probe = None
            if op == "put" and self.args.fsync_probe > 0:
                probe = fsync_rate(self.work, self.args.fsync_probe)
                self.fsync.append(probe)
            per = {c: [] for c in conts}
            for c in conts:
                self.calibrate((c, mode, op, size, shape_text), c, mode, op, size, shape)
            for rep in range(self.args.reps):
                order = conts[rep % len(conts):] + conts[:rep % len(conts)]
                for c in order:
                    keyt = (c, mode, op, size, shape_text)
                    n = self.requests_for(keyt, shape)
                    r = self.measure(c, mode, op, size, shape, n)
                    per[c].append(r)
                    # Track the rate so the next repetition lasts about --seconds.
                    self.rate_guess[keyt] = max(r["rps"], 1.0)
                    done += 1
                    el = time.monotonic() - started
                    eta = el / done * (total - done)
                    log(f"[{done}/{total} {el:5.0f}s eta {eta:4.0f}s] {op} {size_name(size)} "
                        f"{shape_text} {mode} {c} rep {rep + 1}: {r['rps']:,.0f} req/s"
                        f"{'' if r['errors'] == 0 else ', %d not OK' % r['errors']}")
            for c in conts:
                self.results.append({"op": op, "mode": mode, "size": size, "shape": shape_text,
                                     "contender": c, "runs": per[c], "fsync": probe})

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def key(size, tag="bench"):
    return f"{tag}-{size}".encode()


def value(size):
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


# ------------------------------------------------------------------------
# Report


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def report(b, out):
    a = b.args
    la = os.getloadavg()
    print(f"\n## KV benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {NCPU} cores, "
          f"{a.reps} repetitions of ~{a.seconds:g} s per row, contenders alternated)\n",
          file=out)
    print(f"loadavg (1 min) at each cell: min {min(b.loads):.2f}, median {med(b.loads):.2f}, "
          f"max {max(b.loads):.2f}; at the end {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}", file=out)
    if b.fsync:
        print(f"disk fsync rate (4 KiB pwrite + fsync, same filesystem, {len(b.fsync)} probes): "
              f"median {med(b.fsync):,.0f}/s, min {min(b.fsync):,.0f}, max {max(b.fsync):,.0f}",
              file=out)
    idle = ", ".join(f"{n}{' (tls)' if m == 'tls' else ''} {s.idle_rss / 1024:.1f}"
                     for (n, m), s in b.servers.items())
    print(f"idle RSS MiB: {idle}\n", file=out)
    print("req/s: median [min-max] of gRPC-OK calls; srv/gen CPU: server and load generator "
          "CPU per request (µs); gen%: generator CPU over its threads' capacity "
          "(near 100% = the generator is the bound); ratio: soup-c over this row\n", file=out)
    groups = {}
    for r in b.results:
        groups.setdefault((r["op"], r["mode"], r["size"]), []).append(r)
    for (op, mode, size), rows in groups.items():
        print(f"### {op.capitalize()} {size_name(size)}, {mode}\n", file=out)
        if op in ("conn", "s_time"):
            print("req/s here is connections per second (each with one call, or s_time's "
                  "bare handshake); CPU is per connection\n", file=out)
        print("| shape | contender | req/s | [min-max] | ratio | srv CPU µs | gen CPU µs "
              "| gen% | mean ms | peak RSS MiB | not OK | durability |", file=out)
        print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|", file=out)
        for r in rows:
            runs = r["runs"]
            rps = [x["rps"] for x in runs]
            mine = "soup-c-none" if r["contender"].endswith("-none") else "soup-c"
            soupc = [x for x in rows if x["shape"] == r["shape"] and x["contender"] == mine]
            ratio = ""
            if soupc and r["contender"] not in ("soup-c", "soup-c-none"):
                ratio = f"{med([x['rps'] for x in soupc[0]['runs']]) / med(rps):.2f}x"
            extra = ""
            if r["fsync"] and r["contender"] in ("soup-c", "soup-c-none", "base", "base-none",
                                                 "etcd", "redis-always"):
                extra = f" ({med(rps) / r['fsync']:.1f}x fsync)"
            shape = S_TIME_LABELS.get(r["shape"], r["shape"]) if op == "s_time" else r["shape"]
            print(f"| {shape} | {r['contender']} | {fmt_rate(med(rps))}{extra} | "
                  f"[{fmt_rate(min(rps))}-{fmt_rate(max(rps))}] | {ratio} | "
                  f"{med([x['cpu_us'] for x in runs]):.1f} | "
                  f"{med([x['gen_cpu_us'] for x in runs]):.1f} | "
                  f"{100 * med([x['gen_util'] for x in runs]):.0f}% of {runs[0]['threads']} | "
                  f"{med([x['mean_ms'] for x in runs]):.2f} | "
                  f"{max(x['peak_rss'] for x in runs) / 1024:.0f} | "
                  f"{sum(x['errors'] for x in runs)} | {DURABILITY[r['contender']]} |", file=out)
        print(file=out)
    print_targets(b, out)


def lookup(b, op, mode, size, shape, contender):
    for r in b.results:
        if (r["op"], r["mode"], r["size"], r["shape"], r["contender"]) == (
                op, mode, size, shape, contender):
            return med([x["rps"] for x in r["runs"]]), r
    return None, None


def print_targets(b, out):
    """The issue's targets, computed from this run (never asserted)."""
    lines = []
    mib = 1 << 20
    for shape in ("100x10", "1000x1"):
        s, _ = lookup(b, "get", "h2c", mib, shape, "soup-c")
        g, _ = lookup(b, "get", "h2c", mib, shape, "kvref")
        n, _ = lookup(b, "get", "h2c", mib, shape, "nghttpd")
        if s and g:
            lines.append(f"1 MiB Get {shape}: {s / g:.2f}x grpc-go (target >= 1.5x)")
        if s and n:
            lines.append(f"1 MiB Get {shape}: {s / n:.2f}x the nghttpd bound (target >= 0.7x)")
    for size in b.args.sizes:
        t, _ = lookup(b, "get", "tls", size, "100x10", "soup-c")
        h, _ = lookup(b, "get", "h2c", size, "100x10", "soup-c")
        if t and h:
            lines.append(f"TLS/h2c Get {size_name(size)} 100x10: {t / h:.2f}x (target >= 0.7x)")
    for shape in ("100x1", "4x25"):
        s, r = lookup(b, "put", "h2c", 64, shape, "soup-c")
        if s and r and r["fsync"]:
            lines.append(f"durable Put 64 B {shape}: {s / r['fsync']:.1f}x the fsync rate "
                         f"(target >= 10x)")
    for shape in ("16x1", "100x1"):
        s, _ = lookup(b, "put", "h2c", 64, shape, "soup-c")
        rd, _ = lookup(b, "put", "h2c", 64, shape, "redis-always")
        if s and rd:
            lines.append(f"durable Put 64 B {shape}: {s / rd:.2f}x Redis appendfsync always "
                         f"(target >= 1.0x)")
    for size in b.args.sizes:
        for shape in ("4x25", "100x10"):
            _, s = lookup(b, "get", "h2c", size, shape, "soup-c")
            _, rd = lookup(b, "get", "h2c", size, shape, "redis-default")
            if s and rd:
                lines.append(f"server CPU per Get {size_name(size)} {shape}: soup-c "
                             f"{med([x['cpu_us'] for x in s['runs']]):.1f} µs, Redis "
                             f"{med([x['cpu_us'] for x in rd['runs']]):.1f} µs (target <=)")
    if lines:
        print("### Targets (issue 16), from this run\n", file=out)
        for line in lines:
            print(f"- {line}", file=out)
        print(file=out)


# ------------------------------------------------------------------------


def ensure_builds(args):
    if not args.soupc:
        log("building soup-c (release preset)")
        subprocess.run(["cmake", "--preset", "release"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "--preset", "release", "--target", "soup-c"],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        args.soupc = os.path.join(REPO, "build", "release", "soup-c")
    if args.baseline == "same":
        args.baseline = args.soupc
    if not args.kvref and "kvref" in args.contenders:
        log("building the Go peers")
        out = os.path.join(REPO, "build", "release", "go-peers")
        subprocess.run([os.path.join(REPO, "peers", "go", "build.sh"), out], check=True,
                       stdout=subprocess.DEVNULL)
        args.kvref = os.path.join(out, "kvref")


def check_tools(args):
    need = {"h2load": "nghttp2-client", "nghttp": "nghttp2-client", "openssl": "openssl"}
    if "etcd" in args.contenders:
        need["etcd"] = "etcd-server"
    if any(c.startswith("redis") for c in args.contenders):
        need["redis-server"] = "redis-server"
        need["redis-benchmark"] = "redis-tools"
        need["redis-cli"] = "redis-tools"
    if "nghttpd" in args.contenders:
        need["nghttpd"] = "nghttp2-server"
    missing = sorted({pkg for tool, pkg in need.items() if shutil.which(tool) is None})
    if missing:
        sys.exit(f"kv_bench: missing {', '.join(missing)} (scripts/install-deps.sh installs "
                 f"them), or leave those contenders out with --contenders")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="64 B and 1 MiB, shapes 1x1 100x10 (Get) and 1x1 16x1 100x1 (Put), "
                         "h2c and TLS, 3 repetitions of ~1 s: a few minutes")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds: 64 B, 4x25, h2c, soup-c and kvref, 1 repetition")
    ap.add_argument("--ops", default="get,put",
                    help="get,put,conn,s_time (default get,put; conn and s_time measure "
                         "connection setup and TLS handshakes, 64 B only)")
    ap.add_argument("--sizes", default="64,4K,1M", help="value sizes (default 64,4K,1M)")
    ap.add_argument("--shapes", default="",
                    help="CLIENTSxSTREAMS list (default Get: %s; Put: %s)"
                         % (",".join(GET_SHAPES), ",".join(PUT_SHAPES)))
    ap.add_argument("--modes", default="h2c,tls", help="h2c,tls (default both)")
    ap.add_argument("--contenders",
                    help="subset of %s (default all; --smoke: soup-c,kvref)"
                         % ",".join(ALL_CONTENDERS))
    ap.add_argument("--reps", type=int, default=3, help="repetitions per row (default 3)")
    ap.add_argument("--seconds", type=float, default=3.0,
                    help="target length of one timed run (default 3)")
    ap.add_argument("--gen-threads", type=int, default=0,
                    help="h2load and redis-benchmark threads (default: h2load "
                         "min(clients, cores), redis-benchmark 1)")
    ap.add_argument("--fsync-probe", type=float, default=1.0,
                    help="seconds of fsync probing before each Put cell (0 = none)")
    ap.add_argument("--soupc", help="soup-c binary (default: build the release preset)")
    ap.add_argument("--kvref", help="kvref binary (default: build peers/go)")
    ap.add_argument("--baseline", help="a second soup-c binary: contenders base, base-none")
    ap.add_argument("--baseline-args", default="",
                    help="extra server flags for base and base-none (one string, split "
                         "on spaces), e.g. limits out of reach; with --baseline "
                         "same, the baseline is the soup-c binary itself")
    ap.add_argument("--json", help="also write the raw results here")
    a = ap.parse_args(argv)
    shapes = {"get": ",".join(GET_SHAPES), "put": ",".join(PUT_SHAPES),
              "conn": ",".join(CONN_SHAPES), "s_time": ",".join(S_TIME_SHAPES)}
    if a.quick:
        a.sizes, a.seconds = "64,1M", 1.0
        shapes.update(get="1x1,100x10", put="1x1,16x1,100x1")
    if a.smoke:
        a.sizes, a.seconds, a.reps, a.modes = "64", 0.5, 1, "h2c"
        shapes.update(get="4x25", put="4x25")
        a.contenders = a.contenders or "soup-c,kvref"
        a.fsync_probe = 0.3
    a.contenders = a.contenders or ",".join(
        c for c in ALL_CONTENDERS if a.baseline or not c.startswith("base"))
    a.baseline_args = a.baseline_args.split()
    a.ops = [x for x in a.ops.split(",") if x]
    a.sizes = [parse_size(x) for x in a.sizes.split(",") if x]
    a.modes = [x for x in a.modes.split(",") if x]
    a.contenders = [x for x in a.contenders.split(",") if x]
    for c in a.contenders:
        if c not in ALL_CONTENDERS:
            ap.error(f"unknown contender {c!r}")
    for m in a.modes:
        if m not in ("h2c", "tls"):
            ap.error(f"unknown mode {m!r}")
    for o in a.ops:
        if o not in ("get", "put", "conn", "s_time"):
            ap.error(f"unknown op {o!r}")
    if a.shapes:
        shapes.update(get=a.shapes, put=a.shapes)
    a.shapes = {op: [x for x in v.split(",") if x] for op, v in shapes.items()}
    for v in a.shapes.values():
        for s in v:
            parse_shape(s)
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    check_tools(a)
    ensure_builds(a)
    b = Bench(a)
    try:
        b.start_all()
        b.seed()
        b.run()
    finally:
        b.stop_all()
    report(b, sys.stdout)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": b.results, "fsync": b.fsync, "loadavg": b.loads}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
