"""Shared helpers and fixtures for soup-c <-> Go interop tests (tests/interop/go).

The peers are independent implementations built from Debian packages by
peers/go/build.sh: goplugin-host and goplugin-kv use hashicorp/go-plugin
1.0.1, kvref and kvclient plain grpc-go 1.33. A Python grpcio client stands
in for pyvider-style hosts.

Every test runs in a `sandbox`: a fresh directory with its own TMPDIR,
PLUGIN_UNIX_SOCKET_DIR and KV_STORAGE_DIR, and a marker variable that every
process the test starts inherits. On teardown the sandbox asserts that no
process carrying the marker is still alive and that no file (socket or
otherwise) was left in the temp and socket directories.
"""

import base64
import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

SOUPC = os.environ.get("SOUPC_BIN") or os.path.join(ROOT, "build", "soup-c")
PEERS = os.environ.get("SOUPC_GO_PEERS") or os.path.join(ROOT, "peers", "go", "bin")


def peer(name):
    return os.path.join(PEERS, name)


GOPLUGIN_HOST = peer("goplugin-host")
GOPLUGIN_KV = peer("goplugin-kv")
KVREF = peer("kvref")
KVCLIENT = peer("kvclient")

COOKIE_MESSAGE = (
    b"This binary is a plugin. These are not meant to be executed directly.\n"
    b"Please execute the program that consumes these plugins, which will\n"
    b"load any plugins automatically"
)

# Variables a caller's environment may carry that would change what a test
# means; each test sets what it needs explicitly.
_SCRUB = (
    "BASIC_PLUGIN", "PLUGIN_MAGIC_COOKIE_KEY", "PLUGIN_CLIENT_CERT",
    "PLUGIN_PROTOCOL_VERSIONS", "PLUGIN_SERVER_PATH", "PLUGIN_UNIX_SOCKET_DIR",
    "PLUGIN_MULTIPLEX_GRPC", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT",
    "PLUGIN_AUTO_MTLS", "TLS_MODE", "TLS_KEY_TYPE", "TLS_CURVE", "TLS_KEY_SIZE",
    "KV_STORAGE_DIR", "TOFUSOUP_CACHE_DIR", "LOG_LEVEL", "GOPLUGIN_KV_REPORT",
)

MARKER = "SOUPC_INTEROP_SANDBOX"


def _pids_with_marker(value):
    needle = ("%s=%s" % (MARKER, value)).encode() + b"\0"
    found = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read()
            with open("/proc/%s/stat" % name, "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state == b"Z":
            continue
        if needle in env:
            try:
                cmd = open("/proc/%s/cmdline" % name, "rb").read()
            except OSError:
                cmd = b""
            found.append((int(name), cmd.replace(b"\0", b" ").decode(errors="replace")))
    return found


class Sandbox:
    def __init__(self):
        # Short path: unix socket paths must fit in sun_path (108 bytes).
        self.dir = tempfile.mkdtemp(prefix="sci-", dir="/tmp")
        self.tmp = os.path.join(self.dir, "tmp")
        self.sock = os.path.join(self.dir, "sock")
        self.store = os.path.join(self.dir, "store")
        self.files = os.path.join(self.dir, "files")
        for d in (self.tmp, self.sock, self.store, self.files):
            os.mkdir(d, 0o700)
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.update({
            "TMPDIR": self.tmp,
            "PLUGIN_UNIX_SOCKET_DIR": self.sock,
            "KV_STORAGE_DIR": self.store,
            MARKER: self.dir,
        })
        self.env = env
        self.procs = []

    def environ(self, **extra):
        env = dict(self.env)
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def path(self, name):
        return os.path.join(self.files, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def run(self, argv, timeout=60, env=None, input=None):
        """Run to completion; returns CompletedProcess with bytes output."""
        return subprocess.run(
            argv, env=env or self.env, input=input, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=timeout, cwd=self.files)

    def popen(self, argv, env=None, **kw):
        p = subprocess.Popen(argv, env=env or self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=self.files, **kw)
        self.procs.append(p)
        return p

    def leftovers(self):
        """Files left in the temp and socket directories."""
        left = []
        for d in (self.tmp, self.sock):
            for dirpath, dirnames, filenames in os.walk(d):
                for n in dirnames + filenames:
                    left.append(os.path.join(dirpath, n))
        return left

    def check_clean(self):
        problems = []
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    problems.append("process %d (%s) still running" % (p.pid, p.args))
                    p.kill()
                    p.wait()
        deadline = time.monotonic() + 3.0
        while True:
            alive = _pids_with_marker(self.dir)
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for pid, cmd in alive:
            problems.append("leftover process %d: %s" % (pid, cmd))
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for p in self.leftovers():
            problems.append("leftover file %s" % p)
        return problems

    def cleanup(self):
        for p in self.procs:
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def sandbox():
    sb = Sandbox()
    try:
        yield sb
        problems = sb.check_clean()
        assert not problems, "sandbox not clean after test:\n  " + "\n  ".join(problems)
    finally:
        sb.cleanup()


@pytest.fixture(scope="session", autouse=True)
def _binaries_exist():
    missing = [p for p in (SOUPC, GOPLUGIN_HOST, GOPLUGIN_KV, KVREF, KVCLIENT)
               if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("missing binaries (build soup-c and run peers/go/build.sh): %s" % missing)


# ---------------------------------------------------------------- certificates

def make_cert(key="ec", curve="P-256", bits=2048, cn="localhost"):
    """A self-signed cert shaped like go-plugin's AutoMTLS one (IsCA, SAN
    localhost + 127.0.0.1, EKU client+server). Returns (cert_pem, key_pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    import ipaddress

    if key == "ec":
        k = ec.generate_private_key(
            {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[curve])
        hash_alg = {"P-256": hashes.SHA256(), "P-384": hashes.SHA384(), "P-521": hashes.SHA512()}[curve]
    else:
        k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        hash_alg = hashes.SHA256()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "soup-c interop")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=(key != "ec"),
                                     content_commitment=False, data_encipherment=False,
                                     key_agreement=(key == "ec"), key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                              ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .sign(k, hash_alg)
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    return cert_pem, key_pem


def der_b64_to_pem(field):
    """Handshake field 6 (base64 DER, padded or not) -> PEM bytes."""
    field = field.strip()
    der = base64.b64decode(field + "=" * (-len(field) % 4))
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) +
            "\n-----END CERTIFICATE-----\n").encode()


def cert_key_name(cert_pem):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    c = x509.load_pem_x509_certificate(cert_pem)
    pk = c.public_key()
    if isinstance(pk, ec.EllipticCurvePublicKey):
        return "ecdsa-" + {"secp256r1": "P-256", "secp384r1": "P-384",
                           "secp521r1": "P-521"}.get(pk.curve.name, pk.curve.name)
    if isinstance(pk, rsa.RSAPublicKey):
        return "rsa-%d" % pk.key_size
    return type(pk).__name__


# ------------------------------------------------------- proto.KV by hand
# Hand-encoded protobuf keeps this client independent of any generated code.

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(num, data):
    return _varint((num << 3) | 2) + _varint(len(data)) + data


def encode_put(key, value):
    return _field_bytes(1, key.encode()) + _field_bytes(2, value)


def encode_get(key):
    return _field_bytes(1, key.encode())


def decode_fields(buf):
    """{field number: last value} for varint and length-delimited fields."""
    out, i = {}, 0
    while i < len(buf):
        tag, shift = 0, 0
        while True:
            b = buf[i]; i += 1
            tag |= (b & 0x7F) << shift; shift += 7
            if not b & 0x80:
                break
        num, wt = tag >> 3, tag & 7
        val, shift = 0, 0
        if wt == 0:
            while True:
                b = buf[i]; i += 1
                val |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            out[num] = val
        elif wt == 2:
            n = 0
            while True:
                b = buf[i]; i += 1
                n |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            out[num] = buf[i:i + n]
            i += n
        else:
            raise ValueError("unexpected wire type %d" % wt)
    return out


class KVStub:
    """proto.KV plus the go-plugin side services, over a grpcio channel."""

    def __init__(self, channel):
        ident = lambda b: b
        self.channel = channel
        self._put = channel.unary_unary("/proto.KV/Put", request_serializer=ident,
                                        response_deserializer=ident)
        self._get = channel.unary_unary("/proto.KV/Get", request_serializer=ident,
                                        response_deserializer=ident)
        self._health = channel.unary_unary("/grpc.health.v1.Health/Check",
                                           request_serializer=ident, response_deserializer=ident)
        self._shutdown = channel.unary_unary("/plugin.GRPCController/Shutdown",
                                             request_serializer=ident, response_deserializer=ident)

    def put(self, key, value, timeout=10):
        self._put(encode_put(key, value), timeout=timeout)

    def get(self, key, timeout=10):
        return decode_fields(self._get(encode_get(key), timeout=timeout)).get(1, b"")

    def health(self, service="plugin", timeout=10):
        """Returns the status enum (1 = SERVING)."""
        req = _field_bytes(1, service.encode()) if service else b""
        return decode_fields(self._health(req, timeout=timeout)).get(1, 0)

    def shutdown(self, timeout=5):
        self._shutdown(b"", timeout=timeout)


# ------------------------------------------------------- plugin processes

class Plugin:
    """A plugin process started by the test acting as host: first stdout line
    parsed as the handshake, stdout and stderr drained in the background."""

    def __init__(self, sandbox, argv, env, timeout=20):
        self.proc = sandbox.popen(argv, env=env)
        self.stderr = bytearray()
        self.stdout_rest = bytearray()
        self._t_err = threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr),
                                       daemon=True)
        self._t_err.start()
        self.line = self._first_line(timeout)
        self._t_out = threading.Thread(target=self._drain,
                                       args=(self.proc.stdout, self.stdout_rest), daemon=True)
        self._t_out.start()

    @staticmethod
    def _drain(f, buf):
        while True:
            chunk = f.read1(65536) if hasattr(f, "read1") else f.read(65536)
            if not chunk:
                return
            buf.extend(chunk)

    def _first_line(self, timeout):
        result = {}

        def reader():
            result["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            self.proc.kill()
            t.join(5)
            raise AssertionError("no handshake line within %ss; stderr: %r" % (timeout, bytes(self.stderr)))
        if not result["line"]:
            rc = self.proc.wait(timeout=5)
            self._t_err.join(5)
            raise AssertionError("plugin exited (rc %r) without a handshake line; stderr: %r"
                                 % (rc, bytes(self.stderr)))
        return result["line"]

    @property
    def fields(self):
        return self.line.decode().rstrip("\n").split("|")

    def wait(self, timeout):
        rc = self.proc.wait(timeout=timeout)
        self._t_err.join(5)
        if hasattr(self, "_t_out"):
            self._t_out.join(5)
        return rc

    def stop(self):
        """Best-effort stop used on failure paths (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def plugin_channel(fields, client_cert=None, client_key=None):
    """grpcio channel to a plugin from its handshake fields, the way a
    pyvider host dials: pin field 6, target name override localhost."""
    import grpc
    network, addr = fields[2], fields[3]
    target = ("unix:" + addr) if network == "unix" else addr
    cert_field = fields[5] if len(fields) > 5 else ""
    if cert_field:
        creds = grpc.ssl_channel_credentials(
            root_certificates=der_b64_to_pem(cert_field),
            private_key=client_key, certificate_chain=client_cert)
        return grpc.secure_channel(target, creds, options=[
            ("grpc.ssl_target_name_override", "localhost"),
            ("grpc.default_authority", "localhost")])
    return grpc.insecure_channel(target)


def soupc_plugin_env(sandbox, client_cert=None, **extra):
    """The environment a go-plugin host gives its plugin; extra overrides
    (None removes a variable)."""
    base = dict(BASIC_PLUGIN="hello", PLUGIN_PROTOCOL_VERSIONS="1",
                PLUGIN_MIN_PORT="10000", PLUGIN_MAX_PORT="25000")
    base.update(extra)
    env = sandbox.environ(**base)
    if client_cert is not None:
        env["PLUGIN_CLIENT_CERT"] = client_cert.decode()
    return env


def parse_info(stderr):
    """goplugin-host --info line -> dict."""
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("info "):
            out = {}
            for part in line[5:].split(" "):
                if "=" in part:
                    k, v = part.split("=", 1)
                    out[k] = v.strip('"')
            return out
    raise AssertionError("no info line in stderr: %r" % stderr)


def listening_address(proc, timeout=20, with_preamble=False):
    """Read stdout lines up to "Server listening on ADDR" from a standalone
    server. Returns ADDR, or (ADDR, earlier lines) with with_preamble."""
    result = {"lines": []}

    def reader():
        for _ in range(20):
            line = proc.stdout.readline()
            if not line:
                return
            line = line.decode(errors="replace").strip()
            if line.startswith("Server listening on "):
                result["addr"] = line[len("Server listening on "):]
                return
            result["lines"].append(line)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    if "addr" not in result:
        proc.kill()
        proc.wait()
        raise AssertionError("expected 'Server listening on ADDR' on stdout, got %r; stderr: %r"
                             % (result["lines"], proc.stderr.read()))
    if with_preamble:
        return result["addr"], result["lines"]
    return result["addr"]


def stop_server(proc, timeout=5):
    """SIGTERM a standalone server; returns its exit code."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("server did not stop within %ss of SIGTERM" % timeout)
