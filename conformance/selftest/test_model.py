"""The KV model: last write wins per key; keys compare by their bytes."""

from hypothesis import given, strategies as st

from soupconf.model import KVModel
from soupconf import strategies as sst


def test_duplicate_key_last_write_wins():
    m = KVModel.after([("0", b"")] * 4 + [("0", b"\x00")])
    assert m.get("0") == b"\x00" and len(m) == 1


def test_nul_is_an_ordinary_key_character():
    m = KVModel.after([("a", b"1"), ("a\x00b", b"2")])
    assert m.get("a") == b"1" and m.get("a\x00b") == b"2"


def test_never_written_key_is_absent():
    assert KVModel().get("x") is None


@given(st.lists(st.tuples(sst.keys(), sst.values(max_size=1024)), max_size=20))
def test_model_matches_a_reference_fold(puts):
    m = KVModel.after(puts)
    expect = {}
    for k, v in puts:
        expect[k] = v
    for k, v in expect.items():
        assert m.get(k) == v


@given(sst.keys(300))
def test_keys_strategy_respects_the_byte_limit(k):
    b = k.encode("utf-8")
    assert 1 <= len(b) <= 300


@given(sst.prefix_key_pairs(300))
def test_prefix_pairs_are_distinct_and_nested(pair):
    a, b = pair
    assert a != b
    short, long_ = sorted(pair, key=len)
    assert long_.startswith(short)
    assert len(long_.encode()) <= 300
