"""AutoMTLS family: on every path by which the host's certificate reaches a
soup-c plugin, only a client presenting that certificate gets in.

Paths: PLUGIN_CLIENT_CERT (go-plugin's way), SOUPC_PLUGIN_CLIENT_CERT_FD (a
pipe, soup-c's host), and reattach (a second process dialling the handshake
line: soup-c's CLI and Go's kvclient with --address '<line>'). Clients: the
host's certificate, a wrong one of the same shape (same subject, curve and
extensions, another key), none (TLS without a client certificate), and
plaintext. The model: a dict changed only by the host's calls; every other
client is refused at the TLS handshake (UNAVAILABLE), stores nothing, and
the plugin serves on and exits cleanly on Shutdown.
"""

import os
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from soupconf import plugins, servers, strategies as sst
from soupconf.client import ClientTLS, GrpcKV, KVError
from soupconf.model import KVModel
from soupconf.profiles import scaled

CLIENTS = ["host", "wrong", "none", "plaintext"]
CURVES = ["P-256", "P-384", "P-521"]


def _soupc_plugin_argv():
    im = servers.SoupC()
    if im.available():
        pytest.fail(im.available(), pytrace=False)
    return [im.binary, "rpc", "kv", "server"]


def _client(plugin, who, host, wrong):
    if who == "plaintext":
        return GrpcKV(plugin.target, None, timeout=10)
    ident = {"host": host, "wrong": wrong, "none": None}[who]
    return GrpcKV(plugin.target, ClientTLS(plugin.server_cert_pem, ident.cert_pem if ident else None,
                                           ident.key_pem if ident else None), timeout=10)


def _refused(fn):
    with pytest.raises(KVError) as ei:
        fn()
    assert ei.value.code == "UNAVAILABLE", ei.value


_N = [0]


@pytest.mark.parametrize("path", ["env", "fd"])
@settings(max_examples=scaled(0.1, 3, 40))
@given(curve=st.sampled_from(CURVES),
       steps=st.lists(st.tuples(st.sampled_from(CLIENTS), st.booleans(), sst.keys(256), sst.values(4096)),
                      min_size=1, max_size=8))
def test_only_the_hosts_certificate_gets_in(tmp_path_factory, path, curve, steps):
    _N[0] += 1
    host, wrong = plugins.make_identity(curve), plugins.make_identity(curve)
    plugin = plugins.PluginProcess(_soupc_plugin_argv(), str(tmp_path_factory.mktemp("mtls")), host, path)
    model = KVModel()
    try:
        assert plugin.server_cert_pem, "an AutoMTLS plugin must publish its certificate: %r" % plugin.line
        for who, is_put, key, value in steps + [("host", False, "mtls-probe", b"")]:
            c = _client(plugin, who, host, wrong)
            try:
                if who != "host":
                    _refused(lambda: c.put(key, value) if is_put else c.get(key))
                elif is_put:
                    c.put(key, value)
                    model.put(key, value)
                else:
                    assert c.get(key) == model.get(key)
            finally:
                c.close()
        c = _client(plugin, "host", host, wrong)
        for k, v in model.items():
            assert c.get(k) == v
        for who, is_put, key, _ in steps:  # refused Puts stored nothing
            if who != "host" and is_put and model.get(key) is None:
                assert c.get(key) is None
        c.close()
        assert plugin.shutdown(host) == 0, plugin.stderr_text()[-2000:]
    finally:
        plugin.kill()


def _kvclient():
    path = os.path.join(servers.go_peers_dir(), "kvclient")
    if not os.access(path, os.X_OK):
        pytest.fail("Go peer kvclient not built: run peers/go/build.sh %s" % servers.go_peers_dir(),
                    pytrace=False)
    return path


def _reattach_cmd(tool, line, op, key, value, cert_files):
    flags = []
    if cert_files:
        flags = ["--cert-file", cert_files[0], "--key-file", cert_files[1]]
    if tool == "soup-c":
        argv = [servers.SoupC().binary, "rpc", "kv", op, "--address", line, "--timeout", "10"] + flags + \
            ["--", key] + (["-"] if op == "put" else [])
        return argv, (value if op == "put" else None)
    return [_kvclient(), "--address", line, "--timeout", "10s"] + flags + [op, key] + \
        ([value.decode()] if op == "put" else []), None


@pytest.mark.parametrize("tool", ["soup-c", "go-kvclient"])
def test_reattaching_clients_need_the_hosts_certificate(tmp_path, tool):
    host, wrong = plugins.make_identity("P-521"), plugins.make_identity("P-521")
    plugin = plugins.PluginProcess(_soupc_plugin_argv(), str(tmp_path / "p"), host, "env")
    files = {"host": host.write(str(tmp_path), "host"), "wrong": wrong.write(str(tmp_path), "wrong"),
             "none": None}
    line = plugin.line.strip()
    try:
        for who in ("wrong", "none", "host"):
            argv, stdin = _reattach_cmd(tool, line, "put", "reattach-" + who, b"v-" + who.encode(), files[who])
            r = subprocess.run(argv, input=stdin, capture_output=True, timeout=60)
            if who == "host":
                assert r.returncode == 0, (r.stdout, r.stderr)
            else:
                assert r.returncode != 0, "%s reattached with %s certificate: %r" % (tool, who, r.stdout)
        c = _client(plugin, "host", host, wrong)
        assert c.get("reattach-host") == b"v-host"
        assert c.get("reattach-wrong") is None and c.get("reattach-none") is None
        c.close()
        argv, _ = _reattach_cmd(tool, line, "get", "reattach-host", None, files["host"])
        r = subprocess.run(argv, capture_output=True, timeout=60)
        assert r.returncode == 0 and r.stdout.rstrip(b"\n") == b"v-host", (r.stdout, r.stderr)
        assert plugin.shutdown(host) == 0
    finally:
        plugin.kill()


@pytest.mark.parametrize("path", ["env", "fd"])
def test_a_certificate_that_is_no_pem_stops_the_plugin_before_its_handshake(tmp_path, path):
    """A host that passes garbage gets an error, not a plugin that serves
    TLS without checking its clients."""
    junk = plugins.Identity(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", b"")
    with pytest.raises(RuntimeError) as ei:
        plugins.PluginProcess(_soupc_plugin_argv(), str(tmp_path / "p"), junk, path, timeout=20)
    assert "no handshake line" in str(ei.value)
    assert "PEM" in str(ei.value), str(ei.value)  # the error names what is wrong
