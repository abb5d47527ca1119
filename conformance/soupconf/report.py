"""The polyglot matrix as Markdown (the HTML page is the run report,
runreport.py, which shows the matrix with the rest of the run).

Input: cells, each {"client", "server", "tls", "status" (pass|fail|skip),
"examples", "unexpressible", "reason", "failure", "seconds"}.
Usage: python3 -m soupconf.report matrix.json [OUTDIR]
"""

import html
import json
import os
import sys
from typing import Dict, List, Tuple

ICON = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "known": "KNOWN"}


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
        return "%s (%s)" % (ICON["skip"], c.get("reason", ""))
    if c["status"] == "known":
        return "%s (%s)" % (ICON["known"], (c.get("reason") or "").split(":")[0].replace("FINDINGS.md ", ""))
    t = "%s (%d ex." % (ICON[c["status"]], c.get("examples", 0))
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


def write(outdir: str, cells: List[dict], meta: dict) -> List[str]:
    os.makedirs(outdir, exist_ok=True)
    md = os.path.join(outdir, "matrix.md")
    with open(md, "w") as f:
        f.write(markdown(cells, meta))
    return [md]


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        d = json.load(f)
    print("\n".join(write(sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(sys.argv[1]) or ".",
                          d["cells"], d["meta"])))
