"""TLS family: the server's generated certificate for every key type x curve
or size validates with the openssl command line (SAN, EKU, validity, key),
a real handshake verifies against it with ALPN h2, and rapid generation
cycles each produce a fresh, working certificate."""

import datetime
import os
import re
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from soupconf.profiles import scaled
from soupconf import certs, servers

KINDS = [servers.TLS("auto", "ec", "secp256r1"), servers.TLS("auto", "ec", "secp384r1"),
         servers.TLS("auto", "ec", "secp521r1"), servers.TLS("auto", "rsa", bits=2048),
         servers.TLS("auto", "rsa", bits=3072), servers.TLS("auto", "rsa", bits=4096)]


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, errors="replace", timeout=60, input=input)


def _date(s):
    return datetime.datetime.strptime(s.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z")


def check_certificate(path, tls):
    d = certs.describe(path)
    assert d["key_type"] == tls.key_type, "key type %s, asked for %s" % (d["key_type"], tls.key_type)
    if tls.key_type == "ec":
        assert d["curve"] == tls.curve, "curve %s, asked for %s" % (d["curve"], tls.curve)
    else:
        assert d["bits"] == str(tls.bits), "RSA %s bits, asked for %d" % (d["bits"], tls.bits)
    san = openssl("x509", "-in", path, "-noout", "-ext", "subjectAltName").stdout
    assert "DNS:localhost" in san and "IP Address:127.0.0.1" in san, san
    eku = openssl("x509", "-in", path, "-noout", "-ext", "extendedKeyUsage").stdout
    assert "TLS Web Server Authentication" in eku, eku
    ku = openssl("x509", "-in", path, "-noout", "-ext", "keyUsage").stdout
    assert "Digital Signature" in ku, ku
    dates = openssl("x509", "-in", path, "-noout", "-startdate", "-enddate").stdout.splitlines()
    nb, na = _date(dates[0]), _date(dates[1])
    now = datetime.datetime.utcnow()
    assert nb <= now + datetime.timedelta(seconds=1), "notBefore %s is in the future" % nb
    assert now - nb < datetime.timedelta(days=1), "notBefore %s is stale" % nb
    assert na - nb >= datetime.timedelta(days=365), "validity %s < 365 days" % (na - nb)
    v = openssl("verify", "-partial_chain", "-purpose", "sslserver", "-trusted", path, path)
    assert v.returncode == 0 and ": OK" in v.stdout, v.stdout + v.stderr
    return d


@pytest.mark.parametrize("tls", KINDS, ids=lambda t: t.label)
def test_generated_certificate_validates_with_openssl(impl, server_factory, tls):
    why = impl.supports(tls)
    if why:
        pytest.skip(why)
    srv = server_factory(tls=tls)
    check_certificate(srv.tls_files["cert"], tls)
    host, port = srv.address.rsplit(":", 1)
    r = openssl("s_client", "-connect", "%s:%s" % (host, port), "-servername", "localhost",
                "-CAfile", srv.tls_files["cert"], "-verify_return_error", "-alpn", "h2",
                input="")
    out = r.stdout + r.stderr
    assert "Verification: OK" in out or "Verify return code: 0" in out, out[-2000:]
    assert re.search(r"ALPN protocol: h2", out), out[-2000:]
    c = srv.client()
    c.put("tls", tls.label.encode())
    assert c.get("tls") == tls.label.encode()
    c.close()


@pytest.mark.heavy
@settings(max_examples=scaled(0.05, 2, 50))
@given(cycles=st.integers(3, 8), curve=st.sampled_from(["secp256r1", "secp384r1"]))
def test_rapid_certificate_generation_cycles(impl, tmp_path_factory, cycles, curve):
    tls = servers.TLS("auto", "ec", curve)
    why = impl.supports(tls)
    if why:
        pytest.skip(why)
    serials = set()
    for i in range(cycles):
        srv = servers.Server(impl, str(tmp_path_factory.mktemp("cyc")), tls=tls)
        try:
            srv.start()
            c = srv.client(timeout=10)
            c.put("rapid-%d" % i, b"%d" % i)
            assert c.get("rapid-%d" % i) == b"%d" % i
            c.close()
            serial = openssl("x509", "-in", srv.tls_files["cert"], "-noout", "-serial").stdout.strip()
            assert serial not in serials, "certificate serial %s reused" % serial
            serials.add(serial)
        finally:
            srv.kill()


CERT_TOOL_KINDS = [("ec", "secp256r1", None), ("ec", "p-384", None), ("ec", "P521", None), ("ec", "prime256v1", None),
                   ("rsa", None, 2048), ("rsa", None, 3072), ("rsa", None, 4096)]


@pytest.mark.parametrize("key_type,curve,bits", CERT_TOOL_KINDS, ids=lambda x: str(x))
def test_cert_tool_output_validates_with_openssl(impl, tmp_path, key_type, curve, bits):
    """`soup-c rpc cert generate` for every key type x curve alias or size."""
    if impl.name != "soup-c":
        pytest.skip("soup-c's certificate tool")
    crt, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    argv = [impl.binary, "rpc", "cert", "generate", "--out-cert", crt, "--out-key", key, "--key-type", key_type]
    argv += ["--curve", curve] if curve else ["--bits", str(bits)]
    r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=120)
    assert r.returncode == 0, r.stderr
    canon = {"secp256r1": "secp256r1", "p-384": "secp384r1", "P521": "secp521r1", "prime256v1": "secp256r1"}
    tls = servers.TLS("manual", key_type, canon.get(curve, "secp256r1"), bits or 2048)
    check_certificate(crt, tls)
    assert oct(os.stat(key).st_mode & 0o777) == "0o600", "private key mode %o" % (os.stat(key).st_mode & 0o777)
    # the key matches the certificate
    pub_c = openssl("x509", "-in", crt, "-noout", "-pubkey").stdout
    pub_k = openssl("pkey", "-in", key, "-pubout").stdout
    assert pub_c and pub_c == pub_k


@pytest.mark.parametrize("flags", [["--key-type", "dsa"], ["--curve", "secp192r1"], ["--bits", "1024"],
                                   ["--key-type", "rsa", "--bits", "abc"], ["--days", "-1"]],
                         ids=lambda f: " ".join(f))
def test_cert_tool_refuses_bad_parameters(impl, tmp_path, flags):
    if impl.name != "soup-c":
        pytest.skip("soup-c's certificate tool")
    crt, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    r = subprocess.run([impl.binary, "rpc", "cert", "generate", "--out-cert", crt, "--out-key", key] + flags,
                       capture_output=True, text=True, errors="replace", timeout=60)
    assert r.returncode != 0, "accepted %s" % flags
    assert r.stderr.strip()
    assert not os.path.exists(key), "left a key behind after refusing %s" % flags
