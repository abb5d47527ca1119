"""A small, durable proto.KV server in Python (grpcio): the "python" peer of
the polyglot matrix, and the target the suite checks itself against when
soup-c is not built (REFSERVER_MUTANT injects the same defects as the
patches in conformance/mutants/, so conformance/mutants.sh can prove the
suite catches them).

Same flags and messages as `soup-c rpc kv server --standalone` (subset):
  --listen HOST:PORT|unix:PATH  --storage-dir D  --max-message-size N
  --max-key-size N  --tls-mode disabled|auto|manual  --tls-key-type ec|rsa
  --tls-curve C  --tls-key-bits N  --cert-file F --key-file F --client-ca-file F
Storage: an append-only log (len-prefixed records + CRC32), fsync'd before a
Put is acknowledged; a torn tail is dropped on open.
"""

import argparse
import os
import signal
import struct
import sys
import tempfile
import threading
import time
import zlib
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from soupconf import codec, certs  # noqa: E402

MUTANT = os.environ.get("REFSERVER_MUTANT", "")
_HDR = struct.Struct(">II")


class Store:
    def __init__(self, d: str) -> None:
        os.makedirs(d, mode=0o700, exist_ok=True)
        self.path = os.path.join(d, "refserver.log")
        self.data = {}
        self._snap, self._snap_at = {}, 0.0  # STALE_READ mutant's read cache
        self.lock = threading.Lock()
        self._load()
        self.f = open(self.path, "ab")

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                buf = f.read()
        except FileNotFoundError:
            return
        pos = 0
        good = 0
        while pos + _HDR.size + 4 <= len(buf):
            kl, vl = _HDR.unpack_from(buf, pos)
            end = pos + _HDR.size + kl + vl + 4
            if end > len(buf):
                break
            body = buf[pos:end - 4]
            if zlib.crc32(body) != struct.unpack(">I", buf[end - 4:end])[0]:
                break
            k = body[_HDR.size:_HDR.size + kl]
            self.data[k] = body[_HDR.size + kl:]
            pos = good = end
        if good != len(buf):
            with open(self.path, "r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())

    def _append(self, k: bytes, v: bytes) -> None:
        body = _HDR.pack(len(k), len(v)) + k + v
        self.f.write(body + struct.pack(">I", zlib.crc32(body)))
        self.f.flush()
        if MUTANT != "SKIP_FSYNC":
            os.fsync(self.f.fileno())

    def put(self, k: bytes, v: bytes) -> None:
        if MUTANT == "DROP_PUT":
            return
        if MUTANT == "TRUNCATE_64K" and len(v) > 65536:
            v = v[:65536]
        if MUTANT == "NUL_KEY" and b"\x00" in k:
            k = k[:k.index(b"\x00")]
        if MUTANT == "KEY_TRUNCATE_250":
            k = k[:250]
        if MUTANT == "LOSE_CONCURRENT_WRITE":
            if not self.lock.acquire(blocking=False):
                return  # another Put is committing: "merge" by dropping ours
        else:
            self.lock.acquire()
        try:
            if MUTANT == "ACK_BEFORE_COMMIT":
                self.data[k] = v
                threading.Thread(target=self._late_commit, args=(k, v), daemon=True).start()
                return
            self._append(k, v)
            self.data[k] = v
        finally:
            self.lock.release()

    def _late_commit(self, k: bytes, v: bytes) -> None:
        time.sleep(0.05)
        with self.lock:
            self._append(k, v)

    def get(self, k: bytes):
        if MUTANT == "NUL_KEY" and b"\x00" in k:
            k = k[:k.index(b"\x00")]
        if MUTANT == "KEY_TRUNCATE_250":
            k = k[:250]
        if MUTANT == "STALE_READ":
            now = time.monotonic()
            if now - self._snap_at > 0.05:
                self._snap, self._snap_at = dict(self.data), now
            return self._snap.get(k)
        return self.data.get(k)


def _quote(k: bytes, limit: int = 64) -> str:
    """The key for an error message: escaped and cut short, because a
    status message travels in a header and clients cap header size (grpcio:
    8 KiB); echoing a 64 KiB key would turn NOT_FOUND into RESOURCE_EXHAUSTED
    on the client (FINDINGS.md F-1)."""
    r = repr(k[:limit])[2:-1]
    return r + ("…(%d bytes)" % len(k) if len(k) > limit else "")


def _check_key(ctx, k: bytes, max_key: int) -> bool:
    if len(k) == 0 and MUTANT != "EMPTY_KEY_OK":
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "key is empty")
    if len(k) > max_key and MUTANT != "NO_KEY_LIMIT":
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT,
                  "key is %d bytes; the limit is %d (--max-key-size)" % (len(k), max_key))
    try:
        if MUTANT != "UTF8_UNCHECKED":
            k.decode("utf-8")
    except UnicodeDecodeError as e:
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "key is not valid UTF-8 (byte %d)" % e.start)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="refserver")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--storage-dir", default=None)
    ap.add_argument("--max-message-size", type=int, default=64 << 20)
    ap.add_argument("--max-key-size", type=int, default=65536)
    ap.add_argument("--tls-mode", default="disabled", choices=["disabled", "auto", "manual"])
    ap.add_argument("--tls-key-type", default="ec", choices=["ec", "rsa"])
    ap.add_argument("--tls-curve", default="secp384r1", choices=list(certs.CURVE_OPENSSL))
    ap.add_argument("--tls-key-bits", type=int, default=2048, choices=[2048, 3072, 4096])
    ap.add_argument("--cert-file")
    ap.add_argument("--key-file")
    ap.add_argument("--client-ca-file")
    a = ap.parse_args(argv)

    sdir = a.storage_dir or os.environ.get("KV_STORAGE_DIR") or tempfile.mkdtemp(prefix="refserver-")
    store = Store(sdir)

    def get(req, ctx):
        k = codec.decode_get_request(req)
        _check_key(ctx, k, a.max_key_size)
        v = store.get(k)
        if v is None:
            if MUTANT == "OK_NOT_FOUND":
                return b""
            ctx.abort(grpc.StatusCode.NOT_FOUND, "key not found: %s" % _quote(k))
        return codec.encode_get_response(v)

    def put(req, ctx):
        k, v = codec.decode_put_request(req)
        _check_key(ctx, k, a.max_key_size)
        store.put(k, v)
        return b""

    handler = grpc.method_handlers_generic_handler("proto.KV", {
        "Get": grpc.unary_unary_rpc_method_handler(get),
        "Put": grpc.unary_unary_rpc_method_handler(put),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=[
        ("grpc.max_receive_message_length", a.max_message_size),
        ("grpc.max_send_message_length", a.max_message_size),
        ("grpc.so_reuseport", 0),
    ])
    server.add_generic_rpc_handlers((handler,))

    if a.tls_mode == "disabled":
        port = server.add_insecure_port(a.listen)
    else:
        if a.tls_mode == "manual":
            if not a.cert_file or not a.key_file:
                print("error: --tls-mode manual needs --cert-file and --key-file", file=sys.stderr)
                return 1
            cert_path, key_path = a.cert_file, a.key_file
        else:
            gen = certs.generate(os.path.join(sdir, "tls"), "server", a.tls_key_type, a.tls_curve, a.tls_key_bits)
            cert_path, key_path = gen["cert"], gen["key"]
            print("Server certificate: %s" % cert_path, flush=True)
        try:
            cert = open(cert_path, "rb").read()
            key = open(key_path, "rb").read()
        except OSError as e:
            print("error: %s" % e, file=sys.stderr)
            return 1
        ca = open(a.client_ca_file, "rb").read() if a.client_ca_file else None
        creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                            require_client_auth=ca is not None)
        port = server.add_secure_port(a.listen, creds)
    if a.listen.startswith("unix:"):
        addr = a.listen
    else:
        if port == 0:
            print("error: cannot listen on %s" % a.listen, file=sys.stderr)
            return 1
        addr = "%s:%d" % (a.listen.rsplit(":", 1)[0], port)
    server.start()
    print("Server listening on %s" % addr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
