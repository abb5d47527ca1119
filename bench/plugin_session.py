#!/usr/bin/python3
"""Time whole go-plugin sessions: launch, handshake, AutoMTLS, one Put, one
Get, shutdown. Cases, in one run:

  go-host -> soup-c      goplugin-host (hashicorp/go-plugin 1.0.1) driving `soup-c rpc kv server`
  go-host -> go plugin   the same host driving goplugin-kv (plugin.Serve, the Go reference)
  soup-c -> soup-c put   `soup-c rpc kv put` with soup-c as its own plugin (one CLI call = one session)
  soup-c -> soup-c get   `soup-c rpc kv get`, likewise
  soup-c -> go plugin    `soup-c rpc kv put` driving goplugin-kv (for reference)

goplugin-host times its sessions in-process (--bench). The soup-c CLI cases are
timed here around the whole process, so they include one fork/exec of the CLI
itself (the "spawn baseline" row estimates that cost); their rows also show
the median CPU time of the CLI plus its plugin, which is much steadier than
wall time on a busy machine. For the go-host cases
the table also shows the median phases: start = launch + handshake + AutoMTLS
cert generation + Dispense; put+get includes the TLS handshake (go-plugin
dials lazily); kill = Shutdown and wait for exit. Build soup-c as Release for
numbers that mean anything.

Prints a table with median and p90 and the soup-c/Go ratio. It only
measures; targets are printed, never asserted (exit status 0 unless a case
fails to run).

Usage: bench/plugin_session.py [--soupc PATH] [--peers DIR] [-n N] [--warmup W]
                               [--rounds R] [--no-automtls | --automtls-only]
                               [--json FILE]
With AutoMTLS and without, each case's sessions split into R rounds with the
cases alternated (the order rotates each round).
The Go peers are built with peers/go/build.sh DIR (default DIR: peers/go/bin).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def quantile(xs, q):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    lo = int(pos)
    if lo + 1 >= len(xs):
        return xs[-1]
    return xs[lo] + (pos - lo) * (xs[lo + 1] - xs[lo])


PHASES = {}  # id(samples) -> {"start": [...], "rpc": [...], "kill": [...]}
CPU = {}  # id(samples) -> [CPU ms of the CLI and its plugin, per session]


def go_host_case(host, plugin_argv, n, warmup, automtls, env):
    argv = [host, "--bench", str(n), "--warmup", str(warmup), "--strict-exit"]
    if not automtls:
        argv.append("--no-automtls")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv + ["--"] + plugin_argv, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60 + n * 10)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError("%s failed (rc %d): %s" % (" ".join(argv), r.returncode,
                                                       r.stderr.decode(errors="replace").strip()))
    # "session I TOTAL start=.. rpc=.. kill=.." (goplugin-host --bench)
    ms, phases = [], {}
    for line in r.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "session":
            ms.append(float(parts[2]))
            for kv in parts[3:]:
                k, v = kv.split("=", 1)
                phases.setdefault(k, []).append(float(v))
    if len(ms) != n:
        raise RuntimeError("expected %d sessions, got %d: %r" % (n, len(ms), r.stdout))
    PHASES[id(ms)] = phases
    # The host process plus every plugin it ran, warm-up included: per
    # session an upper bound, steady where wall time is not.
    per = (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime) * 1000 / (n + warmup)
    CPU[id(ms)] = [per] * n
    return ms


def cli_case(argv, n, warmup, env, expect_stdout=None):
    ms, cpu = [], []
    for i in range(warmup + n):
        # CPU of the CLI plus the plugin it reaped: the machine is often busy,
        # and CPU time is much steadier than wall time there.
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=60)
        dt = (time.perf_counter() - t0) * 1000
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # A prefix: with the cases alternated, the Go host's sessions write
        # "bench-value-<n>" under the same key between our put and get.
        if p.returncode != 0 or (expect_stdout is not None and
                                 not out.startswith(expect_stdout)):
            raise RuntimeError("%s: rc %d stdout %r stderr %s" % (
                " ".join(argv), p.returncode, out, err.decode(errors="replace").strip()))
        if i >= warmup:
            ms.append(dt)
            cpu.append((ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime) * 1000)
    CPU[id(ms)] = cpu
    return ms


def case_list(soupc, host, goplugin, automtls, env):
    noauto = [] if automtls else ["--no-automtls"]
    return [
        ("go_host_soupc", "go-host -> soup-c plugin",
         lambda n, w: go_host_case(host, [soupc, "rpc", "kv", "server"], n, w, automtls, env)),
        ("go_host_go", "go-host -> go plugin",
         lambda n, w: go_host_case(host, [goplugin], n, w, automtls, env)),
        ("soupc_soupc_put", "soup-c host -> soup-c (put)",
         lambda n, w: cli_case([soupc, "rpc", "kv", "put", "bench-key", "bench-value",
                                "--plugin", soupc] + noauto,
                               n, w, env, b"Key bench-key put successfully.")),
        ("soupc_soupc_get", "soup-c host -> soup-c (get)",
         lambda n, w: cli_case([soupc, "rpc", "kv", "get", "bench-key", "--plugin", soupc] + noauto,
                               n, w, env, b"bench-value")),
        ("soupc_go_put", "soup-c host -> go plugin (put)",
         lambda n, w: cli_case([soupc, "rpc", "kv", "put", "bench-key", "bench-value",
                                "--plugin", goplugin] + noauto,
                               n, w, env, b"Key bench-key put successfully.")),
        ("spawn", "spawn baseline (soup-c --help)",
         lambda n, w: cli_case([soupc, "--help"], n, w, env)),
    ]


def run_alternated(cases, n, warmup, rounds, skip):
    """Each round gives every case its share of the sessions, in an order
    that rotates from round to round, so a busy spell on the shared machine
    hits all cases alike. Samples (and phases, CPU) are concatenated."""
    results, failures = {}, {}
    per = max(1, n // rounds)
    active = [c for c in cases if c[0] not in skip]
    for r in range(rounds):
        order = active[r % len(active):] + active[:r % len(active)]
        for key, label, fn in order:
            if key in failures:
                continue
            m = per if r < rounds - 1 else max(1, n - per * (rounds - 1))
            try:
                ms = fn(m, warmup if r == 0 else 1)
            except Exception as e:  # measure what can be measured; report the rest
                failures[key] = str(e)
                continue
            acc = results.setdefault(key, [])
            acc.extend(ms)
            for k, v in PHASES.pop(id(ms), {}).items():
                PHASES.setdefault(id(acc), {}).setdefault(k, []).extend(v)
            if id(ms) in CPU:
                CPU.setdefault(id(acc), []).extend(CPU.pop(id(ms)))
    return results, failures


def report(cases, results, failures, automtls, n):
    print("\nplugin sessions (launch, handshake, %s, put, get, shutdown); n=%d per case"
          % ("AutoMTLS" if automtls else "no TLS", n))
    print("%-34s %5s %10s %10s %10s %10s" % ("case", "n", "median_ms", "p90_ms", "min_ms",
                                            "cpu_ms"))
    for key, label, _ in cases:
        if key in results:
            ms = results[key]
            ph = PHASES.get(id(ms))
            cpu = quantile(CPU[id(ms)], 0.5) if id(ms) in CPU else float("nan")
            extra = ""
            if ph:
                extra = "  (median start %.2f, put+get %.2f, kill %.2f)" % tuple(
                    quantile(ph[k], 0.5) for k in ("start", "rpc", "kill"))
            print("%-34s %5d %10.2f %10.2f %10.2f %10.2f%s" % (
                label, len(ms), quantile(ms, 0.5), quantile(ms, 0.9), min(ms), cpu, extra))
        if key in failures:
            print("%-34s  FAILED: %s" % (label, failures[key][:300]))
    med = {k: quantile(v, 0.5) for k, v in results.items()}
    cpu = {k: quantile(CPU[id(v)], 0.5) for k, v in results.items() if id(v) in CPU}
    if "go_host_soupc" in med and "go_host_go" in med:
        ratio = med["go_host_soupc"] / med["go_host_go"]
        print("ratio soup-c/go under the Go host: wall %.2f, CPU %.2f  (target <= 0.60)"
              % (ratio, cpu.get("go_host_soupc", float("nan")) /
                 cpu.get("go_host_go", float("nan"))))
    if "soupc_soupc_put" in med:
        print("soup-c host + soup-c plugin, put session: median %.2f ms wall, %.2f ms CPU  "
              "(target <= 10 ms)" % (med["soupc_soupc_put"], cpu.get("soupc_soupc_put",
                                                                    float("nan"))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--soupc", default=os.environ.get("SOUPC_BIN") or os.path.join(ROOT, "build", "soup-c"))
    ap.add_argument("--peers", default=os.environ.get("SOUPC_GO_PEERS") or os.path.join(ROOT, "peers", "go", "bin"))
    ap.add_argument("-n", type=int, default=30, help="timed sessions per case (default 30)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds the sessions are split into, cases alternated (default 5)")
    ap.add_argument("--no-automtls", action="store_true", help="only sessions without AutoMTLS")
    ap.add_argument("--automtls-only", action="store_true", help="only sessions with AutoMTLS")
    ap.add_argument("--json", help="also write the raw samples here")
    ap.add_argument("--skip", action="append", default=[], help="skip a case by key (repeatable)")
    args = ap.parse_args()

    soupc = os.path.abspath(args.soupc)
    host = os.path.join(args.peers, "goplugin-host")
    goplugin = os.path.join(args.peers, "goplugin-kv")
    for p in (soupc, host, goplugin):
        if not os.access(p, os.X_OK):
            sys.exit("missing %s (build soup-c; run peers/go/build.sh %s)" % (p, args.peers))

    work = tempfile.mkdtemp(prefix="soupc-bench-")
    try:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PLUGIN_", "TLS_")) and k not in ("BASIC_PLUGIN", "KV_STORAGE_DIR")}
        env.update(TMPDIR=work, KV_STORAGE_DIR=os.path.join(work, "store"), LOG_LEVEL="error")
        modes = [True, False]
        if args.no_automtls:
            modes = [False]
        elif args.automtls_only:
            modes = [True]
        load0 = open("/proc/loadavg").read().split()[:3]
        out, failed = [], False
        for automtls in modes:
            cases = case_list(soupc, host, goplugin, automtls, env)
            results, failures = run_alternated(cases, args.n, args.warmup, args.rounds,
                                               args.skip)
            out.append((cases, results, failures, automtls))
            failed = failed or bool(failures)
        print("load average before/after: %s / %s on %d CPUs (the runs are only as quiet as "
              "the machine; CPU time is steadier than wall time)"
              % (" ".join(load0), " ".join(open("/proc/loadavg").read().split()[:3]),
                 os.cpu_count()))
        for cases, results, failures, automtls in out:
            report(cases, results, failures, automtls, args.n)
        if args.json:
            with open(args.json, "w") as f:
                json.dump([{"automtls": a, "n": args.n, "samples_ms": r,
                            "cpu_ms": {k: CPU[id(v)] for k, v in r.items() if id(v) in CPU},
                            "failures": fl} for _, r, fl, a in out], f, indent=1)
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
