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
import sys
import time

import pytest
from hypothesis import HealthCheck, Phase, settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture, HealthCheck.large_base_example]

settings.register_profile("quick", max_examples=8, deadline=None, stateful_step_count=12,
                          suppress_health_check=_SLOW_OK, print_blob=True, derandomize=False)
settings.register_profile("default", max_examples=100, deadline=None, stateful_step_count=30,
                          suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None, stateful_step_count=50,
                          suppress_health_check=_SLOW_OK, print_blob=True)
settings.load_profile(os.environ.get("SOUPC_HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser):
    parser.addoption("--impl", default=os.environ.get("SOUPC_IMPL", "soup-c"),
                     help="implementation under test: soup-c, python-ref, go-kvref, soup-c-etcd")
    parser.addoption("--report-dir", default=os.environ.get("SOUPC_REPORT_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "reports")),
                     help="directory for the polyglot matrix report")


def pytest_configure(config):
    # Every process the suite starts inherits this mark, so the session can
    # tell at its end whether it left any of them running.
    import uuid
    from soupconf import procinfo
    os.environ[procinfo.MARK_VAR] = "%d-%s" % (os.getpid(), uuid.uuid4().hex[:12])
    config.addinivalue_line("markers", "heavy: costly per example; examples scaled down (see README)")
    config.addinivalue_line("markers", "matrix: polyglot matrix cell")


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
        s.kill()


@pytest.fixture(scope="module")
def shared_server(impl, tmp_path_factory):
    """One plaintext server per test module (Hypothesis examples share it)."""
    from soupconf import servers
    d = str(tmp_path_factory.mktemp("shared"))
    s = servers.Server(impl, d).start()
    yield s
    s.kill()


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
        return  # the xdist controller: each worker checks its own
    time.sleep(0.2)  # a just-killed process may still be exiting
    left = procinfo.marked(os.environ[procinfo.MARK_VAR], exclude={os.getpid()})
    if not left:
        return
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
    session.exitstatus = 1


def pytest_sessionfinish(session, exitstatus):
    from soupconf import servers
    _left_running(session)
    late = servers.SANITIZER_REPORTS[_SEEN[0]:]
    if late:  # from module-scoped servers, stopped after their last test
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr:
            tr.write_line("SANITIZER REPORTS in server logs:\n" + "\n\n".join(late)[:8000], red=True)
        session.exitstatus = 1
    if not _MATRIX:
        return
    from soupconf import report
    d = session.config.getoption("--report-dir")
    os.makedirs(d, exist_ok=True)
    meta = {"profile": settings._current_profile, "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "max_examples": settings().max_examples}
    with open(os.path.join(d, "matrix.json"), "w") as f:
        json.dump({"meta": meta, "cells": _MATRIX}, f, indent=1)
    paths = report.write(d, _MATRIX, meta)
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr:
        tr.write_line("polyglot matrix report: " + ", ".join(paths))
