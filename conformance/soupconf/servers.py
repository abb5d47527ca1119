"""Launchers for the servers under test. Every implementation is started as
its own process, with its own storage directory, on an ephemeral port, and is
ready when it prints `Server listening on <addr>` (soup-c, refserver) or
accepts connections (Go kvref).

Implementations:
  soup-c      $SOUPC_BIN (default <repo>/build/soup-c) rpc kv server --standalone
  python-ref  /usr/bin/python3 conformance/soupconf/refserver.py
  go-kvref    $SOUPC_GO_PEERS/kvref (default <repo>/peers/go/bin/kvref), in-memory
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

from . import certs
from .client import ClientTLS, GrpcKV

HERE = os.path.dirname(os.path.abspath(__file__))
CONF_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(CONF_DIR)


def soupc_bin() -> str:
    return os.environ.get("SOUPC_BIN") or os.path.join(REPO, "build", "soup-c")


def go_peers_dir() -> str:
    return os.environ.get("SOUPC_GO_PEERS") or os.path.join(REPO, "peers", "go", "bin")


@dataclass(frozen=True)
class TLS:
    """A TLS setting for a server. mode: disabled | auto | manual | mtls.
    mtls = manual server cert + a required client certificate."""

    mode: str = "disabled"
    key_type: str = "ec"
    curve: str = "secp256r1"
    bits: int = 2048

    @property
    def label(self) -> str:
        if self.mode == "disabled":
            return "plaintext"
        kind = self.curve if self.key_type == "ec" else "rsa%d" % self.bits
        return "%s-%s" % (self.mode, kind)


PLAINTEXT = TLS()


class ServerStartError(Exception):
    pass


# Sanitizer reports found in server logs (ASan/UBSan/LSan builds); conftest
# turns a new entry into a test error.
SANITIZER_REPORTS: List[str] = []
_SAN_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer: detected)|runtime error:|ThreadSanitizer")


def _scan_sanitizer(path: str, argv) -> None:
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return
    m = _SAN_RE.search(text)
    if m:
        start = max(0, text.rfind("\n", 0, m.start()))
        SANITIZER_REPORTS.append("%s\n(argv: %s)\n%s" % (path, " ".join(map(str, argv))[:300],
                                                         text[start:start + 4000]))


@dataclass
class Impl:
    name: str
    durable: bool = True
    tls_modes: tuple = ("disabled", "auto", "manual", "mtls")
    curves: tuple = ("secp256r1", "secp384r1", "secp521r1")
    rsa: bool = True
    # has soup-c's server flags (--tls-mode/--tls-curve/--storage-dir/...)
    server_flags: bool = True

    def available(self) -> Optional[str]:
        """None if usable, else why not."""
        return None

    def argv(self, listen: str, storage: str, tls: TLS, tls_files: dict, extra: List[str]) -> List[str]:
        raise NotImplementedError

    def supports(self, tls: TLS) -> Optional[str]:
        if tls.mode not in self.tls_modes:
            return "%s does not offer TLS mode %s" % (self.name, tls.mode)
        if tls.mode != "disabled":
            if tls.key_type == "ec" and tls.curve not in self.curves:
                return "%s does not offer curve %s" % (self.name, tls.curve)
            if tls.key_type == "rsa" and not self.rsa:
                return "%s does not offer RSA keys" % self.name
        return None


def _tls_flags(tls: TLS, tls_files: dict) -> List[str]:
    if tls.mode == "disabled":
        return ["--tls-mode", "disabled"]
    out = []
    if tls.mode == "auto":
        out += ["--tls-mode", "auto", "--tls-key-type", tls.key_type]
        out += ["--tls-curve", tls.curve] if tls.key_type == "ec" else ["--tls-key-bits", str(tls.bits)]
    else:
        out += ["--tls-mode", "manual", "--cert-file", tls_files["cert"], "--key-file", tls_files["key"]]
        if tls.mode == "mtls":
            out += ["--client-ca-file", tls_files["client_ca"]]
    return out


class SoupC(Impl):
    def __init__(self, binary: Optional[str] = None) -> None:
        super().__init__("soup-c")
        self.binary = binary or soupc_bin()

    def available(self):
        if not os.access(self.binary, os.X_OK):
            return "soup-c binary not found at %s (set SOUPC_BIN)" % self.binary
        return None

    def argv(self, listen, storage, tls, tls_files, extra):
        return [self.binary, "rpc", "kv", "server", "--standalone", "--listen", listen,
                "--storage-dir", storage] + _tls_flags(tls, tls_files) + extra


class PythonRef(Impl):
    def __init__(self) -> None:
        super().__init__("python-ref")

    def argv(self, listen, storage, tls, tls_files, extra):
        return [sys.executable, os.path.join(HERE, "refserver.py"), "--listen", listen,
                "--storage-dir", storage] + _tls_flags(tls, tls_files) + extra


class GoKVRef(Impl):
    """grpc-go in-memory server from peers/go (plaintext only, not durable)."""

    def __init__(self) -> None:
        super().__init__("go-kvref", durable=False, tls_modes=("disabled", "manual"), server_flags=False)
        self.binary = os.path.join(go_peers_dir(), "kvref")

    def available(self):
        if not os.access(self.binary, os.X_OK):
            return "Go peer kvref not built (peers/go/build.sh %s)" % go_peers_dir()
        return None

    def argv(self, listen, storage, tls, tls_files, extra):
        t = ["--cert-file", tls_files["cert"], "--key-file", tls_files["key"]] if tls.mode == "manual" else []
        return [self.binary, "--listen", listen] + t + extra


def _soupc_etcd() -> Impl:
    """soup-c with --store etcd on a 3-member etcd cluster (etcd.py)."""
    from . import etcd
    return etcd.make_impl()


IMPLS = {"soup-c": SoupC, "python-ref": PythonRef, "go-kvref": GoKVRef, "soup-c-etcd": _soupc_etcd}


def make_impl(name: str) -> Impl:
    return IMPLS[name]()


_LISTEN_RE = re.compile(r"Server listening on (\S+)")
_CERT_RE = re.compile(r"(/\S+\.(?:pem|crt))")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """One server process. restart() keeps the storage directory."""

    def __init__(self, impl: Impl, workdir: str, tls: TLS = PLAINTEXT, extra: Optional[List[str]] = None,
                 wrapper: Optional[List[str]] = None, env: Optional[dict] = None, listen: Optional[str] = None) -> None:
        self.impl = impl
        self.workdir = workdir
        self.storage = os.path.join(workdir, "store")
        self.tls = tls
        self.extra = list(extra or [])
        self.wrapper = list(wrapper or [])
        self.env = dict(os.environ, **(env or {}))
        if wrapper:
            # LeakSanitizer cannot run under ptrace (strace)
            self.env["ASAN_OPTIONS"] = (self.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        self.listen = listen
        self.proc: Optional[subprocess.Popen] = None
        self.address: Optional[str] = None
        self.tls_files: dict = {}
        self.client_tls: Optional[ClientTLS] = None
        self.output: List[str] = []
        self.starts = 0
        os.makedirs(workdir, exist_ok=True)
        if tls.mode in ("manual", "mtls"):
            d = os.path.join(workdir, "tls")
            gen = certs.generate(d, "server", tls.key_type, tls.curve, tls.bits)
            self.tls_files.update(gen)
            if tls.mode == "mtls":
                cl = certs.generate(d, "client", "ec", "secp256r1")
                self.tls_files["client_ca"] = cl["cert"]
                self.tls_files["client_cert"] = cl["cert"]
                self.tls_files["client_key"] = cl["key"]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> "Server":
        listen = self.listen
        if listen is None:
            listen = "127.0.0.1:0"
        argv = self.wrapper + self.impl.argv(listen, self.storage, self.tls, self.tls_files, self.extra)
        self.argv = argv
        self.errlog = open(os.path.join(self.workdir, "server-%d.log" % self.starts), "w+b")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.errlog, env=self.env,
                                     start_new_session=True)
        self.starts += 1
        lines: List[str] = []
        addr = None
        cert = None
        deadline = time.monotonic() + timeout
        ready = threading.Event()
        result = {}

        def reader():
            proc = self.proc
            for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip("\n")
                lines.append(line)
                m = _LISTEN_RE.search(line)
                if m and "addr" not in result:
                    result["addr"] = m.group(1)
                    ready.set()
            ready.set()
            proc.stdout.close()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        self._reader = t
        ready.wait(timeout)
        self.output = lines
        addr = result.get("addr")
        if addr is None:
            self.kill()
            raise ServerStartError("%s did not start: rc=%s\nargv=%s\nstdout=%s\nstderr=%s" % (
                self.impl.name, self.proc.returncode, argv, "\n".join(lines), self.stderr_text()[-4000:]))
        if addr.startswith("[::]:") or addr.startswith("0.0.0.0:"):
            addr = "127.0.0.1:" + addr.rsplit(":", 1)[1]
        self.address = addr
        if self.tls.mode == "auto":
            for src in lines + self.stderr_text().splitlines():
                m = _CERT_RE.search(src)
                if m and os.path.exists(m.group(1)):
                    cert = m.group(1)
                    break
            if cert is None:
                self.kill()
                raise ServerStartError("%s --tls-mode auto: no certificate path in its output:\n%s\n%s" % (
                    self.impl.name, "\n".join(lines), self.stderr_text()[-2000:]))
            self.tls_files["cert"] = cert
        if self.tls.mode != "disabled":
            root = open(self.tls_files["cert"], "rb").read()
            if self.tls.mode == "mtls":
                self.client_tls = ClientTLS(root, open(self.tls_files["client_cert"], "rb").read(),
                                            open(self.tls_files["client_key"], "rb").read())
            else:
                self.client_tls = ClientTLS(root)
        return self

    def stderr_text(self) -> str:
        try:
            if not self.errlog.closed:
                self.errlog.flush()
            with open(self.errlog.name, "rb") as f:
                return f.read().decode(errors="replace")
        except Exception:
            return ""

    def client(self, timeout: float = 30.0) -> GrpcKV:
        return GrpcKV(self.address, self.client_tls, timeout=timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def _reap_group(self, timeout: float) -> None:
        """Waits for every process of the server's session (the server and
        any wrapper such as strace) to exit; SIGKILLs what is left."""
        deadline = time.monotonic() + timeout
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._group_alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 5
            while self._group_alive() and time.monotonic() < deadline:
                time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM to the server's process group; waits for a clean exit."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reap_group(timeout)
        rc = self.proc.returncode
        self._close()
        return rc

    def kill(self) -> None:
        """kill -9 the server (and anything in its session)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._reap_group(5)
        self._close()

    def _close(self) -> None:
        # The reader thread owns stdout; it ends at EOF once every process
        # holding the pipe is gone. Closing under it would block.
        t = getattr(self, "_reader", None)
        if t is not None:
            t.join(5)
        try:
            self.errlog.close()
        except Exception:
            pass
        _scan_sanitizer(self.errlog.name, getattr(self, "argv", []))

    def restart(self, hard: bool = False) -> "Server":
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()


def tmpdir(prefix: str = "soupconf-") -> str:
    return tempfile.mkdtemp(prefix=prefix)


def rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
