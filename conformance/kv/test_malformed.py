"""Malformed input and security family. Each case must get its own clear
error, and the server must go on serving afterwards."""

import os
import socket
import subprocess
import time
import uuid

import pytest
from hypothesis import assume, given, settings, strategies as st

from soupconf.profiles import scaled
from soupconf import certs, codec, rawh2, servers, strategies as sst
from soupconf.client import ClientTLS, GrpcKV, KVError

VALID_CURVES = {"secp256r1", "p-256", "p256", "prime256v1", "secp384r1", "p-384", "p384",
                "secp521r1", "p-521", "p521", "auto"}


def assert_serving(srv):
    assert srv.alive(), "server died: %s" % srv.stderr_text()[-2000:]
    c = srv.client(timeout=10)
    try:
        k = "alive-%s" % uuid.uuid4()
        c.put(k, b"still serving")
        assert c.get(k) == b"still serving"
    finally:
        c.close()


def start_fails(impl, tmp, extra_argv, tls=servers.PLAINTEXT, tls_files=None, storage=None, timeout=30):
    if not impl.server_flags:
        pytest.skip("%s has no soup-c server flags (--tls-*, --storage-dir)" % impl.name)
    argv = impl.argv("127.0.0.1:0", storage or os.path.join(tmp, "store"), tls, tls_files or {}, [])
    argv = argv + extra_argv
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        raise AssertionError("server kept running with %s; stdout=%s" % (extra_argv, out[-500:]))
    out = r.stdout.decode(errors="replace")
    err = r.stderr.decode(errors="replace")
    assert r.returncode != 0, "exit 0 for %s (stdout=%r stderr=%r)" % (extra_argv, out[-300:], err[-300:])
    assert "Server listening" not in out
    assert err.strip(), "no error message on stderr for %s" % extra_argv
    return r.returncode, err


def known_peer_defect(request, srv, impl_name, finding, strict=True):
    """A behaviour FINDINGS.md records for a peer, not soup-c: the test still
    runs there and must fail (strict xfail), so a fix upstream shows up."""
    if srv.impl.name == impl_name:
        request.node.add_marker(pytest.mark.xfail(strict=strict, reason=finding))


F3 = "FINDINGS.md F-3: grpcio servers answer a truncated message with UNIMPLEMENTED"
F4 = "FINDINGS.md F-4: grpc-go 1.33 answers an invalid UTF-8 key with INTERNAL"
F5 = "FINDINGS.md F-5: kvref accepts the empty key and keys of any length"
F6 = "FINDINGS.md F-6: grpc-go 1.33 answers a truncated message with UNKNOWN"


def _needs_soupc(impl):
    if impl.name != "soup-c":
        pytest.skip("CLI behaviour: soup-c only")


# ---- server start-up ---------------------------------------------------

@settings(max_examples=scaled(0.2, 3, 100))
@given(curve=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30))
def test_invalid_tls_curve_is_refused_at_startup(impl, tmp_path_factory, curve):
    assume(curve.strip().lower() not in VALID_CURVES and not curve.startswith("-"))
    tmp = str(tmp_path_factory.mktemp("curve"))
    argv = ["--tls-mode", "auto", "--tls-key-type", "ec", "--tls-curve", curve]
    rc, err = start_fails(impl, tmp, argv)
    assert "curve" in err.lower(), err


@pytest.mark.parametrize("flag,value", [("--tls-mode", "invalid-mode"), ("--tls-mode", ""),
                                        ("--tls-key-type", "dsa"), ("--tls-key-type", "EC2"),
                                        ("--tls-key-bits", "1024"), ("--tls-key-bits", "abc")])
def test_invalid_tls_mode_or_key_type_is_refused_at_startup(impl, tmp_path, flag, value):
    argv = [flag, value]
    if flag != "--tls-mode":
        argv = ["--tls-mode", "auto"] + argv
    rc, err = start_fails(impl, str(tmp_path), argv)
    assert flag.lstrip("-").split("-")[-1] in err.lower() or value in err, err


def test_missing_certificate_files_are_named(impl, tmp_path):
    missing = str(tmp_path / "nope" / "server.crt")
    rc, err = start_fails(impl, str(tmp_path), ["--tls-mode", "manual", "--cert-file", missing,
                                                 "--key-file", str(tmp_path / "nope" / "server.key")])
    assert "server.crt" in err or "server.key" in err, err


def test_unusable_storage_dir_is_refused(impl, tmp_path):
    if not impl.durable:
        pytest.skip("%s has no storage directory" % impl.name)
    f = tmp_path / "a-file"
    f.write_text("not a directory")
    rc, err = start_fails(impl, str(tmp_path), [], storage=str(f / "store"))
    assert "a-file" in err or "store" in err, err


def test_invalid_server_path_fails_fast_with_its_name(impl, tmp_path):
    _needs_soupc(impl)
    bogus = str(tmp_path / ("no-such-plugin-%s" % uuid.uuid4().hex[:6]))
    t0 = time.monotonic()
    r = subprocess.run([impl.binary, "rpc", "kv", "get", "k"], capture_output=True, timeout=30,
                       env=dict(os.environ, PLUGIN_SERVER_PATH=bogus, KV_STORAGE_DIR=str(tmp_path / "s")))
    assert r.returncode != 0
    assert time.monotonic() - t0 < 10
    err = r.stderr.decode(errors="replace")
    assert os.path.basename(bogus) in err or "no such file" in err.lower() or "not found" in err.lower(), err


@pytest.mark.parametrize("timeout", ["0", "-1", "-0.5", "abc", "", "nan", "inf", "1e400", "5s5"])
def test_bad_client_timeout_is_a_usage_error(impl, shared_server, timeout):
    _needs_soupc(impl)
    r = subprocess.run([impl.binary, "rpc", "kv", "get", "k", "--address", shared_server.address,
                        "--timeout", timeout], capture_output=True, timeout=30)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 2, "rc=%d for --timeout %r: %s" % (r.returncode, timeout, err)
    assert "timeout" in err.lower(), err
    assert_serving(shared_server)


# ---- keys ---------------------------------------------------------------

@pytest.mark.parametrize("method", ["put", "get"])
def test_empty_key_is_invalid_argument(shared_server, method, request):
    known_peer_defect(request, shared_server, "go-kvref", F5)
    c = shared_server.client()
    with pytest.raises(KVError) as ei:
        c.put("", b"x") if method == "put" else c.get("")
    assert ei.value.code == "INVALID_ARGUMENT", ei.value
    assert "empty" in ei.value.details.lower(), ei.value
    c.close()
    assert_serving(shared_server)


def _invalid_utf8(b):
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


@given(raw=st.one_of(st.binary(min_size=1, max_size=64),
                     st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x80b",
                                      b"\xe2\x82", b"\xf8\x88\x80\x80\x80"])).filter(_invalid_utf8),
       method=st.sampled_from(["put", "get"]))
def test_invalid_utf8_key_is_invalid_argument(shared_server, raw, method):
    if shared_server.impl.name == "go-kvref":
        pytest.xfail(F4)  # inside @given: xfail at once (see FINDINGS.md)
    # sent raw at the protobuf level: a generated stub would refuse to encode it
    c = shared_server.client()
    try:
        with pytest.raises(KVError) as ei:
            c.put(raw, b"x") if method == "put" else c.get(raw)
        assert ei.value.code == "INVALID_ARGUMENT", ei.value
        assert "utf" in ei.value.details.lower(), ei.value
    finally:
        c.close()


@settings(max_examples=scaled(0.3, 3, 200))
@given(extra=st.integers(1, 5000), ch=st.sampled_from(["k", "\x00", "é", "中", "\U0001f600"]))
def test_over_limit_key_is_invalid_argument(shared_server, extra, ch):
    if shared_server.impl.name == "go-kvref":
        pytest.xfail(F5)
    limit = 65536
    n = limit + extra
    key = (ch * (n // len(ch.encode()) + 1)).encode()[:n]
    key = key.decode("utf-8", "ignore").encode()
    while len(key) <= limit:
        key += b"k"
    c = shared_server.client()
    try:
        with pytest.raises(KVError) as ei:
            c.put(key, b"x")
        assert ei.value.code == "INVALID_ARGUMENT", ei.value
        assert str(limit) in ei.value.details or "limit" in ei.value.details.lower(), ei.value
        with pytest.raises(KVError) as ei:
            c.get(key)
        assert ei.value.code == "INVALID_ARGUMENT", ei.value
    finally:
        c.close()


def test_key_at_exactly_the_limit_is_accepted(shared_server):
    c = shared_server.client()
    k = "é" * 32768  # 65536 bytes
    c.put(k, b"edge")
    assert c.get(k) == b"edge"
    c.close()


TRAVERSAL = ["..", ".", "/", "\\", "../x", "../../canary/evil", "/etc/passwd", "..\\..\\x", "./../store2",
             "kv-data-../x", "../" * 40 + "tmp/evil", "%2e%2e%2fevil", "\u2025/evil", "..\x00/evil",
             "a/../../b", "~/evil", "$HOME/evil", "../store/../../evil"]


def _snapshot(root, skip):
    out = {}
    for d, dirs, files in os.walk(root):
        if os.path.abspath(d).startswith(os.path.abspath(skip)):
            continue
        for name in dirs + files:
            p = os.path.join(d, name)
            try:
                st_ = os.lstat(p)
            except FileNotFoundError:
                continue
            out[p] = (st_.st_mtime_ns, st_.st_size)
    return out


@settings(max_examples=scaled(0.3, 3, 300))
@given(extra=st.lists(st.lists(st.sampled_from(["..", ".", "/", "\\", "evil", "\x00", "canary", "~"]),
                               min_size=1, max_size=12).map("".join), max_size=5))
def test_path_traversal_keys_touch_nothing_outside_the_store(server_factory, tmp_path_factory, extra):
    # Proof: the tree around the store (its parent, with a canary dir, and
    # the server's working dir) is unchanged, byte for byte in mtime/size;
    # and every key still round-trips (keys are data, not names).
    srv = server_factory(start=False)
    canary = os.path.join(srv.workdir, "canary")
    os.makedirs(canary, exist_ok=True)
    with open(os.path.join(canary, "evil"), "w") as f:
        f.write("untouched")
    srv.start()
    time.sleep(0.05)
    parent = os.path.dirname(srv.workdir)
    before = _snapshot(parent, srv.storage)
    c = srv.client()
    try:
        keys = [k for k in TRAVERSAL + extra if k]
        for i, k in enumerate(keys):
            c.put(k, b"v%d" % i)
        for i, k in enumerate(keys):
            assert c.get(k) == b"v%d" % (max(j for j, kk in enumerate(keys) if kk == k))
    finally:
        c.close()
    after = _snapshot(parent, srv.storage)
    ignore = lambda p: os.path.basename(p).startswith("server-") and p.endswith(".log")  # noqa: E731
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p) and not ignore(p))
    assert not changed, "files outside the store changed: %s" % changed[:10]
    assert open(os.path.join(canary, "evil")).read() == "untouched"


def test_nonexistent_key_is_not_found_with_a_message(shared_server):
    c = shared_server.client()
    with pytest.raises(KVError) as ei:
        c.raw("/proto.KV/Get", codec.encode_get_request("does-not-exist-%s" % uuid.uuid4()))
    assert ei.value.code == "NOT_FOUND" and ei.value.details, ei.value
    c.close()


# ---- the wire -----------------------------------------------------------

@settings(max_examples=scaled(0.3, 3, 300))
@given(garbage=st.binary(min_size=1, max_size=4096), after_preface=st.booleans())
def test_garbage_bytes_on_the_socket(shared_server, garbage, after_preface):
    s = rawh2.connect_socket(shared_server.address)
    try:
        if after_preface:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        try:
            s.sendall(garbage)
        except OSError:
            pass
        s.settimeout(1)
        # the server must not hang on to a connection that speaks nonsense
        # forever, nor die: read until it closes or 1 s passes
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 1:
                if not s.recv(65536):
                    break
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        s.close()
    assert_serving(shared_server)


def test_truncated_grpc_frame_gets_an_error(shared_server, request):
    known_peer_defect(request, shared_server, "python-ref", F3)
    known_peer_defect(request, shared_server, "go-kvref", F6)
    h = rawh2.H2(shared_server.address)
    try:
        msg = codec.encode_put_request("trunc", b"x" * 100)
        frame = codec.grpc_frame(msg)[:20]  # prefix says 100+ bytes; 15 arrive
        sid = h.request("/proto.KV/Put", frame)
        r = h.wait(sid, timeout=10)
        # 13 INTERNAL (what grpc-go and C++ servers say), 3 INVALID_ARGUMENT
        assert r.grpc_status in (3, 13) or r.reset is not None, r
        assert r.grpc_status is None or r.grpc_message, r
    finally:
        h.close()
    c = shared_server.client()
    assert c.get("trunc") is None  # nothing stored from a partial message
    c.close()
    assert_serving(shared_server)


def test_grpc_length_prefix_over_the_limit_is_refused(shared_server, request):
    known_peer_defect(request, shared_server, "python-ref", F3)
    # the prefix declares ~4 GiB (over any limit); the stream then ends
    h = rawh2.H2(shared_server.address)
    try:
        sid = h.request("/proto.KV/Put", b"\x00\xff\xff\xff\xf0" + b"x" * 100)
        r = h.wait(sid, timeout=10)
        # 8 RESOURCE_EXHAUSTED (limit), 13 INTERNAL (truncated message)
        assert r.grpc_status in (8, 13) or r.reset is not None, r
    finally:
        h.close()
    assert_serving(shared_server)


def test_oversized_http2_frame_is_a_connection_error(shared_server):
    h = rawh2.H2(shared_server.address)
    try:
        h.pump(0.5)
        sid = h.request("/proto.KV/Put", b"", end=False)
        # a DATA frame one KiB over the server's advertised SETTINGS_MAX_FRAME_SIZE
        n = min(h.conn.remote_settings.max_frame_size + 1024, (1 << 24) - 1)
        try:
            h.send_raw(n.to_bytes(3, "big") + b"\x00\x00" + sid.to_bytes(4, "big") + b"\x00" * n)
        except OSError:
            pass  # closed while we were still sending: that is the right answer
        else:
            assert h.wait_closed(10), "server kept a connection that sent an oversized frame"
        if h.goaway is not None:
            assert h.goaway in (1, 6), "GOAWAY code %d (want FRAME_SIZE_ERROR 6 or PROTOCOL_ERROR 1)" % h.goaway
    finally:
        h.close()
    assert_serving(shared_server)


@pytest.mark.parametrize("ctype", ["text/plain", "application/json", "", "application/grpcx"])
def test_wrong_content_type_is_refused(shared_server, ctype, request):
    known_peer_defect(request, shared_server, "python-ref",
                      "FINDINGS.md F-2: grpcio (C-core) servers accept any content-type")
    h = rawh2.H2(shared_server.address)
    try:
        sid = h.request("/proto.KV/Put", codec.grpc_frame(codec.encode_put_request("ctype", b"bad")),
                        content_type=ctype)
        r = h.wait(sid, timeout=10)
        status = r.headers.get(":status")
        assert (status is not None and status != "200") or r.grpc_status not in (None, 0) or r.reset is not None, r
    finally:
        h.close()
    c = shared_server.client()
    assert c.get("ctype") is None
    c.close()
    assert_serving(shared_server)


@pytest.mark.parametrize("path", ["/proto.KV/Delete", "/proto.KV/", "/nope.Service/Get", "/proto.KV/get",
                                  "/proto.KV/Get/extra"])
def test_unknown_method_is_unimplemented(shared_server, path):
    c = shared_server.client()
    with pytest.raises(KVError) as ei:
        c.raw(path, codec.encode_get_request("k"))
    assert ei.value.code == "UNIMPLEMENTED", ei.value
    c.close()
    assert_serving(shared_server)


def test_client_with_the_wrong_certificate_is_refused(impl, server_factory, tmp_path):
    why = impl.supports(servers.TLS("mtls"))
    if why:
        pytest.skip(why)
    srv = server_factory(tls=servers.TLS("mtls", "ec", "secp256r1"))
    other = certs.generate(str(tmp_path), "intruder", "ec", "secp256r1")
    bad = GrpcKV(srv.address, ClientTLS(srv.client_tls.root_pem, open(other["cert"], "rb").read(),
                                         open(other["key"], "rb").read()), timeout=10)
    with pytest.raises(KVError) as ei:
        bad.put("intruder", b"x")
    assert ei.value.code in ("UNAVAILABLE", "UNAUTHENTICATED", "PERMISSION_DENIED"), ei.value
    bad.close()
    nocert = GrpcKV(srv.address, ClientTLS(srv.client_tls.root_pem), timeout=10)
    with pytest.raises(KVError):
        nocert.put("intruder", b"x")
    nocert.close()
    good = srv.client()
    assert good.get("intruder") is None
    good.close()
    assert_serving(srv)


@settings(max_examples=scaled(0.2, 3, 100))
@given(limit=st.integers(1, 2000), over=st.integers(1, 100))
def test_custom_max_key_size_is_enforced_exactly(impl, tmp_path_factory, limit, over):
    if not impl.server_flags:
        pytest.skip("%s has no --max-key-size" % impl.name)
    srv = servers.Server(impl, str(tmp_path_factory.mktemp("mks")), extra=["--max-key-size", str(limit)]).start()
    try:
        c = srv.client(timeout=10)
        c.put("k" * limit, b"at the limit")
        assert c.get("k" * limit) == b"at the limit"
        with pytest.raises(KVError) as ei:
            c.put("k" * (limit + over), b"over")
        assert ei.value.code == "INVALID_ARGUMENT", ei.value
        assert str(limit) in ei.value.details, ei.value
        c.close()
    finally:
        srv.kill()
