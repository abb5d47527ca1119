"""Framing family: where HTTP/2 frames cut a request must not matter.

A gRPC message may arrive cut at any byte across DATA frames (inside the
5-byte length prefix too, with empty DATA frames between pieces), and a
header block may arrive cut across HEADERS and CONTINUATION frames. The
oracle: a request cut anywhere is the same request as the uncut one, so a
Put stores exactly what the model says and a Get answers the model's value.
grpcio never cuts inside the prefix, which is why a deframer that assumes
the prefix comes whole passed every other family (mutant PREFIX_SPLIT).
"""

import pytest
from hypothesis import given, settings, strategies as st

from soupconf import codec, frames, strategies as sst
from soupconf.model import KVModel
from soupconf.profiles import scaled

PUT, GET = "/proto.KV/Put", "/proto.KV/Get"
# nghttp2 1.52 as patched by Debian (CVE-2024-28182) ends a connection whose
# header block needs more than 8 CONTINUATION frames.
MAX_CONTINUATIONS = 8


@pytest.fixture
def conn(shared_server):
    c = frames.Conn(shared_server.address, tls=shared_server.client_tls)
    yield c
    c.close()


def _ok(s: frames.Stream) -> None:
    assert s.reset is None, "stream reset (code %s) instead of an answer: %r" % (s.reset, s)
    assert s.grpc_status == 0, "grpc-status %r (%s)" % (s.grpc_status, s.grpc_message)


def _get(conn, key, **cut) -> bytes:
    s = conn.unary(GET, codec.encode_get_request(key), **cut)
    _ok(s)
    (msg,) = s.messages
    return codec.decode_get_response(msg)


def test_a_put_cut_at_every_offset_is_the_same_put(conn, shared_client):
    """Every single cut of the 5-byte prefix + message, one DATA frame on
    each side; then every byte in a frame of its own."""
    model = KVModel()
    body_len = len(codec.grpc_frame(codec.encode_put_request("cut-000", b"v" * 40)))
    for cut in range(1, body_len):
        key, value = "cut-%03d" % cut, b"%03d" % cut + b"v" * 37
        _ok(conn.unary(PUT, codec.encode_put_request(key, value), body_cuts=[cut]))
        model.put(key, value)
    key, value = "cut-bytewise", b"one byte per DATA frame"
    n = len(codec.grpc_frame(codec.encode_put_request(key, value)))
    _ok(conn.unary(PUT, codec.encode_put_request(key, value), body_cuts=range(1, n)))
    model.put(key, value)
    for key, value in model.items():
        assert shared_client.get(key) == value, key


def test_two_cuts_inside_the_prefix_and_empty_frames(conn, shared_client):
    model = KVModel()
    for a in range(1, 6):
        for b in range(a + 1, 7):
            key, value = "prefix-%d-%d" % (a, b), b"x" * (a * 7 + b)
            # An empty DATA frame before every piece, too.
            _ok(conn.unary(PUT, codec.encode_put_request(key, value), body_cuts=[a, b],
                           empty_frames=[0, 1, 2]))
            model.put(key, value)
    for key, value in model.items():
        assert shared_client.get(key) == value
        assert _get(conn, key, body_cuts=[2, 4]) == value


def test_a_header_block_cut_at_every_offset_across_continuation(conn, shared_client):
    headers = conn.request_headers(PUT)
    block_len = len(conn.header_block(headers))
    model = KVModel()
    for cut in range(1, block_len):
        key, value = "hdr-%03d" % cut, b"h%d" % cut
        _ok(conn.unary(PUT, codec.encode_put_request(key, value), header_cuts=[cut]))
        model.put(key, value)
    # As many CONTINUATIONs as nghttp2 takes (test_limits.py checks the 9th
    # is refused), cut one byte apart at the start, inside the :path.
    for start in range(1, block_len - MAX_CONTINUATIONS):
        key = "hdr-8-%03d" % start
        _ok(conn.unary(PUT, codec.encode_put_request(key, b"8"),
                       header_cuts=range(start, start + MAX_CONTINUATIONS)))
        model.put(key, b"8")
    for key, value in model.items():
        assert shared_client.get(key) == value


@st.composite
def cut_points(draw, n):
    """Cuts of an n-byte body, weighted to the prefix and its edges."""
    near = st.sampled_from(sorted({1, 2, 3, 4, 5, 6, n - 1, n // 2}))
    return draw(st.lists(st.one_of(near, st.integers(1, max(1, n - 1))), max_size=12))


_EXAMPLE = [0]


@settings(max_examples=scaled(0.5, 8))
@given(data=st.data(), ops=st.lists(st.tuples(st.booleans(), sst.keys(512), sst.values(20000)),
                                    min_size=1, max_size=6))
def test_requests_cut_anywhere_match_the_model(shared_server, data, ops):
    """Puts and Gets, each cut at drawn offsets in body and header block,
    with drawn empty frames; every answer matches the model (keys are fresh
    per example, so a key never put must be NOT_FOUND)."""
    _EXAMPLE[0] += 1
    ns = "cutprop-%d-" % _EXAMPLE[0]
    model = KVModel()
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        for is_put, key, value in ops:
            key = ns + key
            msg = codec.encode_put_request(key, value) if is_put else codec.encode_get_request(key)
            body = codec.grpc_frame(msg)
            cuts = data.draw(cut_points(len(body)), label="body cuts")
            empties = data.draw(st.lists(st.integers(0, len(cuts)), max_size=3), label="empty frames")
            hblock = len(conn.header_block(conn.request_headers(PUT if is_put else GET)))
            hcuts = data.draw(st.lists(st.integers(1, hblock - 1), max_size=4), label="header cuts")
            s = conn.unary(PUT if is_put else GET, msg, body_cuts=cuts, header_cuts=hcuts,
                           empty_frames=empties)
            if is_put:
                _ok(s)
                model.put(key, value)
            elif model.get(key) is None:
                assert (s.reset, s.grpc_status) == (None, 5), "expected NOT_FOUND: %r" % s
            else:
                _ok(s)
                (msg,) = s.messages
                assert codec.decode_get_response(msg) == model.get(key)
