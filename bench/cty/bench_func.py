#!/usr/bin/env python3
"""cty function benchmark (issue 14): a mixed workload of the 20 most used
functions, soup-c's function library (bench_func.c, in process) against
go-cty's own stdlib (the oracle's `callbench`, in process), on the same
machine in the same run, contenders alternated.

Every call of the workload runs ROUNDS times in a tight loop on arguments
decoded once, so the figures are function calls, not process starts or
argument parsing. Before timing, each call is made once by both sides and
the `cty call` result lines are compared, so both compute the same thing.
Prints calls/s per function and for the whole mix (all calls over all
time, so the slowest functions weigh most), medians over the rounds,
soup-c's ratio to go-cty, and the geometric mean of the per-function
ratios. It measures
only; it never decides pass or fail.

Usage: /usr/bin/python3 bench/cty/bench_func.py [--calls N] [--rounds N]
       [--build-dir DIR]   (default: build/release, configured and built
                            with the release preset, target soupc_ctyfunc)
       [--oracle PATH]     (default: $SOUPC_GO_CTY, else built here)
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def s(v):
    return {"type": "string", "value": v}


def n(v):
    return {"type": "number", "value": v}


def lst(v, ty="string"):
    return {"type": ["list", ty], "value": v}


def mp(v, ty="string"):
    return {"type": ["map", ty], "value": v}


TAGS = {"Name": "web-1", "Environment": "production", "Team": "platform",
        "CostCenter": "cc-1234", "ManagedBy": "terraform"}
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "us-east-1a", "us-east-1b"]
DOC = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"]}]}
DOC_TYPE = ["object", {"Version": "string", "Statement": ["list", ["object", {
    "Effect": "string", "Action": ["list", "string"], "Resource": ["list", "string"]}]]}]

# (function, arguments): the shapes Terraform configurations use them with.
WORKLOAD = [
    ("upper", [s("production-eu-west-1")]),
    ("lower", [s("Production-EU-West-1")]),
    ("join", [s(","), lst(ZONES)]),
    ("split", [s(","), s(",".join(ZONES))]),
    ("format", [s("%s-%s-%03d"), s("web"), s("prod"), n(7)]),
    ("lookup", [mp(TAGS), s("Team"), s("unknown")]),
    ("merge", [mp(TAGS), mp({"Environment": "staging", "Owner": "alice"})]),
    ("concat", [lst(ZONES[:3]), lst(ZONES[3:])]),
    ("length", [lst(ZONES)]),
    ("keys", [mp(TAGS)]),
    ("values", [mp(TAGS)]),
    ("jsonencode", [{"type": DOC_TYPE, "value": DOC}]),
    ("jsondecode", [s(json.dumps(DOC, separators=(",", ":")))]),
    ("regex", [s("^arn:aws:s3:::([a-z0-9-]+)"), s("arn:aws:s3:::my-bucket/path/to/key")]),
    ("replace", [s("my_resource_name_here"), s("_"), s("-")]),
    ("substr", [s("i-0123456789abcdef0"), n(2), n(8)]),
    ("element", [lst(ZONES), n(7)]),
    ("contains", [lst(ZONES), s("us-east-1a")]),
    ("coalesce", [s(""), s(""), s("fallback")]),
    ("tostring", [n(42)]),
]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def build_c(build_dir, tmp):
    if build_dir is None:
        build_dir = os.path.join(REPO, "build", "release")
        sh(["cmake", "--preset", "release"], cwd=REPO)
        sh(["cmake", "--build", "--preset", "release", "--target", "soupc_ctyfunc", "-j2"], cwd=REPO)
    else:
        sh(["cmake", "--build", build_dir, "--target", "soupc_ctyfunc", "-j2"])
    pkgs = ["msgpack", "yajl", "libutf8proc", "mpfr", "gmp", "re2"]
    libs = sh(["pkg-config", "--libs"] + pkgs).split()
    cflags = sh(["pkg-config", "--cflags"] + pkgs).split()
    exe = os.path.join(tmp, "bench_func")
    sh(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I" + os.path.join(REPO, "include"),
        "-I" + os.path.join(build_dir, "include")] + cflags +
       ["-o", exe, os.path.join(REPO, "bench", "cty", "bench_func.c"),
        os.path.join(build_dir, "src", "ctyfunc", "libsoupc_ctyfunc.a"),
        os.path.join(build_dir, "src", "cty", "libsoupc_cty.a"),
        os.path.join(build_dir, "src", "base", "libsoupc_base.a")] + libs +
       ["-lcsv", "-lstdc++", "-lm", "-lpthread"])
    return exe


def parse(out):
    res = {}
    for line in out.splitlines():
        fn, rounds, ns = line.split()
        res[fn] = (int(rounds), int(ns))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000, help="calls per function per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build-dir")
    ap.add_argument("--oracle", default=os.environ.get("SOUPC_GO_CTY"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="soupc-func-bench-")
    try:
        exe = build_c(a.build_dir, tmp)
        oracle = a.oracle
        if not oracle:
            sh([os.path.join(REPO, "peers", "go-cty", "build.sh"), tmp])
            oracle = os.path.join(tmp, "soupc-cty-oracle")
        compact = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)
        gofile, cfile = os.path.join(tmp, "work.jsonl"), os.path.join(tmp, "work.tsv")
        with open(gofile, "w") as f:
            for fn, args in WORKLOAD:
                f.write(compact([fn] + args) + "\n")
        with open(cfile, "w") as f:
            for fn, args in WORKLOAD:
                f.write("\t".join([fn] + [compact(x) for x in args]) + "\n")
        # Same results first: soup-c's `cty call` lines against go-cty's.
        with open(gofile) as f:
            want = sh([oracle, "callbatch"], stdin=f).splitlines()
        got = sh([exe, "--check", cfile]).splitlines()
        same = sum(1 for g, w in zip(got, want) if g == w)
        for (fn, _), g, w in zip(WORKLOAD, got, want):
            if g != w or '"ok":false' in g:
                print("warning: %s: soup-c %s, go-cty %s" % (fn, g, w))
        runs = {"c": [], "go": []}
        for r in range(a.rounds):
            order = (("c", [exe, cfile, str(a.calls)]),
                     ("go", [oracle, "callbench", gofile, str(a.calls)]))
            for who, cmd in (order if r % 2 == 0 else order[::-1]):
                runs[who].append(parse(sh(cmd)))
            print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr)

        def rate(run, fn):
            calls, ns = run[fn]
            return calls / (ns / 1e9)

        def mix(run):
            return sum(c for c, _ in run.values()) / (sum(ns for _, ns in run.values()) / 1e9)

        go = "go-cty 1.12.1 (Go %s)" % sh(["go", "env", "GOVERSION"]).strip()
        print("cty functions, 20-function mixed workload: %d calls per function per run, "
              "median of %d alternated rounds; results identical to go-cty: %d/%d" %
              (a.calls, a.rounds, same, len(WORKLOAD)))
        print("%-12s %14s %14s %8s" % ("function", "soup-c calls/s", "go-cty calls/s", "ratio"))
        for fn, _ in WORKLOAD:
            c = statistics.median(rate(x, fn) for x in runs["c"])
            g = statistics.median(rate(x, fn) for x in runs["go"])
            print("%-12s %14.0f %14.0f %7.2fx" % (fn, c, g, c / g))
        c = statistics.median(mix(x) for x in runs["c"])
        g = statistics.median(mix(x) for x in runs["go"])
        print("%-12s %14.0f %14.0f %7.2fx" % ("mix", c, g, c / g))
        ratios = [statistics.median(rate(x, fn) for x in runs["c"]) /
                  statistics.median(rate(x, fn) for x in runs["go"]) for fn, _ in WORKLOAD]
        print("%-12s %14s %14s %7.2fx" % ("geomean", "", "", statistics.geometric_mean(ratios)))
        per = sorted(mix(cr) / mix(gr) for cr, gr in zip(runs["c"], runs["go"]))
        print("mix ratio per round: %s" % " ".join("%.2fx" % x for x in per))
        print("(%s)" % go)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
