"""Fixtures for soup-c's etcd backend against a real etcd cluster
(conformance/soupconf/etcd.py: Debian's etcd-server on loopback, free
ports, data directories under pytest's tmp dirs)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "conformance"))

from soupconf import etcd, servers  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def need_etcd():
    why = etcd.available() or servers.SoupC().available()
    if why:
        pytest.skip(why)


@pytest.fixture
def cluster(tmp_path):
    """A fresh 3-member cluster per test: fault tests kill its members."""
    c = etcd.EtcdCluster(str(tmp_path / "etcd")).start()
    yield c
    c.close()


@pytest.fixture
def soupc(tmp_path):
    """start(cluster_or_flags, extra) -> a started soup-c standalone server
    on an etcd cluster; every server is killed at the end."""
    started = []

    def start(cluster=None, flags=None, extra=None, **kw):
        impl = etcd.make_impl(cluster) if cluster is not None else _FlagsImpl(flags or [])
        s = servers.Server(impl, str(tmp_path / ("srv%d" % len(started))), extra=extra, **kw)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.kill()


class _FlagsImpl(servers.SoupC):
    """soup-c with exactly the given backend flags (bad-input tests)."""

    def __init__(self, flags):
        super().__init__()
        self.flags = list(flags)

    def argv(self, listen, storage, tls, tls_files, extra):
        return [self.binary, "rpc", "kv", "server", "--standalone", "--listen", listen] + \
            self.flags + servers._tls_flags(tls, tls_files) + extra


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    """A soup-c built with ASan/UBSan that reported an error in its log
    fails the test during which it stopped."""
    n = len(servers.SANITIZER_REPORTS)
    yield
    new = servers.SANITIZER_REPORTS[n:]
    if new:
        pytest.fail("sanitizer report in a server log:\n" + "\n\n".join(new)[:8000], pytrace=False)
