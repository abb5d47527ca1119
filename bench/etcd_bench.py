#!/usr/bin/python3
"""soup-c on etcd vs etcd itself vs soup-c on LMDB: durable Put and
linearizable Get throughput and p99 latency with 1, 16 and 100 concurrent
clients, in one run, on one 3-member etcd cluster on loopback.

Contenders (each driven by the same Go load generator, bench/etcd/go,
through one client connection):
  etcd         etcd itself through etcd's own Go client (clientv3, from
               Debian's golang-etcd-server-dev): Put, linearizable Get
  soup-c/etcd  soup-c rpc kv server --store etcd on the same cluster
  soup-c/LMDB  soup-c rpc kv server on LMDB (--sync full: fsync per commit)

The machine is noisy: contenders alternate within each round, each cell is
the median of --rounds runs, and the table gives the soup-c/etcd : etcd
ratio (target >= 0.8). It measures and prints; it never decides pass or
fail.

Usage: bench/etcd_bench.py [--seconds S] [--rounds N] [--concurrency 1,16,100]
                           [--value-size B]
Environment: SOUPC_BIN (default build/release/soup-c, else build/dev/soup-c).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "conformance"))

from soupconf import etcd, servers  # noqa: E402


def soupc_bin():
    b = os.environ.get("SOUPC_BIN")
    if b:
        return b
    for p in ("build/release/soup-c", "build/dev/soup-c", "build/soup-c"):
        if os.access(os.path.join(REPO, p), os.X_OK):
            return os.path.join(REPO, p)
    sys.exit("etcd_bench: no soup-c binary (build one or set SOUPC_BIN)")


def build_loadgen(out):
    env = dict(os.environ, GO111MODULE="off", GOPROXY="off", GOFLAGS="", CGO_ENABLED="0",
               GOPATH=os.path.join(HERE, "etcd", "go") + ":/usr/share/gocode")
    subprocess.run(["go", "build", "-p", "2", "-o", out, "etcdloadgen"], check=True, env=env)


class Cmd(servers.SoupC):
    def __init__(self, binary, flags):
        super().__init__(binary)
        self.flags = flags

    def argv(self, listen, storage, tls, tls_files, extra):
        return [self.binary, "rpc", "kv", "server", "--standalone", "--listen", listen] + \
            [f.replace("{storage}", storage) for f in self.flags]


def run_load(loadgen, args, workers, seconds, value_size):
    argv = [loadgen, "-workers", str(workers), "-seconds", str(seconds),
            "-value-size", str(value_size)] + args
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 4 + 120)
    if r.returncode != 0:
        raise RuntimeError("loadgen %s: %s" % (" ".join(args), r.stderr))
    return {d["phase"]: d for d in map(json.loads, r.stdout.split("\n")[:-1])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="per phase (default 3)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per cell; the median is shown")
    ap.add_argument("--concurrency", default="1,16,100")
    ap.add_argument("--value-size", type=int, default=256)
    a = ap.parse_args()
    why = etcd.available()
    if why:
        sys.exit("etcd_bench: " + why)
    binary = soupc_bin()
    work = tempfile.mkdtemp(prefix="soupc-etcd-bench-")
    loadgen = os.path.join(work, "etcdloadgen")
    print("building the load generator ...", flush=True)
    build_loadgen(loadgen)
    cluster = etcd.EtcdCluster(os.path.join(work, "etcd")).start()
    on_etcd = lmdb = None
    try:
        on_etcd = servers.Server(Cmd(binary, cluster.soupc_flags("bench/soupc/")),
                                 os.path.join(work, "soupc-etcd")).start()
        lmdb = servers.Server(Cmd(binary, ["--storage-dir", "{storage}", "--sync", "full"]),
                              os.path.join(work, "soupc-lmdb")).start()
        contenders = [
            ("etcd", ["-target", "etcd", "-endpoints", cluster.endpoints]),
            ("soup-c/etcd", ["-target", "kv", "-address", on_etcd.address]),
            ("soup-c/LMDB", ["-target", "kv", "-address", lmdb.address]),
        ]
        print("soup-c: %s; etcd %s, 3 members on loopback; %d-byte values; %.1f s per phase, "
              "median of %d rounds" % (binary, subprocess.run([etcd.ETCD, "--version"], capture_output=True,
                                                             text=True).stdout.split("\n")[0].split()[-1],
                                       a.value_size, a.seconds, a.rounds), flush=True)
        results = {}
        for conc in [int(c) for c in a.concurrency.split(",")]:
            for r in range(a.rounds):
                order = contenders[r % 3:] + contenders[:r % 3]
                for name, args in order:
                    res = run_load(loadgen, args, conc, a.seconds, a.value_size)
                    for phase, d in res.items():
                        results.setdefault((conc, phase, name), []).append(d)
                        if d["errors"]:
                            print("  %s c=%d %s: %d errors (first: %s)" % (name, conc, phase, d["errors"],
                                                                          d.get("first_error")), flush=True)
                print("  c=%d round %d done" % (conc, r + 1), flush=True)
        print_table(results, a)
    finally:
        for s in (on_etcd, lmdb):
            if s is not None:
                s.stop()
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)


def med(rows, key):
    return statistics.median(d[key] for d in rows)


def print_table(results, a):
    print()
    hdr = ("clients", "op", "etcd ops/s", "p99 ms", "soup-c/etcd ops/s", "p99 ms", "ratio",
           "soup-c/LMDB ops/s", "p99 ms")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "|".join("---" for _ in hdr) + "|")
    for conc in [int(c) for c in a.concurrency.split(",")]:
        for phase in ("put", "get"):
            e = results[(conc, phase, "etcd")]
            s = results[(conc, phase, "soup-c/etcd")]
            m = results[(conc, phase, "soup-c/LMDB")]
            eo, so = med(e, "ops_per_sec"), med(s, "ops_per_sec")
            print("| %d | %s | %.0f | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f |" % (
                conc, phase, eo, med(e, "p99_us") / 1000, so, med(s, "p99_us") / 1000,
                so / eo if eo else 0, med(m, "ops_per_sec"), med(m, "p99_us") / 1000))


if __name__ == "__main__":
    main()
