"""Certificates made with the openssl command line (manual TLS mode, client
certificates, the reference server) and checked with it (TLS family)."""

import os
import subprocess
from typing import Dict, Optional

CURVE_OPENSSL = {"secp256r1": "prime256v1", "secp384r1": "secp384r1", "secp521r1": "secp521r1"}


def generate(dirpath: str, name: str, key_type: str = "ec", curve: str = "secp256r1",
             bits: int = 2048, days: int = 365, cn: str = "localhost") -> Dict[str, str]:
    """Writes <name>.crt and <name>.key (self-signed, SAN localhost/127.0.0.1/::1,
    EKU serverAuth+clientAuth). Returns {"cert": path, "key": path}."""
    os.makedirs(dirpath, exist_ok=True)
    cert = os.path.join(dirpath, name + ".crt")
    key = os.path.join(dirpath, name + ".key")
    if key_type == "ec":
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + CURVE_OPENSSL[curve]]
        ku = "critical,digitalSignature,keyCertSign"
    else:
        newkey = ["-newkey", "rsa:%d" % bits]
        ku = "critical,digitalSignature,keyEncipherment,keyCertSign"
    subprocess.run(
        ["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", cert,
         "-days", str(days), "-subj", "/CN=%s/O=soupconf" % cn,
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
         "-addext", "extendedKeyUsage=serverAuth,clientAuth",
         "-addext", "keyUsage=" + ku,
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    return {"cert": cert, "key": key}


def text(cert_path: str) -> str:
    return subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-text"],
                          check=True, capture_output=True, text=True, timeout=30).stdout


def describe(cert_path: str) -> Dict[str, Optional[str]]:
    """Key type, curve or bits, SAN, EKU, validity, from `openssl x509 -text`."""
    t = text(cert_path)
    out: Dict[str, Optional[str]] = {"text": t, "key_type": None, "curve": None, "bits": None}
    if "id-ecPublicKey" in t:
        out["key_type"] = "ec"
        for nist, name in (("P-256", "secp256r1"), ("P-384", "secp384r1"), ("P-521", "secp521r1"),
                           ("prime256v1", "secp256r1"), ("secp384r1", "secp384r1"), ("secp521r1", "secp521r1")):
            if nist in t:
                out["curve"] = name
                break
    elif "rsaEncryption" in t:
        out["key_type"] = "rsa"
        import re
        m = re.search(r"Public-Key: \((\d+) bit\)", t)
        out["bits"] = m.group(1) if m else None
    return out
