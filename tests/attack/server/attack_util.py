"""Helpers for the attack tests (issue 8): a soup-c standalone server whose
memory, CPU and descriptors can be read from /proc, raw HTTP/2 attackers
built on Debian's python3-h2, and a well-behaved bystander client
(python3-grpcio) whose latency is measured while an attack runs."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import h2.config
import h2.connection
import h2.events

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "pylib"))
import soupc_testlib as lib  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Server:
    """soup-c rpc kv server --standalone; stderr goes to a file (a pipe
    nobody reads could block the server when it logs)."""

    def __init__(self, storage_dir, *extra, preexec_fn=None, wrap=()):
        self.storage_dir = storage_dir
        self.log_path = storage_dir.rstrip("/") + ".log"
        self.log = open(self.log_path, "w")
        args = [*wrap, lib.soupc_bin(), "rpc", "kv", "server", "--standalone",
                "--listen", "127.0.0.1:0", "--storage-dir", storage_dir,
                "--log-level", "warn", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.PIPE, text=True,
                                     preexec_fn=preexec_fn)
        deadline = time.time() + 30
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server exited (%s): %s" % (self.proc.wait(),
                                                                self.log_text()))
            m = re.match(r"Server listening on 127.0.0.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
            if time.time() > deadline:
                raise RuntimeError("server did not start in 30 s")
        self.address = "127.0.0.1:%d" % self.port
        self.pid = self.proc.pid

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def status(self, field):
        """A /proc/PID/status field in KiB (VmRSS, RssAnon...)."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def rss_anon_mib(self):
        return self.status("RssAnon") / 1024.0

    def cpu_s(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def sockets(self):
        """Open socket descriptors (listener and connections)."""
        n = 0
        for fd in os.listdir("/proc/%d/fd" % self.pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (self.pid, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
        return n

    def wait_sockets(self, want, timeout):
        """Waits until at most @want sockets are open. Returns seconds taken,
        or None on timeout."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.sockets() <= want:
                return time.time() - t0
            time.sleep(0.05)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.proc.stdin.close()
        self.log.close()
        return rc


def sanitized():
    """True when the binary under test is built with ASan (its quarantine
    keeps freed buffers for a while, so memory bounds get more room)."""
    with open(lib.soupc_bin(), "rb") as f:
        return b"__asan_init" in f.read()


def pb():
    return lib.kv_pb2()


def get_body(key):
    msg = pb().GetRequest(key=key).SerializeToString()
    return b"\x00" + len(msg).to_bytes(4, "big") + msg


class RawH2:
    """An HTTP/2 client socket driven by hand: send what the attack needs,
    read (or not) as it pleases."""

    def __init__(self, port, settings=None, **config):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                        validate_outbound_headers=False,
                                        normalize_outbound_headers=False,
                                        validate_inbound_headers=False,
                                        **config)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.goaway = None  # (error_code, debug data)
        self.closed = False
        self.events = []

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def request_headers(self, path, extra=()):
        return [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
                (b":authority", b"x"), (b"content-type", b"application/grpc"),
                (b"te", b"trailers"), *extra]

    def start(self, path, body=None, end=True, extra=()):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, self.request_headers(path, extra),
                               end_stream=body is None and end)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=end)
        self.flush()
        return sid

    def read(self, timeout=2.0):
        """Reads and handles frames for up to @timeout s or until the server
        closes. Returns the events."""
        self.sock.settimeout(0.1)
        end = time.time() + timeout
        got = []
        while time.time() < end and not self.closed:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            try:
                evs = self.conn.receive_data(data)
            except Exception:  # the server may send what h2 dislikes after GOAWAY
                evs = []
            for ev in evs:
                if isinstance(ev, h2.events.ConnectionTerminated):
                    self.goaway = (ev.error_code, ev.additional_data)
                elif isinstance(ev, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(ev.flow_controlled_length,
                                                        ev.stream_id)
            got.extend(evs)
            try:
                self.flush()
            except OSError:
                self.closed = True
        self.events.extend(got)
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def frame(ftype, flags, stream, payload=b""):
    """One raw HTTP/2 frame (RFC 9113 §4.1)."""
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) +
            stream.to_bytes(4, "big") + payload)


class Bystander:
    """A well-behaved grpcio client doing Gets of a small key in a loop, on
    its own connection, while an attack runs; records each call's latency."""

    def __init__(self, server, key="bystander"):
        self.channel = lib.grpc.insecure_channel(server.address, options=lib.CHANNEL_OPTIONS)
        self.kv = lib.KVClient(self.channel)
        self.key = key
        self.kv.put(key, b"fine")
        self.lat = []
        self.errors = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                v = self.kv.get(self.key, timeout=10)
                if v != b"fine":
                    self.errors.append("wrong value %r" % v)
            except Exception as e:  # noqa: BLE001 - recorded, asserted on later
                self.errors.append(repr(e))
            self.lat.append(time.perf_counter() - t0)
            time.sleep(0.01)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.channel.close()

    def p99_ms(self):
        lat = sorted(self.lat)
        return 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")


def storage(tmp_path):
    return tempfile.mkdtemp(prefix="store-", dir=str(tmp_path))
