"""What soup-c in plugin mode must refuse: a launch without go-plugin's magic
cookie, a client whose certificate is not PLUGIN_CLIENT_CERT, and a plaintext
client when mTLS is on. Also soup-c as host refusing a binary that is no
plugin."""

import grpc
import pytest

from interop_go import (COOKIE_MESSAGE, KVCLIENT, KVStub, Plugin, SOUPC, make_cert,
                        plugin_channel, soupc_plugin_env)

SERVER = [SOUPC, "rpc", "kv", "server"]


@pytest.mark.parametrize("cookie", [None, "goodbye", ""], ids=["missing", "wrong", "empty"])
def test_bad_cookie_exits_1_with_go_plugin_message(sandbox, cookie):
    env = soupc_plugin_env(sandbox)
    if cookie is None:
        del env["BASIC_PLUGIN"]
    else:
        env["BASIC_PLUGIN"] = cookie
    r = sandbox.run(SERVER, env=env, timeout=20)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == b""
    assert COOKIE_MESSAGE in r.stderr, r.stderr


def rpc_fails(fields, **creds):
    with plugin_channel(fields, **creds) as ch:
        with pytest.raises(grpc.RpcError) as ei:
            KVStub(ch).put("refused", b"x", timeout=5)
    return ei.value.code()


def test_client_cert_other_than_plugin_client_cert_is_refused(sandbox):
    trusted_cert, trusted_key = make_cert()
    other_cert, other_key = make_cert()  # same shape, different key
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=trusted_cert))
    try:
        f = plugin.fields
        assert f[5], "mTLS plugin must publish its certificate"
        assert rpc_fails(f, client_cert=other_cert, client_key=other_key) == grpc.StatusCode.UNAVAILABLE
        assert rpc_fails(f) == grpc.StatusCode.UNAVAILABLE  # TLS, no client cert
        # The refusals did not hurt the plugin: the trusted client still works.
        with plugin_channel(f, client_cert=trusted_cert, client_key=trusted_key) as ch:
            stub = KVStub(ch)
            stub.put("k", b"v")
            assert stub.get("k") == b"v"
            try:
                stub.shutdown()
            except grpc.RpcError:
                pass
        assert plugin.wait(timeout=2.5) == 0
    finally:
        plugin.stop()


def test_plaintext_client_to_mtls_plugin_fails(sandbox):
    cert, key = make_cert()
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=cert))
    try:
        plaintext = plugin.fields[:5] + [""]
        assert rpc_fails(plaintext) == grpc.StatusCode.UNAVAILABLE
        with plugin_channel(plugin.fields, client_cert=cert, client_key=key) as ch:
            stub = KVStub(ch)
            assert stub.health() == 1
            try:
                stub.shutdown()
            except grpc.RpcError:
                pass
        assert plugin.wait(timeout=2.5) == 0
    finally:
        plugin.stop()


def test_soupc_host_refuses_a_binary_that_is_not_a_plugin(sandbox):
    r = sandbox.run([SOUPC, "rpc", "kv", "get", "k", "--plugin", "/bin/false"], timeout=60)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == b""
    assert r.stderr.strip(), "expected an error message"


@pytest.mark.parametrize("curve", ["P-256", "P-521"])
def test_grpc_go_client_needs_the_plugin_client_cert(sandbox, curve):
    """grpc-go (kvclient) dials the handshake line, pinning field 6: the cert
    from PLUGIN_CLIENT_CERT gets in, another one is refused."""
    trusted_cert, trusted_key = make_cert(curve=curve)
    other_cert, other_key = make_cert(curve=curve)
    good = ["--cert-file", sandbox.write("t.crt", trusted_cert), "--key-file", sandbox.write("t.key", trusted_key)]
    bad = ["--cert-file", sandbox.write("o.crt", other_cert), "--key-file", sandbox.write("o.key", other_key)]
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=trusted_cert))
    try:
        line = plugin.line.decode().strip()
        r = sandbox.run([KVCLIENT, "--address", line, "--timeout", "5s", *bad, "put", "k", "v"], timeout=30)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert b"code=Unavailable" in r.stderr, r.stderr
        r = sandbox.run([KVCLIENT, "--address", line, "--timeout", "5s", *good, "put", "k", "v"], timeout=30)
        assert r.returncode == 0, (r.stdout, r.stderr)
        r = sandbox.run([KVCLIENT, "--address", line, "--timeout", "5s", *good, "get", "k"], timeout=30)
        assert (r.returncode, r.stdout) == (0, b"v\n"), r.stderr
        with plugin_channel(plugin.fields, client_cert=trusted_cert, client_key=trusted_key) as ch:
            try:
                KVStub(ch).shutdown()
            except grpc.RpcError:
                pass
        assert plugin.wait(timeout=2.5) == 0
    finally:
        plugin.stop()
