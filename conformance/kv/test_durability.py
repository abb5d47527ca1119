"""Durability: a Put is acknowledged only after its data reached the disk.
kill -9 cannot show a missing fsync (the page cache survives the process),
so the server runs under strace and every acknowledged Put's interval must
contain a completed fsync/fdatasync/msync/sync_file_range."""

import os
import re
import shutil
import time

import pytest
from hypothesis import given, settings, strategies as st

from soupconf.profiles import scaled
from soupconf import servers, strategies as sst
from soupconf.history import run_clients

SYNC_CALLS = "fsync,fdatasync,msync,sync_file_range,syncfs"
_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
_DUR = re.compile(r"<(\d+\.\d+)>\s*$")


def parse_syncs(path):
    """[(start, end)] of completed sync syscalls that returned 0."""
    out, pending = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = _LINE.match(line.strip())
            if not m:
                continue
            pid, ts, rest = m.group(1), float(m.group(2)), m.group(3)
            if rest.endswith("<unfinished ...>"):
                pending[pid] = ts
                continue
            d = _DUR.search(rest)
            if not d or "= 0" not in rest:
                continue
            start = pending.pop(pid, ts) if "resumed>" in rest else ts
            out.append((start, start + float(d.group(1))))
    return out


@pytest.mark.heavy
@settings(max_examples=scaled(0.05, 2, 40))
@given(puts=st.lists(st.tuples(sst.keys(128), sst.values(100000)), min_size=3, max_size=20),
       concurrent=st.integers(1, 4))
def test_every_acknowledged_put_follows_an_fsync(impl, server_factory, tmp_path_factory, puts, concurrent):
    if not impl.durable:
        pytest.skip("%s is in-memory by design" % impl.name)
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    trace = str(tmp_path_factory.mktemp("strace") / "trace")
    srv = server_factory(wrapper=["strace", "-f", "-ttt", "-T", "-qq", "-e", "trace=" + SYNC_CALLS, "-o", trace],
                         start=False)
    srv.start(timeout=120)
    acked = []
    clients = [srv.client(timeout=60) for _ in range(concurrent)]
    for c in clients:
        c.wait_ready(30)

    def body(cid):
        for i in range(cid, len(puts), concurrent):
            k, v = puts[i]
            t0 = time.time()
            clients[cid].put(k, v)
            acked.append((t0, time.time(), k))

    run_clients(concurrent, body, timeout=300)
    for c in clients:
        c.close()
    srv.stop()
    syncs = parse_syncs(trace)
    missing = [(t0, t1, k) for t0, t1, k in acked if not any(t0 <= s and e <= t1 for s, e in syncs)]
    assert not missing, "%d of %d acknowledged Puts had no completed sync call inside their interval " \
        "(first: key %r, %.6f..%.6f); %d sync calls traced" % (len(missing), len(acked), missing[0][2][:40],
                                                               missing[0][0], missing[0][1], len(syncs))
