#!/usr/bin/env python3
"""Records soup-go's answers for the command lines in vector-cases.txt into
cli-vectors.txt, which test_cli_vectors.py checks soup-c against.

Usage: record_vectors.py SOUP_GO [CASES] [OUT]

SOUP_GO is a soup-go binary (TofuSoup's harness/go/soup-go); this script
only runs it, with LOG_LEVEL unset, and writes for each case its exit code,
stdout and the first line of stderr, with "soup-go" spelt "soup-c" (the
program names its own commands in help and errors). The file's header says
which soup-go was used; the README of this directory says how the
committed vectors were made."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    soup_go = sys.argv[1]
    cases = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "vector-cases.txt")
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(HERE, "cli-vectors.txt")
    env = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"}
    lines = []
    for raw in open(cases, encoding="utf-8"):
        raw = raw.rstrip("\n")
        if not raw.strip() or raw.startswith("#"):
            lines.append(raw)
            continue
        words = json.loads(raw)
        r = subprocess.run([soup_go] + words, capture_output=True, env=env, timeout=60)
        stdout = r.stdout.decode("utf-8", "replace").replace("soup-go", "soup-c")
        stderr = r.stderr.decode("utf-8", "replace").replace("soup-go", "soup-c")
        first = stderr.split("\n", 1)[0] if r.returncode != 0 else ""
        lines.append("\t".join([json.dumps(words, ensure_ascii=False), str(r.returncode),
                                json.dumps(stdout, ensure_ascii=False),
                                json.dumps(first, ensure_ascii=False)]))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
