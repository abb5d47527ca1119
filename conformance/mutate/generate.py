"""Mechanical mutants of C source, from clang's AST (python3-clang-14).

Debian 12 has no mull, so this walks the AST of each function body with
libclang and proposes one textual edit per mutation site:

  operator   a relational, equality, logical, arithmetic, bitwise or
             compound-assignment operator swapped for its usual mistake
             (< for <=, == for !=, && for ||, + for -, & for |, += for -=)
  boundary   an integer literal moved by one (0 -> 1, 1 -> 0, n -> n + 1)
  negate     a condition of if/while/for/?: negated, a `!` dropped
  return     a returned value replaced (0 -> -1, other ints -> 0, pointers
             -> NULL, `x` -> `!x` for conditions)
  delete     an expression statement (a call or an assignment) removed

Sites in macro expansions, in logging calls and in assert() are skipped:
their text is not where the code is, or a change there cannot show in a
test. Each mutant has a stable id (a hash of file, offset, operator and
replacement) so results, survivors and the equivalents list in
conformance/mutants.md survive unrelated edits elsewhere in the file.
"""

import hashlib
import json
import os
import re
import shlex
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List, Optional

import clang.cindex as ci

LIBCLANG = "/usr/lib/llvm-14/lib/libclang-14.so.1"

OPERATOR_SWAPS = {
    "<": ["<="], "<=": ["<"], ">": [">="], ">=": [">"], "==": ["!="], "!=": ["=="],
    "&&": ["||"], "||": ["&&"],
    "+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "%": ["*"],
    "&": ["|"], "|": ["&"], "^": ["|"], "<<": [">>"], ">>": ["<<"],
    "+=": ["-="], "-=": ["+="], "|=": ["&="], "&=": ["|="], "<<=": [">>="], ">>=": ["<<="],
}
INC_DEC = {"++": "--", "--": "++"}
# Calls whose deletion cannot change what a test observes, or that are not
# statements of the program's logic.
SKIP_CALLS = re.compile(r"^(soupc_log\w*|soupc__log\w*|assert|fprintf|printf|fputs|fputc|"
                        r"explicit_bzero|pthread_mutex_(un)?lock|static_assert)$")


@dataclass
class Mutant:
    id: str
    file: str          # repository-relative
    line: int
    col: int
    start: int         # byte offsets of the replaced text
    end: int
    original: str
    replacement: str
    op: str            # operator | boundary | negate | return | delete
    function: str

    def describe(self) -> str:
        orig = self.original if len(self.original) <= 60 else self.original[:57] + "..."
        return "%s:%d %s: %r -> %r" % (self.file, self.line, self.op, orig, self.replacement)


def _init():
    if not ci.Config.loaded:
        ci.Config.set_library_file(LIBCLANG)


def compile_args(compdb: str, path: str) -> List[str]:
    """The flags CMake compiles @p path with (compile_commands.json)."""
    with open(compdb) as f:
        entries = json.load(f)
    real = os.path.realpath(path)
    for e in entries:
        if os.path.realpath(os.path.join(e["directory"], e["file"])) == real:
            argv = e.get("arguments") or shlex.split(e["command"])
            out, skip = [], False
            for a in argv[1:]:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
                    skip = True
                    continue
                if a == e["file"] or os.path.realpath(os.path.join(e["directory"], a)) == real:
                    continue
                if a.startswith(("-I", "-D", "-std", "-isystem")) or a in ("-isystem",):
                    out.append(a)
                elif out and out[-1] == "-isystem":
                    out.append(a)
            return out
    raise KeyError("%s is not in %s" % (path, compdb))


def _mid(file: str, start: int, op: str, repl: str) -> str:
    return hashlib.sha1(("%s:%d:%s:%s" % (file, start, op, repl)).encode()).hexdigest()[:10]


class _Walker:
    def __init__(self, rel: str, path: str, text: bytes) -> None:
        self.rel, self.path, self.text = rel, path, text
        self.out: List[Mutant] = []
        self.seen = set()
        self.function = ""

    def _in_file(self, node) -> bool:
        loc = node.extent.start
        return loc.file is not None and os.path.realpath(loc.file.name) == os.path.realpath(self.path)

    def _from_macro(self, start: int, end: int, spelled: str) -> bool:
        """The extent's text is not what the AST says (a macro expansion)."""
        return self.text[start:end].decode(errors="replace") != spelled

    def add(self, start: int, end: int, repl: str, op: str, line: int, col: int) -> None:
        orig = self.text[start:end].decode(errors="replace")
        if orig == repl or (start, end, repl) in self.seen:
            return
        self.seen.add((start, end, repl))
        self.out.append(Mutant(_mid(self.rel, start, op, repl), self.rel, line, col, start, end, orig, repl,
                               op, self.function))

    def walk(self, node, in_call: Optional[str] = None) -> None:
        k = node.kind
        if k == ci.CursorKind.FUNCTION_DECL and node.is_definition():
            self.function = node.spelling
        if k == ci.CursorKind.CALL_EXPR:
            in_call = node.spelling
            if SKIP_CALLS.match(node.spelling or ""):
                return
        if k == ci.CursorKind.MACRO_INSTANTIATION:
            return
        if self._in_file(node) and self.function:
            self.visit(node)
        for ch in node.get_children():
            self.walk(ch, in_call)

    def tokens(self, node):
        return [t for t in node.get_tokens()
                if t.location.file is not None and os.path.realpath(t.location.file.name) ==
                os.path.realpath(self.path)]

    def visit(self, node) -> None:
        k = node.kind
        if k in (ci.CursorKind.BINARY_OPERATOR, ci.CursorKind.COMPOUND_ASSIGNMENT_OPERATOR):
            kids = list(node.get_children())
            if len(kids) != 2:
                return
            lhs_end = kids[0].extent.end.offset
            rhs_start = kids[1].extent.start.offset
            for t in self.tokens(node):
                o = t.extent.start.offset
                if lhs_end <= o < rhs_start and t.spelling in OPERATOR_SWAPS:
                    for repl in OPERATOR_SWAPS[t.spelling]:
                        self.add(o, t.extent.end.offset, repl, "operator", t.location.line, t.location.column)
                    break
        elif k == ci.CursorKind.UNARY_OPERATOR:
            toks = self.tokens(node)
            if not toks:
                return
            first, last = toks[0], toks[-1]
            if first.spelling == "!":
                self.add(first.extent.start.offset, first.extent.end.offset, "", "negate",
                         first.location.line, first.location.column)
            for t in (first, last):
                if t.spelling in INC_DEC:
                    self.add(t.extent.start.offset, t.extent.end.offset, INC_DEC[t.spelling], "operator",
                             t.location.line, t.location.column)
                    break
        elif k == ci.CursorKind.INTEGER_LITERAL:
            toks = self.tokens(node)
            if len(toks) != 1:
                return
            t = toks[0]
            m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)", t.spelling)
            if not m:
                return
            digits = m.group(1)
            if digits[:2] in ("0x", "0X"):
                v, fmt = int(digits, 16), "0x%x"
            elif len(digits) > 1 and digits[0] == "0":
                v, fmt = int(digits, 8), "0%o"  # file modes
            else:
                v, fmt = int(digits), "%d"
            nv = 1 if v == 0 else (0 if v == 1 else v + 1)
            self.add(t.extent.start.offset, t.extent.end.offset, fmt % nv + m.group(2), "boundary",
                     t.location.line, t.location.column)
        elif k in (ci.CursorKind.IF_STMT, ci.CursorKind.WHILE_STMT):
            kids = list(node.get_children())
            if kids:
                self._negate(kids[0])
        elif k == ci.CursorKind.CONDITIONAL_OPERATOR:
            kids = list(node.get_children())
            if len(kids) == 3:
                self._negate(kids[0])
        elif k == ci.CursorKind.RETURN_STMT:
            kids = list(node.get_children())
            if len(kids) == 1:
                self._return(kids[0])
        elif k == ci.CursorKind.COMPOUND_STMT:
            for st in node.get_children():
                self._delete(st)

    def _span(self, node):
        return node.extent.start.offset, node.extent.end.offset

    def _negate(self, cond) -> None:
        s, e = self._span(cond)
        text = self.text[s:e].decode(errors="replace")
        if not text or "\n#" in text:
            return
        self.add(s, e, "!(%s)" % text, "negate", cond.extent.start.line, cond.extent.start.column)

    def _return(self, expr) -> None:
        s, e = self._span(expr)
        text = self.text[s:e].decode(errors="replace").strip()
        if not text:
            return
        t = expr.type.get_canonical().kind
        if t == ci.TypeKind.POINTER:
            repl = "NULL" if text != "NULL" else None
        elif t in (ci.TypeKind.INT, ci.TypeKind.UINT, ci.TypeKind.LONG, ci.TypeKind.ULONG,
                   ci.TypeKind.LONGLONG, ci.TypeKind.ULONGLONG, ci.TypeKind.ENUM, ci.TypeKind.BOOL,
                   ci.TypeKind.SHORT, ci.TypeKind.USHORT, ci.TypeKind.CHAR_S, ci.TypeKind.UCHAR):
            repl = "-1" if text == "0" else "0"
        else:
            repl = None
        if repl is not None:
            self.add(s, e, repl, "return", expr.extent.start.line, expr.extent.start.column)

    def _delete(self, st) -> None:
        k = st.kind
        target = st
        if k == ci.CursorKind.UNEXPOSED_EXPR:
            kids = list(st.get_children())
            target = kids[0] if kids else st
            k = target.kind
        if k == ci.CursorKind.CALL_EXPR:
            if SKIP_CALLS.match(target.spelling or ""):
                return
        elif k in (ci.CursorKind.BINARY_OPERATOR, ci.CursorKind.COMPOUND_ASSIGNMENT_OPERATOR):
            toks = [t.spelling for t in self.tokens(target)]
            if not any(t in ("=", "+=", "-=", "|=", "&=", "<<=", ">>=") for t in toks):
                return
        elif k == ci.CursorKind.UNARY_OPERATOR:
            toks = [t.spelling for t in self.tokens(target)]
            if "++" not in toks and "--" not in toks:
                return
        else:
            return
        s, e = self._span(st)
        # through the ';' that ends the statement
        j = e
        while j < len(self.text) and self.text[j:j + 1] in (b" ", b"\t"):
            j += 1
        if self.text[j:j + 1] != b";":
            return
        if b"\n#" in self.text[s:j]:
            return
        self.add(s, j + 1, ";", "delete", st.extent.start.line, st.extent.start.column)


def mutants_of(repo: str, rel: str, compdb: str) -> List[Mutant]:
    """Every mutant of @p rel (repository-relative), in source order."""
    _init()
    path = os.path.join(repo, rel)
    with open(path, "rb") as f:
        text = f.read()
    args = compile_args(compdb, path)
    tu = ci.Index.create().parse(path, args=args, options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise RuntimeError("clang cannot parse %s: %s" % (rel, "; ".join(str(d) for d in errors[:5])))
    w = _Walker(rel, path, text)
    for node in tu.cursor.get_children():
        if node.kind == ci.CursorKind.FUNCTION_DECL and node.is_definition() and w._in_file(node):
            w.function = node.spelling
            for ch in node.get_children():
                w.walk(ch)
            w.function = ""
    # Macro-expanded sites: their offsets point into the macro's text.
    good = []
    for m in w.out:
        if text[m.start:m.end].decode(errors="replace") == m.original:
            good.append(m)
    good.sort(key=lambda m: (m.start, m.op, m.replacement))
    return good


def apply(text: bytes, m: Mutant) -> bytes:
    assert text[m.start:m.end].decode(errors="replace") == m.original, m.describe()
    return text[:m.start] + m.replacement.encode() + text[m.end:]


def to_json(ms: Iterable[Mutant]) -> str:
    return "\n".join(json.dumps(asdict(m)) for m in ms)
