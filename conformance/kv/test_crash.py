"""Crash safety family: kill -9 the server at random moments during
concurrent Puts. After a restart the store opens cleanly and every
acknowledged Put is there: the history (acked, failed and unknown-outcome
Puts, then reads after the restart) must be linearizable. A Put cut off by
the kill has an unknown outcome: it may or may not be present."""

import random
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

from soupconf.profiles import scaled
from soupconf import strategies as sst
from soupconf.client import KVError
from soupconf.history import Recorder, run_clients
from soupconf.linearizability import assert_linearizable


@pytest.mark.heavy
@settings(max_examples=scaled(0.25, 4, 250))
@given(nclients=st.integers(2, 6), kill_after=st.floats(0.0, 0.6),
       keys=st.lists(sst.keys(256), min_size=1, max_size=6, unique=True),
       value_size=st.sampled_from([0, 10, 1000, 70000, 300000]), seed=st.integers(0, 2**16),
       kills=st.integers(1, 3))
def test_acknowledged_puts_survive_kill_9(impl, server_factory, nclients, kill_after, keys, value_size, seed, kills):
    if not impl.durable:
        pytest.skip("%s is in-memory by design" % impl.name)
    srv = server_factory()
    rec = Recorder()
    rnd = random.Random(seed)
    for round_ in range(kills):
        stop = threading.Event()
        clients = [srv.client(timeout=5) for _ in range(nclients)]
        for c in clients:
            c.wait_ready(10)

        def body(cid):
            i = 0
            while not stop.is_set() and i < 2000:
                k = keys[(cid + i) % len(keys)]
                v = b"r%d c%d #%d " % (round_, cid, i) + b"\x5a" * value_size
                if rec.put(clients[cid], cid, k, v) is not True:
                    return  # the server is gone
                i += 1

        killer = threading.Timer(kill_after * rnd.random() + 0.01, lambda: (srv.kill(), stop.set()))
        killer.start()
        run_clients(nclients, body, timeout=60)
        killer.join()
        stop.set()
        for c in clients:
            c.close()
        srv.start()  # must open cleanly after kill -9
        c = srv.client(timeout=10)
        for k in keys:
            rec.get(c, "after-restart-%d" % round_, k)
        c.close()
    failed = [op for op in rec.ops if op.ok is False]
    assert not failed, "operations failed definitely: %s" % [op.describe() for op in failed[:5]]
    assert_linearizable(rec.ops)
