"""The harness's own checks: sanitizer reports in server logs are found, the
report renders every status, CLI error texts map to gRPC codes."""

from soupconf import report, servers
from soupconf.client import _code_from_text


def test_sanitizer_report_in_a_log_is_recorded(tmp_path):
    log = tmp_path / "server-0.log"
    log.write_text("info line\n==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n")
    n = len(servers.SANITIZER_REPORTS)
    servers._scan_sanitizer(str(log), ["soup-c"])
    assert len(servers.SANITIZER_REPORTS) == n + 1
    assert "heap-use-after-free" in servers.SANITIZER_REPORTS.pop()
    log.write_text("2026 [INFO] kv: received SIGTERM; stopping gracefully\n")
    servers._scan_sanitizer(str(log), ["soup-c"])
    assert len(servers.SANITIZER_REPORTS) == n


def test_cli_error_texts_map_to_codes():
    assert _code_from_text(b"Error: NOT_FOUND: key not found: k") == "NOT_FOUND"
    assert _code_from_text(b"kvclient: get k: code=NotFound msg=key not found: k") == "NOT_FOUND"
    assert _code_from_text(b"rpc error: code = InvalidArgument desc = invalid key") == "INVALID_ARGUMENT"
    assert _code_from_text(b"something else") == "UNKNOWN"


def test_matrix_markdown_renders_every_status_in_words(tmp_path):
    """The HTML page is the run report (selftest/test_runreport.py)."""
    cells = [
        {"client": "c1", "server": "s1", "tls": "plaintext", "status": "pass", "examples": 5, "unexpressible": 1},
        {"client": "c2", "server": "s1", "tls": "plaintext", "status": "fail", "examples": 0, "unexpressible": 0,
         "failure": "AssertionError: <boom> & co"},
        {"client": "c1", "server": "s2", "tls": "tls", "status": "skip", "reason": "not built"},
        {"client": "c1", "server": "s3", "tls": "tls", "status": "known", "examples": 0, "reason": "FINDINGS.md F-7: x"},
    ]
    (md,) = report.write(str(tmp_path), cells, {"profile": "quick", "max_examples": 8, "generated": "now"})
    m = open(md).read()
    assert "PASS (5 ex., 1 n/a)" in m and "FAIL (0 ex." in m and "SKIP (not built)" in m and "KNOWN (F-7)" in m
    assert all(ord(ch) < 0x2000 or ch in "\u2192\u00b7" for ch in m), "no emoji in the matrix"
