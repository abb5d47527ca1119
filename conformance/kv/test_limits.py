"""Limits family: every size limit at exactly the limit and one past it.

The model of a limit L is "size <= L is served, size > L is refused with
its own code, stores nothing, and the server serves on". Each test draws L
(or uses the fixed one), builds requests of exactly L and L + 1 bytes, and
compares every answer and the store afterwards with that model.

Limits covered (soup-c's flags and defaults; servers without the flag are
skipped with the reason):
  --max-message-size   request messages (the gRPC length prefix, and the
                       whole message) and response messages (a value stored
                       under a larger limit, read back under a smaller one);
                       the 64 MiB default (heavy)
  --max-key-size       keys in UTF-8 bytes, multi-byte characters at the edge;
                       the 64 KiB default
  HTTP/2               SETTINGS_MAX_FRAME_SIZE (16384) for DATA frames, the
                       advertised SETTINGS_MAX_HEADER_LIST_SIZE, and the 8
                       CONTINUATION frames nghttp2 takes per header block
  store                keys around the 400-byte inline / 433-byte hashed
                       LMDB key forms stay independent
"""

import pytest
from hypothesis import given, settings, strategies as st
from hyperframe.frame import DataFrame, SettingsFrame

from soupconf import codec, frames, strategies as sst
from soupconf.client import KVError
from soupconf.model import KVModel
from soupconf.profiles import scaled

PUT, GET = "/proto.KV/Put", "/proto.KV/Get"
DEFAULT_MAX_MESSAGE = 64 << 20
DEFAULT_MAX_KEY = 64 << 10
# The ranges soup-c's flags accept (cmd_kv_server.c).
MIN_MESSAGE_FLAG, MAX_MESSAGE_FLAG = 1024, 2047 << 20
MIN_KEY_FLAG, MAX_KEY_FLAG = 1, 16 << 20


def _needs_flags(impl):
    if not impl.server_flags:
        pytest.skip("%s has no --max-message-size / --max-key-size flags" % impl.name)


def _refused(fn, code):
    with pytest.raises(KVError) as ei:
        fn()
    assert ei.value.code == code, ei.value
    assert ei.value.details, "%s without a message" % code
    return ei.value


def _serves_on(client, tag):
    """A Put and a Get after the refusals (a one-byte key: any key limit)."""
    client.put("s", tag.encode())
    assert client.get("s") == tag.encode()


# ---- the flags' own ranges --------------------------------------------

@pytest.mark.parametrize("flag,value,ok", [
    ("--max-message-size", MIN_MESSAGE_FLAG, True), ("--max-message-size", MIN_MESSAGE_FLAG - 1, False),
    ("--max-message-size", MAX_MESSAGE_FLAG, True), ("--max-message-size", MAX_MESSAGE_FLAG + 1, False),
    ("--max-message-size", "1K", True), ("--max-message-size", "2047M", True),
    ("--max-message-size", "2048M", False),
    ("--max-key-size", MIN_KEY_FLAG, True), ("--max-key-size", MIN_KEY_FLAG - 1, False),
    ("--max-key-size", MAX_KEY_FLAG, True), ("--max-key-size", MAX_KEY_FLAG + 1, False),
    ("--max-key-size", "16M", True), ("--max-key-size", "16385K", False),
])
def test_size_flags_accept_exactly_their_range(impl, server_factory, flag, value, ok):
    """A size flag at the edge of its range starts the server; one past it
    is a one-line error and a non-zero exit before anything is served."""
    if impl.name != "soup-c":
        pytest.skip("the flag ranges are soup-c's")
    from soupconf.servers import ServerStartError
    if ok:
        srv = server_factory(extra=[flag, str(value)])
        c = srv.client()
        _serves_on(c, "flag")
        c.close()
        return
    with pytest.raises(ServerStartError) as ei:
        server_factory(extra=[flag, str(value)])
    text = str(ei.value)
    assert "rc=0" not in text and "rc=None" not in text, text
    assert "invalid %s" % flag in text, text


# ---- --max-message-size: requests ------------------------------------

@settings(max_examples=scaled(0.15, 3, 40))
@given(limit=st.one_of(st.integers(MIN_MESSAGE_FLAG, 4096), st.integers(4097, 1 << 20),
                       st.sampled_from([MIN_MESSAGE_FLAG, 16383, 16384, 16385, 65535, 65536])),
       deltas=st.lists(st.sampled_from([-2, -1, 0, 1, 2]), min_size=1, max_size=5, unique=True))
def test_request_of_exactly_the_message_limit_is_served_and_one_more_byte_refused(
        impl, server_factory, limit, deltas):
    _needs_flags(impl)
    srv = server_factory(extra=["--max-message-size", str(limit)])
    c = srv.client()
    model = KVModel()
    try:
        for d in sorted(set(deltas) | {0, 1}):
            key, value = codec.put_request_of_size(limit + d, b"lim%+d-" % d)
            if limit + d <= limit:
                c.put(key, value)
                model.put(key, value)
            else:
                err = _refused(lambda: c.put(key, value), "RESOURCE_EXHAUSTED")
                assert str(limit) in err.details, "the message should name the limit: %r" % err.details
        for d in sorted(set(deltas) | {0, 1}):
            key, _ = codec.put_request_of_size(limit + d, b"lim%+d-" % d)
            assert c.get(key) == model.get(key), "delta %+d" % d
        _serves_on(c, "msg")
    finally:
        c.close()


def test_length_prefix_of_the_limit_is_read_and_one_more_refused_before_the_body(impl, server_factory):
    """The 5-byte prefix alone decides: a prefix declaring limit + 1 is
    refused as soon as it arrives, without waiting for a body that never
    comes; one declaring exactly the limit is waited for and served."""
    _needs_flags(impl)
    limit = 4096
    srv = server_factory(extra=["--max-message-size", str(limit)])
    with frames.Conn(srv.address, tls=srv.client_tls) as conn:
        sid = conn.new_stream()
        conn.send_headers(sid, conn.request_headers(PUT))
        conn.send_data(sid, b"\x00" + (limit + 1).to_bytes(4, "big"))  # no body, no END_STREAM
        s = conn.wait(sid, 5)
        assert s.grpc_status == 8, "prefix over the limit: %r" % s  # RESOURCE_EXHAUSTED
        key, value = codec.put_request_of_size(limit, b"prefix-exact")
        body = codec.grpc_frame(codec.encode_put_request(key, value))
        sid = conn.new_stream()
        conn.send_headers(sid, conn.request_headers(PUT))
        conn.send_body(sid, body, cuts=[5])  # the prefix first, then the message
        s = conn.wait(sid, 5)
        assert s.grpc_status == 0, s
    c = srv.client()
    assert c.get(key) == value
    c.close()


# ---- --max-message-size: responses -----------------------------------

@settings(max_examples=scaled(0.1, 2, 20))
@given(limit=st.one_of(st.integers(MIN_MESSAGE_FLAG, 4096), st.sampled_from([MIN_MESSAGE_FLAG, 16384, 16385])))
def test_response_of_exactly_the_message_limit_is_sent_and_one_more_byte_refused(
        impl, server_factory, limit):
    """Values are stored under a large limit; the server restarts with a
    smaller one, so a Get's response can be at or just past it."""
    _needs_flags(impl)
    if not impl.durable:
        pytest.skip("%s does not keep data across a restart" % impl.name)
    fits, too_big = codec.values_around_get_response_limit(limit)
    srv = server_factory(extra=["--max-message-size", str(4 * limit + 1024)])
    c = srv.client()
    c.put("resp-fits", fits)
    c.put("resp-too-big", too_big)
    c.close()
    srv.stop()
    srv.extra = ["--max-message-size", str(limit)]
    srv.start()
    c = srv.client()
    try:
        assert c.get("resp-fits") == fits
        _refused(lambda: c.get("resp-too-big"), "RESOURCE_EXHAUSTED")
        assert c.get("resp-fits") == fits  # the refusal changed nothing
    finally:
        c.close()


@pytest.mark.heavy
def test_default_message_limit_is_64_mib_exactly(impl, server_factory):
    from hypothesis import settings as hs
    if hs._current_profile == "quick":
        pytest.skip("quick profile: 128 MiB of Puts run in the default and thorough profiles "
                    "(the flag-set limits above run here)")
    srv = server_factory()
    c = srv.client()
    try:
        key, value = codec.put_request_of_size(DEFAULT_MAX_MESSAGE, b"64mib-exact")
        c.put(key, value)
        key2, value2 = codec.put_request_of_size(DEFAULT_MAX_MESSAGE + 1, b"64mib-plus-one")
        _refused(lambda: c.put(key2, value2), "RESOURCE_EXHAUSTED")
        assert c.get(key2) is None
        assert c.get(key) == value  # a 64 MiB - 16 B response fits the same limit
    finally:
        c.close()


# ---- --max-key-size --------------------------------------------------

@st.composite
def key_of_bytes(draw, n):
    """A key of exactly @p n UTF-8 bytes; multi-byte characters are drawn
    so that one often ends right at the edge."""
    unit = draw(st.sampled_from(["k", "é", "中", "\U0001f600", "\x00", "/"]))
    ub = len(unit.encode())
    s = unit * (n // ub)
    return s + "k" * (n - len(s.encode()))


@settings(max_examples=scaled(0.15, 3, 40))
@given(data=st.data(), limit=st.one_of(st.integers(1, 600), st.integers(601, 70000),
                                       st.sampled_from([250, 255, 256, 400, 401, 433, 65536])))
def test_key_of_exactly_the_key_limit_is_served_and_one_more_byte_refused(impl, server_factory, data, limit):
    _needs_flags(impl)
    srv = server_factory(extra=["--max-key-size", str(limit), "--max-message-size", str(4 * limit + 4096)])
    c = srv.client()
    try:
        at = data.draw(key_of_bytes(limit), label="key at the limit")
        over = data.draw(key_of_bytes(limit + 1), label="key one byte over")
        c.put(at, b"at the limit")
        assert c.get(at) == b"at the limit"
        for op in (lambda: c.put(over, b"over"), lambda: c.get(over)):
            err = _refused(op, "INVALID_ARGUMENT")
            assert str(limit) in err.details, err.details
        if limit >= 2:
            # one byte under, sharing the prefix: an independent key
            c.put(at[:-1] if len(at[:-1].encode()) == limit - 1 else "k" * (limit - 1), b"under")
        assert c.get(at) == b"at the limit"
        _serves_on(c, "key")
    finally:
        c.close()


def test_default_key_limit_is_64_kib_exactly(impl, shared_client):
    if not impl.server_flags:
        pytest.skip("%s has no key limit" % impl.name)
    at, over = "\u00e9" * (DEFAULT_MAX_KEY // 2), "\u00e9" * (DEFAULT_MAX_KEY // 2) + "k"
    shared_client.put(at, b"64 KiB key")
    assert shared_client.get(at) == b"64 KiB key"
    _refused(lambda: shared_client.put(over, b"x"), "INVALID_ARGUMENT")


# ---- store key forms -------------------------------------------------

@settings(max_examples=scaled(0.2, 3, 30))
@given(unit=st.sampled_from(["a", "\x00", "é", "中"]), seed=st.integers(0, 255))
def test_keys_around_the_inline_and_hashed_store_forms_are_independent(shared_client, unit, seed):
    """LMDB keys are at most 511 bytes: soup-c stores keys up to 400 bytes
    inline and longer ones as prefix + 0xFF + SHA-256 (433 bytes). Keys of
    every length around both forms, all sharing one prefix, stay apart."""
    model = KVModel()
    base = ("%03d" % seed) + unit * 600
    for n in (398, 399, 400, 401, 402, 432, 433, 434, 510, 511, 512):
        raw = base.encode()[:n]
        key = raw.decode(errors="ignore")
        key += "k" * (n - len(key.encode()))
        value = b"len %d" % n
        shared_client.put(key, value)
        model.put(key, value)
    for k, v in model.items():
        assert shared_client.get(k) == v, "key of %d bytes" % len(k)


# ---- HTTP/2 -----------------------------------------------------------

def test_data_frame_of_exactly_max_frame_size_is_served_and_one_more_byte_refused(impl, shared_server):
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        limit = conn.max_frame_size
        key, value = codec.put_request_of_size(limit - 5, b"frame-exact")
        sid = conn.new_stream()
        conn.send_headers(sid, conn.request_headers(PUT))
        conn.send_raw(DataFrame(sid, data=codec.grpc_frame(codec.encode_put_request(key, value)),
                                flags=["END_STREAM"]).serialize())
        s = conn.wait(sid)
        assert s.grpc_status == 0, "a DATA frame of exactly %d bytes: %r" % (limit, s)
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        key2, value2 = codec.put_request_of_size(limit - 4, b"frame-over")
        sid = conn.new_stream()
        conn.send_headers(sid, conn.request_headers(PUT))
        conn.send_raw(DataFrame(sid, data=codec.grpc_frame(codec.encode_put_request(key2, value2)),
                                flags=["END_STREAM"]).serialize())
        s = conn.wait(sid, 5)
        assert s.grpc_status != 0 and conn.goaway is not None and conn.goaway.error_code == 6, \
            "a DATA frame of %d bytes: want GOAWAY FRAME_SIZE_ERROR, got %r %r" % (limit + 1, s, conn.goaway)
    c = shared_server.client()
    assert c.get(key) == value
    assert c.get(key2) is None
    c.close()


def _header_list(conn, total):
    """Request headers whose RFC 9113 §6.5.2 size is exactly @p total."""
    base = conn.request_headers(PUT)
    size = sum(len(k) + len(v) + 32 for k, v in base)
    pad = total - size - 32 - len("x-pad")
    hdrs = base + [("x-pad", "p" * pad)]
    assert sum(len(k) + len(v) + 32 for k, v in hdrs) == total
    return hdrs


def _put_with_headers(conn, hdrs, key, value):
    block = conn.header_block(hdrs)
    sid = conn.new_stream()
    limit = conn.max_frame_size
    conn.send_header_block(sid, block, cuts=range(limit, len(block), limit))
    conn.send_body(sid, codec.grpc_frame(codec.encode_put_request(key, value)))
    return conn.wait(sid, 5)


def test_header_list_of_exactly_the_advertised_limit_is_served(shared_server):
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        limit = conn.peer_settings.get(SettingsFrame.MAX_HEADER_LIST_SIZE)
        if limit is None:
            pytest.skip("the server advertises no SETTINGS_MAX_HEADER_LIST_SIZE")
        s = _put_with_headers(conn, _header_list(conn, limit), "hdrlist-exact", b"v")
        assert s.grpc_status == 0, s


def test_header_list_one_byte_over_the_advertised_limit_is_refused(shared_server):
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        limit = conn.peer_settings.get(SettingsFrame.MAX_HEADER_LIST_SIZE)
        if limit is None:
            pytest.skip("the server advertises no SETTINGS_MAX_HEADER_LIST_SIZE")
        s = _put_with_headers(conn, _header_list(conn, limit + 1), "hdrlist-over", b"v")
        refused = s.reset is not None or conn.closed or (s.header(":status") or "200") != "200" \
            or (s.grpc_status not in (None, 0))
        assert refused, "a header list of %d bytes (limit %d) was served: %r" % (limit + 1, limit, s)
    c = shared_server.client()
    assert c.get("hdrlist-over") is None
    c.close()


def test_eight_continuation_frames_are_served_and_a_ninth_ends_the_connection(shared_server):
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        s = conn.unary(PUT, codec.encode_put_request("cont-8", b"8"), header_cuts=range(1, 9))
        assert s.grpc_status == 0, s
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        s = conn.unary(PUT, codec.encode_put_request("cont-9", b"9"), header_cuts=range(1, 10), timeout=5)
        assert s.grpc_status is None and (conn.closed or conn.goaway is not None), s
    c = shared_server.client()
    assert c.get("cont-8") == b"8"
    assert c.get("cont-9") is None
    c.close()
