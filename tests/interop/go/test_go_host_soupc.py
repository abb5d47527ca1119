"""A go-plugin host (hashicorp/go-plugin 1.0.1, goplugin-host) launches
`soup-c rpc kv server` in plugin mode and talks proto.KV to it."""

import os

import pytest

from interop_go import GOPLUGIN_HOST, SOUPC, parse_info

SERVER = [SOUPC, "rpc", "kv", "server"]


def host(sandbox, ops, server_args=(), host_flags=(), timeout=90):
    argv = [GOPLUGIN_HOST, "--info", "--strict-exit", *host_flags, *ops, "--", *SERVER, *server_args]
    return sandbox.run(argv, timeout=timeout)


def assert_ok(r):
    assert r.returncode == 0, "rc=%d\nstdout=%r\nstderr=%r" % (r.returncode, r.stdout, r.stderr)


def test_put_then_get_with_automtls(sandbox):
    r = host(sandbox, ["put", "greeting", "hello world", "get", "greeting"])
    assert_ok(r)
    assert r.stdout == b"Key greeting put successfully.\nhello world\n"
    info = parse_info(r.stderr)
    assert info["tls"] in ("1.2", "1.3")
    assert info["server_key"].startswith(("ecdsa-", "rsa-"))
    assert info["health"] == "ok"
    assert info["version"] == "1"
    assert info["network"] == "unix"
    assert os.path.dirname(info["addr"]) == sandbox.sock  # honours PLUGIN_UNIX_SOCKET_DIR


def test_put_then_get_without_automtls(sandbox):
    r = host(sandbox, ["put", "k1", "v1", "get", "k1"], host_flags=["--no-automtls"])
    assert_ok(r)
    assert r.stdout == b"Key k1 put successfully.\nv1\n"
    info = parse_info(r.stderr)
    assert info["tls"] == "none"
    assert info["health"] == "ok"


@pytest.mark.parametrize("curve,expect", [
    ("secp256r1", "ecdsa-P-256"),
    ("secp384r1", "ecdsa-P-384"),
    ("secp521r1", "ecdsa-P-521"),
    # go-plugin's own AutoMTLS key (mtls.go): what soup-go's plugin uses.
    ("auto", "ecdsa-P-521"),
])
def test_automtls_with_server_key_on_each_curve(sandbox, curve, expect):
    r = host(sandbox, ["put", "c", curve, "get", "c"],
             server_args=["--tls-mode", "auto", "--tls-key-type", "ec", "--tls-curve", curve])
    assert_ok(r)
    assert r.stdout == ("Key c put successfully.\n%s\n" % curve).encode()
    info = parse_info(r.stderr)
    assert info["tls"] in ("1.2", "1.3")
    assert info["server_key"] == expect


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_automtls_with_rsa_server_key(sandbox, bits):
    r = host(sandbox, ["put", "r", str(bits), "get", "r"],
             server_args=["--tls-mode", "auto", "--tls-key-type", "rsa", "--tls-key-bits", str(bits)])
    assert_ok(r)
    assert r.stdout == ("Key r put successfully.\n%d\n" % bits).encode()
    info = parse_info(r.stderr)
    assert info["tls"] in ("1.2", "1.3")
    assert info["server_key"] == "rsa-%d" % bits


def test_value_survives_into_the_next_session(sandbox):
    assert_ok(host(sandbox, ["put", "durable", "still here"]))
    r = host(sandbox, ["get", "durable"])
    assert_ok(r)
    assert r.stdout == b"still here\n"


def test_get_of_missing_key_is_not_found(sandbox):
    r = host(sandbox, ["get", "no-such-key"])
    assert r.returncode == 1
    assert b"code = NotFound" in r.stderr
    assert r.stdout == b""


def test_scripted_session_runs_in_order(sandbox):
    script = sandbox.write("session.txt", "\n".join([
        "# several operations on one connection",
        "put a first",
        "put b second value with spaces",
        "get a",
        "put a overwritten",
        "get a",
        "get b",
        "ping",
    ]) + "\n")
    r = host(sandbox, ["script", script])
    assert_ok(r)
    assert r.stdout == (b"Key a put successfully.\nKey b put successfully.\nfirst\n"
                        b"Key a put successfully.\noverwritten\nsecond value with spaces\nping ok\n")


def test_tcp_transport_in_port_range(sandbox):
    r = host(sandbox, ["put", "t", "tcp", "get", "t"], server_args=["--transport", "tcp"])
    assert_ok(r)
    assert r.stdout == b"Key t put successfully.\ntcp\n"
    info = parse_info(r.stderr)
    assert info["network"] == "tcp"
    hostpart, port = info["addr"].rsplit(":", 1)
    assert hostpart == "127.0.0.1"
    assert 10000 <= int(port) <= 25000


@pytest.mark.xfail(strict=True, reason=(
    "go-plugin 1.0.1 hosts without AutoMTLS dereference a nil TLS config when a "
    "plugin publishes a certificate (client.go loadServerCert). Issue 3 requires "
    "soup-c to publish its certificate in --tls-mode auto, so this Go host "
    "defect stands; see conformance/FINDINGS.md"))
def test_tls_mode_auto_without_automtls_does_not_crash_the_go_host(sandbox):
    # go-plugin-protocol.md §3.2/§5 say to send the cert only when
    # PLUGIN_CLIENT_CERT is set; the issue says to publish it whenever TLS is
    # served. A host without TLS cannot talk to a TLS plugin either way; the
    # difference is a panic instead of a clean error.
    r = sandbox.run([GOPLUGIN_HOST, "--no-automtls", "put", "k", "v", "--", *SERVER, "--tls-mode", "auto"],
                    timeout=90)
    # The panicking host SIGKILLs the plugin, which cannot remove its socket.
    for path in sandbox.leftovers():
        if os.path.basename(path).startswith("plugin") and not os.path.isdir(path):
            os.unlink(path)
    assert b"panic:" not in r.stderr, r.stderr.decode(errors="replace")[:400]


def test_value_larger_than_grpc_default_limit_round_trips(sandbox):
    # 6 MiB: above grpc-go's 4 MiB default, so it checks soup-c's larger
    # receive limit and HTTP/2 flow control against grpc-go in both directions.
    value = os.urandom(6 << 20)
    src = sandbox.write("big.in", value)
    dst = sandbox.path("big.out")
    r = host(sandbox, ["putfile", "big", src, "getfile", "big", dst])
    assert_ok(r)
    assert r.stdout == ("Key big put successfully.\nKey big: %d bytes written to %s\n"
                        % (len(value), dst)).encode()
    with open(dst, "rb") as f:
        assert f.read() == value


def test_concurrent_sessions_share_one_store(sandbox):
    n = 4
    procs = [sandbox.popen([GOPLUGIN_HOST, "--strict-exit", "put", "k%d" % i, "v%d" % i, "--", *SERVER])
             for i in range(n)]
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=90)
        assert p.returncode == 0, (i, out, err)
        assert out == ("Key k%d put successfully.\n" % i).encode()
    ops = []
    for i in range(n):
        ops += ["get", "k%d" % i]
    r = host(sandbox, ops)
    assert_ok(r)
    assert r.stdout == "".join("v%d\n" % i for i in range(n)).encode()


def test_go_host_parses_every_soupc_log_line_as_hclog_json(sandbox):
    # go-plugin re-logs each plugin stderr line; a line its hclog parser
    # rejects (bad @timestamp, non-string fields) comes out verbatim at DEBUG
    # (go-plugin-protocol.md §2.6). --verbose shows both the raw line and the
    # host's re-logged form.
    import json
    import re
    env = sandbox.environ(LOG_LEVEL="trace")
    r = sandbox.run([GOPLUGIN_HOST, "--verbose", "put", "a", "b", "get", "a", "--", *SERVER],
                    env=env, timeout=90)
    assert_ok(r)
    lines = r.stderr.decode(errors="replace").splitlines()
    raw = [json.loads(l) for l in lines if l.startswith("{")]
    assert raw, "soup-c logged nothing at trace level"
    relogged = [l for l in lines if " goplugin-host.soup-c: " in l]
    assert not [l for l in relogged if " goplugin-host.soup-c: {" in l], \
        "go-plugin could not parse some soup-c log lines:\n" + "\n".join(relogged)
    for entry in raw:
        for k in ("@level", "@message", "@timestamp"):
            assert isinstance(entry.get(k), str), entry
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)", entry["@timestamp"]), entry
        level = entry["@level"].upper()
        want = "[%s]" % level
        assert any(want in l and (" goplugin-host.soup-c: " + entry["@message"]) in l for l in relogged), \
            "no %s re-log of %r" % (want, entry["@message"])
