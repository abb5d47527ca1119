#!/usr/bin/python3
"""Checks the public API's documentation and the shared libraries' exports.

  check_api_docs.py docs --xml DIR --warnings FILE [--pending H ...]
  check_api_docs.py symbols --xml DIR --headers DIR --lib SO [--lib SO ...]
                            [--pending H ...]

docs: fails on any Doxygen warning about a public header (an undocumented
struct, field, typedef, macro or function, a broken @param), on an enum
value without a comment, on a non-void function whose comment has no
@return (a contract lists what a function returns, every error included),
and on a public struct that does not start with `size_t struct_size` and
have a SOUPC_<NAME>_INIT macro (docs/api/abi.md), unless it is one of the
structs the library allocates or whose layout is frozen (NOT_SIZED).

symbols: runs `nm -D` on each installed shared library and fails unless
every exported symbol is a public function (soupc_ but not soupc__: no
internal, protobuf-c or other symbols), declared SOUPC_EXTERN in a public
header and documented there; and unless every function declared in the
headers is exported by one of the libraries.

--pending names headers (basenames) whose owners have not finished
documenting them yet: their symbols need only be declared, not documented.
The list lives in cmake/Docs.cmake and should shrink to nothing.
"""
import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

# docs/api/abi.md: library-allocated structs (may grow; callers never
# declare one) and caller-allocated output structs frozen for soname 0.
NOT_SIZED = {"soupc_status", "soupc_cty_call_error", "soupc_plugin_handshake",
             "soupc_plugin_info"}

WARNING_RE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): warning: (?P<msg>.*)")


def text_of(elem):
    if elem is None:
        return ""
    return "".join(elem.itertext()).strip()


def documented(member):
    return bool(text_of(member.find("briefdescription")) or
                text_of(member.find("detaileddescription")))


def load_members(xml_dir):
    """Yields (kind, name, header basename, memberdef) for every member."""
    index = ET.parse(os.path.join(xml_dir, "index.xml"))
    for compound in index.getroot().findall("compound"):
        if compound.get("kind") not in ("file", "struct"):
            continue
        path = os.path.join(xml_dir, compound.get("refid") + ".xml")
        root = ET.parse(path).getroot()
        for member in root.iter("memberdef"):
            loc = member.find("location")
            header = os.path.basename(loc.get("file")) if loc is not None else ""
            yield member.get("kind"), member.findtext("name"), header, member


def check_struct_sizes(xml_dir):
    """Public structs callers fill in start with struct_size and have an
    INIT macro."""
    problems = []
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    macros = {c.findtext("name") for c in index.iter("member")
              if c.get("kind") == "define"}
    for compound in index.findall("compound"):
        if compound.get("kind") != "struct":
            continue
        name = compound.findtext("name")
        if name in NOT_SIZED:
            continue
        root = ET.parse(os.path.join(xml_dir, compound.get("refid") + ".xml"))
        fields = [m for m in root.iter("memberdef") if m.get("kind") == "variable"]
        first = fields[0] if fields else None
        if first is None or first.findtext("name") != "struct_size" or \
                text_of(first.find("type")) != "size_t":
            problems.append("%s does not start with size_t struct_size "
                            "(docs/api/abi.md)" % name)
        if name.upper() + "_INIT" not in macros:
            problems.append("%s has no %s_INIT macro" % (name, name.upper()))
    return problems


def check_docs(args):
    problems = check_struct_sizes(args.xml)
    pending = set(args.pending)
    with open(args.warnings, encoding="utf-8", errors="replace") as f:
        current = None
        for line in f:
            m = WARNING_RE.match(line)
            if m:
                header = os.path.basename(m.group("file"))
                current = None
                if header.endswith(".h") and header not in pending:
                    current = "%s:%s: %s" % (header, m.group("line"),
                                             m.group("msg"))
                    problems.append(current)
            elif current is not None and line.strip():
                problems[-1] += " " + line.strip()
    for kind, name, header, member in load_members(args.xml):
        if header in pending or not header.endswith(".h"):
            continue
        if kind == "enum":
            for value in member.findall("enumvalue"):
                if not documented(value):
                    problems.append("%s: enum value %s is not documented" %
                                    (header, value.findtext("name")))
        if kind == "function":
            rtype = text_of(member.find("type"))
            has_return = any(s.get("kind") == "return"
                             for s in member.iter("simplesect"))
            if rtype != "void" and not has_return:
                problems.append("%s: %s returns %s but its comment has no "
                                "@return" % (header, name, rtype))
    problems = list(dict.fromkeys(problems))  # Doxygen repeats some
    for p in problems:
        print("undocumented: " + p)
    if problems:
        print("check_api_docs: %d problem(s); every public symbol needs a "
              "contract comment (STYLE.md, docs/api/abi.md)" % len(problems))
        return 1
    print("check_api_docs: public headers fully documented%s" %
          (" (pending: %s)" % ", ".join(sorted(pending)) if pending else ""))
    return 0


DECL_RE = re.compile(r"SOUPC_EXTERN\b([^;{]*?)\b(soupc_\w+)\s*\(", re.S)


def declared_functions(headers_dir):
    """{name: header} for every SOUPC_EXTERN function in the headers."""
    out = {}
    for name in sorted(os.listdir(headers_dir)):
        if not name.endswith(".h"):
            continue
        with open(os.path.join(headers_dir, name), encoding="utf-8") as f:
            text = f.read()
        # Not the macro's own definition.
        text = re.sub(r"#\s*define\s+SOUPC_EXTERN[^\n]*", "", text)
        for m in DECL_RE.finditer(text):
            out[m.group(2)] = name
    return out


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            syms.append((parts[1], parts[2].split("@")[0]))
    return syms


def check_symbols(args):
    problems = []
    pending = set(args.pending)
    declared = declared_functions(args.headers)
    docs = {}
    for kind, name, header, member in load_members(args.xml):
        if kind == "function":
            docs[name] = documented(member)
    seen = set()
    for lib in args.lib:
        syms = exported(lib)
        for kind, sym in syms:
            seen.add(sym)
            where = "%s exports %s" % (os.path.basename(lib), sym)
            if not sym.startswith("soupc_") or sym.startswith("soupc__"):
                problems.append(where + ": not a public soupc_ name")
            elif kind not in ("T", "W"):
                problems.append(where + ": not a function (nm type %s)" % kind)
            elif sym not in declared:
                problems.append(where + ": no public header declares it")
            elif declared[sym] not in pending and not docs.get(sym):
                problems.append(where + ": not documented in " + declared[sym])
        print("%s: %d exported symbols" % (os.path.basename(lib), len(syms)))
    for sym, header in sorted(declared.items()):
        if sym not in seen:
            problems.append("%s declares %s, which no installed library "
                            "exports (a layer missing from cmake/Library.cmake,"
                            " or no definition)" % (header, sym))
    for p in problems:
        print("symbols: " + p)
    if problems:
        print("check_api_docs: %d symbol problem(s)" % len(problems))
        return 1
    print("check_api_docs: %d exported functions, all public, declared and "
          "documented%s" % (len(seen), " (pending headers: declared only)"
                            if pending else ""))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("docs")
    d.add_argument("--xml", required=True)
    d.add_argument("--warnings", required=True)
    d.add_argument("--pending", nargs="*", default=[])
    s = sub.add_parser("symbols")
    s.add_argument("--xml", required=True)
    s.add_argument("--headers", required=True)
    s.add_argument("--lib", action="append", required=True)
    s.add_argument("--pending", nargs="*", default=[])
    args = ap.parse_args()
    return check_docs(args) if args.mode == "docs" else check_symbols(args)


if __name__ == "__main__":
    sys.exit(main())
