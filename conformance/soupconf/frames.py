"""A frame-level HTTP/2 client (hyperframe + hpack, from python3-h2) for
what neither grpcio nor h2's state machine will send: a gRPC message cut at
any byte across DATA frames (inside the 5-byte prefix too), a header block
cut across HEADERS and CONTINUATION frames, a request held half-sent, and
frames of an exact size.

One connection, one thread, blocking reads with deadlines. The client keeps
the connection alive by itself: it ACKs SETTINGS, answers PING, and returns
flow-control credit for every DATA byte it receives.
"""

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

from . import codec
from .rawh2 import connect_socket

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_HEADER_LEN = 9
DEFAULT_MAX_FRAME_SIZE = 16384
CREDIT_BATCH = 16384  # a quarter of the 65535-byte default window


@dataclass
class Stream:
    headers: List[Tuple[str, str]] = field(default_factory=list)
    trailers: List[Tuple[str, str]] = field(default_factory=list)
    data: bytes = b""
    ended: bool = False
    reset: Optional[int] = None
    ended_at: Optional[float] = None  # time.monotonic() of END_STREAM / RST

    def header(self, name: str) -> Optional[str]:
        for k, v in self.trailers + self.headers:
            if k == name:
                return v
        return None

    @property
    def grpc_status(self) -> Optional[int]:
        v = self.header("grpc-status")
        return int(v) if v is not None else None

    @property
    def grpc_message(self) -> str:
        return self.header("grpc-message") or ""

    @property
    def messages(self) -> List[bytes]:
        """The gRPC messages of the response body."""
        out, buf = [], self.data
        while len(buf) >= 5:
            n = int.from_bytes(buf[1:5], "big")
            out.append(buf[5:5 + n])
            buf = buf[5 + n:]
        return out

    def __repr__(self) -> str:
        return "Stream(status=%r, message=%r, reset=%r, ended=%r, data=%r)" % (
            self.grpc_status, self.grpc_message, self.reset, self.ended, self.data[:40])


class Closed(Exception):
    """The server closed the connection (GOAWAY and/or EOF)."""


class Conn:
    def __init__(self, address: str, tls=None, timeout: float = 10.0,
                 settings: Optional[Dict[int, int]] = None) -> None:
        self.sock = connect_socket(address, timeout)
        if self.sock.family != socket.AF_UNIX:
            # Frames go out in several small writes; Nagle plus delayed ACKs
            # would add ~40 ms to every request.
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            ctx = ssl.create_default_context(cadata=tls.root_pem.decode())
            ctx.check_hostname = False
            ctx.set_alpn_protocols(["h2"])
            if tls.cert_pem:
                import tempfile
                with tempfile.NamedTemporaryFile("wb") as c, tempfile.NamedTemporaryFile("wb") as k:
                    c.write(tls.cert_pem)
                    c.flush()
                    k.write(tls.key_pem)
                    k.flush()
                    ctx.load_cert_chain(c.name, k.name)
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.authority = "localhost" if address.startswith("unix:") else address
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.dec.max_allowed_table_size = 4096
        self.streams: Dict[int, Stream] = {}
        self.next_sid = 1
        self.buf = b""
        self.peer_settings: Dict[int, int] = {}
        self.goaway: Optional[GoAwayFrame] = None
        self.closed = False
        self._hdr_block: Dict[int, bytes] = {}
        self.sock.sendall(PREFACE + SettingsFrame(0, settings=settings or {}).serialize())
        # The server's SETTINGS come first (RFC 9113 §3.4).
        deadline = time.monotonic() + timeout
        while not self.peer_settings and not self.closed:
            self._read_one(deadline)

    # ---- sending -------------------------------------------------------

    def new_stream(self) -> int:
        sid = self.next_sid
        self.next_sid += 2
        self.streams[sid] = Stream()
        return sid

    def request_headers(self, path: str, extra: Sequence[Tuple[str, str]] = (),
                        content_type: str = "application/grpc") -> List[Tuple[str, str]]:
        return [(":method", "POST"), (":scheme", "http"), (":path", path),
                (":authority", self.authority), ("content-type", content_type),
                ("te", "trailers")] + list(extra)

    def header_block(self, headers: Sequence[Tuple[str, str]]) -> bytes:
        # Never indexed: the block is then the same bytes whenever it is
        # sent, so cut points stay meaningful across requests.
        return self.enc.encode([hpack.NeverIndexedHeaderTuple(k, v) for k, v in headers])

    def send_headers(self, sid: int, headers: Sequence[Tuple[str, str]], end_stream: bool = False,
                     cuts: Iterable[int] = ()) -> None:
        """HEADERS, then a CONTINUATION per cut point of the encoded block."""
        self.send_header_block(sid, self.header_block(headers), end_stream, cuts)

    def send_header_block(self, sid: int, block: bytes, end_stream: bool = False,
                          cuts: Iterable[int] = ()) -> None:
        pieces = split(block, cuts)
        out = []
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            if i == 0:
                f = HeadersFrame(sid, data=piece)
                if end_stream:
                    f.flags.add("END_STREAM")
            else:
                f = ContinuationFrame(sid, data=piece)
            if last:
                f.flags.add("END_HEADERS")
            out.append(f.serialize())
        self.sock.sendall(b"".join(out))

    def send_data(self, sid: int, data: bytes, end_stream: bool = False) -> None:
        f = DataFrame(sid, data=data)
        if end_stream:
            f.flags.add("END_STREAM")
        self.sock.sendall(f.serialize())

    def send_body(self, sid: int, body: bytes, cuts: Iterable[int] = (), end_stream: bool = True,
                  empty_frames: Iterable[int] = ()) -> None:
        """@p body as one DATA frame per piece between @p cuts; an empty
        DATA frame before each piece index in @p empty_frames."""
        pieces = []
        limit = self.max_frame_size
        for piece in split(body, cuts):  # no frame over the peer's maximum
            pieces += [piece[i:i + limit] for i in range(0, len(piece), limit)] or [b""]
        empties = set(empty_frames)
        frames = []
        for i, piece in enumerate(pieces):
            if i in empties:
                frames.append(DataFrame(sid, data=b"").serialize())
            f = DataFrame(sid, data=piece)
            if end_stream and i == len(pieces) - 1:
                f.flags.add("END_STREAM")
            frames.append(f.serialize())
        self.sock.sendall(b"".join(frames))

    @property
    def max_frame_size(self) -> int:
        return self.peer_settings.get(SettingsFrame.MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def unary(self, path: str, msg: bytes, extra: Sequence[Tuple[str, str]] = (),
              body_cuts: Iterable[int] = (), header_cuts: Iterable[int] = (),
              empty_frames: Iterable[int] = (), timeout: float = 10.0) -> Stream:
        sid = self.new_stream()
        self.send_headers(sid, self.request_headers(path, extra), cuts=header_cuts)
        self.send_body(sid, codec.grpc_frame(msg), body_cuts, empty_frames=empty_frames)
        return self.wait(sid, timeout)

    # ---- receiving -----------------------------------------------------

    def wait(self, sid: int, timeout: float = 10.0) -> Stream:
        """Reads until stream @p sid ends or is reset (or the timeout)."""
        s = self.streams[sid]
        deadline = time.monotonic() + timeout
        while not (s.ended or s.reset is not None) and not self.closed:
            if time.monotonic() >= deadline:
                break
            self._read_one(deadline)
        return s

    def pump(self, seconds: float) -> None:
        """Reads (and answers PING/SETTINGS) for @p seconds."""
        deadline = time.monotonic() + seconds
        while not self.closed and time.monotonic() < deadline:
            self._read_one(deadline)

    def _recv(self, n: int, deadline: float) -> bool:
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                return False
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
                return False
            self.buf += chunk
        return True

    def _read_one(self, deadline: float) -> None:
        if not self._recv(FRAME_HEADER_LEN, deadline):
            return
        f, length = Frame.parse_frame_header(memoryview(self.buf[:FRAME_HEADER_LEN]))
        if not self._recv(FRAME_HEADER_LEN + length, deadline):
            return
        f.parse_body(memoryview(self.buf[FRAME_HEADER_LEN:FRAME_HEADER_LEN + length]))
        self.buf = self.buf[FRAME_HEADER_LEN + length:]
        self._on_frame(f)

    def _on_frame(self, f) -> None:
        now = time.monotonic()
        if isinstance(f, SettingsFrame):
            if "ACK" not in f.flags:
                self.peer_settings.update(f.settings)
                if not self.peer_settings:
                    self.peer_settings[-1] = 0  # an empty SETTINGS still counts
                ack = SettingsFrame(0)
                ack.flags.add("ACK")
                self.sock.sendall(ack.serialize())
        elif isinstance(f, PingFrame):
            if "ACK" not in f.flags:
                pong = PingFrame(0, opaque_data=f.opaque_data)
                pong.flags.add("ACK")
                self.sock.sendall(pong.serialize())
        elif isinstance(f, GoAwayFrame):
            self.goaway = f
        elif isinstance(f, (HeadersFrame, ContinuationFrame)):
            s = self.streams.setdefault(f.stream_id, Stream())
            self._hdr_block[f.stream_id] = self._hdr_block.get(f.stream_id, b"") + f.data
            if isinstance(f, HeadersFrame) and "END_STREAM" in f.flags:
                s._pending_end = True
            if "END_HEADERS" in f.flags:
                hdrs = [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                        for k, v in self.dec.decode(self._hdr_block.pop(f.stream_id))]
                if s.headers:
                    s.trailers = hdrs
                else:
                    s.headers = hdrs
                if getattr(s, "_pending_end", False):
                    s.ended, s.ended_at = True, now
        elif isinstance(f, DataFrame):
            s = self.streams.setdefault(f.stream_id, Stream())
            s.data += f.data
            self._return_credit(f.stream_id, f.flow_controlled_length, "END_STREAM" in f.flags)
            if "END_STREAM" in f.flags:
                s.ended, s.ended_at = True, now
        elif isinstance(f, RstStreamFrame):
            s = self.streams.setdefault(f.stream_id, Stream())
            s.reset = f.error_code
            if s.ended_at is None:
                s.ended_at = now

    def _return_credit(self, sid: int, n: int, ended: bool) -> None:
        """WINDOW_UPDATE once a quarter of the default window is consumed,
        as grpc-go does: a WINDOW_UPDATE per small DATA frame is what flood
        guards count against a client."""
        self._unacked_conn = getattr(self, "_unacked_conn", 0) + n
        per_stream = getattr(self, "_unacked_stream", {})
        self._unacked_stream = per_stream
        per_stream[sid] = per_stream.get(sid, 0) + n
        out = b""
        if self._unacked_conn >= CREDIT_BATCH:
            out += WindowUpdateFrame(0, window_increment=self._unacked_conn).serialize()
            self._unacked_conn = 0
        if ended:
            per_stream.pop(sid, None)
        elif per_stream[sid] >= CREDIT_BATCH:
            out += WindowUpdateFrame(sid, window_increment=per_stream.pop(sid)).serialize()
        if out:
            self.sock.sendall(out)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def split(data: bytes, cuts: Iterable[int]) -> List[bytes]:
    """@p data cut at each offset of @p cuts (0 < cut < len). Never empty."""
    points = sorted(set(c for c in cuts if 0 < c < len(data)))
    pieces, last = [], 0
    for c in points:
        pieces.append(data[last:c])
        last = c
    pieces.append(data[last:])
    return pieces
