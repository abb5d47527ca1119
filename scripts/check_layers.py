#!/usr/bin/python3
"""Proves that the build refuses layer violations (cmake/Layers.cmake).

For every layer L of src/ it takes the real compile command of one of L's
files from the build's compile_commands.json, and compiles one-line probes
with exactly those flags:

  - every header of L itself must be found (the probe sees L's private
    directory; this keeps the other checks from passing vacuously);
  - every header of every other layer M that M does not export must be
    refused ("No such file or directory");
  - a header M exports is found from L exactly when L's target links M.

It also greps src/ for includes of another layer's header that is not
exported, so the message names the file and line. Exit 0 when all hold.

Usage: scripts/check_layers.py BUILD_DIR [--verbose]
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_.]+)"',
                        re.MULTILINE)


def layers():
    return sorted(d for d in os.listdir(SRC)
                  if os.path.isfile(os.path.join(SRC, d, "CMakeLists.txt")))


def headers(layer):
    return sorted(f for f in os.listdir(os.path.join(SRC, layer))
                  if f.endswith(".h"))


def exports(build, layer):
    d = os.path.join(build, "layers", layer, "export", layer)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def command_for(build, layer):
    """The compile command of the first C file of @p layer, as argv."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    prefix = os.path.join(SRC, layer) + os.sep
    for e in sorted(entries, key=lambda e: e["file"]):
        if e["file"].startswith(prefix) and e["file"].endswith(".c"):
            argv = e.get("arguments") or shlex.split(e["command"])
            return e["directory"], argv, e["file"]
    return None


def probe_argv(argv, source, probe):
    """@p argv with @p source replaced by @p probe, preprocessing only."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a == source:
            continue
        out.append(a)
    # Preprocessing is enough to find or refuse a header, and fast.
    return out + ["-E", "-w", "-o", os.devnull, probe]


def compiles(directory, argv, source, include, tmp):
    probe = os.path.join(tmp, "probe.c")
    with open(probe, "w") as f:
        f.write('#include "%s"\n' % include)
    r = subprocess.run(probe_argv(argv, source, probe), cwd=directory,
                       capture_output=True, text=True)
    if r.returncode == 0:
        return True, ""
    return False, r.stderr


def linked_layers(build, layer, directory, argv):
    """Layers whose export directory is on @p layer's include path."""
    seen = set()
    for a in argv:
        m = re.search(r"/layers/([a-z_]+)/export$", a)
        if m:
            seen.add(m.group(1))
    return seen


def grep_violations(build, all_layers):
    bad = []
    for layer in all_layers:
        d = os.path.join(SRC, layer)
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h", ".cc")):
                continue
            text = open(os.path.join(d, name), encoding="utf-8").read()
            for m in INCLUDE_RE.finditer(text):
                other, hdr = m.group(1), m.group(2)
                if other == layer or other not in all_layers:
                    continue
                if hdr not in exports(build, other):
                    line = text.count("\n", 0, m.start()) + 1
                    bad.append("src/%s/%s:%d includes %s/%s, which %s/ does "
                               "not export" % (layer, name, line, other, hdr,
                                               other))
    return bad


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    verbose = "--verbose" in sys.argv
    all_layers = layers()
    failures = grep_violations(build, all_layers)
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for layer in all_layers:
            cmd = command_for(build, layer)
            if cmd is None:
                failures.append("%s: no compile command in %s" % (layer, build))
                continue
            directory, argv, source = cmd
            if any(re.search(r"(^|/)src/?$", a) for a in argv):
                failures.append("%s: src/ itself is on the include path" %
                                layer)
            visible = linked_layers(build, layer, directory, argv)
            for other in all_layers:
                exported = exports(build, other)
                for hdr in headers(other):
                    inc = "%s/%s" % (other, hdr)
                    ok, err = compiles(directory, argv, source, inc, tmp)
                    checked += 1
                    if other == layer:
                        want = True
                    elif hdr in exported:
                        want = other in visible
                    else:
                        want = False
                    if ok != want:
                        why = err.strip().splitlines()[0] if err else ""
                        failures.append(
                            "%s -> %s: %s, expected %s %s" %
                            (layer, inc, "found" if ok else "refused",
                             "found" if want else "refused", why))
                    elif verbose:
                        print("ok  %-10s %-28s %s" %
                              (layer, inc, "found" if ok else "refused"))
    for f in failures:
        print("layer check: " + f, file=sys.stderr)
    print("layer check: %d layers, %d probes, %d failures" %
          (len(all_layers), checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
