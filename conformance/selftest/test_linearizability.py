"""The linearizability checker's own tests: known histories, both ways, and
properties over histories simulated from a real (linearizable) register and
from broken ones."""

import random

from hypothesis import given, strategies as st, settings

from soupconf.linearizability import INF, Op, check_history, check_register


def W(c, v, a, b, key="k", ok=True):
    return Op(c, "put", key, v, a, b, ok)


def R(c, v, a, b, key="k", ok=True):
    return Op(c, "get", key, v, a, b, ok)


def test_empty_history_is_linearizable():
    assert check_register([]).ok


def test_sequential_write_then_read_is_linearizable():
    assert check_register([W(1, b"a", 0, 1), R(1, b"a", 2, 3)]).ok


def test_stale_read_after_completed_write_is_rejected():
    # The classic non-linearizable history: a write completes, and a read
    # that starts afterwards still sees the old (absent) state.
    r = check_register([W(1, b"a", 0, 1), R(2, None, 2, 3)])
    assert not r.ok
    assert "NOT linearizable" in r.explain()


def test_read_of_never_written_value_is_rejected():
    assert not check_register([W(1, b"a", 0, 1), R(2, b"b", 2, 3)]).ok


def test_reads_going_back_in_time_are_rejected():
    # w(a) then w(b) complete; concurrent with nothing, reads see b then a.
    h = [W(1, b"a", 0, 1), W(1, b"b", 2, 3), R(2, b"b", 4, 5), R(3, b"a", 6, 7)]
    assert not check_register(h).ok


def test_new_old_inversion_during_concurrent_write_is_rejected():
    # Reader 2 sees the new value, then reader 3 (starting after 2 returned)
    # sees the old one, while the write is still in flight.
    h = [W(0, b"old", 0, 1), W(1, b"new", 2, 20), R(2, b"new", 3, 4), R(3, b"old", 5, 6)]
    assert not check_register(h).ok


def test_concurrent_read_may_see_either_value():
    h = [W(0, b"old", 0, 1), W(1, b"new", 2, 20), R(2, b"old", 3, 4), R(3, b"new", 5, 6)]
    assert check_register(h).ok


def test_tofusoup_false_race_is_linearizable():
    # rpc-spec.md §10.1: ('0', b'') four times, then ('0', b'\\x00'),
    # sequentially; reading b'\\x00' is the only correct answer. TofuSoup
    # expected every write to read back and called this a race.
    h = [W(1, b"", 2 * i, 2 * i + 1, key="0") for i in range(4)]
    h.append(W(1, b"\x00", 8, 9, key="0"))
    h.append(R(1, b"\x00", 10, 11, key="0"))
    assert check_history(h).ok
    h[-1] = R(1, b"", 10, 11, key="0")
    assert not check_history(h).ok


def test_unknown_outcome_write_may_or_may_not_apply():
    h1 = [W(1, b"a", 0, 1), W(2, b"b", 2, INF, ok=None), R(3, b"a", 5, 6)]
    h2 = [W(1, b"a", 0, 1), W(2, b"b", 2, INF, ok=None), R(3, b"b", 5, 6)]
    assert check_register(h1).ok and check_register(h2).ok


def test_unknown_outcome_write_cannot_apply_before_its_call():
    h = [W(1, b"a", 0, 1), R(3, b"b", 2, 3), W(2, b"b", 5, INF, ok=None)]
    assert not check_register(h).ok


def test_failed_write_has_no_effect():
    h = [W(1, b"a", 0, 1), W(2, b"b", 2, 3, ok=False), R(3, b"b", 5, 6)]
    assert not check_register(h).ok


def test_keys_are_independent_registers():
    h = [W(1, b"a", 0, 1, key="x"), W(2, b"b", 0, 1, key="y"), R(3, b"a", 2, 3, key="x"),
         R(3, b"b", 2, 3, key="y")]
    assert check_history(h).ok
    h.append(R(4, b"a", 4, 5, key="y"))
    assert not check_history(h).ok


def test_initial_state_is_respected():
    assert check_history([R(1, b"v", 0, 1)], initial={"k": b"v"}).ok
    assert not check_history([R(1, None, 0, 1)], initial={"k": b"v"}).ok


def test_ties_count_as_overlap():
    # read starts exactly when the write returns: either order is allowed
    assert check_register([W(1, b"a", 0, 5), R(2, None, 5, 6)]).ok


# ---- properties over simulated histories -------------------------------

@st.composite
def simulated(draw, broken=False):
    """Simulates n clients on one register: every op gets a real
    linearization point inside its interval, and reads return the register's
    value at that point. With broken=True one read is then corrupted to a
    value that no linearization can explain (a value never written)."""
    rnd = random.Random(draw(st.integers(0, 2**32)))
    nclients = draw(st.integers(1, 5))
    nops = draw(st.integers(1, 24))
    values = [b"v%d" % i for i in range(nops)]
    events = []  # (point, client, kind, value)
    t = 0.0
    clients_free = [0.0] * nclients
    ops = []
    for i in range(nops):
        c = rnd.randrange(nclients)
        call = max(clients_free[c], t) + rnd.random()
        point = call + rnd.random() * 3
        ret = point + rnd.random() * 3
        clients_free[c] = ret
        t = call
        kind = "put" if rnd.random() < 0.5 else "get"
        ops.append([c, kind, values[i] if kind == "put" else None, call, point, ret])
    state = None
    for o in sorted(ops, key=lambda o: o[4]):
        if o[1] == "put":
            state = o[2]
        else:
            o[2] = state
    hist = [Op(o[0], o[1], "k", o[2], o[3], o[5]) for o in ops]
    if broken:
        reads = [h for h in hist if h.kind == "get"]
        if not reads:
            hist.append(Op(0, "get", "k", b"never-written", 10**6, 10**6 + 1))
        else:
            rnd.choice(reads).value = b"never-written"
    return hist


@settings(max_examples=300)
@given(simulated())
def test_simulated_linearizable_histories_are_accepted(hist):
    r = check_register(hist)
    assert r.ok, r.explain()


@settings(max_examples=300)
@given(simulated(broken=True))
def test_histories_with_an_impossible_read_are_rejected(hist):
    assert not check_register(hist).ok


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "\x00"]), st.binary(max_size=3)), max_size=30))
def test_sequential_histories_from_the_model_are_linearizable(puts):
    from soupconf.model import KVModel
    m = KVModel()
    h, t = [], 0
    for k, v in puts:
        h.append(W(0, v, t, t + 1, key=k))
        m.put(k, v)
        t += 2
    for k in ["a", "b", "\x00", "c"]:
        h.append(R(0, m.get(k), t, t + 1, key=k))
        t += 2
    assert check_history(h).ok
