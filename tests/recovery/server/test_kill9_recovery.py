"""Crash recovery: kill -9 soup-c during a stream of concurrent durable
Puts; after a restart the store opens cleanly and holds every acknowledged
Put. The oracle: a key holds its last acknowledged value, or the value of
the one Put to it that was in flight when the server died (that Put may or
may not have committed before the kill; either is correct). A key whose
only Put was in flight at the kill may also be absent: an earlier version
of this test forgot that and reported NOT_FOUND for such a key (wN-k49,
never acknowledged) as a lost write when the machine was slow."""

import os
import random
import subprocess
import sys
import threading
import time

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "pylib"))
import soupc_testlib as lib  # noqa: E402

ROUNDS = int(os.environ.get("RECOVERY_ROUNDS", "4"))
WRITERS = 8


def writer(server, wid, acked, in_flight, stop):
    """Each key has one writer, so its Puts are sequential."""
    kv = lib.KVClient(server.channel())
    n = 0
    while not stop.is_set():
        key = f"w{wid}-k{n % 50}"
        value = f"{wid}:{n}:".encode() + os.urandom(random.choice((0, 10, 3000)))
        in_flight[key] = value
        try:
            kv.put(key, value, timeout=10)
        except grpc.RpcError:
            return  # the server died; this Put may or may not have committed
        del in_flight[key]
        acked[key] = value  # acknowledged: it must survive
        n += 1


ABSENT = None  # an allowed "value": the key was never stored


def get_or_absent(kv, key):
    try:
        return kv.get(key)
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.NOT_FOUND:
            return ABSENT
        raise


def check(kv, allowed, when):
    for key, values in allowed.items():
        got = get_or_absent(kv, key)
        assert got in values, (
            f"{when}: {key!r} holds none of its allowed values"
            + (" (NOT_FOUND: an acknowledged Put was lost)" if got is ABSENT else ""))


def merge_round(allowed, acked, maybe):
    """What each key may hold after a kill: its acknowledged value (which
    replaces everything before it), plus the value of a Put in flight at the
    kill. A key with no acknowledged value yet may still be absent."""
    for key, value in acked.items():
        allowed[key] = {value}
    for key, value in maybe.items():
        allowed.setdefault(key, {ABSENT}).add(value)


def test_merge_round_keeps_absent_only_for_never_acknowledged_keys():
    allowed = {}
    merge_round(allowed, {"a": b"1"}, {"b": b"2"})
    assert allowed == {"a": {b"1"}, "b": {ABSENT, b"2"}}
    merge_round(allowed, {"b": b"3"}, {"a": b"4"})
    assert allowed == {"a": {b"1", b"4"}, "b": {b"3"}}


def test_every_acknowledged_put_survives_kill_9(tmp_path):
    store = str(tmp_path / "store")
    allowed = {}  # key -> the values it may hold now
    rng = random.Random(int(os.environ.get("RECOVERY_SEED", "1")))
    total = 0
    for rnd in range(ROUNDS):
        srv = lib.Server(store)
        # Everything acknowledged in earlier rounds is still there.
        kv = lib.KVClient(srv.channel())
        try:
            check(kv, allowed, f"round {rnd}")
        except BaseException:
            srv.kill9()  # leave no server behind on a failure
            raise
        stop = threading.Event()
        per_writer = [dict() for _ in range(WRITERS)]
        pending = [dict() for _ in range(WRITERS)]
        threads = [threading.Thread(target=writer,
                                    args=(srv, i, per_writer[i], pending[i], stop))
                   for i in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        srv.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        for acked, maybe in zip(per_writer, pending):
            total += len(acked)
            merge_round(allowed, acked, maybe)
    assert total > 0, "no Put was acknowledged before the kills"
    # mdb_stat (lmdb-utils) opens the environment independently.
    r = subprocess.run(["mdb_stat", store], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    srv = lib.Server(store)
    try:
        kv = lib.KVClient(srv.channel())
        check(kv, allowed, "after the last kill")
    finally:
        assert srv.stop() == 0
    print(f"{ROUNDS} kills, {total} keys acknowledged, {len(allowed)} keys verified")
