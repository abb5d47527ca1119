"""KV clients behind one interface: put(key, value) and get(key) -> bytes or
None (NOT_FOUND); any other outcome raises KVError carrying the gRPC code.

GrpcKV is the Python grpcio client (generic byte-level calls with the hand
codec, so it can send invalid UTF-8). CliKV drives `soup-c rpc kv get|put`.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Optional, Union

import grpc

from . import codec, procinfo

Key = Union[str, bytes]


class KVError(Exception):
    def __init__(self, code: str, details: str = "") -> None:
        super().__init__("%s: %s" % (code, details))
        self.code = code  # e.g. "INVALID_ARGUMENT"; "UNKNOWN_OUTCOME" for lost calls
        self.details = details


class Unsupported(Exception):
    """This client cannot express the input (e.g. NUL in an argv string)."""


# Codes after which a Put may or may not have happened.
UNCERTAIN_CODES = {"DEADLINE_EXCEEDED", "UNAVAILABLE", "CANCELLED", "UNKNOWN", "INTERNAL", "UNKNOWN_OUTCOME"}


@dataclass
class ClientTLS:
    root_pem: bytes
    cert_pem: Optional[bytes] = None
    key_pem: Optional[bytes] = None
    server_name: str = "localhost"


class GrpcKV:
    name = "python-grpcio"

    def __init__(self, address: str, tls: Optional[ClientTLS] = None, timeout: float = 30.0) -> None:
        opts = [
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", -1),
            ("grpc.enable_retries", 0),
            # one connection per client object: separate channels must not
            # share a subchannel, or "N clients" would be one connection
            ("grpc.use_local_subchannel_pool", 1),
        ]
        if tls is None:
            self.channel = grpc.insecure_channel(address, options=opts)
        else:
            creds = grpc.ssl_channel_credentials(tls.root_pem, tls.key_pem, tls.cert_pem)
            opts.append(("grpc.ssl_target_name_override", tls.server_name))
            self.channel = grpc.secure_channel(address, creds, options=opts)
        self.timeout = timeout
        self._get = self.channel.unary_unary("/proto.KV/Get")
        self._put = self.channel.unary_unary("/proto.KV/Put")

    def wait_ready(self, timeout: float = 10.0) -> None:
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def raw(self, method: str, request: bytes, timeout: Optional[float] = None) -> bytes:
        fn = self.channel.unary_unary(method)
        try:
            return fn(request, timeout=timeout or self.timeout)
        except grpc.RpcError as e:
            raise KVError(e.code().name, e.details() or "") from None

    def put(self, key: Key, value: bytes, timeout: Optional[float] = None) -> None:
        try:
            self._put(codec.encode_put_request(key, value), timeout=timeout or self.timeout)
        except grpc.RpcError as e:
            raise KVError(e.code().name, e.details() or "") from None

    def get(self, key: Key, timeout: Optional[float] = None) -> Optional[bytes]:
        try:
            resp = self._get(codec.encode_get_request(key), timeout=timeout or self.timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise KVError(e.code().name, e.details() or "") from None
        return codec.decode_get_response(resp)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class CliKV:
    """A command-line client: `soup-c rpc kv put KEY - --address A` (value on
    stdin) / `get KEY` (value byte for byte on stdout), or the Go peer
    `kvclient --address A put K V | get K`. Exit 0 = OK. argv cannot carry
    NUL, so such inputs raise Unsupported (the matrix counts them as not
    expressible by that client)."""

    def __init__(self, kind: str, binary: str, address: str, tls: Optional[ClientTLS] = None,
                 timeout: float = 30.0, tmpdir: Optional[str] = None) -> None:
        self.kind = kind  # "soup-c" or "go-kvclient"
        self.name = "soup-c-cli" if kind == "soup-c" else "go-kvclient"
        self.binary = binary
        self.address = address
        self.timeout = timeout
        self.tls_args: list = []
        if tls is not None:
            d = tmpdir or "/tmp"
            os.makedirs(d, exist_ok=True)
            root = os.path.join(d, "cli-root.pem")
            with open(root, "wb") as f:
                f.write(tls.root_pem)
            self.tls_args = ["--ca-file", root, "--server-name", tls.server_name]
            if tls.cert_pem:
                cp, kp = os.path.join(d, "cli-client.crt"), os.path.join(d, "cli-client.key")
                with open(cp, "wb") as f:
                    f.write(tls.cert_pem)
                with open(kp, "wb") as f:
                    f.write(tls.key_pem)
                self.tls_args += ["--cert-file", cp, "--key-file", kp]

    @staticmethod
    def _arg(x: Key) -> bytes:
        """argv can carry any bytes but NUL. A leading '-' is fine: soup-c
        gets positionals after '--'; Go's flag package stops at the first
        non-flag word (the operation)."""
        b = x.encode("utf-8", "surrogatepass") if isinstance(x, str) else bytes(x)
        if b"\x00" in b:
            raise Unsupported("NUL cannot be passed in argv")
        return b

    def _run(self, op, args, stdin=None):
        flags = [b"--address", self.address.encode()] + [a.encode() for a in self.tls_args]
        if self.kind == "soup-c":
            argv = [self.binary.encode(), b"rpc", b"kv", op] + flags + [b"--timeout", b"%d" % self.timeout, b"--"] + args
        else:
            argv = [self.binary.encode()] + flags + [op] + args
        try:
            r = procinfo.run_tree(argv, timeout=self.timeout + 10, input=stdin)
        except subprocess.TimeoutExpired:
            raise KVError("UNKNOWN_OUTCOME", "CLI timed out") from None
        _note_sanitizer(r, argv)
        return r

    def put(self, key: Key, value: bytes, timeout: Optional[float] = None) -> None:
        if self.kind == "soup-c":
            r = self._run(b"put", [self._arg(key), b"-"], stdin=bytes(value))
        else:
            r = self._run(b"put", [self._arg(key), self._arg(value)])
        if r.returncode != 0:
            raise KVError(_code_from_text(r.stderr), r.stderr.decode(errors="replace").strip()[-500:])

    def get(self, key: Key, timeout: Optional[float] = None) -> Optional[bytes]:
        r = self._run(b"get", [self._arg(key)])
        if r.returncode != 0:
            code = _code_from_text(r.stderr)
            if code == "NOT_FOUND":
                return None
            raise KVError(code, r.stderr.decode(errors="replace").strip()[-500:])
        out = r.stdout
        if self.kind != "soup-c" and out.endswith(b"\n"):
            out = out[:-1]  # kvclient prints the value plus a newline
        return out

    def close(self) -> None:
        pass


def _note_sanitizer(r, argv) -> None:
    """A CLI built with sanitizers that reported an error: recorded like a
    server's (servers.SANITIZER_REPORTS)."""
    import re
    t = r.stderr.decode(errors="replace")
    m = re.search(r"ERROR: (AddressSanitizer|LeakSanitizer: detected)|runtime error:", t)
    if m:
        from . import servers
        servers.SANITIZER_REPORTS.append("CLI %s\n%s" % (b" ".join(argv)[:300].decode(errors="replace"),
                                                          t[max(0, m.start() - 200):m.start() + 4000]))


_CODES = ["NOT_FOUND", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED",
          "UNIMPLEMENTED", "INTERNAL", "UNAUTHENTICATED", "PERMISSION_DENIED", "ALREADY_EXISTS",
          "FAILED_PRECONDITION", "CANCELLED"]


def _code_from_text(err: bytes) -> str:
    """The gRPC code named in a CLI's error text: NOT_FOUND (soup-c) or
    "code = NotFound" (grpc-go)."""
    import re
    t = err.decode(errors="replace")
    m = re.search(r"code\s*=\s*([A-Za-z]+)", t)
    if m:
        for code in _CODES:
            if m.group(1) == "".join(w.capitalize() for w in code.split("_")):
                return code
    for code in _CODES:
        if code in t:
            return code
    return "UNKNOWN"


def wait_serving(make_client, timeout: float = 10.0) -> None:
    """Polls until a Get answers (any gRPC status counts as serving)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        c = make_client()
        try:
            c.get("__soupconf_probe__", timeout=1.0)
            return
        except KVError as e:
            if e.code not in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                return
            last = e
        finally:
            c.close()
        time.sleep(0.05)
    raise TimeoutError("server not serving after %.1fs: %s" % (timeout, last))


class PluginHostKV:
    """A go-plugin host that launches the plugin for every call (state lives
    in the storage directory, $KV_STORAGE_DIR): the Go peer
    `goplugin-host [--no-automtls] putfile K F | getfile K F -- PLUGIN...`,
    or soup-c's own client `soup-c rpc kv put K - --plugin PATH`."""

    def __init__(self, kind: str, host_bin: str, plugin_argv: list, storage_dir: str, automtls: bool,
                 tmpdir: str, timeout: float = 60.0) -> None:
        self.kind = kind  # "go-plugin-host" or "soup-c-cli"
        self.name = kind
        self.host_bin = host_bin
        self.plugin_argv = plugin_argv
        self.env = dict(os.environ, KV_STORAGE_DIR=storage_dir)
        self.env.pop("PLUGIN_CLIENT_CERT", None)
        self.automtls = automtls
        self.tmpdir = tmpdir
        self.timeout = timeout
        os.makedirs(tmpdir, exist_ok=True)

    def _run(self, argv, stdin=None):
        try:
            r = procinfo.run_tree(argv, timeout=self.timeout, input=stdin, env=self.env)
        except subprocess.TimeoutExpired:
            raise KVError("UNKNOWN_OUTCOME", "plugin host timed out (the host and its plugin "
                          "were killed)") from None
        _note_sanitizer(r, argv)
        return r

    def _fail(self, r):
        return KVError(_code_from_text(r.stderr), r.stderr.decode(errors="replace").strip()[-500:])

    def put(self, key: Key, value: bytes, timeout: Optional[float] = None) -> None:
        k = CliKV._arg(key)
        if self.kind == "go-plugin-host":
            f = os.path.join(self.tmpdir, "put-value")
            with open(f, "wb") as fh:
                fh.write(value)
            argv = [self.host_bin.encode()] + ([] if self.automtls else [b"--no-automtls"]) + \
                [b"putfile", k, f.encode(), b"--"] + [a.encode() for a in self.plugin_argv]
            r = self._run(argv)
        else:
            argv = [self.host_bin.encode(), b"rpc", b"kv", b"put", b"--plugin", self.plugin_argv[0].encode()] + \
                ([] if self.automtls else [b"--no-automtls"]) + [b"--", k, b"-"]
            r = self._run(argv, stdin=bytes(value))
        if r.returncode != 0:
            raise self._fail(r)

    def get(self, key: Key, timeout: Optional[float] = None) -> Optional[bytes]:
        k = CliKV._arg(key)
        if self.kind == "go-plugin-host":
            f = os.path.join(self.tmpdir, "get-value")
            argv = [self.host_bin.encode()] + ([] if self.automtls else [b"--no-automtls"]) + \
                [b"getfile", k, f.encode(), b"--"] + [a.encode() for a in self.plugin_argv]
            r = self._run(argv)
            if r.returncode == 0:
                with open(f, "rb") as fh:
                    return fh.read()
        else:
            argv = [self.host_bin.encode(), b"rpc", b"kv", b"get", b"--plugin", self.plugin_argv[0].encode()] + \
                ([] if self.automtls else [b"--no-automtls"]) + [b"--", k]
            r = self._run(argv)
            if r.returncode == 0:
                return r.stdout
        e = self._fail(r)
        if e.code == "NOT_FOUND":
            return None
        raise e

    def close(self) -> None:
        pass
