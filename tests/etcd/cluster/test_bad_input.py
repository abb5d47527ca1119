"""Bad input for soup-c's etcd backend: each gets a clear error, the server
keeps serving, and nothing already stored is lost. Also: TLS and mTLS to
etcd, the key rules on etcd (NUL, any Unicode, long keys), plugin mode with
the backend chosen through the environment (and `rpc validate connection`
reporting the backend there), and the flag checks."""

import os
import socket
import subprocess

import pytest

from soupconf import etcd
from soupconf.client import KVError
from soupconf.servers import ServerStartError, soupc_bin


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    c = etcd.EtcdCluster(str(tmp_path_factory.mktemp("etcd3"))).start()
    yield c
    c.close()


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    c = etcd.EtcdCluster(str(tmp_path_factory.mktemp("etcd-tls")), members=1, tls=True).start()
    yield c
    c.close()


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_endpoint_serves_unavailable_with_the_reason(soupc):
    url = "http://127.0.0.1:%d" % _closed_port()
    srv = soupc(flags=["--store", "etcd", "--etcd-endpoints", url, "--etcd-timeout", "2"])
    with srv.client(timeout=10) as c:
        for call in (lambda: c.put(b"k", b"v"), lambda: c.get(b"k")):
            with pytest.raises(KVError) as e:
                call()
            assert e.value.code == "UNAVAILABLE"
            assert url in e.value.details and "refused" in e.value.details, e.value.details
    assert "not applied" in _put_error(srv)
    r = subprocess.run([soupc_bin(), "rpc", "validate", "connection", "--address", srv.address],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "store backend: UNAVAILABLE" in r.stderr and url in r.stderr, r.stderr
    assert srv.alive()


def _put_error(srv):
    with srv.client(timeout=10) as c:
        try:
            c.put(b"k", b"v")
        except KVError as e:
            return e.details
    return ""


def test_over_limit_value_is_resource_exhausted_naming_the_etcd_flag(shared_cluster, soupc):
    srv = soupc(shared_cluster)
    with srv.client(timeout=20) as c:
        c.put(b"big", b"kept")
        for size in (2 * 1024 * 1024, 8 * 1024 * 1024):
            with pytest.raises(KVError) as e:
                c.put(b"big", b"x" * size)
            assert e.value.code == "RESOURCE_EXHAUSTED", e.value
            assert "--max-request-bytes" in e.value.details, e.value.details
        assert c.get(b"big") == b"kept"  # nothing lost
        near = b"y" * (1024 * 1024 + 400 * 1024)  # under the 1.5 MiB default
        c.put(b"near", near)
        assert c.get(b"near") == near
    assert srv.alive()


def test_keys_with_nul_unicode_and_64k_bytes_round_trip(shared_cluster, soupc):
    srv = soupc(shared_cluster)
    keys = [b"a", b"a\x00", b"a\x00b", "\u05e9\u05dc\u05d5\u05dd \U0001F980 e\u0301".encode(),
            b"k" * 65536, b"k" * 65535 + b"\x00"]
    with srv.client(timeout=20) as c:
        for i, k in enumerate(keys):
            c.put(k, b"v%d" % i)
        for i, k in enumerate(keys):
            assert c.get(k) == b"v%d" % i
        assert c.get(b"a\x00c") is None
        c.put(b"empty", b"")
        assert c.get(b"empty") == b""  # a 0-byte value is not a missing key
        with pytest.raises(KVError) as e:
            c.put(b"k" * 65537, b"v")
        assert e.value.code == "INVALID_ARGUMENT"


def test_mtls_to_etcd_works_and_a_wrong_ca_is_a_clear_error(tls_cluster, soupc, tmp_path):
    from soupconf import certs
    srv = soupc(tls_cluster)
    with srv.client(timeout=10) as c:
        c.put(b"tls", b"ok")
        assert c.get(b"tls") == b"ok"
    other = certs.generate(str(tmp_path / "other"), "other")
    flags = tls_cluster.soupc_flags()
    bad = list(flags)
    bad[bad.index("--etcd-ca-file") + 1] = other["cert"]
    srv2 = soupc(flags=bad + ["--etcd-timeout", "2"])
    with srv2.client(timeout=10) as c:
        with pytest.raises(KVError) as e:
            c.get(b"tls")
        assert e.value.code == "UNAVAILABLE"
        assert "certificate" in e.value.details.lower(), e.value.details
    # No client certificate: the members require one.
    nocert = flags[:flags.index("--etcd-cert-file")]
    srv3 = soupc(flags=nocert + ["--etcd-timeout", "2"])
    with srv3.client(timeout=10) as c:
        with pytest.raises(KVError) as e:
            c.get(b"tls")
        assert e.value.code == "UNAVAILABLE", e.value
    assert srv.alive() and srv2.alive() and srv3.alive()
    with srv.client(timeout=10) as c:
        assert c.get(b"tls") == b"ok"


@pytest.mark.parametrize("flags,needle", [
    (["--store", "etcd"], "--store etcd needs --etcd-endpoints"),
    (["--store", "etcd", "--etcd-endpoints", "ftp://h:1"], "want http://HOST:PORT"),
    (["--store", "etcd", "--etcd-endpoints", "http://h"], "has no port"),
    (["--store", "etcd", "--etcd-endpoints", "http://h:1", "--storage-dir", "/tmp/x"],
     "--storage-dir applies to --store lmdb only"),
    (["--etcd-endpoints", "http://h:1"], "--etcd-endpoints needs --store etcd"),
    (["--store", "zk"], "invalid --store"),
    (["--store", "etcd", "--etcd-endpoints", "http://h:1", "--etcd-ca-file", "/nonexistent"],
     "cannot read --etcd-ca-file"),
])
def test_bad_backend_flags_are_one_line_errors(flags, needle):
    r = subprocess.run([soupc_bin(), "rpc", "kv", "server", "--standalone", "--port", "0"] + flags,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert needle in r.stderr, r.stderr
    assert "Server listening" not in r.stdout


def test_plugin_mode_takes_the_backend_from_the_environment(shared_cluster, tmp_path):
    env = dict(os.environ, KV_STORE="etcd", KV_ETCD_ENDPOINTS=shared_cluster.endpoints,
               KV_ETCD_PREFIX="plugin-test/", PLUGIN_SERVER_PATH=soupc_bin())
    env.pop("KV_STORAGE_DIR", None)
    run = lambda *a: subprocess.run([soupc_bin(), "rpc", "kv"] + list(a), capture_output=True,
                                    env=env, timeout=60, cwd=str(tmp_path))
    r = run("put", "plug\u00e9", "via-plugin")
    assert r.returncode == 0, r.stderr
    r = run("get", "plug\u00e9")
    assert r.returncode == 0 and r.stdout == b"via-plugin", r
    assert shared_cluster.get("plugin-test/plug\u00e9".encode()) == b"via-plugin"
    # A wrapper that adds the flags works the same (hosts that run a command).
    wrapper = tmp_path / "plugin.sh"
    wrapper.write_text("#!/bin/sh\nexec %s \"$@\" --store etcd --etcd-endpoints %s --etcd-prefix wrapped/\n"
                       % (soupc_bin(), shared_cluster.endpoints))
    wrapper.chmod(0o755)
    env2 = dict(os.environ, PLUGIN_SERVER_PATH=str(wrapper))
    r = subprocess.run([soupc_bin(), "rpc", "kv", "put", "w", "1"], capture_output=True, env=env2, timeout=60)
    assert r.returncode == 0, r.stderr
    assert shared_cluster.get(b"wrapped/w") == b"1"


def test_validate_connection_reports_the_backend_in_plugin_mode(shared_cluster, tmp_path):
    """go-plugin's health service in the plugin asks the store backend for
    "proto.KV", as a standalone server does."""
    def validate(endpoints):
        env = dict(os.environ, KV_STORE="etcd", KV_ETCD_ENDPOINTS=endpoints,
                   PLUGIN_SERVER_PATH=soupc_bin())
        env.pop("KV_STORAGE_DIR", None)
        return subprocess.run([soupc_bin(), "rpc", "validate", "connection"], capture_output=True,
                              text=True, env=env, timeout=60, cwd=str(tmp_path))
    r = validate(shared_cluster.endpoints)
    assert r.returncode == 0 and "validated successfully" in r.stdout, r.stderr
    url = "http://127.0.0.1:%d" % _closed_port()
    r = validate(url)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "store backend: UNAVAILABLE" in r.stderr and url in r.stderr, r.stderr
