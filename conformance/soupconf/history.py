"""Concurrent clients that record a history for the linearizability checker.

Each client is a thread with its own channel (own connection). Times are
time.monotonic() readings taken just before a call is sent and just after
its answer arrives, so each recorded interval contains the real one.
"""

import threading
import time
from typing import Callable, List, Optional

from .client import KVError, UNCERTAIN_CODES
from .linearizability import INF, Op


class Recorder:
    def __init__(self) -> None:
        self.ops: List[Op] = []
        self.lock = threading.Lock()
        self.errors: List[str] = []

    def _add(self, op: Op) -> None:
        with self.lock:
            self.ops.append(op)

    def put(self, client, cid, key, value: bytes) -> Optional[bool]:
        t0 = time.monotonic()
        try:
            client.put(key, value)
            ok = True
        except KVError as e:
            ok = None if e.code in UNCERTAIN_CODES else False
            if ok is False:
                self.errors.append("put %r: %s" % (key, e))
        t1 = time.monotonic()
        self._add(Op(cid, "put", key, value, t0, t1 if ok is not None else INF, ok))
        return ok

    def get(self, client, cid, key):
        t0 = time.monotonic()
        try:
            v = client.get(key)
            ok = True
        except KVError as e:
            v = None
            ok = None if e.code in UNCERTAIN_CODES else False
            self.errors.append("get %r: %s" % (key, e))
        t1 = time.monotonic()
        self._add(Op(cid, "get", key, v, t0, t1, ok))
        return v


def run_clients(n: int, body: Callable[[int], None], timeout: float = 120.0) -> None:
    """Runs body(cid) in n threads started together; re-raises the first
    exception; fails if a thread is still running after timeout."""
    barrier = threading.Barrier(n)
    excs = []

    def wrap(cid):
        try:
            barrier.wait(30)
            body(cid)
        except BaseException as e:  # noqa: BLE001
            excs.append(e)

    ts = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in ts):
        raise TimeoutError("clients still running after %.0fs" % timeout)
    if excs:
        raise excs[0]
