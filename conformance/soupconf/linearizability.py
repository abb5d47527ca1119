"""A linearizability checker for key-value histories: one register per key.

The algorithm is Wing & Gong's search as refined by Lowe and used by Knossos
and Porcupine (the "WGL" checker): walk the history's call/return events in
time order, try to linearize any pending call whose effect is legal in the
current register state, backtrack when a return is reached whose call was not
yet linearized, and memoize (set of linearized ops, state) pairs so that the
search is not exponential in practice. Registers for different keys are
independent (linearizability is compositional), so each key is checked alone.

Conventions, chosen so that the checker never reports a false defect:
* Times are a client's own monotonic clock readings taken *before* it sends
  a call and *after* it sees the answer, so each interval contains the real
  one. Ties count as overlapping (calls sort before returns).
* A read that returned NOT_FOUND observed ABSENT (None).
* An operation whose outcome is unknown (timeout, connection lost, server
  killed) has ok=None: a write may have taken effect at any time after its
  call, or never; a read with an unknown outcome observed nothing and is
  dropped. An operation that failed definitely (ok=False, e.g.
  INVALID_ARGUMENT) had no effect and is dropped.
"""

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple

ABSENT = None
INF = math.inf


@dataclass
class Op:
    """One client operation. kind is "put" or "get"; for a put, value is the
    value written; for a get, value is what was read (None = NOT_FOUND)."""

    client: Hashable
    kind: str
    key: Any
    value: Optional[bytes]
    call: float
    ret: float = INF
    ok: Optional[bool] = True  # True: completed; False: failed, no effect; None: unknown

    def describe(self) -> str:
        k = self.key
        if isinstance(k, (str, bytes)) and len(k) > 40:
            k = k[:40]  # shown cut; the full key is in the falsifying example
        v = self.value
        vs = "NOT_FOUND" if v is None else _short(v)
        status = {True: "", False: " (failed)", None: " (unknown outcome)"}[self.ok]
        ret = "…" if self.ret == INF else "%.6f" % self.ret
        if self.kind == "put":
            return "client %s: put(%r, %s) [%.6f, %s]%s" % (self.client, k, vs, self.call, ret, status)
        return "client %s: get(%r) -> %s [%.6f, %s]%s" % (self.client, k, vs, self.call, ret, status)


def _short(b: bytes, n: int = 24) -> str:
    if len(b) <= n:
        return repr(b)
    return "%r…(%d bytes)" % (b[:n], len(b))


@dataclass
class Result:
    ok: bool
    key: Any = None
    ops: List[Op] = field(default_factory=list)
    # The longest prefix-closed set of ops that could be linearized, in order,
    # and the ops that could not be placed after it.
    best_linearization: List[Op] = field(default_factory=list)
    stuck: List[Op] = field(default_factory=list)

    def explain(self) -> str:
        if self.ok:
            return "linearizable"
        lines = ["history for key %r is NOT linearizable" % ((self.key[:40] if isinstance(self.key, (str, bytes)) else self.key),), "history:"]
        for op in sorted(self.ops, key=lambda o: (o.call, o.ret)):
            lines.append("  " + op.describe())
        lines.append("longest legal linearization found:")
        for op in self.best_linearization:
            lines.append("  " + op.describe())
        lines.append("none of these could come next:")
        for op in self.stuck:
            lines.append("  " + op.describe())
        return "\n".join(lines)


class _Entry:
    __slots__ = ("op_id", "is_call", "time", "match", "prev", "next")

    def __init__(self, op_id: int, is_call: bool, time: float) -> None:
        self.op_id = op_id
        self.is_call = is_call
        self.time = time
        self.match: Optional["_Entry"] = None
        self.prev: Optional["_Entry"] = None
        self.next: Optional["_Entry"] = None


def _step(state: Optional[bytes], op: Op) -> Tuple[bool, Optional[bytes]]:
    if op.kind == "put":
        return True, op.value
    if op.kind == "get":
        return op.value == state, state
    raise ValueError("unknown op kind %r" % op.kind)


def check_register(ops: Sequence[Op], initial: Optional[bytes] = ABSENT, key: Any = None) -> Result:
    """Checks one register's history. Returns Result(ok=...)."""
    kept: List[Op] = []
    for op in ops:
        if op.ok is False:
            continue  # failed definitely: no effect
        if op.ok is None:
            if op.kind == "get":
                continue  # observed nothing
            op = Op(op.client, op.kind, op.key, op.value, op.call, INF, None)
        if op.ret < op.call:
            raise ValueError("operation returns before its call: %s" % op.describe())
        kept.append(op)
    if not kept:
        return Result(True, key, list(ops))

    events: List[_Entry] = []
    for i, op in enumerate(kept):
        c = _Entry(i, True, op.call)
        r = _Entry(i, False, op.ret)
        c.match = r
        events.append(c)
        events.append(r)
    # calls before returns on equal times: ties overlap
    events.sort(key=lambda e: (e.time, 0 if e.is_call else 1, e.op_id))
    head = _Entry(-1, False, -INF)
    prev = head
    for e in events:
        prev.next = e
        e.prev = prev
        prev = e

    def lift(e: _Entry) -> None:
        e.prev.next = e.next
        if e.next is not None:
            e.next.prev = e.prev
        m = e.match
        m.prev.next = m.next
        if m.next is not None:
            m.next.prev = m.prev

    def unlift(e: _Entry) -> None:
        m = e.match
        m.prev.next = m
        if m.next is not None:
            m.next.prev = m
        e.prev.next = e
        if e.next is not None:
            e.next.prev = e

    state = initial
    linearized = 0
    cache = set()
    stack: List[Tuple[_Entry, Optional[bytes]]] = []
    best: List[int] = []
    best_stuck: List[int] = []
    entry = head.next
    while head.next is not None:
        if entry.is_call:
            ok, new_state = _step(state, kept[entry.op_id])
            if ok:
                new_lin = linearized | (1 << entry.op_id)
                ck = (new_lin, new_state)
                if ck not in cache:
                    cache.add(ck)
                    stack.append((entry, state))
                    state = new_state
                    linearized = new_lin
                    lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
        else:
            # A return whose call is not linearized: record how far we got, backtrack.
            if len(stack) > len(best):
                best = [e.op_id for e, _ in stack]
                best_stuck = []
                x = head.next
                while x is not None and x is not entry.next:
                    if x.is_call:
                        best_stuck.append(x.op_id)
                    x = x.next
            if not stack:
                return Result(False, key, list(kept), [kept[i] for i in best], [kept[i] for i in best_stuck])
            top, state = stack.pop()
            linearized &= ~(1 << top.op_id)
            unlift(top)
            entry = top.next
    return Result(True, key, list(kept))


def check_history(ops: Sequence[Op], initial: Optional[Dict[Any, bytes]] = None) -> Result:
    """Checks a KV history: partitions by key and checks each register.
    initial maps keys to the value they held before the history began
    (absent keys start ABSENT). Returns the first failing key's Result."""
    by_key: Dict[Any, List[Op]] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    initial = initial or {}
    for k, kops in by_key.items():
        r = check_register(kops, initial.get(k, ABSENT), key=k)
        if not r.ok:
            return r
    return Result(True)


def assert_linearizable(ops: Sequence[Op], initial: Optional[Dict[Any, bytes]] = None) -> None:
    r = check_history(ops, initial)
    if not r.ok:
        raise AssertionError(r.explain())
