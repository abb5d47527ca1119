"""go-plugin >= 1.6 multiplexing (PLUGIN_MULTIPLEX_GRPC): one connection from
host to plugin, every gRPC connection a yamux stream, brokered connections
announced by knocks. The Go peers (peers/go mux-host, mux-plugin) are
written on Debian's hashicorp/yamux and grpc-go, following go-plugin's
internal/grpcmux. The same brokered calls as test_broker.py in all four
pairings, with and without AutoMTLS; a host that misbehaves on single
streams; raw yamux frames that break the protocol; a plugin that cannot
multiplex. Nothing may be left behind."""
import os
import signal
import socket
import struct
import time

import pytest

from interop_go import SOUPC, Plugin, peer, soupc_plugin_env

C_HOST = os.environ.get("SOUPC_BROKER_HOST_C", "")
C_PLUGIN = os.environ.get("SOUPC_BROKER_PLUGIN_C", "")
HOSTS = {"go": [peer("mux-host")], "c": [C_HOST, "--multiplex"]}
PLUGINS = {"go": peer("mux-plugin"), "c": C_PLUGIN}


def check_calls(out, automtls):
    assert ("tls=yes" if automtls else "tls=no") in out, out
    assert "mux=yes" in out, out
    assert "add 2+3=5 (host Adder calls: 1)\n" in out, out
    assert "echo: hello broker\n" in out, out
    assert "kill: 0\n" in out, out


@pytest.mark.parametrize("automtls", [True, False], ids=["automtls", "plaintext"])
@pytest.mark.parametrize("plugin", ["go", "c"])
@pytest.mark.parametrize("host", ["go", "c"])
def test_multiplexed_callbacks_both_ways(sandbox, host, plugin, automtls):
    argv = HOSTS[host] + ([] if automtls else ["--no-automtls"]) + ["--", PLUGINS[plugin]]
    r = sandbox.run(argv, timeout=60)
    out = r.stdout.decode()
    check_calls(out, automtls)
    assert r.returncode == 0, (out, r.stderr)


@pytest.mark.parametrize("automtls", [True, False], ids=["automtls", "plaintext"])
def test_bad_streams_leave_the_session_serving(sandbox, automtls):
    """Garbage on one stream, a stream dropped at once, a knock for an id
    nobody serves (go-plugin's knock timeout): the other calls still work."""
    argv = [peer("mux-host"), "--abuse"] + ([] if automtls else ["--no-automtls"])
    r = sandbox.run(argv + ["--", C_PLUGIN], timeout=60)
    out = r.stdout.decode()
    assert "dial unknown id: timeout waiting for multiplexing knock handshake on id 4242" in out, out
    assert "health after abuse: SERVING" in out, out
    check_calls(out, automtls)
    assert r.returncode == 0, (out, r.stderr)


def _frame(ver, typ, flags, sid, length, payload=b""):
    return struct.pack(">BBHII", ver, typ, flags, sid, length) + payload


@pytest.mark.parametrize("frame,needle", [
    (_frame(7, 1, 1, 1, 0), b"frame version 7, want 0"),
    (_frame(0, 9, 0, 0, 0), b"frame type 9 is unknown"),
    (_frame(0, 0, 1, 1, 300000), b"exceed its receive window of 262144"),
    (_frame(0, 1, 1, 1, 0xFFFFFFFF), b"overflows"),
    (_frame(0, 1, 1, 2, 0), b"has our parity"),
], ids=["version", "type", "length", "window", "parity"])
def test_raw_bad_frames_get_go_away(sandbox, frame, needle):
    """A frame that breaks yamux: the plugin answers GoAway(protocol
    error), logs why, closes the connection, and still stops cleanly."""
    plugin = Plugin(sandbox, [SOUPC, "rpc", "kv", "server"],
                    soupc_plugin_env(sandbox, PLUGIN_MULTIPLEX_GRPC="true"))
    try:
        f = plugin.fields
        assert len(f) == 7 and f[6] == "true", f
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(f[3])
        s.sendall(frame)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        assert len(got) >= 12, got
        ver, typ, flags, sid, code = struct.unpack(">BBHII", got[-12:])
        assert (ver, typ, sid, code) == (0, 3, 0, 1), got  # GoAway(protocol error)
        deadline = time.monotonic() + 5
        while needle not in bytes(plugin.stderr) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert needle in bytes(plugin.stderr), bytes(plugin.stderr)
        assert b"sent GoAway(protocol error)" in bytes(plugin.stderr)
        assert plugin.proc.poll() is None  # the process lives on
        plugin.proc.send_signal(signal.SIGTERM)
        assert plugin.wait(5) == 0
    finally:
        plugin.stop()


def test_ping_is_answered_and_one_connection_only(sandbox):
    plugin = Plugin(sandbox, [SOUPC, "rpc", "kv", "server"],
                    soupc_plugin_env(sandbox, PLUGIN_MULTIPLEX_GRPC="1"))
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(plugin.fields[3])
        s.sendall(_frame(0, 2, 1, 0, 0xCAFE))
        got = s.recv(12)
        assert struct.unpack(">BBHII", got) == (0, 2, 2, 0, 0xCAFE)
        # One connection carries everything: a second one is refused.
        s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(ConnectionRefusedError):
            s2.connect(plugin.fields[3])
        s2.close()
        s.close()
        plugin.proc.send_signal(signal.SIGTERM)
        assert plugin.wait(5) == 0
    finally:
        plugin.stop()


def test_plugin_without_multiplexing_is_refused(sandbox):
    """go-plugin 1.0.1's plugin prints six fields: a host that requires
    multiplexing refuses it with go-plugin's text and leaves nothing."""
    r = sandbox.run([C_HOST, "--multiplex", "--", peer("broker-plugin")], timeout=60)
    assert r.returncode == 1
    assert b"client requested gRPC broker multiplexing but plugin does not support the feature" \
        in r.stderr, r.stderr
    for name in os.listdir(sandbox.tmp):  # go-plugin 1.0.1 sockets (test_broker.py)
        if name.startswith("plugin"):
            os.unlink(os.path.join(sandbox.tmp, name))
