"""Resources family: values of 1-10 MiB, 100-1000 keys, repeated overwrites
with RSS bounded, over-limit messages get RESOURCE_EXHAUSTED while the server
goes on serving, and at least 500 simultaneous connections."""

import time

import pytest
from hypothesis import given, settings, strategies as st

from soupconf.profiles import scaled
from soupconf import procinfo, rawh2, codec, strategies as sst
from soupconf.client import KVError
from soupconf.model import KVModel


@pytest.mark.heavy
@settings(max_examples=scaled(0.15, 3, 60))
@given(key=sst.keys(1024), value=sst.big_values(1 << 20, 10 << 20))
def test_values_of_1_to_10_mib_round_trip(shared_client, key, value):
    shared_client.put(key, value)
    assert shared_client.get(key) == value


@pytest.mark.heavy
@settings(max_examples=scaled(0.1, 2, 30))
@given(n=st.integers(100, 1000), keys=st.lists(sst.keys(256), min_size=1, max_size=30),
       seed=st.integers(0, 2**16))
def test_many_keys_all_read_back(server_factory, n, keys, seed):
    # a fresh server: the model then also covers absence
    srv = server_factory()
    c = srv.client()
    model = KVModel()
    try:
        for i in range(n):
            k = "%s#%d" % (keys[i % len(keys)], i % (n // 2 + 1))  # some keys repeat
            v = b"%d:%d" % (seed, i)
            c.put(k, v)
            model.put(k, v)
        for k, v in model.items():
            assert c.get(k) == v
        assert c.get("never-written-%d" % seed) is None
    finally:
        c.close()


def test_repeated_overwrites_keep_rss_bounded(server_factory):
    srv = server_factory()
    c = srv.client()
    big = b"\xab" * (1 << 20)
    # Warm up the allocator and the page cache. Under ASan the warm-up must
    # also fill its quarantine of freed blocks (256 MiB by default): a Put
    # frees about 2 MiB, so 20 Puts left RSS still climbing toward it.
    for i in range(160):
        c.put("ow", big[:-8] + b"%08d" % i)
    time.sleep(0.2)
    rss0 = procinfo.rss_bytes(srv.pid)
    for i in range(200):
        c.put("ow", big[:-8] + b"%08d" % i)
    assert c.get("ow") == big[:-8] + b"%08d" % 199  # last write wins
    rss1 = procinfo.rss_bytes(srv.pid)
    c.close()
    # 200 MiB were written to one key; a leak of the old values would show
    # as growth of the same order.
    assert rss1 - rss0 < 96 << 20, "RSS grew %d MiB over 200 overwrites of a 1 MiB value" % ((rss1 - rss0) >> 20)


def test_over_limit_message_is_resource_exhausted_and_server_serves_on(server_factory):
    limit = 1 << 20
    srv = server_factory(extra=["--max-message-size", str(limit)])
    c = srv.client()
    with pytest.raises(KVError) as ei:
        c.put("big", b"x" * (limit + 1024))
    assert ei.value.code == "RESOURCE_EXHAUSTED", ei.value
    assert ei.value.details, "RESOURCE_EXHAUSTED without a message"
    c.put("small", b"ok")
    assert c.get("small") == b"ok"
    assert c.get("big") is None  # the refused Put stored nothing
    c.close()
    assert srv.alive()


@pytest.mark.heavy
def test_default_limit_refuses_a_message_over_64_mib(server_factory):
    srv = server_factory()
    c = srv.client(timeout=120)
    with pytest.raises(KVError) as ei:
        c.put("huge", b"\x00" * ((64 << 20) + 1))
    assert ei.value.code == "RESOURCE_EXHAUSTED", ei.value
    c.put("after", b"1")
    assert c.get("after") == b"1"
    c.close()


def test_500_simultaneous_connections(server_factory):
    srv = server_factory()
    n = 500
    conns = []
    try:
        for i in range(n):
            conns.append(rawh2.H2(srv.address, tls=None, timeout=20))
        sids = [h.grpc_call("/proto.KV/Put", codec.encode_put_request("conn-%d" % i, b"%d" % i))
                for i, h in enumerate(conns)]
        ok = 0
        for h, sid in zip(conns, sids):
            r = h.wait(sid, timeout=30)
            if r.grpc_status == 0:
                ok += 1
        assert ok == n, "%d of %d simultaneous connections got OK" % (ok, n)
        # all still open: read back on each connection
        sids = [h.grpc_call("/proto.KV/Get", codec.encode_get_request("conn-%d" % i)) for i, h in enumerate(conns)]
        for i, (h, sid) in enumerate(zip(conns, sids)):
            r = h.wait(sid, timeout=30)
            assert r.grpc_status == 0, r
            assert codec.decode_get_response(r.data[5:]) == b"%d" % i
        assert procinfo.fd_count(srv.pid) >= n, "server holds fewer fds than open connections"
    finally:
        for h in conns:
            h.close()
    c = srv.client()
    assert c.get("conn-499") == b"499"
    c.close()
