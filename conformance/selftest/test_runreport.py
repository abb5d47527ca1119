"""The run report's own tests: the page must say what the run said.

Synthetic runs check every cell, count and note against the data they were
rendered from; a real run of selftest/samples/sample_run.py (every pytest
outcome, a failing and a passing property) checks that the counts and the
verdict on the page are pytest's own. A report that marks a failing cell
PASS, drops a skip reason, counts wrongly or calls a failed run green fails
here. (tests/conformance/report then renders the page in headless
Chromium.)"""

import html.parser
import json
import os
import re
import subprocess
import sys
import unicodedata

import pytest

from soupconf import runreport

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "samples", "sample_run.py")


class Page(html.parser.HTMLParser):
    """Elements with the report's data attributes, and their text."""

    def __init__(self, text):
        super().__init__()
        self.stack, self.found, self.attrs_seen, self.notes = [], [], [], {}
        self.script = None
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attrs_seen.append((tag, a))
        if tag == "script":
            self._in_script = a.get("id") == "run-data"
            self.script = "" if self._in_script else self.script
        node = {"tag": tag, "attrs": a, "text": ""}
        for open_node in self.stack:
            pass
        self.stack.append(node)
        self.found.append(node)

    def handle_endtag(self, tag):
        while self.stack:
            n = self.stack.pop()
            if n["tag"] == tag:
                break
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script += data
        for n in self.stack:
            n["text"] += data

    def by(self, attr, value=None):
        return [n for n in self.found if attr in n["attrs"] and (value is None or n["attrs"][attr] == value)]


def _run(tests, cells, exitstatus=0, problems=()):
    counts = {o: sum(1 for t in tests if t["outcome"] == o) for o in runreport.OUTCOMES}
    counts["total"] = len(tests)
    return {"verdict": runreport.verdict_of(counts, exitstatus), "exitstatus": exitstatus, "counts": counts,
            "meta": {"binary": "/x/soup-c", "version": "soup-c 9.9.9", "commit": "abc", "profile": "quick",
                     "seed": "42", "duration_s": 1.5},
            "tests": tests, "cells": cells, "session_problems": list(problems)}


# What a reader must see for each status (written here, not taken from
# runreport, so a wrong table there fails).
EXPECTED_WORD = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "known": "KNOWN"}
EXPECTED_COLOUR = {"pass": "#1a7f37", "fail": "#cf222e", "skip": "#6e7781", "known": "#9a6700"}

CELLS = [
    {"client": "c1", "server": "s1", "tls": "plaintext", "status": "pass", "examples": 7},
    {"client": "c1", "server": "s2", "tls": "plaintext", "status": "fail", "examples": 2, "failure": "boom"},
    {"client": "c2", "server": "s1", "tls": "plaintext", "status": "skip", "reason": "peer X not built"},
    {"client": "c2", "server": "s2", "tls": "plaintext", "status": "skip", "reason": "peer X not built"},
    {"client": "c1", "server": "s1", "tls": "mtls", "status": "skip", "reason": "s1 has no mTLS"},
    {"client": "c2", "server": "s1", "tls": "mtls", "status": "known", "reason": "FINDINGS.md F-7: limits"},
]
TESTS = [
    {"nodeid": "kv/test_a.py::test_ok", "outcome": "passed", "duration": 0.1},
    {"nodeid": "kv/test_a.py::test_bad", "outcome": "failed", "duration": 0.2, "message": "AssertionError: x"},
    {"nodeid": "kv/test_b.py::test_skip1", "outcome": "skipped", "duration": 0, "reason": "why B"},
    {"nodeid": "kv/test_b.py::test_skip2", "outcome": "skipped", "duration": 0, "reason": "why B"},
    {"nodeid": "kv/test_b.py::test_xf", "outcome": "xfailed", "duration": 0, "reason": "F-1"},
    {"nodeid": "kv/test_b.py::test_prop", "outcome": "passed", "duration": 1.0,
     "stats": runreport.parse_stats("kv/test_b.py::test_prop:\n\n  - during generate phase (0.50 seconds):\n"
                                    "    - Typical runtimes: ~ 1ms\n    - 17 passing examples, 0 failing "
                                    "examples, 3 invalid examples\n\n  - Stopped because settings.max_examples=17\n")},
]


def test_every_matrix_cell_shows_its_own_status():
    page = Page(runreport.render(_run(TESTS, CELLS)))
    shown = page.by("data-cell-status")
    assert len(shown) == len(CELLS)
    for c in CELLS:
        (td,) = [n for n in shown if (n["attrs"]["data-client"], n["attrs"]["data-server"],
                                      n["attrs"]["data-tls"]) == (c["client"], c["server"], c["tls"])]
        assert td["attrs"]["data-cell-status"] == c["status"]
        assert EXPECTED_WORD[c["status"]] in td["text"], (c, td["text"])
        others = set(EXPECTED_WORD.values()) - {EXPECTED_WORD[c["status"]]}
        assert not any(re.search(r"\b%s\b" % w, td["text"]) for w in others), (c, td["text"])
        if c["status"] in ("pass", "fail"):
            assert "%d ex." % c["examples"] in td["text"]
    text = runreport.render(_run(TESTS, CELLS))
    for c in CELLS:  # the mark's colour, too
        m = re.search(r'data-cell-status="%s">.*?<circle[^>]*fill="(#[0-9a-f]{6})"' % c["status"], text, re.S)
        assert m and m.group(1) == EXPECTED_COLOUR[c["status"]], c


def test_each_skip_cause_is_one_note_and_every_skipped_cell_points_to_it():
    page = Page(runreport.render(_run(TESTS, CELLS)))
    notes = {n["attrs"]["id"]: n["text"] for n in page.found if n["attrs"].get("id", "").startswith("note-")}
    reasons = {c["reason"] for c in CELLS if c["status"] in ("skip", "known")}
    tests_reasons = {t["reason"] for t in TESTS if t["outcome"] in ("skipped", "xfailed")}
    # matrix notes and family notes are numbered separately: count texts
    texts = list(notes.values())
    for r in reasons | tests_reasons:
        assert sum(1 for t in texts if t.startswith(r)) >= 1, r
    assert sum(1 for t in texts if t.startswith("peer X not built")) == 1, texts  # once per cause
    for td in page.by("data-cell-status"):
        st = td["attrs"]["data-cell-status"]
        if st in ("skip", "known"):
            assert re.search(r"\[\d+\]", td["text"]), td


def test_verdict_and_counts_follow_the_run():
    page = Page(runreport.render(_run(TESTS, CELLS)))
    (v,) = page.by("data-verdict")
    assert v["attrs"]["data-verdict"] == "fail" and "FAIL" in v["text"] and "PASS" not in v["text"]
    counts = {n["attrs"]["data-count"]: int(re.search(r"\d+", n["text"]).group()) for n in page.by("data-count")}
    assert counts == {"passed": 2, "failed": 1, "error": 0, "skipped": 2, "xfailed": 1, "xpassed": 0, "total": 6}
    good = [t for t in TESTS if t["outcome"] != "failed"]
    page = Page(runreport.render(_run(good, [c for c in CELLS if c["status"] != "fail"])))
    v = page.by("data-verdict")[0]
    assert v["attrs"]["data-verdict"] == "pass" and "PASS" in v["text"] and "FAIL" not in v["text"]
    # a session problem (a leftover process, a sanitizer report) fails the run with every test green
    page = Page(runreport.render(_run(good, [], exitstatus=1, problems=["processes left running"])))
    assert page.by("data-verdict")[0]["attrs"]["data-verdict"] == "fail"
    assert page.by("id", "session-problems")
    # an XPASS of a strict xfail is a failure
    xp = good + [{"nodeid": "kv/test_c.py::t", "outcome": "xpassed", "duration": 0}]
    assert Page(runreport.render(_run(xp, []))).by("data-verdict")[0]["attrs"]["data-verdict"] == "fail"


def test_families_list_every_test_with_hypothesis_statistics():
    page = Page(runreport.render(_run(TESTS, CELLS)))
    rows = page.by("data-nodeid")
    assert [r["attrs"]["data-nodeid"] for r in rows] == [t["nodeid"] for t in TESTS]
    for r, t in zip(rows, TESTS):
        assert r["attrs"]["data-outcome"] == t["outcome"]
    prop = [r for r in rows if r["attrs"]["data-nodeid"].endswith("test_prop")][0]
    assert "17 passing, 0 failing, 3 invalid" in prop["text"]
    assert "settings.max_examples=17" in prop["text"]


def test_no_emoji_no_external_resources_and_the_data_round_trips():
    run = _run(TESTS, CELLS)
    text = runreport.render(run)
    for ch in set(text):
        cp = ord(ch)
        assert not (0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF
                    or cp in (0xFE0F, 0x200D)), "emoji-like character %r (%s)" % (ch, unicodedata.name(ch, "?"))
    page = Page(text)
    for tag, a in page.attrs_seen:
        for k in ("src", "href"):
            v = a.get(k) or ""
            assert not re.match(r"(https?:)?//", v), (tag, k, v)
        assert not (tag == "link" and a.get("rel") == "stylesheet")
    assert json.loads(page.script) == run


def _sample(tmp_path, fail):
    d = tmp_path / ("fail" if fail else "pass")
    env = dict(os.environ, SAMPLE_FAIL="1" if fail else "0", PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                        "--hypothesis-profile", "quick", "--report-dir", str(d), SAMPLE],
                       cwd=os.path.dirname(HERE), capture_output=True, text=True, env=env, timeout=300)
    return r, json.load(open(d / "run.json")), open(d / "report.html").read()


def _pytest_counts(out):
    line = [ln for ln in out.splitlines() if re.search(r"\d+ (passed|failed|skipped)", ln)][-1]
    got = {k: 0 for k in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")}
    for n, k in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", line):
        got["error" if k.startswith("error") else k] = int(n)
    return got


@pytest.mark.parametrize("fail", [False, True], ids=["passing-run", "failing-run"])
def test_a_real_run_reports_pytests_own_counts_and_verdict(tmp_path, fail):
    r, run, text = _sample(tmp_path, fail)
    want = _pytest_counts(r.stdout)
    assert {k: run["counts"][k] for k in want} == want, (r.stdout[-2000:], run["counts"])
    assert run["verdict"] == ("fail" if fail else "pass") == ("pass" if r.returncode == 0 else "fail")
    page = Page(text)
    assert page.by("data-verdict")[0]["attrs"]["data-verdict"] == run["verdict"]
    if fail:
        failed = {n["attrs"]["data-nodeid"] for n in page.by("data-outcome", "failed")}
        assert any(x.endswith("test_fails") for x in failed) and any(x.endswith("test_property_fails")
                                                                     for x in failed)
        assert "sample failure" in text
    stats = [t for t in run["tests"] if t["nodeid"].endswith("test_property_passes")][0]["stats"]
    assert stats["examples"] >= 1
    assert run["meta"]["seed"] and run["meta"]["profile"] == "quick"
