"""Raw HTTP/2 connections (python3-h2) for what grpcio will not send:
wrong content-types, truncated or oversized frames, garbage, and hundreds of
simultaneous connections from one thread."""

import socket
import ssl
import time
from typing import Dict, List, Optional, Tuple

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from . import codec


def connect_socket(address: str, timeout: float = 10.0) -> socket.socket:
    if address.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(address[5:])
        return s
    host, port = address.rsplit(":", 1)
    host = host.strip("[]")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    return s


def wrap_tls(s: socket.socket, root_pem: bytes, cert=None, key=None) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cadata=root_pem.decode())
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["h2"])
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx.wrap_socket(s, server_hostname="localhost")


class Response:
    def __init__(self) -> None:
        self.headers: Dict[str, str] = {}
        self.trailers: Dict[str, str] = {}
        self.data = b""
        self.reset: Optional[int] = None
        self.goaway: Optional[int] = None
        self.closed = False  # connection closed by the server
        self.ended = False

    @property
    def grpc_status(self) -> Optional[int]:
        v = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return int(v) if v is not None else None

    @property
    def grpc_message(self) -> str:
        return self.trailers.get("grpc-message", self.headers.get("grpc-message", ""))

    def __repr__(self) -> str:
        return "Response(headers=%r, trailers=%r, data=%r, reset=%r, goaway=%r, closed=%r)" % (
            self.headers, self.trailers, self.data[:64], self.reset, self.goaway, self.closed)


class H2:
    def __init__(self, address: str, tls=None, timeout: float = 10.0) -> None:
        self.sock = connect_socket(address, timeout)
        if tls is not None:
            self.sock = wrap_tls(self.sock, tls.root_pem)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.authority = address if not address.startswith("unix:") else "localhost"
        self.responses: Dict[int, Response] = {}
        self.goaway: Optional[int] = None
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, path: str, body: bytes = b"", content_type: str = "application/grpc",
                end: bool = True, extra_headers: Optional[List[Tuple[str, str]]] = None) -> int:
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", self.authority),
                ("content-type", content_type), ("te", "trailers")] + (extra_headers or [])
        self.conn.send_headers(sid, hdrs, end_stream=(end and not body))
        if body:
            self.conn.send_data(sid, body, end_stream=end)
        self.responses[sid] = Response()
        self.flush()
        return sid

    def grpc_call(self, path: str, msg: bytes, **kw) -> int:
        return self.request(path, codec.grpc_frame(msg), **kw)

    def pump(self, timeout: float = 0.0) -> bool:
        """Reads what is available (waiting up to timeout). False once closed."""
        if self.closed:
            return False
        self.sock.settimeout(timeout if timeout > 0 else 0.000001)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            return True
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.closed = True
            for r in self.responses.values():
                r.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return False
        for ev in events:
            sid = getattr(ev, "stream_id", None)
            r = self.responses.get(sid) if sid else None
            if isinstance(ev, h2.events.ResponseReceived) and r:
                r.headers.update(dict(ev.headers))
            elif isinstance(ev, h2.events.TrailersReceived) and r:
                r.trailers.update(dict(ev.headers))
            elif isinstance(ev, h2.events.DataReceived) and r:
                r.data += ev.data
                self.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.StreamEnded) and r:
                r.ended = True
            elif isinstance(ev, h2.events.StreamReset) and r:
                r.reset = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = ev.error_code
                for rr in self.responses.values():
                    rr.goaway = ev.error_code
        try:
            self.flush()
        except OSError:
            pass
        return True

    def wait(self, sid: int, timeout: float = 10.0) -> Response:
        r = self.responses[sid]
        deadline = time.monotonic() + timeout
        while not (r.ended or r.reset is not None or r.closed or r.goaway is not None):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not self.pump(min(left, 0.5)):
                break
        return r

    def wait_closed(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.pump(0.2)
            if self.goaway is not None:
                return True
        return self.closed or self.goaway is not None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
