#!/usr/bin/env python3
"""cty benchmark (issues 5, 13): soup-c's cty msgpack codec, convert and
unify against go-cty (the oracle in peers/go-cty), on the same machine in
the same run.

The value is a realistic nested object shaped like a Terraform provider
schema (GetProviderSchema): a provider block plus N resource and data
source schemas, each with attributes (type, description, flags) and
nested block types. Prints one table of encode/decode throughput in MB/s
(of msgpack bytes) and values/s (whole schema values), conversions/s
(the value read as plain JSON, converted to the schema type) and
unifications/s (UnifyUnsafe of the implied types of all resource and data
source schemas), and soup-c's ratio to go-cty. It measures only; it never
decides pass or fail.

Usage: /usr/bin/python3 bench/cty/bench_cty.py [--resources N] [--iterations N]
       [--rounds N]        (default 5: C and Go alternate, medians quoted)
       [--build-dir DIR]   (default: build/release, configured and built
                            with the release preset, target soupc_cty only)
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ATTR = ["object", {"type": "string", "description": "string", "required": "bool",
                   "optional": "bool", "computed": "bool", "sensitive": "bool",
                   "deprecated": "bool", "description_kind": "string"},
        ["deprecated", "description_kind"]]
BLOCK_TYPE = ["object", {"nesting": "string", "min_items": "number", "max_items": "number",
                         "attributes": ["map", ATTR]}]
BLOCK = ["object", {"attributes": ["map", ATTR], "block_types": ["map", BLOCK_TYPE],
                    "description": "string", "deprecated": "bool"}]
SCHEMA = ["object", {"version": "number", "block": BLOCK}]
TYPE = ["object", {"provider": SCHEMA, "resource_schemas": ["map", SCHEMA],
                   "data_source_schemas": ["map", SCHEMA],
                   "provider_meta": SCHEMA,
                   "server_capabilities": ["object", {"plan_destroy": "bool",
                                                      "get_provider_schema_optional": "bool"}],
                   "diagnostics": ["list", ["object", {"severity": "number", "summary": "string",
                                                       "detail": "string"}]]}]

TYPES = ['"string"', '["list","string"]', '["map","string"]', '["set","string"]', '"number"',
         '"bool"', '["list",["object",{"name":"string","value":"string"}]]']


def attr(rng, i):
    return {"type": rng.choice(TYPES),
            "description": "The %s argument. See the provider documentation for details, "
                           "including the allowed values and defaults." % ("attr_%d" % i),
            "required": rng.random() < 0.3, "optional": rng.random() < 0.6,
            "computed": rng.random() < 0.4, "sensitive": rng.random() < 0.05,
            "deprecated": False, "description_kind": "markdown"}


def block(rng, nattrs, depth=0):
    return {"attributes": {"attr_%d" % i: attr(rng, i) for i in range(nattrs)},
            "block_types": {} if depth > 0 else {
                "nested_%d" % j: {"nesting": rng.choice(["list", "set", "single"]),
                                  "min_items": 0, "max_items": rng.choice([0, 1, 10]),
                                  "attributes": {"attr_%d" % i: attr(rng, i) for i in range(6)}}
                for j in range(3)},
            "description": "Manages one thing in the remote API.", "deprecated": False}


def schema_value(n):
    rng = random.Random(5)
    sch = lambda k: {"version": rng.randint(0, 3), "block": block(rng, k)}
    return {"provider": sch(12),
            "resource_schemas": {"example_resource_%d" % i: sch(20) for i in range(n)},
            "data_source_schemas": {"example_data_%d" % i: sch(10) for i in range(n // 2)},
            "provider_meta": sch(0),
            "server_capabilities": {"plan_destroy": True, "get_provider_schema_optional": False},
            "diagnostics": []}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def build_c(build_dir, tmp):
    if build_dir is None:
        build_dir = os.path.join(REPO, "build", "release")
        sh(["cmake", "--preset", "release"], cwd=REPO)
        sh(["cmake", "--build", "--preset", "release", "--target", "soupc_cty", "-j2"], cwd=REPO)
    else:
        sh(["cmake", "--build", build_dir, "--target", "soupc_cty", "-j2"])
    libs = sh(["pkg-config", "--libs", "msgpack", "yajl", "libutf8proc", "mpfr", "gmp"]).split()
    cflags = sh(["pkg-config", "--cflags", "msgpack", "yajl", "libutf8proc", "mpfr", "gmp"]).split()
    exe = os.path.join(tmp, "bench_cty")
    sh(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I" + os.path.join(REPO, "include"),
        "-I" + os.path.join(build_dir, "include")] + cflags +
       ["-o", exe, os.path.join(REPO, "bench", "cty", "bench_cty.c"),
        os.path.join(build_dir, "src", "cty", "libsoupc_cty.a"),
        os.path.join(build_dir, "src", "base", "libsoupc_base.a")] + libs + ["-lpthread"])
    return exe


def parse(out):
    f = out.split()
    return {f[i]: int(f[i + 1]) for i in range(0, len(f), 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=40)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build-dir")
    ap.add_argument("--oracle", default=os.environ.get("SOUPC_GO_CTY"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="soupc-cty-bench-")
    try:
        exe = build_c(a.build_dir, tmp)
        oracle = a.oracle
        if not oracle:
            sh([os.path.join(REPO, "peers", "go-cty", "build.sh"), tmp])
            oracle = os.path.join(tmp, "soupc-cty-oracle")
        tfile, vfile = os.path.join(tmp, "type.json"), os.path.join(tmp, "value.json")
        with open(tfile, "w") as f:
            json.dump(TYPE, f)
        with open(vfile, "w") as f:
            json.dump(schema_value(a.resources), f)
        # Contenders alternate (C first in even rounds, Go first in odd
        # ones) so that a load change on the shared machine hits both; the
        # table quotes each figure's median over the rounds.
        runs = {"c": [], "go": []}

        def run_c():
            runs["c"].append(parse(sh([exe, tfile, vfile, str(a.iterations)])))

        def run_go():
            with open(vfile) as f:
                runs["go"].append(parse(sh([oracle, "bench", "--type", json.dumps(TYPE),
                                            "--iterations", str(a.iterations)], stdin=f)))

        for r in range(a.rounds):
            for fn in ((run_c, run_go) if r % 2 == 0 else (run_go, run_c)):
                fn()
            print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr)
        c = {k: statistics.median(x[k] for x in runs["c"]) for k in runs["c"][0]}
        g = {k: statistics.median(x[k] for x in runs["go"]) for k in runs["go"][0]}
        if c["bytes"] != g["bytes"]:
            print("warning: encodings differ in length (C %d, Go %d bytes)" % (c["bytes"], g["bytes"]))
        n, size = a.iterations, int(c["bytes"])
        go = "go-cty 1.12.1 (Go %s)" % sh(["go", "env", "GOVERSION"]).strip()
        print("cty on the provider-schema object: %d resources, %d msgpack bytes per value, "
              "%d iterations per run, median of %d alternated rounds" %
              (a.resources, size, n, a.rounds))
        print("%-28s %12s %12s %12s %12s %12s %12s" % ("implementation", "enc MB/s", "enc val/s",
                                                      "dec MB/s", "dec val/s", "convert/s",
                                                      "unify/s"))
        rows = []
        for name, r in (("soup-c (C)", c), (go, g)):
            rate = lambda k: n / (r[k] / 1e9)
            rows.append((name, size * rate("encode_ns") / 1e6, rate("encode_ns"),
                         size * rate("decode_ns") / 1e6, rate("decode_ns"), rate("convert_ns"),
                         rate("unify_ns")))
            print("%-28s %12.1f %12.1f %12.1f %12.1f %12.1f %12.1f" % rows[-1])
        print("%-28s %11.2fx %12s %11.2fx %12s %11.2fx %11.2fx" % (
            "soup-c / go-cty", rows[0][1] / rows[1][1], "", rows[0][3] / rows[1][3], "",
            rows[0][5] / rows[1][5], rows[0][6] / rows[1][6]))
        # The spread: each round's decode ratio (same-round pairs).
        per = sorted(gr["decode_ns"] / cr["decode_ns"] for cr, gr in zip(runs["c"], runs["go"]))
        print("decode ratio per round: %s" % " ".join("%.2fx" % x for x in per))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
