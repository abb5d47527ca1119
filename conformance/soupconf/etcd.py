"""A real etcd cluster on loopback for soup-c's etcd backend (Debian's
etcd-server and etcdctl), and the `soup-c-etcd` implementation: soup-c's
standalone server with `--store etcd` on that cluster.

EtcdCluster(workdir, members=3) starts `members` etcd processes on free
loopback ports, each with its own data directory under workdir, waits until
the cluster has a leader, and stops them (and removes nothing outside
workdir) on close(). Members can be killed (-9), stopped (SIGTERM) and
started again with their data, which is what the fault tests do. With
tls=True every member serves https:// with a certificate from a private
certificate (certs.py) and requires soup-c's client certificate (mTLS).

The `soup-c-etcd` implementation starts one cluster lazily for the whole
session (stopped at exit) and gives each soup-c server its own key prefix,
derived from the server's storage path, so tests never see each other's
keys while a restarted server sees its own again.
"""

import atexit
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import List, Optional

from . import certs

ETCD = os.environ.get("SOUPC_ETCD_BIN") or shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = os.environ.get("SOUPC_ETCDCTL_BIN") or shutil.which("etcdctl") or "/usr/bin/etcdctl"


def available() -> Optional[str]:
    """None if etcd and etcdctl are installed, else why not."""
    for b in (ETCD, ETCDCTL):
        if not os.access(b, os.X_OK):
            return "%s not found (apt-get install etcd-server etcd-client)" % b
    return None


def _free_ports(n: int) -> List[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class EtcdError(Exception):
    pass


class Member:
    def __init__(self, cluster: "EtcdCluster", idx: int, client_port: int, peer_port: int) -> None:
        self.cluster = cluster
        self.idx = idx
        self.name = "m%d" % idx
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = os.path.join(cluster.workdir, self.name + ".etcd")
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0

    @property
    def scheme(self) -> str:
        return "https" if self.cluster.tls else "http"

    @property
    def client_url(self) -> str:
        return "%s://127.0.0.1:%d" % (self.scheme, self.client_port)

    @property
    def peer_url(self) -> str:
        return "http://127.0.0.1:%d" % self.peer_port

    def argv(self) -> List[str]:
        c = self.cluster
        a = [ETCD, "--name", self.name, "--data-dir", self.data_dir,
             "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
             "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
             "--initial-cluster", c.initial_cluster, "--initial-cluster-token", c.token,
             "--initial-cluster-state", "new",
             "--heartbeat-interval", str(c.heartbeat_ms), "--election-timeout", str(c.election_ms)]
        if c.max_request_bytes:
            a += ["--max-request-bytes", str(c.max_request_bytes)]
        if c.tls:
            a += ["--cert-file", c.files["server_cert"], "--key-file", c.files["server_key"],
                  "--trusted-ca-file", c.files["client_ca"], "--client-cert-auth"]
        return a

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        log = open(os.path.join(self.cluster.workdir, "%s-%d.log" % (self.name, self.starts)), "wb")
        self.starts += 1
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: no clean shutdown, no chance to hand over leadership."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


class EtcdCluster:
    def __init__(self, workdir: str, members: int = 3, tls: bool = False,
                 max_request_bytes: Optional[int] = None,
                 heartbeat_ms: int = 100, election_ms: int = 1000) -> None:
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.tls = tls
        self.max_request_bytes = max_request_bytes
        self.heartbeat_ms = heartbeat_ms
        self.election_ms = election_ms
        self.token = "soupc-" + os.path.basename(workdir.rstrip("/"))
        self.files = {}
        if tls:
            self._make_certs()
        ports = _free_ports(2 * members)
        self.members = [Member(self, i, ports[2 * i], ports[2 * i + 1]) for i in range(members)]
        self.initial_cluster = ",".join("%s=%s" % (m.name, m.peer_url) for m in self.members)

    def _make_certs(self) -> None:
        # certs.generate makes self-signed CA:TRUE certificates (SAN
        # 127.0.0.1, EKU server+client): each is its own trust anchor. The
        # members trust the client's, soup-c trusts the members'.
        d = os.path.join(self.workdir, "pki")
        srv = certs.generate(d, "server")
        cli = certs.generate(d, "client")
        self.files = {"ca": srv["cert"], "server_cert": srv["cert"], "server_key": srv["key"],
                      "client_ca": cli["cert"], "client_cert": cli["cert"], "client_key": cli["key"]}

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 60.0) -> "EtcdCluster":
        for m in self.members:
            m.start()
        try:
            self.wait_healthy(timeout)
        except Exception:
            self.close()
            raise
        return self

    def close(self) -> None:
        for m in self.members:
            m.kill()

    def __enter__(self) -> "EtcdCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def endpoints(self) -> str:
        return ",".join(m.client_url for m in self.members)

    def soupc_flags(self, prefix: Optional[str] = None) -> List[str]:
        """soup-c rpc kv server flags for this cluster."""
        f = ["--store", "etcd", "--etcd-endpoints", self.endpoints]
        if prefix is not None:
            f += ["--etcd-prefix", prefix]
        if self.tls:
            f += ["--etcd-ca-file", self.files["ca"], "--etcd-cert-file", self.files["client_cert"],
                  "--etcd-key-file", self.files["client_key"]]
        return f

    # -- etcdctl -----------------------------------------------------------

    def etcdctl(self, *args: str, endpoints: Optional[str] = None, timeout: float = 15.0) -> str:
        argv = [ETCDCTL, "--endpoints", endpoints or self.endpoints, "--dial-timeout", "2s",
                "--command-timeout", "5s"]
        if self.tls:
            argv += ["--cacert", self.files["ca"], "--cert", self.files["client_cert"],
                     "--key", self.files["client_key"]]
        env = dict(os.environ, ETCDCTL_API="3")
        r = subprocess.run(argv + list(args), capture_output=True, timeout=timeout, env=env)
        if r.returncode != 0:
            raise EtcdError("etcdctl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace").strip()))
        return r.stdout.decode(errors="replace")

    def status(self) -> List[dict]:
        """endpoint status of the members that answer."""
        live = ",".join(m.client_url for m in self.members if m.alive())
        if not live:
            return []
        try:
            out = self.etcdctl("endpoint", "status", "-w", "json", endpoints=live)
        except EtcdError as e:
            # etcdctl prints the members that answered and fails for the rest
            out = str(e)
            return []
        return json.loads(out)

    def leader(self) -> Optional[Member]:
        """The member that is leader now, or None."""
        for st in self.status():
            hdr, lead = st["Status"]["header"], st["Status"]["leader"]
            if lead and hdr["member_id"] == lead:
                for m in self.members:
                    if st["Endpoint"] == m.client_url:
                        return m
        return None

    def followers(self) -> List[Member]:
        lead = self.leader()
        return [m for m in self.members if m is not lead and m.alive()]

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Until every running member answers and one is leader."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for m in self.members:
                if m.proc is not None and m.proc.poll() is not None and m.proc.returncode not in (-9, -15, 0):
                    raise EtcdError("etcd %s exited with %s; log in %s" % (m.name, m.proc.returncode, self.workdir))
            try:
                live = ",".join(m.client_url for m in self.members if m.alive())
                self.etcdctl("endpoint", "health", endpoints=live, timeout=10)
                if self.leader() is not None:
                    return
            except (EtcdError, subprocess.TimeoutExpired) as e:
                last = str(e)
            time.sleep(0.2)
        raise EtcdError("etcd cluster not healthy after %.0fs: %s" % (timeout, last))

    def get(self, key: bytes, timeout: float = 10.0) -> Optional[bytes]:
        """A linearizable etcd Range of exactly @p key through grpcio (any
        bytes, NUL included, which etcdctl's argv cannot carry): the value
        or None. Tries each live member."""
        import grpc
        from . import codec
        req = codec._field_bytes(1, key)  # RangeRequest.key = 1
        last = None
        for m in self.members:
            if not m.alive():
                continue
            target = "127.0.0.1:%d" % m.client_port
            if self.tls:
                creds = grpc.ssl_channel_credentials(open(self.files["ca"], "rb").read(),
                                                     open(self.files["client_key"], "rb").read(),
                                                     open(self.files["client_cert"], "rb").read())
                ch = grpc.secure_channel(target, creds, options=[("grpc.ssl_target_name_override", "localhost")])
            else:
                ch = grpc.insecure_channel(target)
            try:
                resp = ch.unary_unary("/etcdserverpb.KV/Range")(req, timeout=timeout)
            except grpc.RpcError as e:
                last = e
                continue
            finally:
                ch.close()
            kvs = codec.decode_fields(resp).get(2, [])  # RangeResponse.kvs = 2
            if not kvs:
                return None
            vals = codec.decode_fields(kvs[0]).get(5, [b""])  # KeyValue.value = 5
            return vals[0]
        raise EtcdError("no member answered a Range: %s" % last)


# ---- the soup-c-etcd implementation for the conformance families ---------

_SESSION = {}


def session_cluster() -> EtcdCluster:
    """One 3-member cluster for the test session, stopped at exit."""
    c = _SESSION.get("cluster")
    if c is None:
        d = tempfile.mkdtemp(prefix="soupc-etcd-")
        c = EtcdCluster(d).start()
        _SESSION["cluster"] = c

        def stop():
            c.close()
            shutil.rmtree(d, ignore_errors=True)
        atexit.register(stop)
        _SESSION["stop"] = stop
    return c


def close_session_cluster() -> None:
    stop = _SESSION.pop("stop", None)
    _SESSION.pop("cluster", None)
    if stop is not None:
        stop()


def prefix_for(storage: str) -> str:
    """A per-server key prefix: the same for a restarted server."""
    return "soupconf/%s/" % hashlib.sha256(storage.encode()).hexdigest()[:16]


def make_impl(cluster: Optional[EtcdCluster] = None):
    """The soup-c-etcd Impl (servers.py registers it by name): on @p cluster,
    or on the session's cluster, started when first needed."""
    from .servers import SoupC, _tls_flags

    class SoupCEtcd(SoupC):
        def __init__(self) -> None:
            super().__init__()
            self.name = "soup-c-etcd"

        def cluster(self) -> EtcdCluster:
            return cluster if cluster is not None else session_cluster()

        def available(self):
            why = super().available() or available()
            if why:
                return why
            self.cluster()
            return None

        def argv(self, listen, storage, tls, tls_files, extra):
            return [self.binary, "rpc", "kv", "server", "--standalone", "--listen", listen] + \
                self.cluster().soupc_flags(prefix_for(storage)) + _tls_flags(tls, tls_files) + extra

        def close(self) -> None:
            if cluster is None:
                close_session_cluster()

    return SoupCEtcd()
