"""The polyglot matrix report: Markdown and a self-contained HTML page.

Input: cells, each {"client", "server", "tls", "status" (pass|fail|skip),
"examples", "unexpressible", "reason", "failure", "seconds"}.
Usage: python3 -m soupconf.report matrix.json [OUTDIR]
"""

import html
import json
import os
import sys
from typing import Dict, List, Tuple

ICON = {"pass": "✅", "fail": "❌", "skip": "⏭", "known": "⚠️"}


def _axes(cells: List[dict], tls: str):
    """The clients and servers that have a cell under this TLS label."""
    cl, sv = [], []
    for c in cells:
        if c["tls"] == tls:
            if c["client"] not in cl:
                cl.append(c["client"])
            if c["server"] not in sv:
                sv.append(c["server"])
    return cl, sv


def _grid(cells: List[dict]):
    tlss, clients, servers = [], [], []
    for c in cells:
        for lst, v in ((tlss, c["tls"]), (clients, c["client"]), (servers, c["server"])):
            if v not in lst:
                lst.append(v)
    idx: Dict[Tuple[str, str, str], dict] = {(c["tls"], c["client"], c["server"]): c for c in cells}
    return tlss, clients, servers, idx


def _summary(cells):
    n = {s: sum(1 for c in cells if c["status"] == s) for s in ("pass", "fail", "skip", "known")}
    return "%d cells: %d pass, %d fail, %d known peer limitations (FINDINGS.md), %d skipped" % (
        len(cells), n["pass"], n["fail"], n["known"], n["skip"])


def _cell_text(c):
    if c is None:
        return "·"
    if c["status"] == "skip":
        return "%s skip" % ICON["skip"]
    if c["status"] == "known":
        return "%s known (%s)" % (ICON["known"], (c.get("reason") or "").split(":")[0].replace("FINDINGS.md ", ""))
    t = "%s %s (%d ex." % (ICON[c["status"]], c["status"], c.get("examples", 0))
    if c.get("unexpressible"):
        t += ", %d n/a" % c["unexpressible"]
    return t + ")"


def markdown(cells: List[dict], meta: dict) -> str:
    tlss, clients, servers, idx = _grid(cells)
    out = ["# soup-c polyglot conformance matrix", "",
           "Profile `%s` (max %s examples per cell), generated %s. %s." % (
               meta.get("profile"), meta.get("max_examples"), meta.get("generated"), _summary(cells)), "",
           "Rows: clients. Columns: servers. Each cell ran the same Hypothesis property "
           "(Puts and Gets with duplicate keys against a last-write-wins model, and a never-written key "
           "must be NOT_FOUND). *n/a* counts generated inputs the client cannot express "
           "(e.g. NUL in an argv key).", ""]
    for t in tlss:
        clients, servers = _axes(cells, t)
        out += ["## TLS: %s" % t, "", "| client \\ server | " + " | ".join(servers) + " |",
                "|---|" + "---|" * len(servers)]
        for cl in clients:
            out.append("| %s | %s |" % (cl, " | ".join(_cell_text(idx.get((t, cl, s))) for s in servers)))
        out.append("")
    skips = [c for c in cells if c["status"] in ("skip", "known")]
    fails = [c for c in cells if c["status"] == "fail"]
    if fails:
        out += ["## Failures", ""]
        for c in fails:
            out += ["### %s → %s (%s)" % (c["client"], c["server"], c["tls"]), "", "```",
                    (c.get("failure") or "").strip()[:3000], "```", ""]
    if skips:
        out += ["## Skipped cells and known limitations", ""]
        for c in skips:
            out.append("- %s → %s (%s): %s" % (c["client"], c["server"], c["tls"], c.get("reason", "")))
        out.append("")
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.4em .7em;text-align:center}
th{background:#f3f3f3}td.pass{background:#e6f6e6}td.fail{background:#fbe3e3}td.skip{background:#f4f4f4;color:#777}td.known{background:#fff4d6}
pre{background:#f7f7f7;padding:1em;overflow:auto;max-height:30em}small{color:#666}"""


def html_page(cells: List[dict], meta: dict) -> str:
    tlss, clients, servers, idx = _grid(cells)
    e = html.escape
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>soup-c conformance matrix</title>",
           "<style>%s</style></head><body>" % _CSS,
           "<h1>soup-c polyglot conformance matrix</h1>",
           "<p>Profile <code>%s</code> (max %s examples per cell), generated %s. %s.</p>" % (
               e(str(meta.get("profile"))), e(str(meta.get("max_examples"))), e(str(meta.get("generated"))),
               e(_summary(cells)))]
    for t in tlss:
        clients, servers = _axes(cells, t)
        out.append("<h2>TLS: %s</h2><table><tr><th>client \\ server</th>%s</tr>" % (
            e(t), "".join("<th>%s</th>" % e(s) for s in servers)))
        for cl in clients:
            row = ["<tr><th>%s</th>" % e(cl)]
            for s in servers:
                c = idx.get((t, cl, s))
                if c is None:
                    row.append("<td>·</td>")
                    continue
                title = c.get("reason") or (c.get("failure") or "")[:500]
                row.append("<td class='%s' title='%s'>%s</td>" % (c["status"], e(title), e(_cell_text(c))))
            out.append("".join(row) + "</tr>")
        out.append("</table>")
    for c in cells:
        if c["status"] == "fail":
            out.append("<details open><summary>❌ %s → %s (%s)</summary><pre>%s</pre></details>" % (
                e(c["client"]), e(c["server"]), e(c["tls"]), e((c.get("failure") or "")[:5000])))
    skips = [c for c in cells if c["status"] in ("skip", "known")]
    if skips:
        out.append("<h2>Skipped cells and known limitations</h2><ul>")
        for c in skips:
            out.append("<li>%s → %s (%s): %s</li>" % (e(c["client"]), e(c["server"]), e(c["tls"]),
                                                     e(c.get("reason", ""))))
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def write(outdir: str, cells: List[dict], meta: dict) -> List[str]:
    os.makedirs(outdir, exist_ok=True)
    md = os.path.join(outdir, "matrix.md")
    ht = os.path.join(outdir, "matrix.html")
    with open(md, "w") as f:
        f.write(markdown(cells, meta))
    with open(ht, "w") as f:
        f.write(html_page(cells, meta))
    return [md, ht]


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        d = json.load(f)
    print("\n".join(write(sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(sys.argv[1]) or ".",
                          d["cells"], d["meta"])))
