"""The run report: one self-contained HTML page (and run.json) that tells a
person at a glance whether the run passed, what was tested, and why any
cell did not run.

Order of the page: the verdict (PASS/FAIL, counts of passed, failed,
errors, skipped, xfailed, xpassed for the whole run); the binary (path,
version, sha256, sanitizers), the commit, profile, seed (with the command
that reproduces it) and duration; failures; the polyglot matrix; then every
other family with its tests and their Hypothesis statistics. Status marks
are inline SVG plus a text word, never emoji. A skipped cell or test says
why through a numbered note, one note per distinct cause.

Machine-readable parts for tests and CI: #verdict carries data-verdict,
each count has data-count, each matrix cell data-status, and the whole run
is in <script type="application/json" id="run-data">.

    python3 -m soupconf.runreport run.json [OUT.html]   # re-render
"""

import html
import json
import os
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional

OUTCOMES = ["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP", "xfailed": "XFAIL",
        "xpassed": "XPASS", "pass": "PASS", "fail": "FAIL", "skip": "SKIP", "known": "KNOWN"}
# cell status -> mark
KIND = {"passed": "ok", "pass": "ok", "failed": "bad", "fail": "bad", "error": "bad", "xpassed": "bad",
        "skipped": "skip", "skip": "skip", "xfailed": "warn", "known": "warn"}
COLOR = {"ok": "#1a7f37", "bad": "#cf222e", "skip": "#6e7781", "warn": "#9a6700"}

_SVG = {
    "ok": '<path d="M4.5 8.2l2.3 2.3 4.7-5" fill="none" stroke="#fff" stroke-width="1.8"/>',
    "bad": '<path d="M5 5l6 6M11 5l-6 6" stroke="#fff" stroke-width="1.8"/>',
    "skip": '<path d="M4.5 8h7" stroke="#fff" stroke-width="1.8"/>',
    "warn": '<path d="M8 4.2v4.6M8 10.6v1.2" stroke="#fff" stroke-width="1.8"/>',
}


def mark(status: str, label: Optional[str] = None) -> str:
    kind = KIND.get(status, "skip")
    word = label if label is not None else WORD.get(status, status.upper())
    return ('<span class="mark %s" data-status="%s"><svg viewBox="0 0 16 16" width="14" height="14" '
            'aria-hidden="true"><circle cx="8" cy="8" r="7.5" fill="%s"/>%s</svg>'
            '<span class="word">%s</span></span>') % (kind, html.escape(status), COLOR[kind], _SVG[kind],
                                                       html.escape(word))


def _big_mark(verdict: str) -> str:
    """The verdict's mark: white disc, coloured glyph (on the coloured bar)."""
    kind = "ok" if verdict == "pass" else "bad"
    glyph = _SVG[kind].replace('stroke="#fff"', 'stroke="%s"' % COLOR[kind])
    return ('<svg viewBox="0 0 16 16" width="30" height="30" aria-hidden="true" style="vertical-align:-4px">'
            '<circle cx="8" cy="8" r="7.5" fill="#fff"/>%s</svg>' % glyph)


def verdict_of(counts: Dict[str, int], exitstatus: int) -> str:
    bad = counts.get("failed", 0) + counts.get("error", 0) + counts.get("xpassed", 0)
    return "pass" if exitstatus == 0 and bad == 0 else "fail"


def parse_stats(text: str) -> dict:
    """The numbers in Hypothesis's statistics text (describe_statistics)."""
    out = {"text": text}
    phases = {}
    for m in re.finditer(r"during (\w+) phase \(([\d.]+) seconds\):(.*?)(?=\n  - during|\n  - Stopped|\Z)",
                         text, re.S):
        body = m.group(3)
        n = re.search(r"(\d+) passing examples?, (\d+) failing examples?, (\d+) invalid examples?", body)
        phases[m.group(1)] = {"seconds": float(m.group(2)),
                              "passing": int(n.group(1)) if n else 0, "failing": int(n.group(2)) if n else 0,
                              "invalid": int(n.group(3)) if n else 0}
    out["phases"] = phases
    s = re.search(r"Stopped because (.+)", text)
    out["stopped"] = s.group(1).strip() if s else ""
    out["examples"] = sum(p["passing"] + p["failing"] for p in phases.values())
    return out


class Notes:
    """Numbered notes, one per distinct reason."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.reasons: "OrderedDict[str, int]" = OrderedDict()
        self.uses: Dict[str, int] = {}

    def ref(self, reason: str) -> str:
        reason = (reason or "no reason given").strip()
        if reason not in self.reasons:
            self.reasons[reason] = len(self.reasons) + 1
        self.uses[reason] = self.uses.get(reason, 0) + 1
        n = self.reasons[reason]
        return '<a class="note" href="#note-%s%d" data-note="%s%d">[%d]</a>' % (self.prefix, n, self.prefix, n, n)

    def html(self, what: str) -> str:
        if not self.reasons:
            return ""
        items = "".join('<li id="note-%s%d" data-reason>%s <span class="dim">(%d %s)</span></li>' % (
            self.prefix, n, html.escape(r), self.uses[r], what if self.uses[r] != 1 else what.rstrip("s"))
            for r, n in self.reasons.items())
        return '<ol class="notes">%s</ol>' % items


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1180px;margin:0 auto;padding:0 20px 40px}
header.verdict{padding:18px 20px;color:#fff}
header.pass{background:#1a7f37}header.fail{background:#cf222e}
header h1{margin:0;font-size:34px;letter-spacing:.04em}
header .counts{font-size:16px;margin-top:4px}
header .counts b{font-size:18px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:16px 0}
dl.meta dt{font-weight:600;color:#57606a}dl.meta dd{margin:0;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;word-break:break-all}
h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
h3{margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mark{display:inline-flex;align-items:center;gap:4px;white-space:nowrap;font-weight:600}
.mark.ok .word{color:#1a7f37}.mark.bad .word{color:#cf222e}.mark.skip .word{color:#57606a}.mark.warn .word{color:#9a6700}
.dim{color:#6e7781;font-weight:400}
a.note{font-size:11px;color:#0969da;text-decoration:none;margin-left:3px}
ol.notes{font-size:13px;color:#57606a}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px;max-height:320px}
details summary{cursor:pointer;color:#0969da}
.problems{border:2px solid #cf222e;padding:8px 12px;margin:12px 0}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
"""


def _esc(s) -> str:
    return html.escape(str(s))


def _family_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    base = os.path.basename(path)
    fam = re.sub(r"^test_|\.py$", "", base)
    top = path.split("/")[0] if "/" in path else ""
    return "%s/%s" % (top, fam) if top and top != "kv" else fam


def _test_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[1] if "::" in nodeid else nodeid


def _matrix_html(cells: List[dict]) -> str:
    if not cells:
        return '<p class="dim">No matrix cell ran in this run.</p>'
    notes = Notes("m")
    tlss, out = [], []
    for c in cells:
        if c["tls"] not in tlss:
            tlss.append(c["tls"])
    n = {k: sum(1 for c in cells if c["status"] == k) for k in ("pass", "fail", "skip", "known")}
    out.append('<p id="matrix-summary">%d cells: %d pass, %d fail, %d known peer limitations '
               '(FINDINGS.md), %d skipped.</p>' % (len(cells), n["pass"], n["fail"], n["known"], n["skip"]))
    out.append('<p class="dim">Rows: clients (or go-plugin hosts). Columns: servers (or plugins). Every cell '
               'runs the same property: Puts and Gets with duplicate keys against a last-write-wins model, '
               'and a never-written key must be NOT_FOUND. <i>n/a</i>: drawn inputs the client cannot '
               'express (NUL in an argv key).</p>')
    for t in tlss:
        mine = [c for c in cells if c["tls"] == t]
        clients, servers = [], []
        for c in mine:
            if c["client"] not in clients:
                clients.append(c["client"])
            if c["server"] not in servers:
                servers.append(c["server"])
        idx = {(c["client"], c["server"]): c for c in mine}
        out.append("<h3>%s</h3><table class=\"matrix\"><tr><th>client \\ server</th>%s</tr>" % (
            _esc(t), "".join("<th>%s</th>" % _esc(s) for s in servers)))
        for cl in clients:
            row = ["<th>%s</th>" % _esc(cl)]
            for s in servers:
                c = idx.get((cl, s))
                if c is None:
                    row.append('<td class="dim">-</td>')
                    continue
                attrs = 'data-client="%s" data-server="%s" data-tls="%s" data-cell-status="%s"' % (
                    _esc(cl), _esc(s), _esc(t), _esc(c["status"]))
                body = mark(c["status"])
                if c["status"] in ("pass", "fail"):
                    body += ' <span class="dim">%d ex.%s</span>' % (
                        c.get("examples", 0), ", %d n/a" % c["unexpressible"] if c.get("unexpressible") else "")
                if c["status"] in ("skip", "known"):
                    body += notes.ref(c.get("reason", ""))
                row.append("<td %s>%s</td>" % (attrs, body))
            out.append("<tr>%s</tr>" % "".join(row))
        out.append("</table>")
    out.append(notes.html("cells"))
    fails = [c for c in cells if c["status"] == "fail"]
    for c in fails:
        out.append("<details open><summary>%s &rarr; %s (%s) failed</summary><pre>%s</pre></details>" % (
            _esc(c["client"]), _esc(c["server"]), _esc(c["tls"]), _esc((c.get("failure") or "")[:4000])))
    return "\n".join(out)


def _families_html(tests: List[dict]) -> str:
    fams: "OrderedDict[str, List[dict]]" = OrderedDict()
    for t in tests:
        fams.setdefault(t.get("family") or _family_of(t["nodeid"]), []).append(t)
    out = []
    notes = Notes("t")
    for fam, ts in fams.items():
        cnt = {o: sum(1 for t in ts if t["outcome"] == o) for o in OUTCOMES}
        summ = ", ".join("%d %s" % (cnt[o], o) for o in OUTCOMES if cnt[o])
        secs = sum(t.get("duration", 0) for t in ts)
        out.append('<h3 id="family-%s">%s <span class="dim">(%d tests: %s; %.1f s)</span></h3>' % (
            _esc(re.sub(r"\W", "-", fam)), _esc(fam), len(ts), summ, secs))
        out.append("<table class=\"family\"><tr><th>test</th><th>result</th><th>time</th>"
                   "<th>examples</th><th>Hypothesis</th></tr>")
        for t in ts:
            st = t.get("stats")
            res = mark(t["outcome"])
            if t["outcome"] in ("skipped", "xfailed") and t.get("reason"):
                res += notes.ref(t["reason"])
            if st:
                gen = st["phases"].get("generate", {})
                ex = '<td class="num">%d</td>' % st["examples"]
                hyp = "%d passing, %d failing, %d invalid%s" % (
                    gen.get("passing", 0) + st["phases"].get("reuse", {}).get("passing", 0),
                    sum(p["failing"] for p in st["phases"].values()),
                    sum(p["invalid"] for p in st["phases"].values()),
                    "; stopped because %s" % _esc(st["stopped"]) if st["stopped"] else "")
                hyp = "<details><summary>%s</summary><pre>%s</pre></details>" % (hyp, _esc(st["text"]))
            else:
                ex, hyp = '<td class="num dim">-</td>', '<span class="dim">not a property</span>'
            out.append('<tr data-nodeid="%s" data-outcome="%s"><td><code>%s</code></td><td>%s</td>'
                       '<td class="num">%.2f s</td>%s<td>%s</td></tr>' % (
                           _esc(t["nodeid"]), _esc(t["outcome"]), _esc(_test_name(t["nodeid"])), res,
                           t.get("duration", 0.0), ex, hyp))
        out.append("</table>")
    out.append(notes.html("tests"))
    return "\n".join(out)


def render(run: dict) -> str:
    c = run["counts"]
    v = run["verdict"]
    meta = run.get("meta", {})
    counts = " &middot; ".join('<span data-count="%s"><b>%d</b> %s</span>' % (o, c.get(o, 0), o)
                               for o in OUTCOMES)
    rows = [("binary", meta.get("binary")), ("binary built", meta.get("binary built")),
            ("version", meta.get("version")),
            ("binary sha256", meta.get("binary_sha256")), ("sanitizers", meta.get("sanitizers")),
            ("commit", meta.get("commit")), ("implementation", meta.get("impl")),
            ("profile", meta.get("profile")), ("seed", meta.get("seed")),
            ("reproduce", meta.get("reproduce")), ("duration", "%.1f s" % meta.get("duration_s", 0.0)),
            ("started", meta.get("started")), ("workers", meta.get("workers")), ("host", meta.get("host")),
            ("Go peers", meta.get("peers")), ("command", meta.get("args"))]
    dl = "".join("<dt>%s</dt><dd id=\"meta-%s\">%s</dd>" % (_esc(k), _esc(k.replace(" ", "-")), _esc(v2))
                 for k, v2 in rows if v2 not in (None, ""))
    tests = run.get("tests", [])
    matrix_ids = {t["nodeid"] for t in tests if t.get("matrix")}
    others = [t for t in tests if t["nodeid"] not in matrix_ids]
    failures = [t for t in tests if t["outcome"] in ("failed", "error", "xpassed")]
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>soup-c conformance: %s</title><style>%s</style></head><body>" % (v.upper(), CSS),
             '<header class="verdict %s"><h1 id="verdict" data-verdict="%s">%s %s</h1>'
             '<div class="counts" id="counts">%s &middot; <span data-count="total"><b>%d</b> total</span></div>'
             "</header><main>" % (v, v, _big_mark(v), "PASS" if v == "pass" else "FAIL", counts,
                                  c.get("total", 0)),
             '<dl class="meta">%s</dl>' % dl]
    probs = run.get("session_problems") or []
    if probs:
        parts.append('<div class="problems" id="session-problems"><b>The session itself failed:</b>%s</div>' %
                     "".join("<pre>%s</pre>" % _esc(p[:4000]) for p in probs))
    if failures:
        parts.append('<h2 id="failures">Failures (%d)</h2>' % len(failures))
        for t in failures:
            parts.append("<details open><summary><code>%s</code> %s</summary><pre>%s</pre></details>" % (
                _esc(t["nodeid"]), mark(t["outcome"]), _esc((t.get("message") or "")[:6000])))
    parts.append('<h2 id="matrix">Polyglot matrix</h2>')
    parts.append(_matrix_html(run.get("cells", [])))
    parts.append('<h2 id="families">Families</h2>')
    parts.append(_families_html(others))
    parts.append('<script type="application/json" id="run-data">%s</script>' %
                 json.dumps(run).replace("</", "<\\/"))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write(run: dict, outdir: str) -> List[str]:
    os.makedirs(outdir, exist_ok=True)
    pj, ph = os.path.join(outdir, "run.json"), os.path.join(outdir, "report.html")
    with open(pj, "w") as f:
        json.dump(run, f, indent=1)
    with open(ph, "w") as f:
        f.write(render(run))
    return [ph, pj]


if __name__ == "__main__":
    data = json.load(open(sys.argv[1]))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(sys.argv[1]), "report.html")
    with open(out, "w") as f:
        f.write(render(data))
    print(out)
