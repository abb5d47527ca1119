"""soup-c as go-plugin host (`soup-c rpc kv put|get` without --address)
launches the reference Go plugin goplugin-kv (plugin.Serve, go-plugin 1.0.1).
goplugin-kv records, per RPC, whether the connection was TLS and which client
certificate the host presented (GOPLUGIN_KV_REPORT)."""

import re

import pytest

from interop_go import GOPLUGIN_KV, SOUPC


def report_lines(path):
    try:
        with open(path) as f:
            return [line.rstrip("\n") for line in f]
    except FileNotFoundError:
        return []


def kv(sandbox, args, automtls=True, env=None):
    argv = [SOUPC, "rpc", "kv", *args]
    if "--plugin" not in args and env is None:
        argv += ["--plugin", GOPLUGIN_KV]
    if not automtls:
        argv.append("--no-automtls")
    return sandbox.run(argv, env=env, timeout=60)


def assert_ok(r):
    assert r.returncode == 0, "rc=%d\nstdout=%r\nstderr=%r" % (r.returncode, r.stdout, r.stderr)


def assert_value(stdout, value):
    # soup-go prints value + "\n"; soup-c may print the raw bytes.
    assert stdout in (value, value + b"\n"), stdout


@pytest.mark.parametrize("automtls", [True, False], ids=["automtls", "no-automtls"])
def test_put_then_get_through_go_plugin(sandbox, automtls):
    report = sandbox.path("report.txt")
    sandbox.env["GOPLUGIN_KV_REPORT"] = report
    value = "h\u00e9llo w\u00f6rld \u2713"

    r = kv(sandbox, ["put", "greeting", value], automtls=automtls)
    assert_ok(r)
    assert r.stdout == b"Key greeting put successfully.\n"

    r = kv(sandbox, ["get", "greeting"], automtls=automtls)
    assert_ok(r)
    assert_value(r.stdout, value.encode())

    lines = report_lines(report)
    starts = [l for l in lines if l.startswith("start ")]
    rpcs = [l for l in lines if l.startswith("rpc=")]
    assert len(starts) == 2, lines  # one plugin process per CLI call
    assert [l.split()[0] for l in rpcs] == ["rpc=Put", "rpc=Get"], lines
    for l in starts:
        assert ("client_cert_env=yes" if automtls else "client_cert_env=no") in l, l
    for l in rpcs:
        if automtls:
            assert re.search(r" tls=1\.[23] ", l), l
            assert re.search(r"client_cert=(ecdsa-P-(256|384|521)|rsa-\d+)$", l), l
        else:
            assert l.endswith(" tls=none client_cert=none"), l


def test_get_of_missing_key_fails(sandbox):
    r = kv(sandbox, ["get", "no-such-key"])
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == b""
    assert b"key not found: no-such-key" in r.stderr


def test_plugin_server_path_env_selects_the_plugin(sandbox):
    report = sandbox.path("report.txt")
    env = sandbox.environ(PLUGIN_SERVER_PATH=GOPLUGIN_KV, GOPLUGIN_KV_REPORT=report)
    r = kv(sandbox, ["put", "via-env", "yes"], env=env)
    assert_ok(r)
    assert r.stdout == b"Key via-env put successfully.\n"
    r = kv(sandbox, ["get", "via-env"], env=env)
    assert_ok(r)
    assert_value(r.stdout, b"yes")
    assert sum(l.startswith("rpc=") for l in report_lines(report)) == 2


def test_empty_value_round_trips(sandbox):
    assert_ok(kv(sandbox, ["put", "empty", ""]))
    r = kv(sandbox, ["get", "empty"])
    assert_ok(r)
    assert_value(r.stdout, b"")


def test_binary_value_from_file_round_trips_byte_exact(sandbox):
    value = bytes(range(256)) * 64 + b"\x00tail\x00"
    src = sandbox.write("value.bin", value)
    r = kv(sandbox, ["put", "blob", "--value-file", src])
    assert_ok(r)
    assert r.stdout == b"Key blob put successfully.\n"
    r = kv(sandbox, ["get", "blob"])
    assert_ok(r)
    assert_value(r.stdout, value)
    # goplugin-kv stored exactly those bytes (rpc-spec.md §4.2 file layout).
    with open(sandbox.store + "/kv-data-blob", "rb") as f:
        assert f.read() == value


@pytest.mark.parametrize("mtls", [True, False], ids=["mtls", "plaintext"])
def test_reattach_by_handshake_line_to_a_running_go_plugin(sandbox, mtls):
    """soup-c --address takes go-plugin's own handshake line (unpadded base64
    cert), and a CLI call on a reattached plugin must not shut it down
    (rpc-spec.md §7.5)."""
    from interop_go import KVStub, Plugin, make_cert, plugin_channel, soupc_plugin_env
    cert = key = None
    tls = []
    if mtls:
        cert, key = make_cert()
        tls = ["--cert-file", sandbox.write("c.crt", cert), "--key-file", sandbox.write("c.key", key)]
    plugin = Plugin(sandbox, [GOPLUGIN_KV], soupc_plugin_env(sandbox, client_cert=cert))
    try:
        line = plugin.line.decode().strip()
        assert bool(plugin.fields[5]) == mtls
        r = sandbox.run([SOUPC, "rpc", "kv", "put", "re", "attached", "--address", line, *tls], timeout=30)
        assert_ok(r)
        assert r.stdout == b"Key re put successfully.\n"
        r = sandbox.run([SOUPC, "rpc", "kv", "get", "re", "--address", line, *tls], timeout=30)
        assert_ok(r)
        assert_value(r.stdout, b"attached")
        assert plugin.proc.poll() is None, "the plugin exited after a reattached CLI call"
        with plugin_channel(plugin.fields, client_cert=cert, client_key=key) as ch:
            try:
                KVStub(ch).shutdown()
            except Exception:
                pass  # go-plugin's Stop may drop the reply
        assert plugin.wait(timeout=2.5) == 0
    finally:
        plugin.stop()


def test_value_over_go_plugin_receive_limit_is_resource_exhausted(sandbox):
    # go-plugin's DefaultGRPCServer keeps grpc-go's 4 MiB receive limit.
    src = sandbox.write("big.bin", b"x" * (5 << 20))
    r = kv(sandbox, ["put", "big", "--value-file", src])
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr[-300:])
    assert r.stdout == b""
    assert b"RESOURCE_EXHAUSTED" in r.stderr, r.stderr[-300:]
