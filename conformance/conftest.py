"""Shared pytest configuration for conformance/ (kv/, selftest/, cty/).

Hypothesis profiles (choose with --hypothesis-profile P, or the environment
variable SOUPC_HYPOTHESIS_PROFILE; the flag wins):
  quick     CI smoke run: few examples, short state machines
  default   the normal run; catches every mutant in mutants.md
  thorough  1000 examples per test, no deadline

Options added here:
  --impl NAME        implementation the single-target families test:
                     soup-c (default; $SOUPC_BIN), python-ref, go-kvref ($SOUPC_IMPL)
  --report-dir DIR   where the polyglot matrix report goes (default conformance/reports)
"""

import json
import os
import re
import sys
import time

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture, HealthCheck.large_base_example]

# One example database for every process of a run: pytest-xdist workers
# share it (the default is conformance/.hypothesis/examples), and
# $SOUPC_HYPOTHESIS_DB on a shared mount lets several hosts share it.
_DB = DirectoryBasedExampleDatabase(os.environ.get("SOUPC_HYPOTHESIS_DB") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), ".hypothesis", "examples"))
settings.register_profile("quick", max_examples=8, deadline=None, stateful_step_count=12,
                          suppress_health_check=_SLOW_OK, print_blob=True, derandomize=False, database=_DB)
settings.register_profile("default", max_examples=100, deadline=None, stateful_step_count=30,
                          suppress_health_check=_SLOW_OK, print_blob=True, database=_DB)
settings.register_profile("thorough", max_examples=1000, deadline=None, stateful_step_count=50,
                          suppress_health_check=_SLOW_OK, print_blob=True, database=_DB)
settings.load_profile(os.environ.get("SOUPC_HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser):
    parser.addoption("--impl", default=os.environ.get("SOUPC_IMPL", "soup-c"),
                     help="implementation under test: soup-c, python-ref, go-kvref, soup-c-etcd")
    parser.addoption("--allow-missing-peers", action="store_true",
                     default=os.environ.get("SOUPC_ALLOW_MISSING_PEERS") == "1",
                     help="run even when the Go peers cannot be built: their matrix cells skip, "
                          "and the report says so (default: fail at the start, saying how to build them)")
    parser.addoption("--report-dir", default=os.environ.get("SOUPC_REPORT_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "reports")),
                     help="directory for the polyglot matrix report")


def pytest_configure(config):
    # Every process the suite starts inherits this mark, so the session can
    # tell at its end whether it left any of them running.
    import uuid
    from soupconf import procinfo
    os.environ[procinfo.MARK_VAR] = "%d-%s" % (os.getpid(), uuid.uuid4().hex[:12])
    if not hasattr(config, "workerinput"):  # once, in the main process (xdist: the controller)
        _ensure_go_peers(config)
    _RUN["start"] = time.time()
    _force_seed(config)
    config.addinivalue_line("markers", "heavy: costly per example; examples scaled down (see README)")
    config.addinivalue_line("markers", "matrix: polyglot matrix cell")


# Test files that run the Go peers (peers/go).
_NEEDS_PEERS = ("kv/test_polyglot.py", "kv/test_automtls.py", "selftest/test_procinfo.py")
PEERS_STATE = {"missing": None}  # why the peers are missing, when --allow-missing-peers let the run go on


def _needs_peers(config) -> bool:
    here = os.path.dirname(os.path.abspath(__file__))
    args = [a.split("::", 1)[0] for a in config.args if not a.startswith("-")] or [here]
    for a in args:
        p = os.path.abspath(os.path.join(str(config.invocation_params.dir), a))
        for need in _NEEDS_PEERS:
            f = os.path.join(here, need)
            if p == f or (os.path.isdir(p) and f.startswith(p.rstrip("/") + "/")):
                return True
    return False


def _ensure_go_peers(config):
    """Builds the Go peers (peers/go/build.sh) when the run needs them and
    they are missing or stale; without them the run stops here, saying how,
    unless --allow-missing-peers was given."""
    if not _needs_peers(config):
        return
    from soupconf import peers
    why = peers.ensure()
    if why is None:
        return
    if not config.getoption("--allow-missing-peers"):
        raise pytest.UsageError(why)
    PEERS_STATE["missing"] = why
    os.environ["SOUPC_ALLOW_MISSING_PEERS"] = "1"  # for xdist workers


def pytest_report_header(config):
    return "soupconf: hypothesis profile=%s, impl=%s" % (settings._current_profile, config.getoption("--impl"))


from soupconf.profiles import scaled  # noqa: E402,F401  (re-exported)


_SEEN = [0]


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    """A server built with ASan/UBSan that reported an error (in its log)
    fails the test during which it stopped."""
    from soupconf import servers
    n = len(servers.SANITIZER_REPORTS)
    yield
    new = servers.SANITIZER_REPORTS[n:]
    _SEEN[0] = len(servers.SANITIZER_REPORTS)
    if new:
        pytest.fail("sanitizer report in a server log:\n" + "\n\n".join(new)[:8000], pytrace=False)


@pytest.fixture(scope="session")
def impl_name(pytestconfig):
    return pytestconfig.getoption("--impl")


@pytest.fixture(scope="session")
def impl(impl_name):
    from soupconf import servers
    im = servers.make_impl(impl_name)
    why = im.available()
    if why:
        pytest.fail("implementation under test unavailable: " + why, pytrace=False)
    yield im
    close = getattr(im, "close", None)  # e.g. soup-c-etcd stops its cluster
    if close is not None:
        close()


def _stop(srv):
    """SIGTERM, so that a sanitizer build runs its exit checks (LeakSanitizer
    reports nothing for a process killed with SIGKILL); SIGKILL after 10 s."""
    if srv.alive():
        srv.stop(timeout=10)
    else:
        srv.kill()


@pytest.fixture
def server_factory(impl, tmp_path_factory):
    """Starts servers of the implementation under test; stops them at the end."""
    from soupconf import servers
    started = []

    def make(tls=servers.PLAINTEXT, extra=None, impl_override=None, start=True, **kw):
        d = str(tmp_path_factory.mktemp("srv"))
        s = servers.Server(impl_override or impl, d, tls=tls, extra=extra, **kw)
        started.append(s)
        return s.start() if start else s

    yield make
    for s in started:
        _stop(s)


@pytest.fixture(scope="module")
def shared_server(impl, tmp_path_factory):
    """One plaintext server per test module (Hypothesis examples share it)."""
    from soupconf import servers
    d = str(tmp_path_factory.mktemp("shared"))
    s = servers.Server(impl, d).start()
    yield s
    _stop(s)


@pytest.fixture
def shared_client(shared_server):
    c = shared_server.client()
    yield c
    c.close()


# ---- polyglot matrix results -------------------------------------------

_MATRIX = []


@pytest.fixture(scope="session")
def matrix_results():
    return _MATRIX


def _left_running(session):
    """Processes this session started and did not stop: reported, killed,
    and the run fails (tests must leave no process behind)."""
    import signal
    from soupconf import procinfo
    if session.config.pluginmanager.hasplugin("dsession"):
        return []  # the xdist controller: each worker checks its own
    time.sleep(0.2)  # a just-killed process may still be exiting
    left = procinfo.marked(os.environ[procinfo.MARK_VAR], exclude={os.getpid()})
    if not left:
        return []
    lines = ["%d %s" % (pid, procinfo.cmdline(pid)) for pid in left]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr:
        tr.write_line("PROCESSES LEFT RUNNING by this session (now killed):\n  " + "\n  ".join(lines),
                      red=True)
    return lines


def _problem(session, text):
    """A failure of the session itself (not of one test): the run fails and
    the report shows it. An xdist worker hands it to the controller."""
    _RUN["problems"].append(text)
    session.exitstatus = 1
    wi = getattr(session.config, "workerinput", None)
    if wi is not None:
        d = session.config.getoption("--report-dir")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "problems-%s.json" % wi["workerid"]), "a") as f:
            f.write(json.dumps(text) + "\n")


def pytest_sessionfinish(session, exitstatus):
    from soupconf import servers
    left = _left_running(session)
    if left:
        _problem(session, "processes left running by the session (now killed):\n" + "\n".join(left))
    late = servers.SANITIZER_REPORTS[_SEEN[0]:]
    if late:  # from module-scoped servers, stopped after their last test
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr:
            tr.write_line("SANITIZER REPORTS in server logs:\n" + "\n\n".join(late)[:8000], red=True)
        _problem(session, "sanitizer reports in server logs:\n" + "\n\n".join(late)[:8000])
    if hasattr(session.config, "workerinput"):
        return  # the controller writes the report
    _write_reports(session)


def _write_reports(session):
    from soupconf import report, runreport
    d = session.config.getoption("--report-dir")
    os.makedirs(d, exist_ok=True)
    for name in sorted(os.listdir(d)):  # session problems of xdist workers
        if name.startswith("problems-") and name.endswith(".json"):
            with open(os.path.join(d, name)) as f:
                for line in f:
                    if line.strip():
                        _RUN["problems"].append(json.loads(line))
                        session.exitstatus = 1
            os.unlink(os.path.join(d, name))
    cells = [c for t in _RUN["tests"].values() for c in t.get("cells", [])]
    run = _run_data(session, cells)
    paths = runreport.write(run, d)
    if cells:
        meta = {"profile": settings._current_profile, "generated": run["meta"]["started"],
                "max_examples": settings().max_examples}
        with open(os.path.join(d, "matrix.json"), "w") as f:
            json.dump({"meta": meta, "cells": cells}, f, indent=1)
        paths += report.write(d, cells, meta)
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr:
        tr.write_line("run report (%s): %s" % (run["verdict"].upper(), ", ".join(paths)))


# ---- the run report (soupconf/runreport.py) ------------------------------

_RUN = {"start": time.time(), "tests": {}, "problems": []}


def _force_seed(config):
    """One Hypothesis seed for the whole run, shown in the report, so that
    `--hypothesis-seed N` replays the run (xdist workers take the
    controller's)."""
    from hypothesis import core
    seed = config.getoption("hypothesis_seed", None)
    if seed is None:
        seed = os.environ.get("SOUPC_RUN_SEED")
    if seed is None:
        import random
        seed = str(random.SystemRandom().randrange(1, 2 ** 31))
    os.environ["SOUPC_RUN_SEED"] = str(seed)
    core.global_force_seed = int(seed) if str(seed).isdigit() else seed
    _RUN["seed"] = str(seed)


def pytest_runtest_setup(item):
    item._soupc_matrix_mark = len(_MATRIX)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "teardown":
        cells = _MATRIX[getattr(item, "_soupc_matrix_mark", len(_MATRIX)):]
        if cells:  # travels with the report to an xdist controller
            rep.user_properties.append(("soupc_matrix_cells", json.dumps(cells)))


def pytest_runtest_logreport(report):
    t = _RUN["tests"].setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed",
                                                 "duration": 0.0})
    t["duration"] = round(t["duration"] + report.duration, 3)
    xfail = hasattr(report, "wasxfail")
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            t["outcome"] = "xpassed" if xfail else "passed"
        elif report.skipped:
            t["outcome"] = "xfailed" if xfail else "skipped"
            t["reason"] = report.wasxfail if xfail else (
                report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr))
            t["reason"] = re.sub(r"^(Skipped|reason): ", "", t["reason"] or "")
        else:
            t["outcome"] = "failed" if report.when == "call" else "error"
            t["message"] = report.longreprtext[-6000:]
    elif report.when == "teardown" and report.failed:
        t["outcome"] = "error"
        t["message"] = report.longreprtext[-6000:]
    if report.when == "teardown":
        stats = report.__dict__.get("_hypothesis_stats")
        if stats:
            from soupconf import runreport
            t["stats"] = runreport.parse_stats(stats)
        for k, v in report.user_properties:
            if k == "soupc_matrix_cells":
                t.setdefault("cells", []).extend(json.loads(v))
                t["matrix"] = True


def _run_meta(session):
    import hashlib
    import platform
    import shutil
    import subprocess
    from soupconf import servers
    cfg = session.config
    binary = os.environ.get("SOUPC_BIN") or servers.soupc_bin()
    meta = {"binary": binary, "impl": cfg.getoption("--impl"), "profile": settings._current_profile,
            "seed": _RUN.get("seed"), "host": platform.node(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(_RUN["start"])),
            "duration_s": round(time.time() - _RUN["start"], 1),
            "args": " ".join(["conformance/run.sh"] + list(cfg.invocation_params.args)),
            "workers": getattr(cfg.option, "numprocesses", None) or 1}
    meta["reproduce"] = "conformance/run.sh --hypothesis-profile %s --hypothesis-seed %s --impl %s" % (
        meta["profile"], meta["seed"], meta["impl"])
    try:
        meta["version"] = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                         timeout=10).stdout.strip()
        with open(binary, "rb") as f:
            meta["binary_sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
        libs = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
        san = [n for n, lib in (("ASan", "libasan"), ("UBSan", "libubsan"), ("TSan", "libtsan")) if lib in libs]
        meta["sanitizers"] = "+".join(san) or "none"
    except (OSError, subprocess.SubprocessError) as e:
        meta["version"] = "unavailable: %s" % e
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        # The binary carries no commit: say whether it is older than the
        # source it should have been built from.
        import glob
        built = os.path.getmtime(binary)
        srcs = glob.glob(os.path.join(repo, "src", "**", "*.[ch]"), recursive=True)
        newest = max(srcs, key=os.path.getmtime) if srcs else None
        meta["binary built"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(built)) + (
            "; OLDER than %s of this checkout: rebuild?" % os.path.relpath(newest, repo)
            if newest and os.path.getmtime(newest) > built else "; newer than every src/ file of this checkout")
    except OSError:
        pass
    if shutil.which("git"):
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        meta["commit"] = head + (" (uncommitted changes)" if dirty else "")
    meta["peers"] = "built (%s)" % servers.go_peers_dir()
    if PEERS_STATE["missing"]:
        meta["peers"] = "MISSING, allowed by --allow-missing-peers: " + PEERS_STATE["missing"]
    elif not _needs_peers(cfg):
        meta["peers"] = "not needed by this run"
    return meta


def _run_data(session, cells):
    from soupconf import runreport
    tests = list(_RUN["tests"].values())
    counts = {o: sum(1 for t in tests if t["outcome"] == o) for o in runreport.OUTCOMES}
    counts["total"] = len(tests)
    status = int(session.exitstatus)
    return {"verdict": runreport.verdict_of(counts, status), "exitstatus": status, "counts": counts,
            "meta": _run_meta(session), "tests": tests, "cells": cells, "session_problems": _RUN["problems"]}
