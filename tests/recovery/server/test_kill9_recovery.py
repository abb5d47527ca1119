"""Crash recovery: kill -9 soup-c during a stream of concurrent durable
Puts; after a restart the store opens cleanly and holds every acknowledged
Put (with its last acknowledged value)."""

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


def writer(server, wid, acked, stop):
    kv = lib.KVClient(server.channel())
    n = 0
    while not stop.is_set():
        key = f"w{wid}-k{n % 50}"
        value = f"{wid}:{n}:".encode() + os.urandom(random.choice((0, 10, 3000)))
        try:
            kv.put(key, value, timeout=10)
        except grpc.RpcError:
            return  # the server died; this Put was not acknowledged
        acked[key] = value  # acknowledged: it must survive
        n += 1


def test_every_acknowledged_put_survives_kill_9(tmp_path):
    store = str(tmp_path / "store")
    acked = {}
    rng = random.Random(int(os.environ.get("RECOVERY_SEED", "1")))
    total = 0
    for rnd in range(ROUNDS):
        srv = lib.Server(store)
        # Everything acknowledged in earlier rounds is still there.
        kv = lib.KVClient(srv.channel())
        for key, value in acked.items():
            assert kv.get(key) == value, f"round {rnd}: lost {key!r}"
        stop = threading.Event()
        per_writer = [dict() for _ in range(WRITERS)]
        threads = [threading.Thread(target=writer, args=(srv, i, per_writer[i], stop))
                   for i in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        srv.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        for d in per_writer:
            total += len(d)
            acked.update(d)
    assert total > 0, "no Put was acknowledged before the kills"
    # mdb_stat (lmdb-utils) opens the environment independently.
    r = subprocess.run(["mdb_stat", store], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    srv = lib.Server(store)
    try:
        kv = lib.KVClient(srv.channel())
        for key, value in acked.items():
            assert kv.get(key) == value, f"lost {key!r} after the last kill"
    finally:
        assert srv.stop() == 0
    print(f"{ROUNDS} kills, {total} acknowledged Puts, {len(acked)} keys verified")
