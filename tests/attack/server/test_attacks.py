"""Attacks on soup-c's server (issue 8), each reproducing a measured defect
with a client of our own (python3-h2), and asserting the bound that now
holds: the server's memory ceiling during the attack and its return after,
the attacker's connection closed within the stated time, and a bystander
grpcio client served with a bounded p99 meanwhile."""

import os
import resource
import socket
import time

import h2.settings
import hpack
import pytest

import attack_util as au

# Bounds stated by the tests (the machine running CI is shared: generous).
BYSTANDER_P99_MS = 500
MIB = 1024 * 1024


def _assert_bystander(b):
    assert not b.errors, b.errors[:3]
    assert len(b.lat) >= 5, "the bystander made %d calls" % len(b.lat)
    assert b.p99_ms() < BYSTANDER_P99_MS, "bystander p99 %.0f ms" % b.p99_ms()


# ---------------------------------------------------------------------------
# 1. Memory amplification by slow readers
# ---------------------------------------------------------------------------

def test_slow_reader_of_an_8_mib_value_is_bounded_and_closed(tmp_path):
    srv = au.Server(au.storage(tmp_path), "--buffer-timeout", "3s", "--write-timeout", "5s")
    try:
        ch = au.lib.grpc.insecure_channel(srv.address, options=au.lib.CHANNEL_OPTIONS)
        au.lib.KVClient(ch).put("big", os.urandom(8 * MIB), timeout=60)
        ch.close()
        time.sleep(0.5)
        idle = srv.rss_anon_mib()
        with au.Bystander(srv) as b:
            time.sleep(0.3)
            base = srv.sockets()
            # 500 Gets of the 8 MiB value (17 KB of requests), never read:
            # 4 GB of responses before issue 8.
            att = au.RawH2(srv.port)
            body = au.get_body("big")
            for _ in range(500):
                att.start(b"/proto.KV/Get", body)
            peak, t0, closed_after = 0.0, time.time(), None
            while time.time() - t0 < 8:
                peak = max(peak, srv.rss_anon_mib())
                if closed_after is None and srv.sockets() < base + 1:
                    closed_after = time.time() - t0
                    break
                time.sleep(0.05)
            att.close()
        _assert_bystander(b)
        # Ceiling: 16 MiB connection buffer + the response being built
        # (store copy, encoded reply, queued copy: 3 x 8 MiB) + slack; under
        # ASan its quarantine holds the freed copies too.
        ceiling = 64 * (2 if au.sanitized() else 1)
        assert peak < idle + ceiling, "RssAnon peaked at %.0f MiB (idle %.0f)" % (peak, idle)
        # Closed by the buffer timeout (3 s), plus a sweep (0.75 s) and at
        # most 1 s for the GOAWAY.
        assert closed_after is not None and closed_after < 5.5, closed_after
        # Memory goes back: within 2x idle (anonymous memory; LMDB's page
        # cache is file-backed and not counted here).
        t0 = time.time()
        while srv.rss_anon_mib() > 2 * idle + 4 and time.time() - t0 < 5:
            time.sleep(0.1)
        assert srv.rss_anon_mib() <= 2 * idle + 4, (srv.rss_anon_mib(), idle)
    finally:
        assert srv.stop() == 0


def test_zero_window_client_is_refused_new_calls_then_closed(tmp_path):
    srv = au.Server(au.storage(tmp_path), "--max-connection-buffer", "1M",
                    "--buffer-timeout", "2s")
    try:
        ch = au.lib.grpc.insecure_channel(srv.address, options=au.lib.CHANNEL_OPTIONS)
        au.lib.KVClient(ch).put("v", os.urandom(2 * MIB), timeout=60)
        ch.close()
        with au.Bystander(srv) as b:
            att = au.RawH2(srv.port, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
            att.read(0.3)
            att.start(b"/proto.KV/Get", au.get_body("v"))  # stuck: no window
            att.read(0.5)
            sid = att.start(b"/proto.KV/Get", au.get_body("bystander"))
            evs = att.read(1.0)
            trailers = [dict(e.headers) for e in evs
                        if getattr(e, "stream_id", None) == sid and hasattr(e, "headers")]
            assert any(t.get(b"grpc-status") == b"8" for t in trailers), trailers
            msg = [t.get(b"grpc-message", b"") for t in trailers]
            assert any(b"the limit is 1048576 bytes" in m for m in msg), msg
            att.read(3.0)
            assert att.goaway is not None and att.goaway[0] == 11, att.goaway  # ENHANCE_YOUR_CALM
            att.close()
        _assert_bystander(b)
    finally:
        assert srv.stop() == 0


# ---------------------------------------------------------------------------
# 2. Idle connections and slowloris
# ---------------------------------------------------------------------------

def test_slowloris_and_idle_connections_are_closed_in_time(tmp_path):
    srv = au.Server(au.storage(tmp_path), "--handshake-timeout", "2s", "--idle-timeout", "3s")
    try:
        base = srv.sockets()
        with au.Bystander(srv) as b:
            time.sleep(0.2)
            with_b = srv.sockets()
            magic = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            loris = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(100)]
            idle = [au.RawH2(srv.port) for _ in range(100)]
            t0 = time.time()
            # One byte a second never finishes the preface (issue 8: the old
            # per-byte timeout restarted on each one).
            for i in range(3):
                for s in loris:
                    try:
                        s.send(magic[i:i + 1])
                    except OSError:
                        pass
                time.sleep(1)
            gone = srv.wait_sockets(with_b + 100, 3.5 - (time.time() - t0))
            assert gone is not None, "slowloris connections still open after 3.5 s"
            gone = srv.wait_sockets(with_b, 4.5 - (time.time() - t0))
            assert gone is not None, "idle connections still open after 4.5 s"
            for s in loris:
                s.close()
            for c in idle:
                c.close()
        _assert_bystander(b)
        assert srv.wait_sockets(base, 5) is not None
    finally:
        assert srv.stop() == 0


# ---------------------------------------------------------------------------
# 3. HPACK header-list bomb
# ---------------------------------------------------------------------------

def _bomb_block(copies):
    """A header block that references one 4000-byte dynamic-table entry
    @copies times: about @copies bytes on the wire, 4 KB each decoded."""
    enc = hpack.Encoder()
    hdrs = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/proto.KV/Get"),
            (b":authority", b"x"), (b"content-type", b"application/grpc")]
    hdrs += [(b"x-bomb", b"b" * 4000)] * copies
    return enc.encode(hdrs)


def test_hpack_bomb_is_refused_while_decoding(tmp_path):
    srv = au.Server(au.storage(tmp_path))
    try:
        with au.Bystander(srv) as b:
            cpu0 = srv.cpu_s()
            goaways = 0
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + au.frame(4, 0, 0))
                # 12 streams of 16 000 references: 64 MB of header list each.
                sid = 1
                for _ in range(12):
                    block = _bomb_block(16000)
                    parts = [block[i:i + 16384] for i in range(0, len(block), 16384)]
                    data = au.frame(1, 0x4 if len(parts) == 1 else 0, sid, parts[0])
                    for k, p in enumerate(parts[1:], 1):
                        data += au.frame(9, 0x4 if k == len(parts) - 1 else 0, sid, p)
                    try:
                        s.sendall(data)
                    except OSError:
                        break
                    sid += 2
                s.settimeout(3)
                buf = b""
                try:
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        buf += d
                except OSError:
                    pass
                # GOAWAY (type 7) with ENHANCE_YOUR_CALM (11).
                i = buf.find(b"\x07\x00\x00\x00\x00\x00")
                if i >= 3 and buf[i + 10:i + 14] == b"\x00\x00\x00\x0b":
                    goaways += 1
                s.close()
            cpu = srv.cpu_s() - cpu0
        _assert_bystander(b)
        assert goaways == 5, goaways
        # Before issue 8: about 30 ms of decoding per 16 KB frame, 60 frames.
        assert cpu < 0.5, "the bombs cost %.2f s of server CPU" % cpu
    finally:
        assert srv.stop() == 0


# ---------------------------------------------------------------------------
# 4. Floods of frames that carry no work
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,make", [
    ("empty DATA", lambda sid: au.frame(0, 0, sid)),
    ("WINDOW_UPDATE +1", lambda sid: au.frame(8, 0, 0, b"\x00\x00\x00\x01")),
    ("PRIORITY", lambda sid: au.frame(2, 0, sid + 2, b"\x00\x00\x00\x00\x10")),
])
def test_no_work_floods_get_enhance_your_calm_and_are_closed(tmp_path, name, make):
    srv = au.Server(au.storage(tmp_path))
    try:
        with au.Bystander(srv) as b:
            time.sleep(0.2)
            with_b = srv.sockets()
            att = au.RawH2(srv.port)
            att.read(0.2)
            sid = att.start(b"/proto.KV/Get", None, end=False)  # an open stream
            cpu0 = srv.cpu_s()
            burst = make(sid) * 2000
            t0 = time.time()
            sent = 0
            while time.time() - t0 < 2:
                try:
                    att.send_raw(burst)
                    sent += 2000
                except OSError:
                    break
            # The flooder never reads: it is still cut off within a second
            # of its GOAWAY (issue 8: it used to stay half-closed forever).
            gone = srv.wait_sockets(with_b, 3)
            cpu = srv.cpu_s() - cpu0
            att.read(1.0)
            att.close()
        _assert_bystander(b)
        assert gone is not None, "%s flooder still connected" % name
        assert att.goaway is None or att.goaway[0] == 11, att.goaway
        assert cpu < 1.0, "%s flood (%d frames sent) cost %.2f s CPU" % (name, sent, cpu)
    finally:
        assert srv.stop() == 0


# ---------------------------------------------------------------------------
# 5. The fd limit
# ---------------------------------------------------------------------------

def _low_fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))


def test_at_the_fd_limit_idle_connections_make_room(tmp_path):
    srv = au.Server(au.storage(tmp_path), preexec_fn=_low_fd_limit)
    try:
        hoard = []
        for _ in range(200):  # more than the 160 fds the server has
            try:
                hoard.append(au.RawH2(srv.port))
            except OSError:
                break
        time.sleep(0.5)
        t0 = time.time()
        ch = au.lib.grpc.insecure_channel(srv.address, options=au.lib.CHANNEL_OPTIONS)
        kv = au.lib.KVClient(ch)
        kv.put("room", b"made", timeout=10)
        assert kv.get("room", timeout=10) == b"made"
        took = time.time() - t0
        ch.close()
        for c in hoard:
            c.close()
        assert took < 3, "a new client waited %.1f s" % took
        log = srv.log_text()
        assert log.count("connection limit reached") + log.count("out of file descriptors") == 1, log
    finally:
        assert srv.stop() == 0
