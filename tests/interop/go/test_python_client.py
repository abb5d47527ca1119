"""A Python grpcio client (the way pyvider hosts dial) connects to soup-c in
plugin mode through its go-plugin handshake line: the test starts
`soup-c rpc kv server` itself with BASIC_PLUGIN=hello and a
PLUGIN_CLIENT_CERT it generated, pins the certificate from field 6, overrides
the target name to localhost and presents its client certificate."""

import base64
import os

import grpc
import pytest

from interop_go import (KVStub, Plugin, SOUPC, cert_key_name, der_b64_to_pem,
                        make_cert, plugin_channel, soupc_plugin_env)

SERVER = [SOUPC, "rpc", "kv", "server"]


def shutdown_and_wait(plugin, stub):
    """GRPCController.Shutdown must make the plugin exit 0 within go-plugin's 2 s."""
    try:
        stub.shutdown()
    except grpc.RpcError as e:
        # Go plugins may drop the connection before the reply arrives.
        assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), e
    rc = plugin.wait(timeout=2.5)
    assert rc == 0, "exit %r, stderr %r" % (rc, bytes(plugin.stderr))


@pytest.mark.parametrize("client_key", [("ec", "P-256"), ("ec", "P-384"), ("ec", "P-521"), ("rsa", 2048)],
                         ids=["client-P-256", "client-P-384", "client-P-521", "client-rsa-2048"])
def test_grpcio_client_through_handshake_line_with_mtls(sandbox, client_key):
    kind, param = client_key
    cert, key = make_cert("ec", curve=param) if kind == "ec" else make_cert("rsa", bits=param)
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=cert))
    try:
        f = plugin.fields
        assert plugin.line.endswith(b"\n")
        assert len(f) == 6, f
        assert f[0] == "1" and f[1] == "1" and f[4] == "grpc", f
        assert f[2] == "unix" and os.path.dirname(f[3]) == sandbox.sock, f
        assert f[5] and "=" not in f[5], "field 6 must be unpadded base64 DER: %r" % f[5]
        base64.b64decode(f[5] + "=" * (-len(f[5]) % 4), validate=True)
        assert cert_key_name(der_b64_to_pem(f[5])).startswith(("ecdsa-", "rsa-"))

        with plugin_channel(f, client_cert=cert, client_key=key) as ch:
            stub = KVStub(ch)
            assert stub.health("plugin") == 1  # SERVING
            value = b"\x00binary\xff\x00value\n"
            stub.put("bin", value)
            assert stub.get("bin") == value
            stub.put("bin", b"second")
            assert stub.get("bin") == b"second"
            with pytest.raises(grpc.RpcError) as ei:
                stub.get("missing-key")
            assert ei.value.code() == grpc.StatusCode.NOT_FOUND
            shutdown_and_wait(plugin, stub)
    finally:
        plugin.stop()


def test_plaintext_handshake_without_client_cert(sandbox):
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox))
    try:
        assert plugin.line.endswith(b"|grpc|\n"), plugin.line  # empty 6th field, trailing '|'
        with plugin_channel(plugin.fields) as ch:
            stub = KVStub(ch)
            assert stub.health("plugin") == 1
            assert stub.health("") == 1
            stub.put("plain", b"text")
            assert stub.get("plain") == b"text"
            shutdown_and_wait(plugin, stub)
    finally:
        plugin.stop()


def test_nothing_but_the_handshake_on_stdout(sandbox):
    cert, key = make_cert()
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=cert))
    try:
        with plugin_channel(plugin.fields, client_cert=cert, client_key=key) as ch:
            stub = KVStub(ch)
            stub.put("x", b"y")
            shutdown_and_wait(plugin, stub)
        assert plugin.line.count(b"\n") == 1
        assert plugin.line.startswith(b"1|1|unix|")
    finally:
        plugin.stop()


def test_sigint_is_ignored_and_sigterm_stops(sandbox):
    import signal
    import time
    cert, key = make_cert()
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=cert))
    try:
        plugin.proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert plugin.proc.poll() is None, "plugin died on SIGINT"
        with plugin_channel(plugin.fields, client_cert=cert, client_key=key) as ch:
            stub = KVStub(ch)
            stub.put("after-sigint", b"ok")
            assert stub.get("after-sigint") == b"ok"
        plugin.proc.send_signal(signal.SIGTERM)
        plugin.wait(timeout=3)
    finally:
        plugin.stop()


@pytest.mark.parametrize("versions", ["1", "2,1", "3,1,2", "2", None, "x,1"],
                         ids=["1", "2,1", "3,1,2", "2-only", "unset", "junk,1"])
def test_app_version_negotiation_always_answers_1(sandbox, versions):
    # soup-c serves app version 1 only: the highest common one, else its
    # lowest (go-plugin-protocol.md §2.2); the host judges a mismatch.
    env = soupc_plugin_env(sandbox, PLUGIN_PROTOCOL_VERSIONS=versions)
    plugin = Plugin(sandbox, SERVER, env)
    try:
        assert plugin.fields[:2] == ["1", "1"], plugin.line
        with plugin_channel(plugin.fields) as ch:
            shutdown_and_wait(plugin, KVStub(ch))
    finally:
        plugin.stop()
