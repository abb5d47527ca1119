"""Interop: Debian's python3-grpcio (a gRPC client nobody here wrote) puts
and gets through soup-c's standalone server over h2c, TLS and mTLS, on TCP
and on a unix socket. Also the soup-c CLI client against the same server."""

import os
import sys

import grpc
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "pylib"))
import soupc_testlib as lib  # noqa: E402


@pytest.fixture
def h2c_server(tmp_path):
    srv = lib.Server(str(tmp_path / "store"), "--max-message-size", "16M")
    yield srv
    assert srv.stop() == 0


def test_put_get_round_trip_over_h2c(h2c_server):
    kv = lib.KVClient(h2c_server.channel())
    cases = {
        "simple": b"value",
        "nul\x00in key": b"\x00\x01\x02",
        "emoji \U0001F600 and \u05e9\u05dc\u05d5\u05dd": b"",
        "../../etc/passwd": b"not a file",
        "k" * 5000: bytes(range(256)) * 10,
    }
    for key, value in cases.items():
        kv.put(key, value)
    for key, value in cases.items():
        assert kv.get(key) == value
    # No key became a file name: the store directory holds LMDB's two files.
    assert sorted(os.listdir(h2c_server.storage_dir)) == ["data.mdb", "lock.mdb"]


def test_last_write_wins(h2c_server):
    kv = lib.KVClient(h2c_server.channel())
    for v in (b"", b"", b"", b"", b"\x00"):
        kv.put("0", v)
    assert kv.get("0") == b"\x00"


def test_ten_mib_value(tmp_path):
    srv = lib.Server(str(tmp_path / "store"))  # default limits
    try:
        kv = lib.KVClient(srv.channel())
        big = os.urandom(10 * 1024 * 1024)
        kv.put("big", big, timeout=120)
        assert kv.get("big", timeout=120) == big
    finally:
        assert srv.stop() == 0


def test_errors_have_codes_and_messages(h2c_server):
    kv = lib.KVClient(h2c_server.channel())
    with pytest.raises(grpc.RpcError) as e:
        kv.get("missing")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert "missing" in e.value.details()

    with pytest.raises(grpc.RpcError) as e:
        kv.put("", b"x")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "empty" in e.value.details()

    # An invalid UTF-8 key, sent raw at the protobuf level: field 1, 2 bytes.
    with pytest.raises(grpc.RpcError) as e:
        kv.raw("/proto.KV/Put")(b"\x0a\x02\xff\xfe\x12\x01x")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "UTF-8" in e.value.details()

    with pytest.raises(grpc.RpcError) as e:
        kv.put("k" * 70000, b"x")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit" in e.value.details()

    with pytest.raises(grpc.RpcError) as e:
        kv.raw("/proto.KV/Delete")(b"")
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED

    # Over the 16 MiB message limit: RESOURCE_EXHAUSTED naming the limit,
    # and the server goes on serving.
    with pytest.raises(grpc.RpcError) as e:
        kv.put("huge", b"x" * (17 * 1024 * 1024), timeout=120)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert str(16 * 1024 * 1024) in e.value.details()
    kv.put("after", b"ok")
    assert kv.get("after") == b"ok"


def test_unix_socket(tmp_path):
    sock = tmp_path / "kv.sock"
    srv = lib.Server(str(tmp_path / "store"), listen=f"unix:{sock}")
    try:
        kv = lib.KVClient(srv.channel())
        kv.put("u", b"over a unix socket")
        assert kv.get("u") == b"over a unix socket"
    finally:
        assert srv.stop() == 0
    assert not sock.exists()


@pytest.mark.parametrize("key_args,curve", [
    ([], "secp256r1"),  # standalone: soup-c's own choice is P-256
    (["--tls-curve", "auto"], "secp256r1"),
    (["--tls-key-type", "ec", "--tls-curve", "secp256r1"], "secp256r1"),
    (["--tls-key-type", "ec", "--tls-curve", "P-384"], "secp384r1"),
    (["--tls-key-type", "rsa", "--tls-key-bits", "2048"], None),
])
def test_tls_auto(tmp_path, key_args, curve):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    srv = lib.Server(str(tmp_path / "store"), "--tls-mode", "auto", *key_args)
    try:
        assert srv.cert_path is not None
        with open(srv.cert_path, "rb") as f:
            root = f.read()
        key = x509.load_pem_x509_certificate(root).public_key()
        if curve is None:
            assert not isinstance(key, ec.EllipticCurvePublicKey)
        else:
            assert key.curve.name == curve
        kv = lib.KVClient(srv.channel(root_cert=root))
        kv.put("tls", b"secret")
        assert kv.get("tls") == b"secret"
        big = bytes(range(256)) * 4096  # 1 MiB: the zero-copy Get path
        kv.put("big", big)
        assert kv.get("big") == big
        # A plaintext client cannot talk to a TLS server.
        plain = lib.KVClient(grpc.insecure_channel(srv.address))
        with pytest.raises(grpc.RpcError) as e:
            plain.get("tls", timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        assert srv.stop() == 0
    assert not os.path.exists(srv.cert_path)


def _cert(tmp_path, name, *args):
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    r = lib.run_cli("rpc", "cert", "generate", "--out-cert", str(cert),
                    "--out-key", str(key), *args)
    assert r.returncode == 0, r.stderr
    return cert.read_bytes(), key.read_bytes(), str(cert), str(key)


def test_mtls_manual(tmp_path):
    s_cert, _, s_cert_f, s_key_f = _cert(tmp_path, "server", "--key-type", "ec")
    c_cert, c_key, c_cert_f, _ = _cert(tmp_path, "client", "--key-type", "ec",
                                       "--ca")
    o_cert, o_key, _, _ = _cert(tmp_path, "other", "--key-type", "ec", "--ca")
    srv = lib.Server(str(tmp_path / "store"), "--tls-mode", "manual",
                     "--cert-file", s_cert_f, "--key-file", s_key_f,
                     "--client-ca-file", c_cert_f)
    try:
        kv = lib.KVClient(srv.channel(root_cert=s_cert, client_cert=c_cert,
                                      client_key=c_key))
        kv.put("m", b"mutual")
        assert kv.get("m") == b"mutual"
        for cert, key in ((None, None), (o_cert, o_key)):
            bad = lib.KVClient(srv.channel(root_cert=s_cert, client_cert=cert,
                                           client_key=key))
            with pytest.raises(grpc.RpcError) as e:
                bad.get("m", timeout=5)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert kv.get("m") == b"mutual"
    finally:
        assert srv.stop() == 0


def test_cli_client_against_the_server(h2c_server, tmp_path):
    addr = h2c_server.address
    r = lib.run_cli("rpc", "kv", "put", "greeting", "hello world", "--address", addr)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"Key greeting put successfully.\n"
    r = lib.run_cli("rpc", "kv", "get", "greeting", "--address", addr)
    assert (r.returncode, r.stdout) == (0, b"hello world")
    r = lib.run_cli("rpc", "kv", "put", "bin", "-", "--address", addr,
                    input=b"\x00\xffbytes")
    assert r.returncode == 0, r.stderr
    r = lib.run_cli("rpc", "kv", "get", "bin", "--address", addr)
    assert r.stdout == b"\x00\xffbytes"
    r = lib.run_cli("rpc", "kv", "get", "nope", "--address", addr)
    assert r.returncode == 1
    assert b"NOT_FOUND" in r.stderr
    for bad in ("0", "-1", "abc"):
        r = lib.run_cli("rpc", "kv", "get", "k", "--address", addr, "--timeout", bad)
        assert r.returncode == 2, (bad, r.stderr)
        assert b"--timeout" in r.stderr
    r = lib.run_cli("rpc", "kv", "get", "k", "--address", addr, "--bogus")
    assert r.returncode == 2 and b"unknown flag" in r.stderr


def test_server_flag_errors_exit_1_before_listening(tmp_path):
    base = ["rpc", "kv", "server", "--standalone", "--listen", "127.0.0.1:0",
            "--storage-dir", str(tmp_path / "s")]
    for extra, needle in (
        (["--tls-mode", "bogus"], b"--tls-mode"),
        (["--tls-mode", "auto", "--tls-curve", "secp999r1"], b"--tls-curve"),
        (["--tls-mode", "auto", "--tls-key-type", "dsa"], b"--tls-key-type"),
        (["--tls-mode", "manual", "--cert-file", "/nonexistent",
          "--key-file", "/nonexistent"], b"/nonexistent"),
    ):
        r = lib.run_cli(*base, *extra, timeout=30)
        assert r.returncode == 1, (extra, r.stdout, r.stderr)
        assert needle in r.stderr
        assert b"Server listening" not in r.stdout
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
