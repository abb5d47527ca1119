"""gRPC server reflection on soup-c, checked with a client nobody here wrote
the protocol of: peers/go reflect-client drives grpc-go's generated
grpc.reflection.v1alpha client (Debian's golang-google-grpc-dev) and, with
the same messages, the v1 method; every descriptor it gets is resolved by
google.golang.org/protobuf's protodesc. Plugin mode (AutoMTLS over the
handshake line) and standalone mode; --no-reflection; a malformed request
(grpcio) ends only that stream."""

import json
import signal

import grpc
import pytest

from interop_go import (SOUPC, Plugin, listening_address, make_cert, peer, plugin_channel,
                        soupc_plugin_env, stop_server)

REFLECT = peer("reflect-client")
SERVER = [SOUPC, "rpc", "kv", "server"]
REQUIRED = ["proto.KV", "plugin.GRPCBroker", "plugin.GRPCController", "plugin.GRPCStdio",
            "grpc.health.v1.Health"]


def reflect(sandbox, address, api, *extra):
    r = sandbox.run([REFLECT, "--address", address, "--api", api, "--file", "kv.proto",
                     "--file", "plugin.proto", *extra], timeout=60)
    assert r.returncode == 0, "rc=%d stderr=%r" % (r.returncode, r.stderr)
    return json.loads(r.stdout)


def check_answers(out, plugin_mode):
    services = out["services"]
    assert services == sorted(services), services
    want = REQUIRED + ["grpc.reflection.v1.ServerReflection",
                       "grpc.reflection.v1alpha.ServerReflection"]
    if not plugin_mode:
        want = ["proto.KV"] + want[-2:]
    for name in want:
        assert name in services, (name, services)
        assert name in out["described"], "%s listed but not described" % name
    d = out["described"]
    assert d["proto.KV"]["file"] == "kv.proto"
    assert d["proto.KV"]["methods"] == ["Get(proto.GetRequest)->proto.GetResponse",
                                        "Put(proto.PutRequest)->proto.Empty"]
    if plugin_mode:
        assert d["plugin.GRPCBroker"]["methods"] == ["StartStream(plugin.ConnInfo)->plugin.ConnInfo"]
        assert d["plugin.GRPCController"]["methods"] == ["Shutdown(plugin.Empty)->plugin.Empty"]
        assert d["plugin.GRPCStdio"]["methods"] == ["StreamStdio(plugin.Empty)->plugin.StdioData"]
        assert d["grpc.health.v1.Health"]["methods"][0].startswith(
            "Check(grpc.health.v1.HealthCheckRequest)")
        assert set(out["files"]["plugin.proto"]) >= {"plugin.GRPCBroker", "plugin.ConnInfo"}
    assert "proto.KV" in out["files"]["kv.proto"]
    assert out["method_file"] == ["health.proto"]
    # Unknown names: an ErrorResponse with NOT_FOUND, and the stream goes on.
    assert out["unknown_symbol"]["code"] == 5, out["unknown_symbol"]
    assert "no.such.Service" in out["unknown_symbol"]["message"]
    assert out["unknown_file"]["code"] == 5, out["unknown_file"]
    assert out["unknown_extension"]["code"] == 5, out["unknown_extension"]
    assert out["extension_numbers"] == {"base": "proto.GetRequest", "numbers": None}


@pytest.mark.parametrize("api", ["v1", "v1alpha"])
def test_reflection_plugin_mode_automtls(sandbox, api):
    cert, key = make_cert("ec", curve="P-256")
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox, client_cert=cert))
    try:
        out = reflect(sandbox, plugin.line.decode().strip(), api,
                      "--cert-file", sandbox.write("c.crt", cert),
                      "--key-file", sandbox.write("c.key", key))
        check_answers(out, plugin_mode=True)
        plugin.proc.send_signal(signal.SIGTERM)
        assert plugin.wait(5) == 0
    finally:
        plugin.stop()


def test_reflection_standalone(sandbox):
    p = sandbox.popen(SERVER + ["--standalone", "--listen", "127.0.0.1:0"])
    addr = listening_address(p)
    check_answers(reflect(sandbox, addr, "v1alpha"), plugin_mode=False)
    check_answers(reflect(sandbox, addr, "v1"), plugin_mode=False)
    assert stop_server(p) == 0


def test_no_reflection(sandbox):
    p = sandbox.popen(SERVER + ["--standalone", "--listen", "127.0.0.1:0", "--no-reflection"])
    addr = listening_address(p)
    r = sandbox.run([REFLECT, "--address", addr, "--api", "v1"], timeout=60)
    assert r.returncode == 1
    assert b"Unimplemented" in r.stderr, r.stderr
    assert stop_server(p) == 0


def test_malformed_request_ends_only_that_stream(sandbox):
    plugin = Plugin(sandbox, SERVER, soupc_plugin_env(sandbox))
    try:
        with plugin_channel(plugin.fields) as ch:
            call = ch.stream_stream(
                "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                request_serializer=None, response_deserializer=None)
            # Field 3 (file_by_filename) claiming 100 bytes it does not have.
            with pytest.raises(grpc.RpcError) as ei:
                list(call(iter([b"\x1a\x64abc"]), timeout=10))
            assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "malformed ServerReflectionRequest" in ei.value.details()
            # No request field at all.
            with pytest.raises(grpc.RpcError) as ei:
                list(call(iter([b"\x0a\x01h"]), timeout=10))
            assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            # The plugin still answers, on a fresh stream and on Health.
            out = list(call(iter([b"\x3a\x00"]), timeout=10))
            assert len(out) == 1 and b"proto.KV" in out[0]
        out = reflect(sandbox, plugin.line.decode().strip(), "v1")
        assert "proto.KV" in out["services"]
        plugin.proc.send_signal(signal.SIGTERM)
        assert plugin.wait(5) == 0
    finally:
        plugin.stop()
