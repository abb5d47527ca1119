"""Polyglot matrix: every client x server pair, for each TLS setting, runs
the same property. Results go to the matrix report (conformance/reports/
matrix.{md,html}; --report-dir)."""

import os
import time
import uuid

import pytest
from hypothesis import assume, given, settings, strategies as st

from soupconf.profiles import scaled
from soupconf import servers, strategies as sst
from soupconf.client import CliKV, GrpcKV, PluginHostKV, Unsupported
from soupconf.model import KVModel

CLIENTS = ["python-grpcio", "soup-c-cli", "go-kvclient"]
SERVERS = ["soup-c", "python-ref", "go-kvref"]
TLSS = [servers.PLAINTEXT, servers.TLS("manual", "ec", "secp256r1"), servers.TLS("auto", "ec", "secp384r1"),
        servers.TLS("mtls", "ec", "secp384r1")]


def client_available(name):
    if name == "soup-c-cli":
        return servers.SoupC().available()
    if name == "go-kvclient":
        p = os.path.join(servers.go_peers_dir(), "kvclient")
        return None if os.access(p, os.X_OK) else "Go peer kvclient not built (peers/go/build.sh)"
    return None


def _missing_peer(why):
    """A peer that is not there fails the cell, unless the run allowed it
    (--allow-missing-peers): never a quietly skipped cell."""
    if os.environ.get("SOUPC_ALLOW_MISSING_PEERS") != "1":
        pytest.fail("%s; the suite builds the Go peers at its start (peers/go/build.sh), or pass "
                    "--allow-missing-peers" % why, pytrace=False)


def make_client(name, srv, tmpdir):
    if name == "python-grpcio":
        return GrpcKV(srv.address, srv.client_tls, timeout=30)
    if name == "soup-c-cli":
        return CliKV("soup-c", servers.SoupC().binary, srv.address, srv.client_tls, timeout=30, tmpdir=tmpdir)
    return CliKV("go", os.path.join(servers.go_peers_dir(), "kvclient"), srv.address, srv.client_tls,
                 timeout=30, tmpdir=tmpdir)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    running = {}

    def get(server_name, tls):
        k = (server_name, tls)
        if k not in running:
            im = servers.make_impl(server_name)
            running[k] = servers.Server(im, str(tmp_path_factory.mktemp("mx")), tls=tls).start()
        return running[k]

    yield get
    for s in running.values():
        s.kill()


@pytest.mark.matrix
@pytest.mark.parametrize("tls", TLSS, ids=lambda t: t.label)
@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize("client_name", CLIENTS)
def test_matrix_cell(client_name, server_name, tls, pool, matrix_results, tmp_path):
    cell = {"client": client_name, "server": server_name, "tls": tls.label, "status": "skip",
            "examples": 0, "unexpressible": 0}
    im = servers.make_impl(server_name)
    why = im.available() or client_available(client_name)
    if why:
        _missing_peer(why)
    why = why or im.supports(tls)
    if why:
        cell["reason"] = why
        matrix_results.append(cell)
        pytest.skip(why)
    t0 = time.monotonic()
    srv = pool(server_name, tls)
    client = make_client(client_name, srv, str(tmp_path))
    cli = client_name != "python-grpcio"

    run_cell(matrix_results, cell, client, scaled(0.25 if cli else 1.0, 3), 6 if cli else 20, t0)


# Cells whose failure FINDINGS.md records as a peer's limitation: reported
# as "known" (xfail, not strict: a short run may not meet the input).
KNOWN = {
    "goplugin-kv (plugin)": "FINDINGS.md F-7: goplugin-kv stores a file per key and refuses (INVALID_ARGUMENT) "
                            "keys over 200 bytes, with '/', '\\' or control characters, '.' and '..'",
}


def run_cell(matrix_results, cell, client, max_examples, max_ops, t0):
    """The property every cell runs, and its bookkeeping."""
    known = KNOWN.get(cell["server"]) or KNOWN.get(cell["client"])

    @settings(max_examples=max_examples)
    @given(ops=st.lists(st.tuples(st.one_of(st.sampled_from(["0", "a", "\x00", "é"]), sst.keys(512)),
                                  sst.values(1 << 16)), min_size=1, max_size=max_ops),
           missing=sst.keys(256))
    def prop(ops, missing):
        ns = "mx-%s-" % uuid.uuid4().hex[:10]
        model = KVModel()
        try:
            for k, v in ops:
                client.put(ns + k, v)
                model.put(ns + k, v)
            for k, v in model.items():
                assert client.get(k) == v, "key %r" % (k[:60],)
            assert client.get(ns + "never/" + missing) is None
        except Unsupported:
            cell["unexpressible"] += 1
            assume(False)
        cell["examples"] += 1

    try:
        prop()
        cell["status"] = "pass"
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, pytest.skip.Exception):
            cell["reason"] = str(e)
            raise
        cell["status"] = "fail"
        cell["failure"] = "%s: %s" % (type(e).__name__, str(e)[:3000])
        if known and "INVALID_ARGUMENT" in cell["failure"]:
            cell["status"] = "known"
            cell["reason"] = known
            pytest.xfail(known)
        raise
    finally:
        cell["seconds"] = round(time.monotonic() - t0, 2)
        matrix_results.append(cell)
        client.close()


# ---- go-plugin mode: a host launches the plugin for every call ----------

PLUGIN_HOSTS = ["go-plugin-host", "soup-c-cli"]
PLUGINS = ["soup-c (plugin)", "goplugin-kv (plugin)"]


def plugin_argv(name):
    if name == "soup-c (plugin)":
        return [servers.SoupC().binary, "rpc", "kv", "server"]
    return [os.path.join(servers.go_peers_dir(), "goplugin-kv")]


def host_bin(name):
    if name == "soup-c-cli":
        return servers.SoupC().binary
    return os.path.join(servers.go_peers_dir(), "goplugin-host")


@pytest.mark.matrix
@pytest.mark.parametrize("automtls", [True, False], ids=["automtls", "no-automtls"])
@pytest.mark.parametrize("plugin", PLUGINS)
@pytest.mark.parametrize("host", PLUGIN_HOSTS)
def test_plugin_matrix_cell(host, plugin, automtls, matrix_results, tmp_path):
    label = "go-plugin " + ("AutoMTLS" if automtls else "plaintext")
    cell = {"client": host + " (host)", "server": plugin, "tls": label, "status": "skip",
            "examples": 0, "unexpressible": 0}
    missing = [p for p in (host_bin(host), plugin_argv(plugin)[0]) if not os.access(p, os.X_OK)]
    if missing:
        _missing_peer("not built: %s" % ", ".join(missing))
        cell["reason"] = "not built: %s" % ", ".join(missing)
        matrix_results.append(cell)
        pytest.skip(cell["reason"])
    t0 = time.monotonic()
    client = PluginHostKV(host, host_bin(host), plugin_argv(plugin), str(tmp_path / "store"), automtls,
                          str(tmp_path / "tmp"))
    run_cell(matrix_results, cell, client, scaled(0.1, 2), 4, t0)
