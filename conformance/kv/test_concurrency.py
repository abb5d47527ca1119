"""Concurrency family: N clients (threads, one connection each) on one key,
on different keys, and reading during writes. Every history must be
linearizable (a register per key, soupconf.linearizability). Connection
churn must leave the server's fd count and RSS bounded."""

import time
import uuid

from hypothesis import given, strategies as st

from soupconf import procinfo, strategies as sst
from soupconf.history import Recorder, run_clients
from soupconf.linearizability import assert_linearizable


def _clients(server, n):
    cs = [server.client(timeout=30) for _ in range(n)]
    for c in cs:
        c.wait_ready(10)
    return cs


@given(key=sst.keys(2048), n=st.integers(2, 8),
       plan=st.lists(st.tuples(st.booleans(), sst.values(70000)), min_size=1, max_size=6))
def test_clients_on_one_key_are_linearizable(shared_server, key, n, plan):
    key = "one-%s-%s" % (uuid.uuid4().hex[:8], key)
    rec = Recorder()
    cs = _clients(shared_server, n)
    try:
        def body(cid):
            for i, (is_put, v) in enumerate(plan):
                if is_put or i == 0:
                    rec.put(cs[cid], cid, key, v + b"#%d.%d" % (cid, i))
                else:
                    rec.get(cs[cid], cid, key)
            rec.get(cs[cid], cid, key)
        run_clients(n, body)
        rec.get(cs[0], "final", key)
    finally:
        for c in cs:
            c.close()
    assert not rec.errors, rec.errors
    assert_linearizable(rec.ops)


@given(n=st.integers(2, 8), keys=st.lists(sst.keys(512), min_size=1, max_size=8, unique=True),
       value=sst.values(4096), rounds=st.integers(1, 5))
def test_clients_on_different_keys_are_linearizable(shared_server, n, keys, value, rounds):
    # Each client writes its own keys; a store that merges concurrent Puts
    # into one commit must keep every one of them.
    ns = "diff-%s-" % uuid.uuid4().hex[:8]
    rec = Recorder()
    cs = _clients(shared_server, n)
    try:
        def body(cid):
            for r in range(rounds):
                for k in keys:
                    rec.put(cs[cid], cid, "%s%d/%s" % (ns, cid, k), value + b"@%d" % r)
        run_clients(n, body)
        for cid in range(n):
            for k in keys:
                rec.get(cs[0], "final", "%s%d/%s" % (ns, cid, k))
    finally:
        for c in cs:
            c.close()
    assert not rec.errors, rec.errors
    assert_linearizable(rec.ops)


@given(key=sst.keys(256), readers=st.integers(1, 6),
       writes=st.lists(sst.values(200000), min_size=1, max_size=8))
def test_reads_during_writes_are_linearizable(shared_server, key, readers, writes):
    # Readers must never see a torn or mixed value (TofuSoup's file-per-key
    # store could, rpc-spec.md §4.2): only whole written values, in an order
    # consistent with real time.
    key = "rw-%s-%s" % (uuid.uuid4().hex[:8], key)
    rec = Recorder()
    cs = _clients(shared_server, readers + 1)
    done = []
    try:
        def body(cid):
            if cid == 0:
                for i, v in enumerate(writes):
                    rec.put(cs[0], 0, key, v + b"|%d" % i)
                done.append(True)
            else:
                for _ in range(200):
                    rec.get(cs[cid], cid, key)
                    if done:
                        break
        run_clients(readers + 1, body)
    finally:
        for c in cs:
            c.close()
    assert not rec.errors, rec.errors
    assert_linearizable(rec.ops)


def _settle(pid, baseline_fds, slack, timeout=10.0):
    deadline = time.monotonic() + timeout
    n = procinfo.fd_count(pid)
    while n > baseline_fds + slack and time.monotonic() < deadline:
        time.sleep(0.2)
        n = procinfo.fd_count(pid)
    return n


def test_connection_churn_leaves_fds_and_memory_bounded(server_factory):
    srv = server_factory()
    c = srv.client()
    c.put("warm", b"x" * 1000)
    c.close()
    time.sleep(0.3)
    fds0 = procinfo.fd_count(srv.pid)
    rss0 = procinfo.rss_bytes(srv.pid)
    # rapid connect / one call / disconnect cycles
    for i in range(300):
        c = srv.client(timeout=10)
        c.put("churn-%d" % (i % 10), b"v%d" % i)
        assert c.get("churn-%d" % (i % 10)) == b"v%d" % i
        c.close()
    # pool exhaustion: many connections open at once, then all dropped
    pool = [srv.client(timeout=10) for _ in range(100)]
    for i, c in enumerate(pool):
        c.put("pool-%d" % i, b"p")
    for c in pool:
        c.close()
    fds1 = _settle(srv.pid, fds0, 8)
    rss1 = procinfo.rss_bytes(srv.pid)
    assert fds1 <= fds0 + 8, "fd count grew from %d to %d after connection churn" % (fds0, fds1)
    assert rss1 - rss0 < 64 << 20, "RSS grew by %d MiB after connection churn" % ((rss1 - rss0) >> 20)
    c = srv.client()
    assert c.get("pool-99") == b"p"
    c.close()
    assert srv.alive()
