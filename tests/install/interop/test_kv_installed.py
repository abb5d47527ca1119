"""The go-plugin interop pairings of interop/go (go_host_soupc and
soupc_host_goplugin) with programs built only from the installed prefix
(run_interop_installed.sh): kv_plugin, a proto.KV plugin on plugin.h, under
go-plugin 1.0.1's own host (goplugin-host); and kv_host, a host on plugin.h,
launching go-plugin 1.0.1's plugin.Serve (goplugin-kv). With and without
AutoMTLS, over unix and TCP; and the C plugin's gRPC reflection under
grpc-go's client (interop/go/reflection's checks). Each leaves no process
and no socket behind."""
import os
import re
import signal

import pytest

from interop_go import (GOPLUGIN_HOST, GOPLUGIN_KV, Plugin, make_cert, parse_info,
                        soupc_plugin_env)
from test_reflection import check_answers, reflect

KV_PLUGIN_C = os.environ.get("SOUPC_KV_PLUGIN_C", "")
KV_HOST_C = os.environ.get("SOUPC_KV_HOST_C", "")
VALUE = "h\u00e9llo w\u00f6rld \u2713"


def assert_ok(r):
    assert r.returncode == 0, "rc=%d\nstdout=%r\nstderr=%r" % (r.returncode, r.stdout, r.stderr)


def go_host(sandbox, ops, host_flags=(), env=None):
    argv = [GOPLUGIN_HOST, "--info", "--strict-exit", *host_flags, *ops, "--", KV_PLUGIN_C]
    return sandbox.run(argv, env=env, timeout=60)


@pytest.mark.parametrize("automtls", [True, False], ids=["automtls", "no-automtls"])
def test_go_host_runs_the_installed_plugin(sandbox, automtls):
    r = go_host(sandbox, ["put", "greeting", VALUE, "get", "greeting", "ping"],
                host_flags=[] if automtls else ["--no-automtls"])
    assert_ok(r)
    assert r.stdout == ("Key greeting put successfully.\n%s\nping ok\n" % VALUE).encode()
    info = parse_info(r.stderr)
    assert info["health"] == "ok"
    assert info["version"] == "1"
    assert info["network"] == "unix"
    assert os.path.dirname(info["addr"]) == sandbox.sock
    if automtls:
        assert info["tls"] in ("1.2", "1.3")
        assert info["server_key"] == "ecdsa-P-521"  # go-plugin's own AutoMTLS curve
    else:
        assert info["tls"] == "none"


def test_go_host_runs_the_installed_plugin_over_tcp(sandbox):
    r = go_host(sandbox, ["put", "t", "tcp", "get", "t"],
                env=sandbox.environ(KV_PLUGIN_NETWORK="tcp"))
    assert_ok(r)
    assert r.stdout == b"Key t put successfully.\ntcp\n"
    info = parse_info(r.stderr)
    assert info["network"] == "tcp"
    assert info["tls"] in ("1.2", "1.3")
    hostpart, port = info["addr"].rsplit(":", 1)
    assert hostpart == "127.0.0.1"
    assert 10000 <= int(port) <= 25000  # goplugin-host's PLUGIN_MIN/MAX_PORT


def test_go_host_sees_the_installed_plugins_not_found(sandbox):
    r = go_host(sandbox, ["get", "no-such-key"])
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == b""
    assert b"code = NotFound desc = key not found: no-such-key" in r.stderr


def c_host(sandbox, ops, automtls=True):
    argv = [KV_HOST_C] + ([] if automtls else ["--no-automtls"]) + [GOPLUGIN_KV, *ops]
    return sandbox.run(argv, timeout=60)


@pytest.mark.parametrize("automtls", [True, False], ids=["automtls", "no-automtls"])
def test_installed_host_runs_a_go_plugin(sandbox, automtls):
    report = sandbox.path("report.txt")
    sandbox.env["GOPLUGIN_KV_REPORT"] = report
    r = c_host(sandbox, ["put", "greeting", VALUE, "get", "greeting"], automtls)
    assert_ok(r)  # includes: goplugin-kv exited 0 by itself after Shutdown
    assert r.stdout == ("Key greeting put successfully.\n%s\n" % VALUE).encode()
    assert (b"tls=yes" if automtls else b"tls=no") in r.stderr, r.stderr
    with open(report) as f:
        lines = [line.rstrip("\n") for line in f]
    starts = [l for l in lines if l.startswith("start ")]
    rpcs = [l for l in lines if l.startswith("rpc=")]
    assert len(starts) == 1, lines
    assert ("client_cert_env=yes" if automtls else "client_cert_env=no") in starts[0]
    assert [l.split()[0] for l in rpcs] == ["rpc=Put", "rpc=Get"], lines
    for l in rpcs:
        if automtls:
            # the host's generated certificate (SOUPC_CURVE_P256 by default)
            assert re.search(r" tls=1\.[23] client_cert=ecdsa-P-256$", l), l
        else:
            assert l.endswith(" tls=none client_cert=none"), l


def test_installed_host_sees_the_go_plugins_not_found(sandbox):
    r = c_host(sandbox, ["get", "no-such-key"])
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == b""
    assert b"kv_host: get no-such-key: NOT_FOUND: key not found: no-such-key" in r.stderr


@pytest.mark.parametrize("api", ["v1", "v1alpha"])
def test_reflection_of_the_installed_plugin(sandbox, api):
    cert, key = make_cert("ec", curve="P-256")
    env = soupc_plugin_env(sandbox, client_cert=cert)
    plugin = Plugin(sandbox, [KV_PLUGIN_C], env)
    try:
        out = reflect(sandbox, plugin.line.decode().strip(), api,
                      "--cert-file", sandbox.write("c.crt", cert),
                      "--key-file", sandbox.write("c.key", key))
        check_answers(out, plugin_mode=True)
        plugin.proc.send_signal(signal.SIGTERM)
        assert plugin.wait(5) == 0
    finally:
        plugin.stop()
