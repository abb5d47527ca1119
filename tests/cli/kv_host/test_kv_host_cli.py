"""soup-c rpc kv get|put as a go-plugin host: the happy paths (soup-c hosting
soup-c, with and without AutoMTLS, every curve; reattach through a handshake
line) and every failure path, each a one-line error with exit 1 and no
process or socket left behind."""

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "pylib"))
import soupc_testlib as lib  # noqa: E402


@pytest.fixture
def env(tmp_path):
    e = os.environ.copy()
    e["KV_STORAGE_DIR"] = str(tmp_path / "store")
    e["TMPDIR"] = str(tmp_path / "tmp")
    os.makedirs(e["TMPDIR"])
    e.pop("PLUGIN_SERVER_PATH", None)
    for k in ("TLS_MODE", "TLS_KEY_TYPE", "TLS_CURVE", "LOG_LEVEL"):
        e.pop(k, None)
    yield e
    # Nothing left behind: no plugin process with our storage dir, and no
    # socket or socket dir in our TMPDIR.
    time.sleep(0.1)
    left = subprocess.run(["pgrep", "-f", e["KV_STORAGE_DIR"]], capture_output=True)
    assert left.stdout == b"", "leftover process"
    leftovers = [p for p in os.listdir(e["TMPDIR"]) if not p.startswith("soup-c-tls")]
    assert leftovers == [], f"leftover files in TMPDIR: {leftovers}"


def cli(env, *args, input=None):
    return subprocess.run([lib.soupc_bin(), "rpc", "kv", *args], env=env,
                          capture_output=True, input=input, timeout=60)


def test_put_get_through_a_launched_soupc_plugin(env):
    r = cli(env, "put", "k", "v1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"Key k put successfully.\n"
    r = cli(env, "get", "k")
    assert (r.returncode, r.stdout) == (0, b"v1")
    r = cli(env, "get", "k", "--no-automtls")
    assert (r.returncode, r.stdout) == (0, b"v1")
    r = cli(env, "get", "missing")
    assert r.returncode == 1
    assert b"NOT_FOUND" in r.stderr


@pytest.mark.parametrize("tls", [
    {"TLS_MODE": "auto", "TLS_KEY_TYPE": "ec", "TLS_CURVE": "secp256r1"},
    {"TLS_MODE": "auto", "TLS_KEY_TYPE": "ec", "TLS_CURVE": "secp384r1"},
    {"TLS_MODE": "auto", "TLS_KEY_TYPE": "ec", "TLS_CURVE": "secp521r1"},
    {"TLS_MODE": "auto", "TLS_KEY_TYPE": "rsa"},
])
def test_plugin_key_types_under_automtls(env, tls):
    env.update(tls)
    r = cli(env, "put", "curve", str(tls).encode())
    assert r.returncode == 0, r.stderr
    r = cli(env, "get", "curve")
    assert (r.returncode, r.stdout) == (0, str(tls).encode())


def test_plugin_from_plugin_server_path(env):
    env["PLUGIN_SERVER_PATH"] = lib.soupc_bin()
    r = cli(env, "put", "p", "from env")
    assert r.returncode == 0, r.stderr


def write_script(tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, stat.S_IRWXU)
    return path


@pytest.mark.parametrize("case,body,needle", [
    ("exits", "echo 'it broke' >&2; exit 3\n", b"exited before we could connect"),
    ("garbled", "echo 'hello there'; sleep 30\n", b"handshake"),
    ("netrpc", "echo '1|1|tcp|127.0.0.1:1|netrpc'; sleep 30\n", b"netrpc"),
    ("silent", "sleep 30\n", b"timeout while waiting for plugin to start"),
])
def test_broken_plugins_fail_with_one_line_and_exit_1(env, tmp_path, case, body, needle):
    plugin = write_script(str(tmp_path), case, body)
    start = time.time()
    r = cli(env, "get", "k", "--plugin", plugin, "--handshake-timeout", "1")
    assert r.returncode == 1, r.stderr
    assert needle in r.stderr, r.stderr
    assert time.time() - start < 10
    lines = [l for l in r.stderr.splitlines() if l.startswith(b"Error:")]
    assert len(lines) == 1, r.stderr
    # The script's sleep must be gone (killed with its process group or
    # itself).
    assert subprocess.run(["pgrep", "-f", plugin], capture_output=True).stdout == b""


def test_missing_and_non_executable_plugins(env, tmp_path):
    r = cli(env, "get", "k", "--plugin", str(tmp_path / "nope"))
    assert r.returncode == 1
    assert b"plugin not found" in r.stderr
    path = tmp_path / "noexec"
    path.write_text("#!/bin/sh\n")
    os.chmod(path, 0o644)
    r = cli(env, "get", "k", "--plugin", str(path))
    assert r.returncode == 1
    assert b"not executable" in r.stderr


def test_reattach_with_a_handshake_line(env):
    env["BASIC_PLUGIN"] = "hello"
    proc = subprocess.Popen([lib.soupc_bin(), "rpc", "kv", "server", "--tls-mode", "auto"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode().strip()
        assert line.startswith("1|1|unix|") and line.count("|") == 5
        del env["BASIC_PLUGIN"]
        r = cli(env, "put", "re", "attached", "--address", line)
        assert r.returncode == 0, r.stderr
        # Padded base64 is accepted too (soup-go's --address wants it).
        cert = line.rsplit("|", 1)[1]
        padded = line + "=" * (-len(cert) % 4)
        r = cli(env, "get", "re", "--address", padded)
        assert (r.returncode, r.stdout) == (0, b"attached"), r.stderr
        # The plugin outlived both CLI calls.
        assert proc.poll() is None
        r = cli(env, "get", "re", "--address", "1|1|unix|/nonexistent|grpc|")
        assert r.returncode == 1
        r = cli(env, "get", "re", "--address", "2|1|unix|/x|grpc|")
        assert r.returncode == 1 and b"handshake" in r.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


def test_plugin_mode_without_cookie_exits_1_with_go_plugins_text(env):
    r = subprocess.run([lib.soupc_bin(), "rpc", "kv", "server"], env=env,
                       capture_output=True, timeout=30)
    assert r.returncode == 1
    assert r.stdout == b""
    assert b"This binary is a plugin" in r.stderr


def test_plugin_mode_invalid_curve_exits_1_before_any_handshake(env):
    env["BASIC_PLUGIN"] = "hello"
    r = subprocess.run([lib.soupc_bin(), "rpc", "kv", "server", "--tls-mode", "auto",
                        "--tls-curve", "secp123r1"], env=env, capture_output=True,
                       timeout=30)
    assert r.returncode == 1
    assert r.stdout == b""
    assert b"--tls-curve" in r.stderr


def test_validate_connection_launched_and_refused(env):
    r = subprocess.run([lib.soupc_bin(), "rpc", "validate", "connection"], env=env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"RPC connection validated successfully.\n"
    r = subprocess.run([lib.soupc_bin(), "rpc", "validate", "connection",
                        "--address", "127.0.0.1:1"], env=env, capture_output=True,
                       timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith(b"Error: ")


def test_reattach_by_config_json(env, tmp_path):
    """--reattach: go-plugin's ReattachConfig as Terraform writes it (pid,
    network, address), the one-entry TF_REATTACH_PROVIDERS map, Go's
    net.UnixAddr spelling; TLS through --ca-file; bad configs fail in one
    line."""
    env["BASIC_PLUGIN"] = "hello"
    proc = subprocess.Popen([lib.soupc_bin(), "rpc", "kv", "server"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode().strip()
        sock = line.split("|")[3]
        del env["BASIC_PLUGIN"]
        cfg = ('{"Protocol":"grpc","ProtocolVersion":1,"Pid":%d,'
               '"Addr":{"Network":"unix","String":"%s"}}' % (proc.pid, sock))
        r = cli(env, "put", "rc", "by config", "--reattach", cfg)
        assert r.returncode == 0, r.stderr
        tf = '{"registry.terraform.io/x/kv": %s}' % cfg
        r = cli(env, "get", "rc", "--reattach", tf)
        assert (r.returncode, r.stdout) == (0, b"by config"), r.stderr
        go = '{"Protocol":"grpc","Addr":{"Net":"unix","Name":"%s"}}' % sock
        r = cli(env, "get", "rc", "--reattach", go)
        assert (r.returncode, r.stdout) == (0, b"by config"), r.stderr
        assert proc.poll() is None  # reattaching leaves the plugin running
        for bad, needle in [
            ("{", b"not JSON"),
            ('{"Addr":{"Network":"udp","String":"x"}}', b"Network"),
            ('{"a":{},"b":{}}', b"no \"Addr\""),
            ('{"Pid":2147483647,"Addr":{"Network":"unix","String":"%s"}}' % sock,
             b"out of range"),
            ('{"Protocol":"netrpc","Addr":{"Network":"unix","String":"%s"}}' % sock,
             b"netrpc"),
        ]:
            r = cli(env, "get", "rc", "--reattach", bad)
            assert r.returncode == 1, (bad, r.stderr)
            assert needle in r.stderr and r.stderr.count(b"\n") == 1, (bad, r.stderr)
        r = cli(env, "get", "rc", "--reattach", cfg, "--address", line)
        assert r.returncode == 1 and b"give one" in r.stderr
        r = cli(env, "get", "rc", "--reattach", cfg, "--skip-host-env")
        assert r.returncode == 1 and b"not for reattaching" in r.stderr
        r = cli(env, "get", "rc", "--address", line, "--multiplex")
        assert r.returncode == 1 and b"not for reattaching" in r.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


def test_plugin_sha256_and_skip_host_env(env):
    import hashlib
    with open(lib.soupc_bin(), "rb") as f:
        good = hashlib.sha256(f.read()).hexdigest()
    r = cli(env, "put", "sum", "ok", "--plugin-sha256", good)
    assert r.returncode == 0, r.stderr
    r = cli(env, "get", "sum", "--plugin-sha256", good.upper())
    assert (r.returncode, r.stdout) == (0, b"ok"), r.stderr
    bad = ("0" if good[0] != "0" else "1") + good[1:]
    r = cli(env, "get", "sum", "--plugin-sha256", bad)
    assert r.returncode == 1 and b"checksums did not match" in r.stderr, r.stderr
    for junk in ("abc", "z" * 64):
        r = cli(env, "get", "sum", "--plugin-sha256", junk)
        assert r.returncode == 1 and b"--plugin-sha256" in r.stderr, r.stderr


def test_skip_host_env(env, tmp_path):
    """--skip-host-env: the plugin gets go-plugin's variables and nothing
    of ours. A wrapper script records its environment, then runs soup-c
    with the store given explicitly."""
    dump = tmp_path / "env.txt"
    plugin = write_script(str(tmp_path), "wrapped", (
        "/usr/bin/env > '%s'\n"
        "KV_STORAGE_DIR='%s' TMPDIR='%s' exec '%s' \"$@\"\n"
        % (dump, env["KV_STORAGE_DIR"], env["TMPDIR"], lib.soupc_bin())))
    env["SOUPC_TEST_MARK"] = "inherited"
    r = cli(env, "put", "e", "v", "--plugin", plugin)
    assert r.returncode == 0, r.stderr
    seen = dump.read_text()
    assert "SOUPC_TEST_MARK=inherited" in seen and "BASIC_PLUGIN=hello" in seen
    r = cli(env, "get", "e", "--plugin", plugin, "--skip-host-env")
    assert (r.returncode, r.stdout) == (0, b"v"), r.stderr
    seen = dump.read_text()
    assert "SOUPC_TEST_MARK" not in seen and "PATH=" not in seen, seen
    assert "BASIC_PLUGIN=hello" in seen and "PLUGIN_PROTOCOL_VERSIONS=1" in seen, seen


def test_multiplexed_session_from_the_cli(env):
    """--multiplex: go-plugin >= 1.6's GRPCBrokerMultiplex, soup-c hosting
    soup-c over one yamux-multiplexed connection, with and without
    AutoMTLS."""
    r = cli(env, "put", "mx", "over yamux", "--multiplex")
    assert r.returncode == 0, r.stderr
    r = cli(env, "get", "mx", "--multiplex", "--no-automtls")
    assert (r.returncode, r.stdout) == (0, b"over yamux"), r.stderr
    r = cli(env, "get", "missing", "--multiplex")
    assert r.returncode == 1 and b"NOT_FOUND" in r.stderr
