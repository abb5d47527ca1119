"""Deadlines family: grpc-timeout in every unit means what the gRPC spec
says, measured by when DEADLINE_EXCEEDED arrives.

The server is made slow on purpose: the client sends a Put's HEADERS (with
grpc-timeout) and only part of its message, then holds the request. The
model: a held request ends with DEADLINE_EXCEEDED no earlier than its
deadline and within a tolerance after it, stores nothing, and leaves the
connection and the server serving; a request completed in time is served.

Units (gRPC over HTTP/2: TimeoutValue is at most 8 digits): H hours, M
minutes, S seconds, m milliseconds, u microseconds, n nanoseconds. Hours
and minutes cannot be waited out in a quick run: the quick profile checks
that 1M and 1H have not fired after 3 s and are then served; the default
and thorough profiles wait for 1M (60 s) and check that 1H is still open
at that point, which tells H from M.
"""

import time

import pytest
from hypothesis import given, settings, strategies as st

from soupconf import codec, frames
from soupconf.profiles import scaled

PUT, GET = "/proto.KV/Put", "/proto.KV/Get"
UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
DEADLINE_EXCEEDED, NOT_FOUND = 4, 5
EARLY_SLACK = 0.003  # clock granularity; soup-c rounds u and n up to whole ms


def tolerance(seconds: float) -> float:
    """How late DEADLINE_EXCEEDED may be: a loaded 2-core machine."""
    return 0.35 + 0.1 * seconds


class Held:
    """A Put whose message is only partly sent."""

    def __init__(self, conn, key, timeout_text, value=b"held value " * 8):
        self.conn, self.key, self.timeout_text = conn, key, timeout_text
        self.body = codec.grpc_frame(codec.encode_put_request(key, value))
        self.sid = conn.new_stream()
        conn.send_headers(self.sid, conn.request_headers(PUT, [("grpc-timeout", timeout_text)]))
        self.sent_at = time.monotonic()
        conn.send_body(self.sid, self.body[:len(self.body) // 2], end_stream=False)

    @property
    def stream(self):
        return self.conn.streams[self.sid]

    def finish(self):
        self.conn.send_body(self.sid, self.body[len(self.body) // 2:])
        return self.conn.wait(self.sid)

    def elapsed(self):
        s = self.stream
        return None if s.ended_at is None else s.ended_at - self.sent_at


def _wait_all(conn, helds, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(h.stream.ended or h.stream.reset is not None
                                                 for h in helds):
        conn.pump(min(0.05, max(0.0, deadline - time.monotonic())))


def _check_expired(h, nominal):
    s = h.stream
    # RST_STREAM(NO_ERROR) after the trailers is how a server ends a stream
    # whose request is still open (RFC 9113 §8.1).
    assert s.ended and s.reset in (None, 0), \
        "%s: stream reset (%s) instead of DEADLINE_EXCEEDED" % (h.timeout_text, s.reset)
    assert s.grpc_status == DEADLINE_EXCEEDED, "%s: want DEADLINE_EXCEEDED, got %r" % (h.timeout_text, s)
    took = h.elapsed()
    assert took >= nominal - EARLY_SLACK, "grpc-timeout %s (%.3f s) fired after %.3f s: too early" % (
        h.timeout_text, nominal, took)
    assert took <= nominal + tolerance(nominal), "grpc-timeout %s (%.3f s) fired after %.3f s: too late" % (
        h.timeout_text, nominal, took)


def _absent(conn, key):
    s = conn.unary(GET, codec.encode_get_request(key))
    assert (s.reset, s.grpc_status) == (None, NOT_FOUND), "%r was stored: %r" % (key, s)


def _timeout_value(unit, lo_s, hi_s):
    """Values of @p unit between lo_s and hi_s seconds, at most 8 digits."""
    lo = max(1, int(lo_s / UNIT_SECONDS[unit]))
    hi = min(99999999, int(hi_s / UNIT_SECONDS[unit]))
    return st.integers(lo, hi)


_N = [0]


@settings(max_examples=scaled(0.1, 3, 40))
@given(n=_timeout_value("n", 0.02, 0.1), u=_timeout_value("u", 0.02, 1.5),
       m=_timeout_value("m", 0.02, 1.5), s=st.integers(1, 2),
       zero=st.sampled_from(["0n", "0u", "0m", "0S", "0M", "0H", "00000000m"]),
       pad=st.booleans())
def test_each_unit_fires_deadline_exceeded_on_time(shared_server, n, u, m, s, zero, pad):
    """n, u, m and S held at once on one connection, plus a zero timeout in
    a drawn unit and a Put completed well within "5S"."""
    _N[0] += 1
    texts = {"n": "%dn" % n, "u": "%du" % u, "m": "%dm" % m, "S": "%dS" % s}
    if pad:  # leading zeros are digits too (8 at most)
        texts = {k: v[:-1].zfill(8) + v[-1] for k, v in texts.items()}
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        helds = {unit: Held(conn, "dl-%d-%s" % (_N[0], unit), text) for unit, text in texts.items()}
        z = Held(conn, "dl-%d-zero" % _N[0], zero)
        ok = conn.unary(PUT, codec.encode_put_request("dl-%d-ok" % _N[0], b"in time"),
                        extra=[("grpc-timeout", "5S")])
        assert ok.grpc_status == 0, ok
        _wait_all(conn, list(helds.values()) + [z], 2.0 + tolerance(2.0) + 0.5)
        for unit, h in helds.items():
            value = int(h.timeout_text[:-1])
            _check_expired(h, value * UNIT_SECONDS[unit])
        _check_expired(z, 0.0)
        for h in list(helds.values()) + [z]:
            _absent(conn, h.key)  # a Put cut off by its deadline stored nothing
        s_ok = conn.unary(GET, codec.encode_get_request("dl-%d-ok" % _N[0]))
        assert s_ok.grpc_status == 0 and codec.decode_get_response(s_ok.messages[0]) == b"in time"


@pytest.mark.heavy
def test_minutes_and_hours_are_not_seconds(shared_server):
    from hypothesis import settings as hs
    full = hs._current_profile != "quick"
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        minute = Held(conn, "dl-1M", "1M")
        hour = Held(conn, "dl-1H", "1H")
        if not full:
            _wait_all(conn, [minute, hour], 3.0)
            for h in (minute, hour):
                assert not h.stream.ended and h.stream.reset is None, \
                    "grpc-timeout %s fired within 3 s: %r" % (h.timeout_text, h.stream)
                s = h.finish()
                assert s.grpc_status == 0, "%s completed in time: %r" % (h.timeout_text, s)
            return
        _wait_all(conn, [minute], 60.0 + tolerance(60.0) + 1)
        _check_expired(minute, 60.0)
        assert not hour.stream.ended and hour.stream.reset is None, \
            "grpc-timeout 1H fired when 1M did: %r" % hour.stream
        s = hour.finish()
        assert s.grpc_status == 0, s
        _absent(conn, "dl-1M")


@pytest.mark.parametrize("text,valid", [
    ("99999999m", True), ("00000001S", True), ("1S", True),
    ("100000000m", False),  # 9 digits
    ("5", False), ("S", False), ("5s", False), ("5x", False), ("-5S", False), ("5 S", False), ("", False),
])
def test_grpc_timeout_of_at_most_8_digits_and_a_known_unit(shared_server, text, valid):
    """A valid timeout of the longest form is served; a malformed one is an
    error (soup-c and grpc-go: INTERNAL), never a request without deadline
    that is stored."""
    key = "dl-form-%s" % text.replace(" ", "_")
    with frames.Conn(shared_server.address, tls=shared_server.client_tls) as conn:
        s = conn.unary(PUT, codec.encode_put_request(key, b"v"), extra=[("grpc-timeout", text)])
        if valid:
            assert s.grpc_status == 0, s
        else:
            assert s.reset is not None or s.grpc_status not in (None, 0), \
                "grpc-timeout %r was accepted: %r" % (text, s)
            _absent(conn, key)
