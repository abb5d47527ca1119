#!/usr/bin/python3
"""Mechanical mutation testing of soup-c (issue 9 item 2).

    conformance/mutate.sh list   [FILE...]                 # the generated mutants
    conformance/mutate.sh run    [--sample N] [--seed S] [--profile P] [--timeout S] [FILE...]
    conformance/mutate.sh report [--sample ...]            # score per file, survivors

FILE defaults to the issue's scope: src/store/*.c, src/kv/*.c,
src/transport/grpc_wire.c and src/plugin/handshake.c.

`run` copies the tree to build-mutate/ (like mutants.sh), configures it
once with the asan preset's flags, and for each mutant (in id order, or a
seeded sample of N per file): apply the edit, rebuild the targets the file
can affect, run the unit tests of its layer (ctest), then the conformance
suite (--hypothesis-profile P, default "default", with -x) on the families
that exercise the file, and revert. The first failing test kills the
mutant; a run past --timeout counts as killed (a hang is a detected
change); a mutant that does not compile is stillborn and not counted.
Results go to build-mutate/results.jsonl, one line per mutant, so an
interrupted run resumes where it stopped (--fresh starts over).

Equivalent mutants (no test can tell them from the original) are listed in
conformance/mutants.md, section "Equivalent generated mutants", one row per
id with the reason; `report` leaves them out of the score.
"""

import argparse
import fnmatch
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.dirname(HERE)
REPO = os.path.dirname(CONF)
sys.path.insert(0, HERE)
import generate  # noqa: E402

SCOPE = ["src/store/*.c", "src/kv/*.c", "src/transport/grpc_wire.c", "src/plugin/handshake.c"]

# Which build targets, unit tests (ctest -R) and suite families exercise a
# file; the first group whose pattern matches wins. A mutant counts as
# killed when any of them fails: families that never reach the file cannot
# tell its mutants apart, and leaving them out keeps a run to hours. The
# families are ordered so that the likeliest killers run first (-x).
GROUPS = [
    {"files": "src/store/etcd_*.c",
     "targets": ["soup-c", "unit_store_test_etcd_client", "unit_store_test_backend"],
     "ctest": r"^unit/store/test_(etcd_client|backend)$|^etcd/cluster$",
     "suite": ["--impl", "soup-c-etcd", "kv/test_stress.py", "kv/test_stateful.py",
               "kv/test_concurrency.py"]},
    {"files": "src/store/storage_dir.c",
     "targets": ["soup-c", "unit_store_*"],
     "ctest": r"^unit/store/",
     "suite": ["kv/test_config.py", "-k", "storage", "kv/test_malformed.py"]},
    {"files": "src/store/*.c",
     "targets": ["soup-c", "unit_store_*", "unit_kv_*", "recovery_store_crash"],
     "ctest": r"^unit/(store|kv)/|^recovery/",
     "suite": ["kv/test_concurrency.py", "kv/test_stress.py", "kv/test_limits.py", "kv/test_crash.py",
               "kv/test_durability.py", "kv/test_stateful.py"]},
    {"files": "src/kv/json_enrich.c",
     "targets": ["soup-c", "unit_kv_*"],
     "ctest": r"^unit/kv/",
     "suite": ["kv/test_config.py", "-k", "enrich"]},
    {"files": "src/kv/kv_health.c",  # standalone only; plugin mode has go-plugin's health
     "targets": ["soup-c", "unit_kv_*"],
     "ctest": r"^unit/kv/|^etcd/cluster$",  # an unhealthy store: etcd members down
     "suite": ["kv/test_health.py"]},
    {"files": "src/kv/*.c",
     "targets": ["soup-c", "unit_kv_*"],
     "ctest": r"^unit/kv/",
     "suite": ["kv/test_malformed.py", "kv/test_limits.py", "kv/test_stress.py", "kv/test_concurrency.py",
               "kv/test_stateful.py", "kv/test_longrun.py"]},
    {"files": "src/transport/*.c",
     "targets": ["soup-c", "unit_transport_*"],
     "ctest": r"^unit/transport/",
     "suite": ["kv/test_framing.py", "kv/test_limits.py", "kv/test_deadlines.py", "kv/test_malformed.py",
               "kv/test_stress.py"]},
    {"files": "src/plugin/*.c",
     "targets": ["soup-c", "unit_plugin_*"],
     "ctest": r"^unit/plugin/|^interop/go/(go_host_soupc|soupc_host_goplugin|refusals)$|^cli/kv_host$",
     "suite": ["kv/test_automtls.py", "kv/test_config.py", "kv/test_polyglot.py", "-k",
               "plugin or automtls or hosts or reattach or cookie or protocol or multiplex or port or socket "
               "or certificate or log_level or shutdown"]},
]

ASAN_FLAGS = ("-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined "
              "-fno-sanitize-recover=undefined")


def _targets(group, no_suite):
    """Build targets of a group; the unit tests alone need no soup-c."""
    return [t for t in group["targets"] if not (no_suite and t == "soup-c")]


def group_of(rel):
    for g in GROUPS:
        if fnmatch.fnmatch(rel, g["files"]):
            return g
    raise KeyError("no test group for %s" % rel)


def scope_files(args_files):
    pats = args_files or SCOPE
    out = []
    for p in pats:
        out += sorted(os.path.relpath(f, REPO) for f in glob.glob(os.path.join(REPO, p)))
    return out


def equivalents():
    """{id: reason} from conformance/mutants.md."""
    out = {}
    try:
        text = open(os.path.join(CONF, "mutants.md")).read()
    except OSError:
        return out
    sec = text.split("## Equivalent generated mutants", 1)
    if len(sec) < 2:
        return out
    for line in sec[1].splitlines():
        m = re.match(r"\|\s*`([0-9a-f]{10})`\s*\|[^|]*\|[^|]*\|\s*(.+?)\s*\|\s*$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def all_mutants(files, compdb, root=REPO):
    ms = []
    for f in files:
        ms += generate.mutants_of(root, f, compdb)
    return ms


def pick(ms, sample, seed):
    if not sample:
        return ms
    by_file = {}
    for m in ms:
        by_file.setdefault(m.file, []).append(m)
    out = []
    for f, lst in sorted(by_file.items()):
        rng = random.Random("%s:%s" % (seed, f))
        out += sorted(rng.sample(lst, min(sample, len(lst))), key=lambda m: m.start)
    return out


# ---- the scratch tree -----------------------------------------------------

class Scratch:
    def __init__(self, root):
        self.root = root
        self.src = os.path.join(root, "src")
        self.build = os.path.join(root, "build")

    def prepare(self, log, mutated=()):
        """A fresh copy of the tree (mtimes kept, so builds stay
        incremental), configured with the asan flags. The files mutants
        touch are touched, so that no object compiled from an interrupted
        run's mutant survives."""
        os.makedirs(self.root, exist_ok=True)
        if os.path.isdir(self.src):
            shutil.rmtree(self.src)
        os.makedirs(self.src)
        files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO,
                               capture_output=True, check=True).stdout.split(b"\0")
        for f in files:
            if not f:
                continue
            s = os.path.join(REPO, f.decode())
            if not os.path.isfile(s):
                continue
            d = os.path.join(self.src, f.decode())
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)
        for rel in mutated:
            os.utime(os.path.join(self.src, rel), None)
        r = subprocess.run(["cmake", "-S", self.src, "-B", self.build, "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_C_FLAGS=" + ASAN_FLAGS,
                            "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined",
                            "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined"],
                           stdout=log, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise SystemExit("mutate: cmake failed (see %s)" % log.name)

    def targets(self, patterns):
        out = subprocess.run(["ninja", "-C", self.build, "-t", "targets", "all"], capture_output=True,
                             text=True).stdout
        names = [line.split(":", 1)[0] for line in out.splitlines()]
        return [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns) and "/" not in n]

    def build_targets(self, targets, log, timeout=1800):
        r = subprocess.run(["nice", "ninja", "-C", self.build, "-j2"] + targets, stdout=log,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return r.returncode == 0


def run_tests(scratch, group, profile, timeout, log, no_suite=False):
    """-> (status, killer): killed / survived / timeout."""
    start = time.monotonic()
    env = dict(os.environ, SOUPC_BIN=os.path.join(scratch.build, "soup-c"),
               SOUPC_GO_PEERS=os.environ.get("SOUPC_GO_PEERS") or os.path.join(REPO, "peers", "go", "bin"),
               SOUPC_HYPOTHESIS_PROFILE=profile, PYTHONDONTWRITEBYTECODE="1")
    try:
        r = subprocess.run(["nice", "ctest", "--test-dir", scratch.build, "-R", group["ctest"], "-j2",
                            "--timeout", "300", "--stop-on-failure"], stdout=log, stderr=subprocess.STDOUT,
                           env=env, timeout=timeout)
        if r.returncode != 0:
            log.flush()
            text = open(log.name, errors="replace").read()
            m = re.findall(r"\d+ - (\S+) \((Failed|Timeout|SEGFAULT|Subprocess aborted|Child aborted|"
                           r"Exception)", text)
            return "killed", "ctest " + (m[-1][0] if m else "(failed)")
        if not group.get("suite") or no_suite:
            return "survived", ""
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            return "timeout", "ctest"
        r = subprocess.run(["nice", "/usr/bin/python3", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                            "--hypothesis-profile", profile, "--report-dir",
                            os.path.join(scratch.root, "suite-report")] + group["suite"],
                           cwd=os.path.join(scratch.src, "conformance"), stdout=log, stderr=subprocess.STDOUT,
                           env=env, timeout=left)
        if r.returncode == 0:
            return "survived", ""
        log.flush()
        text = open(log.name, errors="replace").read()
        m = re.search(r"^FAILED (\S+)", text, re.M) or re.search(r"^ERROR (\S+)", text, re.M)
        return "killed", "suite " + (m.group(1) if m else "(rc=%d)" % r.returncode)
    except subprocess.TimeoutExpired:
        return "timeout", "(over %d s)" % timeout


def load_results(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line:
                r = json.loads(line)
                out[r["id"]] = r
    return out


def cmd_run(args):
    files = scope_files(args.files)
    scratch = Scratch(args.root)
    os.makedirs(scratch.root, exist_ok=True)
    results_path = os.path.join(scratch.root, "results.jsonl")
    if args.fresh and os.path.exists(results_path):
        os.unlink(results_path)
    done = load_results(results_path)
    if args.rerun_survivors:  # tests changed: try the survivors again
        done = {k: r for k, r in done.items() if r["status"] != "survived"}
    with open(os.path.join(scratch.root, "prepare.log"), "w") as log:
        print("mutate: copying the tree to %s and building it (asan)" % scratch.root, flush=True)
        scratch.prepare(log, files)
        compdb = os.path.join(scratch.build, "compile_commands.json")
        pats = sorted({p for f in files for p in _targets(group_of(f), args.no_suite)})
        if not scratch.build_targets(scratch.targets(pats), log):
            raise SystemExit("mutate: the unmutated tree does not build (see %s)" % log.name)
    ms = pick(all_mutants(files, compdb, root=scratch.src), args.sample, args.seed)
    equiv = equivalents()
    todo = [m for m in ms if m.id not in done]
    print("mutate: %d mutants (%d done already, %d known equivalent)" % (
        len(ms), len(ms) - len(todo), sum(1 for m in ms if m.id in equiv)), flush=True)
    with open(results_path, "a") as out:
        for i, m in enumerate(todo):
            g = group_of(m.file)
            path = os.path.join(scratch.src, m.file)
            original = open(path, "rb").read()
            t0 = time.monotonic()
            logp = os.path.join(scratch.root, "logs", m.id + ".log")
            os.makedirs(os.path.dirname(logp), exist_ok=True)
            with open(logp, "w") as log:
                log.write(m.describe() + "\n")
                log.flush()
                try:
                    with open(path, "wb") as f:
                        f.write(generate.apply(original, m))
                    if not scratch.build_targets(scratch.targets(_targets(g, args.no_suite)), log):
                        status, killer = "stillborn", "does not compile"
                    else:
                        status, killer = run_tests(scratch, g, args.profile, args.timeout, log,
                                                   args.no_suite)
                finally:
                    with open(path, "wb") as f:
                        f.write(original)
                    # the next build must see the file as changed again
                    os.utime(path, None)
            rec = dict(id=m.id, file=m.file, line=m.line, op=m.op, original=m.original,
                       replacement=m.replacement, function=m.function, status=status, killer=killer,
                       seconds=round(time.monotonic() - t0, 1))
            out.write(json.dumps(rec) + "\n")
            out.flush()
            print("[%d/%d] %-9s %5.0fs %s%s" % (i + 1, len(todo), status, rec["seconds"], m.describe()[:110],
                                               "  <- " + killer if killer else ""), flush=True)
    cmd_report(args)


def list_compdb():
    """compile_commands.json of a configured tree: build/dev's, else that of
    any other preset (asan, release...), else a clear error."""
    found = [os.path.join(REPO, "build", "dev", "compile_commands.json")]
    found += sorted(glob.glob(os.path.join(REPO, "build", "*", "compile_commands.json")))
    for f in found:
        if os.path.exists(f):
            return f
    sys.exit("mutate list: no build/*/compile_commands.json; configure a preset first "
             "(cmake --preset dev)")


def cmd_list(args):
    files = scope_files(args.files)
    ms = pick(all_mutants(files, list_compdb()), args.sample, args.seed)
    for m in ms:
        print(m.id, m.describe())
    print("%d mutants" % len(ms), file=sys.stderr)


def cmd_report(args):
    files = scope_files(args.files)
    res = load_results(os.path.join(args.root, "results.jsonl"))
    equiv = equivalents()
    rows, survivors = [], []
    tot = dict(killed=0, survived=0, equivalent=0, stillborn=0)
    for f in files:
        rs = [r for r in res.values() if r["file"] == f]
        if not rs:
            continue
        k = sum(1 for r in rs if r["status"] in ("killed", "timeout"))
        e = sum(1 for r in rs if r["status"] == "survived" and r["id"] in equiv)
        s = [r for r in rs if r["status"] == "survived" and r["id"] not in equiv]
        sb = sum(1 for r in rs if r["status"] == "stillborn")
        tot["killed"] += k
        tot["survived"] += len(s)
        tot["equivalent"] += e
        tot["stillborn"] += sb
        score = 100.0 * k / (k + len(s)) if k + len(s) else 100.0
        rows.append("| `%s` | %d | %d | %d | %d | %d | %.1f%% |" % (f, len(rs), k, len(s), e, sb, score))
        survivors += s
    lines = ["| File | run | killed | survived | equivalent | stillborn | score |",
             "|---|---|---|---|---|---|---|"] + rows
    k, s = tot["killed"], tot["survived"]
    lines.append("| **all** | %d | %d | %d | %d | %d | **%.1f%%** |" % (
        sum(tot.values()), k, s, tot["equivalent"], tot["stillborn"], 100.0 * k / (k + s) if k + s else 100.0))
    lines += ["", "Survivors (not known equivalent):", ""]
    for r in sorted(survivors, key=lambda r: (r["file"], r["line"])):
        lines.append("- `%s` %s:%d (%s) %s: `%s` -> `%s`" % (
            r["id"], r["file"], r["line"], r["function"], r["op"], r["original"].replace("\n", " ")[:70],
            r["replacement"][:40]))
    text = "\n".join(lines) + "\n"
    out_dir = os.path.join(CONF, "reports", "mutation")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("list", "run", "report"):
        p = sub.add_parser(name)
        p.add_argument("files", nargs="*")
        p.add_argument("--sample", type=int, default=0, help="at most N mutants per file (seeded)")
        p.add_argument("--seed", default="soupc", help="sample seed")
        p.add_argument("--root", default=os.environ.get("SOUPC_MUTATE_ROOT", os.path.join(REPO, "build-mutate")))
        if name == "run":
            p.add_argument("--profile", default="default", help="Hypothesis profile of the suite part")
            p.add_argument("--timeout", type=int, default=1200, help="seconds per mutant's tests")
            p.add_argument("--fresh", action="store_true", help="forget earlier results")
            p.add_argument("--no-suite", action="store_true", help="unit tests only (the CI sample)")
            p.add_argument("--rerun-survivors", action="store_true",
                           help="run the earlier survivors again (after new tests)")
    args = ap.parse_args()
    {"list": cmd_list, "run": cmd_run, "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
