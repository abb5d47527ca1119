"""Configuration family: every environment variable soup-c's server reads,
and the value spellings of its boolean flags, each with its expected
effect. The table is the model; each row starts a server and observes the
one thing the row says.

Where the meaning comes from:
  go-plugin's variables (BASIC_PLUGIN, PLUGIN_*) mean what go-plugin's
      server.go does with them: an empty value is unset, PLUGIN_MULTIPLEX_GRPC
      counts when non-empty, ports parse as integers, min <= max;
  soup-c's switches (KV_ENRICH_JSON, SOUPC_PLUGIN_IGNORE_SHUTDOWN) are on for
      "1" or "true" in any case and off for everything else (README, man page);
  storage (KV_STORAGE_DIR, TOFUSOUP_CACHE_DIR, XDG_CACHE_HOME, HOME, TMPDIR):
      rpc-spec.md §4.1, an empty value skips to the next rule;
  enrichment (TLS_MODE, SERVER_LANGUAGE, CLIENT_LANGUAGE, COMBO_ID,
      TLS_KEY_TYPE, TLS_CURVE, TLS_KEY_SIZE, PLUGIN_PROTOCOL_VERSIONS):
      rpc-spec.md §5.1, an empty value takes the default;
  boolean flags: soup-go's (pflag) meaning of --flag=VALUE.
"""

import json
import os
import socket
import subprocess
import time

import grpc
import pytest

from soupconf import plugins, servers
from soupconf.client import GrpcKV

COOKIE_TEXT = b"This binary is a plugin"
UNSET = None
OFF_SPELLINGS = [UNSET, "", "0", "false", "FALSE", "False", "no", "off", "NO", " ", "2", "yes", "on"]
ON_SPELLINGS = ["1", "true", "TRUE", "True", "tRuE"]


@pytest.fixture(autouse=True)
def _soupc_only(impl):
    if impl.name != "soup-c":
        pytest.skip("the configuration table is soup-c's (impl %s)" % impl.name)


def _env(base):
    env = dict(os.environ)
    for k in ("KV_ENRICH_JSON", "SOUPC_PLUGIN_IGNORE_SHUTDOWN", "PLUGIN_CLIENT_CERT", "PLUGIN_MULTIPLEX_GRPC",
              "SOUPC_PLUGIN_CLIENT_CERT_FD", "LOG_LEVEL", "KV_STORAGE_DIR", "TOFUSOUP_CACHE_DIR",
              "XDG_CACHE_HOME", "TLS_MODE", "SERVER_LANGUAGE", "CLIENT_LANGUAGE", "COMBO_ID",
              "TLS_KEY_TYPE", "TLS_CURVE", "TLS_KEY_SIZE", "PLUGIN_SERVER_CERT", "PLUGIN_MAGIC_COOKIE_KEY"):
        env.pop(k, None)
    for k, v in base.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _standalone(tmp_path, env, extra=()):
    srv = servers.Server(servers.SoupC(), str(tmp_path / "srv"), extra=list(extra))
    srv.env = _env(env)
    return srv


def _plugin(tmp_path, env, argv_extra=(), host=None, path=None):
    argv = [servers.SoupC().binary, "rpc", "kv", "server", *argv_extra]
    return plugins.PluginProcess(argv, str(tmp_path / "plugin"), host, path, env_extra=env, timeout=20)


def _refuses_to_start(tmp_path, env, argv_extra=()):
    argv = [servers.SoupC().binary, "rpc", "kv", "server", *argv_extra]
    full = _env(dict({"BASIC_PLUGIN": "hello", "PLUGIN_PROTOCOL_VERSIONS": "1",
                      "KV_STORAGE_DIR": str(tmp_path / "store"),
                      "PLUGIN_UNIX_SOCKET_DIR": str(tmp_path)}, **env))
    r = subprocess.run(argv, env=full, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    return r


# ---- soup-c's switches -------------------------------------------------

@pytest.mark.parametrize("value,on", [(v, False) for v in OFF_SPELLINGS] + [(v, True) for v in ON_SPELLINGS])
def test_kv_enrich_json(tmp_path, value, on):
    srv = _standalone(tmp_path, {"KV_ENRICH_JSON": value}).start()
    try:
        c = srv.client()
        c.put("j", b'{"a":1}')
        got = json.loads(c.get("j"))
        c.close()
        assert ("server_handshake" in got) == on, "KV_ENRICH_JSON=%r: %r" % (value, got)
    finally:
        srv.kill()


@pytest.mark.parametrize("value,on", [(v, False) for v in OFF_SPELLINGS] + [(v, True) for v in ON_SPELLINGS])
def test_soupc_plugin_ignore_shutdown(tmp_path, value, on):
    p = _plugin(tmp_path, {"SOUPC_PLUGIN_IGNORE_SHUTDOWN": value})
    try:
        ch = p.channel()
        try:
            ch.unary_unary("/plugin.GRPCController/Shutdown")(b"", timeout=5)
        except grpc.RpcError:
            pass
        ch.close()
        try:
            p.proc.wait(3)
            exited = True
        except subprocess.TimeoutExpired:
            exited = False
        assert exited != on, "SOUPC_PLUGIN_IGNORE_SHUTDOWN=%r: %s after Shutdown" % (
            value, "exited" if exited else "still running")
    finally:
        p.kill()


# ---- go-plugin's variables ---------------------------------------------

@pytest.mark.parametrize("value,ok", [("hello", True), ("Hello", False), ("hello ", False), (" hello", False),
                                      ("", False), (UNSET, False), ("hello\n", False), ("1", False)])
def test_basic_plugin_cookie(tmp_path, value, ok):
    if ok:
        p = _plugin(tmp_path, {"BASIC_PLUGIN": value})
        assert p.fields[0] == "1", p.line
        p.kill()
        return
    r = _refuses_to_start(tmp_path, {"BASIC_PLUGIN": value})
    assert r.returncode == 1 and r.stdout == b"" and COOKIE_TEXT in r.stderr, (value, r)


def test_plugin_magic_cookie_key_renames_the_cookie(tmp_path):
    p = _plugin(tmp_path, {"PLUGIN_MAGIC_COOKIE_KEY": "MY_COOKIE", "MY_COOKIE": "hello", "BASIC_PLUGIN": None})
    p.kill()
    r = _refuses_to_start(tmp_path, {"PLUGIN_MAGIC_COOKIE_KEY": "MY_COOKIE", "MY_COOKIE": "nope"})
    assert r.returncode == 1 and COOKIE_TEXT in r.stderr, r
    # empty: the default key
    p = _plugin(tmp_path, {"PLUGIN_MAGIC_COOKIE_KEY": ""})
    p.kill()


@pytest.mark.parametrize("value,version", [("1", "1"), ("", "1"), (UNSET, "1"), ("1,2", "1"), ("2,1", "1"),
                                           ("2", "1"), ("3,4", "1"), ("abc", "1")])
def test_plugin_protocol_versions(tmp_path, value, version):
    """soup-c serves app version 1; with no common version it offers its
    own, as go-plugin does, and the host decides."""
    p = _plugin(tmp_path, {"PLUGIN_PROTOCOL_VERSIONS": value})
    try:
        assert p.fields[1] == version, (value, p.line)
    finally:
        p.kill()


@pytest.mark.parametrize("value,tls", [(UNSET, False), ("", False), ("cert", True), ("garbage", "error")])
def test_plugin_client_cert(tmp_path, value, tls):
    if value == "cert":
        value = plugins.make_identity().cert_pem.decode()
    if tls == "error":
        r = _refuses_to_start(tmp_path, {"PLUGIN_CLIENT_CERT": value})
        assert r.returncode != 0 and b"PLUGIN_CLIENT_CERT" in r.stderr, r
        return
    p = _plugin(tmp_path, {"PLUGIN_CLIENT_CERT": value})
    try:
        assert bool(p.fields[5]) == tls, "PLUGIN_CLIENT_CERT=%r: %r" % (value[:20] if value else value, p.line)
    finally:
        p.kill()


@pytest.mark.parametrize("value,seventh", [(UNSET, False), ("", False), ("0", True), ("false", True),
                                           ("no", True), ("1", True), ("true", True)])
def test_plugin_multiplex_grpc(tmp_path, value, seventh):
    """go-plugin prints a 7th field whenever the variable is non-empty."""
    p = _plugin(tmp_path, {"PLUGIN_MULTIPLEX_GRPC": value})
    try:
        assert (len(p.fields) == 7) == seventh, (value, p.line)
    finally:
        p.kill()


def _free_port_range(n=5):
    import random
    bases = list(range(20000, 25000, 37))
    random.shuffle(bases)  # xdist workers and other engineers' tests take ports too
    for base in bases:
        ok = True
        for port in range(base, base + n):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return base, base + n - 1
    pytest.skip("no free port range")


@pytest.mark.parametrize("case", ["range", "single", "both-empty", "min-over-max", "min-garbage", "max-garbage",
                                  "negative"])
def test_plugin_min_and_max_port(tmp_path, case):
    lo, hi = _free_port_range()
    env = {"range": {"PLUGIN_MIN_PORT": str(lo), "PLUGIN_MAX_PORT": str(hi)},
           "single": {"PLUGIN_MIN_PORT": str(lo), "PLUGIN_MAX_PORT": str(lo)},
           "both-empty": {"PLUGIN_MIN_PORT": "", "PLUGIN_MAX_PORT": ""},
           "min-over-max": {"PLUGIN_MIN_PORT": str(hi), "PLUGIN_MAX_PORT": str(lo)},
           "min-garbage": {"PLUGIN_MIN_PORT": "abc", "PLUGIN_MAX_PORT": str(hi)},
           "max-garbage": {"PLUGIN_MIN_PORT": str(lo), "PLUGIN_MAX_PORT": "12x"},
           "negative": {"PLUGIN_MIN_PORT": "-5", "PLUGIN_MAX_PORT": str(hi)}}[case]
    if case in ("min-over-max", "min-garbage", "max-garbage", "negative"):
        r = _refuses_to_start(tmp_path, env, ["--transport", "tcp"])
        assert r.returncode != 0 and r.stdout == b"" and b"PLUGIN_M" in r.stderr, (case, r)
        return
    p = _plugin(tmp_path, env, ["--transport", "tcp"])
    try:
        assert p.fields[2] == "tcp", p.line
        port = int(p.fields[3].rsplit(":", 1)[1])
        if case == "range":
            assert lo <= port <= hi, (env, p.line)
        elif case == "single":
            assert port == lo, (env, p.line)
        else:
            assert port > 0
    finally:
        p.kill()


@pytest.mark.parametrize("case", ["dir", "empty-uses-tmpdir", "both-empty-uses-tmp"])
def test_plugin_unix_socket_dir_and_tmpdir(tmp_path, case):
    d = tmp_path / "sockets"
    t = tmp_path / "tmpdir"
    d.mkdir()
    t.mkdir()
    env = {"dir": {"PLUGIN_UNIX_SOCKET_DIR": str(d), "TMPDIR": str(t)},
           "empty-uses-tmpdir": {"PLUGIN_UNIX_SOCKET_DIR": "", "TMPDIR": str(t)},
           "both-empty-uses-tmp": {"PLUGIN_UNIX_SOCKET_DIR": "", "TMPDIR": ""}}[case]
    p = _plugin(tmp_path, env)
    try:
        sock = p.fields[3]
        want = {"dir": str(d), "empty-uses-tmpdir": str(t), "both-empty-uses-tmp": "/tmp"}[case]
        assert os.path.dirname(sock) == want or os.path.dirname(os.path.dirname(sock)) == want, (env, sock)
    finally:
        p.kill()


@pytest.mark.parametrize("case", ["own-gid", "empty", "no-such-group"])
def test_plugin_unix_socket_group(tmp_path, case):
    gid = os.getgid()
    value = {"own-gid": str(gid), "empty": "", "no-such-group": "no-such-group-soupconf"}[case]
    if case == "no-such-group":
        r = _refuses_to_start(tmp_path, {"PLUGIN_UNIX_SOCKET_GROUP": value})
        assert r.returncode != 0 and r.stdout == b"", r
        return
    p = _plugin(tmp_path, {"PLUGIN_UNIX_SOCKET_GROUP": value})
    try:
        assert os.stat(p.fields[3]).st_gid == gid
    finally:
        p.kill()


@pytest.mark.parametrize("value,debug", [("debug", True), ("DEBUG", True), ("trace", True), ("info", False),
                                         ("", False), (UNSET, False), ("bogus", False), (" debug", False)])
def test_log_level(tmp_path, value, debug):
    """Plugin mode. An empty or unknown $LOG_LEVEL is ignored (info), as in
    soup-go and soup-c's other commands; --log-level bogus is an error."""
    p = _plugin(tmp_path, {"LOG_LEVEL": value})
    try:
        # Shutdown and the stop are logged at debug level.
        assert p.shutdown(None) == 0
        text = p.stderr_text().lower()
        assert ('"@level":"debug"' in text) == debug, (value, text[-1500:])
    finally:
        p.kill()


# ---- storage ---------------------------------------------------------------

@pytest.mark.parametrize("case", ["kv", "kv-empty", "tofusoup", "tofusoup-empty", "xdg", "home", "all-empty"])
def test_storage_directory_rules(tmp_path, case):
    base = tmp_path / "roots"
    env = {"KV_STORAGE_DIR": None, "TOFUSOUP_CACHE_DIR": None, "XDG_CACHE_HOME": None,
           "HOME": str(base / "home"), "TMPDIR": str(base / "tmp")}
    want = {
        "kv": (dict(KV_STORAGE_DIR=str(base / "kvdir")), base / "kvdir"),
        "kv-empty": (dict(KV_STORAGE_DIR="", TOFUSOUP_CACHE_DIR=str(base / "ts")), base / "ts" / "kv-store"),
        "tofusoup": (dict(TOFUSOUP_CACHE_DIR=str(base / "ts")), base / "ts" / "kv-store"),
        "tofusoup-empty": (dict(TOFUSOUP_CACHE_DIR="", XDG_CACHE_HOME=str(base / "xdg")),
                           base / "xdg" / "tofusoup" / "kv-store"),
        "xdg": (dict(XDG_CACHE_HOME=str(base / "xdg")), base / "xdg" / "tofusoup" / "kv-store"),
        "home": (dict(XDG_CACHE_HOME=""), base / "home" / ".cache" / "tofusoup" / "kv-store"),
        "all-empty": (dict(KV_STORAGE_DIR="", TOFUSOUP_CACHE_DIR="", XDG_CACHE_HOME="", HOME=""),
                      base / "tmp" / "tofusoup" / "cache" / "kv-store"),
    }[case]
    env.update(want[0])
    (base / "home").mkdir(parents=True)
    (base / "tmp").mkdir(parents=True)
    argv = [servers.SoupC().binary, "rpc", "kv", "server", "--standalone", "--listen", "127.0.0.1:0"]
    p = subprocess.Popen(argv, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        line = p.stdout.readline().decode()
        assert "Server listening on" in line, (line, p.stderr.read1(4000) if p.poll() is not None else b"")
        c = GrpcKV(line.split()[-1])
        c.put("where", b"here")
        c.close()
        assert os.path.isdir(want[1]) and os.listdir(want[1]), "%s: no store in %s (have %s)" % (
            case, want[1], sorted(str(q) for q in base.rglob("*"))[:20])
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()


# ---- enrichment ------------------------------------------------------------

@pytest.mark.parametrize("var,field,default", [
    ("SERVER_LANGUAGE", "server_language", "c"), ("CLIENT_LANGUAGE", "client_language", "unknown"),
    ("COMBO_ID", "combo_id", "unknown"), ("PLUGIN_PROTOCOL_VERSIONS", "protocol_version", "1"),
])
@pytest.mark.parametrize("value", ["set", "", UNSET])
def test_enrichment_variables(tmp_path, var, field, default, value):
    v = {"set": "env-%d" % len(var), "": "", UNSET: None}[value]
    srv = _standalone(tmp_path, {var: v}, extra=["--enrich-json"]).start()
    try:
        c = srv.client()
        c.put("e", b"{}")
        hs = json.loads(c.get("e"))["server_handshake"]
        c.close()
        assert hs[field] == (v if value == "set" else default), (var, value, hs)
    finally:
        srv.kill()


@pytest.mark.parametrize("value", ["manual", "", UNSET, "auto"])
def test_tls_mode_in_enrichment_is_the_mode_served_not_the_variable(tmp_path, value):
    """The server writes TLS_MODE (and the key variables) from what it
    serves, as soup-go does for its enrichment: the variable's own value
    never shows."""
    srv = _standalone(tmp_path, {"TLS_MODE": value}, extra=["--enrich-json"]).start()
    try:
        c = srv.client()
        c.put("e", b"{}")
        assert json.loads(c.get("e"))["server_handshake"]["tls_mode"] == "disabled"
        c.close()
    finally:
        srv.kill()


@pytest.mark.parametrize("env,crypto", [
    ({"TLS_KEY_TYPE": "ec", "TLS_CURVE": "secp384r1"}, {"key_type": "ec", "curve": "secp384r1", "key_size": 384}),
    ({"TLS_KEY_TYPE": "rsa", "TLS_KEY_SIZE": "4096"}, {"key_type": "rsa", "key_size": 4096}),
    ({"TLS_KEY_TYPE": "rsa", "TLS_KEY_SIZE": ""}, {"key_type": "rsa"}),
    ({"TLS_KEY_TYPE": ""}, None), ({"TLS_KEY_TYPE": None}, None),
])
def test_enrichment_crypto_variables(tmp_path, env, crypto):
    srv = _standalone(tmp_path, env, extra=["--enrich-json"]).start()
    try:
        c = srv.client()
        c.put("e", b"{}")
        hs = json.loads(c.get("e"))["server_handshake"]
        c.close()
        assert hs.get("crypto_config") == crypto, (env, hs)
    finally:
        srv.kill()


# ---- boolean flags -----------------------------------------------------------

FLAG_CASES = [("", True), ("=true", True), ("=1", True), ("=TRUE", True), ("=false", False), ("=0", False),
              ("=FALSE", False), ("=no", "usage"), ("=off", "usage"), ("=", "usage"), ("=yes", "usage")]


def _pflag_xfail(suffix):
    if suffix in ("=true", "=1", "=TRUE", "=false", "=0", "=FALSE"):
        return pytest.mark.xfail(strict=True, reason="FINDINGS.md F-11: soup-c refuses --flag=BOOL on boolean "
                                                     "flags, which soup-go (pflag) accepts")
    return ()


@pytest.mark.parametrize("suffix,on", [pytest.param(s, o, marks=_pflag_xfail(s)) for s, o in FLAG_CASES])
def test_enrich_json_flag_spellings(tmp_path, suffix, on):
    argv = [servers.SoupC().binary, "rpc", "kv", "server", "--standalone", "--listen", "127.0.0.1:0",
            "--storage-dir", str(tmp_path / "s"), "--enrich-json" + suffix]
    p = subprocess.Popen(argv, env=_env({}), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        line = p.stdout.readline().decode()
        if on == "usage":
            assert p.wait(10) == 2 and b"enrich-json" in p.stderr.read(), "--enrich-json%s was accepted" % suffix
            return
        assert "Server listening on" in line, p.stderr.read1(2000) if p.poll() is not None else line
        c = GrpcKV(line.split()[-1])
        c.put("j", b"{}")
        assert ("server_handshake" in json.loads(c.get("j"))) == on
        c.close()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()


@pytest.mark.parametrize("suffix,standalone", [pytest.param(s, o, marks=_pflag_xfail(s)) for s, o in FLAG_CASES])
def test_standalone_flag_spellings(tmp_path, suffix, standalone):
    env = _env({"BASIC_PLUGIN": "hello", "PLUGIN_PROTOCOL_VERSIONS": "1", "PLUGIN_UNIX_SOCKET_DIR": str(tmp_path)})
    argv = [servers.SoupC().binary, "rpc", "kv", "server", "--standalone" + suffix, "--listen", "127.0.0.1:0",
            "--storage-dir", str(tmp_path / "s")]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                         stdin=subprocess.DEVNULL)
    try:
        line = p.stdout.readline().decode()
        if standalone == "usage":
            assert p.wait(10) == 2 and b"standalone" in p.stderr.read(), "--standalone%s accepted" % suffix
            return
        if standalone:
            assert line.startswith("Server listening on"), line
        else:
            assert line.startswith("1|1|"), "want a go-plugin handshake line: %r" % line
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
