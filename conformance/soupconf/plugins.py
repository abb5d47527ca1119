"""The suite acting as a go-plugin host: launch a plugin with the host's
certificate on one of the paths it can take, read the handshake line, and
dial the plugin the way hosts and reattaching clients do.

Certificate paths (how the host's certificate reaches the plugin):
  env     PLUGIN_CLIENT_CERT=<PEM> (go-plugin's AutoMTLS)
  fd      SOUPC_PLUGIN_CLIENT_CERT_FD=<fd>, the PEM written on a pipe after
          the spawn (soup-c's host with client_cert_pipe)
A reattaching client (soup-c rpc kv --address '<handshake line>', Go
kvclient --address) then presents the host's certificate from files.
"""

import base64
import datetime
import ipaddress
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import List, Optional

import grpc

COOKIE = ("BASIC_PLUGIN", "hello")


@dataclass
class Identity:
    cert_pem: bytes
    key_pem: bytes

    def write(self, dirpath: str, name: str):
        os.makedirs(dirpath, exist_ok=True)
        c, k = os.path.join(dirpath, name + ".crt"), os.path.join(dirpath, name + ".key")
        with open(c, "wb") as f:
            f.write(self.cert_pem)
        with open(k, "wb") as f:
            f.write(self.key_pem)
        return c, k


def make_identity(curve: str = "P-256", cn: str = "localhost") -> Identity:
    """A self-signed certificate shaped like go-plugin's AutoMTLS one: IsCA
    (the other side pins it as its only root), SAN localhost/127.0.0.1,
    EKU serverAuth + clientAuth."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    curves = {"P-256": (ec.SECP256R1(), hashes.SHA256()), "P-384": (ec.SECP384R1(), hashes.SHA384()),
              "P-521": (ec.SECP521R1(), hashes.SHA512())}
    c, h = curves[curve]
    key = ec.generate_private_key(c)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(seconds=30))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False,
                                         content_commitment=False, data_encipherment=False,
                                         key_agreement=True, key_cert_sign=True, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, h))
    return Identity(cert.public_bytes(serialization.Encoding.PEM),
                    key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


def der_b64_to_pem(field: str) -> bytes:
    der = base64.b64decode(field + "=" * (-len(field) % 4))
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


class PluginProcess:
    """`argv` started as a go-plugin plugin, with @p host's certificate on
    @p path ("env", "fd", or None for no AutoMTLS)."""

    def __init__(self, argv: List[str], workdir: str, host: Optional[Identity], path: Optional[str],
                 env_extra: Optional[dict] = None, timeout: float = 30.0) -> None:
        os.makedirs(workdir, exist_ok=True)
        sockdir = os.path.join(workdir, "sock")
        os.makedirs(sockdir, exist_ok=True)
        env = dict(os.environ)
        for k in ("PLUGIN_CLIENT_CERT", "SOUPC_PLUGIN_CLIENT_CERT_FD", "PLUGIN_MULTIPLEX_GRPC"):
            env.pop(k, None)
        env.update({COOKIE[0]: COOKIE[1], "PLUGIN_PROTOCOL_VERSIONS": "1", "PLUGIN_MIN_PORT": "10000",
                    "PLUGIN_MAX_PORT": "25000", "PLUGIN_UNIX_SOCKET_DIR": sockdir,
                    "KV_STORAGE_DIR": os.path.join(workdir, "store")})
        for k, v in (env_extra or {}).items():  # None removes a variable
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        pass_fds = ()
        write_end = None
        if host is not None and path == "env":
            env["PLUGIN_CLIENT_CERT"] = host.cert_pem.decode()
        elif host is not None and path == "fd":
            r, write_end = os.pipe()
            env["SOUPC_PLUGIN_CLIENT_CERT_FD"] = str(r)
            pass_fds = (r,)
        elif path is not None:
            raise ValueError("unknown certificate path %r" % path)
        self.errlog = open(os.path.join(workdir, "plugin-stderr.log"), "w+b")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.errlog, pass_fds=pass_fds, start_new_session=True)
        if pass_fds:
            os.close(pass_fds[0])
            # After the spawn, as soup-c's host does: the plugin reads it
            # while it makes its own key.
            os.write(write_end, host.cert_pem)
            os.close(write_end)
        self.line = self._first_line(timeout)
        self.fields = self.line.strip().split("|")
        self.rest = []
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _first_line(self, timeout):
        out = {}

        def read():
            out["line"] = self.proc.stdout.readline().decode(errors="replace")
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        line = out.get("line", "")
        if not line.strip():
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
            err = self.stderr_text()[-2000:]
            self.kill()
            raise RuntimeError("plugin printed no handshake line (rc=%s): %s" % (self.proc.returncode, err))
        return line

    def _read_rest(self):
        for raw in self.proc.stdout:
            self.rest.append(raw)

    def stderr_text(self) -> str:
        try:
            self.errlog.flush()
            with open(self.errlog.name, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""

    @property
    def target(self) -> str:
        return ("unix:" + self.fields[3]) if self.fields[2] == "unix" else self.fields[3]

    @property
    def server_cert_pem(self) -> Optional[bytes]:
        f6 = self.fields[5] if len(self.fields) > 5 else ""
        return der_b64_to_pem(f6) if f6 else None

    def channel(self, client: Optional[Identity] = None, plaintext: bool = False) -> grpc.Channel:
        """grpcio, as a pyvider host dials: field 6 pinned as the only root."""
        root = self.server_cert_pem
        if plaintext or root is None:
            return grpc.insecure_channel(self.target)
        creds = grpc.ssl_channel_credentials(
            root_certificates=root, private_key=client.key_pem if client else None,
            certificate_chain=client.cert_pem if client else None)
        return grpc.secure_channel(self.target, creds, options=[
            ("grpc.ssl_target_name_override", "localhost"), ("grpc.default_authority", "localhost")])

    def shutdown(self, client: Optional[Identity]) -> int:
        """GRPCController.Shutdown, then the exit status (SIGKILL after 5 s)."""
        ch = self.channel(client)
        try:
            ch.unary_unary("/plugin.GRPCController/Shutdown", request_serializer=lambda b: b,
                           response_deserializer=lambda b: b)(b"", timeout=5)
        except grpc.RpcError:
            pass
        finally:
            ch.close()
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait()
        try:
            self.errlog.close()
        except OSError:
            pass
