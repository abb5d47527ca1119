"""Differential test: soup-c's soup-go `cty` commands against go-cty itself
(the peers/go-cty oracle's `opsbatch`, built from Debian's go-cty 1.12.1),
byte for byte: stdout and exit code of `soup-c cty CMD ...` must be what
the oracle says soup-go prints, for types and rich values Hypothesis
draws: every kind, nested collections, nulls, unknowns, marks, numbers
beyond float64, awkward strings.

go-cty 1.12.1 differs from the go-cty soup-go links (1.18.1 here) in a
few places (docs/internals/cty.md, "go-cty versions"); the strategies stay
clear of exactly those, and cli-vectors.txt pins the newer answers:
refinements and Range (1.13), ctystrings (1.13), Transform and marked
objects (1.15), duplicate JSON keys (1.16.2), convert's messages (1.16.3),
UnknownAsNull of marked values (1.16.4), Equals of null and marked values
(1.18). Go ranges over maps in a random order; where soup-go's output
inherits that (several conformance errors), both sides are sorted first.
"""

import json
import os
import re
import subprocess
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, note, settings, strategies as st

SOUPC = os.environ.get("SOUPC_BIN")
ORACLE = os.environ.get("SOUPC_GO_CTY_ORACLE")
EXAMPLES = int(os.environ.get("SOUPC_OPS_EXAMPLES", "40"))
settings.register_profile("ctyops", max_examples=EXAMPLES, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile("ctyops")


class Oracle:
    def __init__(self, path):
        self.proc = subprocess.Popen([path, "opsbatch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)

    def ask(self, words):
        self.proc.stdin.write((json.dumps(words) + "\n").encode())
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("go-cty oracle exited")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def oracle():
    if not ORACLE or not os.access(ORACLE, os.X_OK):
        pytest.fail("SOUPC_GO_CTY_ORACLE is not set to the built oracle", pytrace=False)
    o = Oracle(ORACLE)
    yield o
    o.close()


def soupc(words):
    r = subprocess.run([SOUPC, "cty"] + words, capture_output=True, timeout=60)
    assert r.returncode in (0, 1), "crash: rc=%d %r" % (r.returncode, r.stderr[-2000:])
    return r.returncode, r.stdout.decode("utf-8"), r.stderr.decode("utf-8")


def args_after_dashdash(words):
    """soup-go's pflag reads "-1" as a flag: a negative number or a value
    starting with '-' goes after "--", as a caller of soup-go writes it."""
    ncmd = 2 if words[0] in ("json", "msgpack") else 1
    cmd, words = words[:ncmd], words[ncmd:]
    flags, args, i = [], [], 0
    while i < len(words):
        if words[i].startswith("--"):
            flags.append(words[i])
            if words[i] != "--safe" and "=" not in words[i]:
                flags.append(words[i + 1])
                i += 1
        else:
            args.append(words[i])
        i += 1
    if any(a.startswith("-") for a in args):
        return cmd + flags + ["--"] + args
    return cmd + words


def without_refinements(text):
    """go-cty 1.12.1 has no refinements: soup-c's $refine (checked against
    soup-go's own answers in cli-vectors.txt) is dropped before comparing."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k != "$refine"}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    if '"$refine"' not in text:
        return text
    return json.dumps(strip(json.loads(text)), separators=(",", ":"), ensure_ascii=False) + "\n"


def sorted_pair(text):
    """cty.MapVal meets a map's elements in Go's random order and names the
    first element's type and the first that differs, so which types its
    "inconsistent element types" panic names is random: only the kind of
    panic is compared."""
    return re.sub(r"inconsistent (\w+) element types \((.*?) then (.*?)\)(?=\")",
                  lambda m: "inconsistent %s element types (...)" % m.group(1), text)


def compare(oracle, words, canon=None, unless=None):
    words = args_after_dashdash(words)
    note(repr(words))
    rc, out, err = soupc(words)
    want = oracle.ask(words)
    # an oracle panic is a soup-go crash (a go-cty panic soup-go does not
    # recover, e.g. cty.ListVal of mixed types): soup-c's clear error is
    # all that can be checked
    assume(want["rc"] != 2)
    if unless is not None:
        assume(not unless(want))
    assert want["rc"] in (0, 1), want
    assert rc == want["rc"], (words, want, out, err)
    if rc == 0:
        w, g = sorted_pair(want["stdout"]), sorted_pair(without_refinements(out))
        if canon is not None:
            w, g = canon(w), canon(g)
        assert g == w, "\n  go-cty: %s\n  soup-c: %s" % (w, g)
    else:
        assert err.split("\n", 1)[0] == want["stderr"], (err, want["stderr"])


# ---- strategies -----------------------------------------------------------

# Strings: ASCII, JSON and HTML specials, combining marks, non-BMP, U+2028;
# no \b or \f (Go 1.19's encoding/json spells them \u0008, Go 1.22+ \b) and
# nothing newer than Unicode 13 (Debian's x/text).
ALPHABET = st.sampled_from(list("abcXYZ019 _-.$\"\\/<>&\n\t") +
                           ["\u00e9", "e\u0301", "\u00df", "\u0130", "\u03a3", "\u65e5",
                            "\U0001f600", "\u2028", "\u0000", "\u007f", "\ufeff"])
TEXT = st.lists(ALPHABET, max_size=8).map("".join)
KEY = st.sampled_from(["a", "b", "c", "name", "x y", "\u00e9", "e\u0301", "$k", ""])
# Attribute names in NFC: go-cty normalises a type's names, and soup-go's
# decoder looks a value's keys up unnormalised.
ATTR = st.sampled_from(["a", "b", "c", "name", "x y", "\u00e9", ""])
NUMBER = st.one_of(st.integers(-10**6, 10**6).map(str),
                   st.integers(-2**70, 2**70).map(str),
                   st.sampled_from(["0.5", "-1.25", "1e3", "3.14159", "1e-7", "123456789.000001",
                                    "18446744073709551616", "9007199254740993", "0.1"]))
MARK = st.sampled_from(["sensitive", "a", "b"])

PRIMS = ["string", "number", "bool"]


def nfc(k):
    """Keys equal after NFC collide in go-cty, and which one wins follows
    Go's random map order: the strategies never draw two of them."""
    return unicodedata.normalize("NFC", k)


def types(max_depth=3, dynamic=True, optional=True):
    prim = st.sampled_from(PRIMS + (["dynamic"] if dynamic else []))

    def extend(inner):
        names = st.lists(ATTR, max_size=3, unique=True)
        obj = names.flatmap(lambda ns: st.tuples(
            st.tuples(*[inner for _ in ns]).map(lambda ts: dict(zip(ns, ts))),
            st.lists(st.sampled_from(ns), unique=True) if ns and optional else st.just([])))
        return st.one_of(
            st.tuples(st.sampled_from(["list", "set", "map"]), inner).map(list),
            st.lists(inner, max_size=3).map(lambda ts: ["tuple", ts]),
            obj.map(lambda p: ["object", p[0]] + ([p[1]] if p[1] else [])))
    return st.recursive(prim, extend, max_leaves=max_depth * 2)


def known_of(ty, draw, depth, marks, unknowns):
    """A rich value of type ty, drawn with `draw`."""
    def leaf_wrap(v):
        if marks and draw(st.integers(0, 5)) == 0:
            return {"$marks": draw(st.lists(MARK, min_size=1, max_size=marks, unique=True)),
                    "$value": v}
        return v
    if unknowns and draw(st.integers(0, 9)) == 0:
        return leaf_wrap({"$unknown": True})
    if draw(st.integers(0, 11)) == 0:
        return leaf_wrap({"$null": True})
    if ty == "string":
        return leaf_wrap(draw(TEXT))
    if ty == "number":
        return leaf_wrap(draw(NUMBER.map(lambda s: RawNumber(s))))
    if ty == "bool":
        return leaf_wrap(draw(st.booleans()))
    if ty == "dynamic":
        inner = draw(types(max_depth=1, dynamic=False, optional=False))
        return leaf_wrap({"$dynamic": {"type": inner,
                                       "value": known_of(inner, draw, depth + 1, 0, False)}})
    kind = ty[0]
    if kind in ("list", "set"):
        n = draw(st.integers(0, 3))
        return leaf_wrap([known_of(ty[1], draw, depth + 1, marks, unknowns) for _ in range(n)])
    if kind == "map":
        ks = draw(st.lists(KEY.filter(lambda k: not k.startswith("$")), max_size=3, unique_by=nfc))
        return leaf_wrap({k: known_of(ty[1], draw, depth + 1, marks, unknowns) for k in ks})
    if kind == "tuple":
        return leaf_wrap([known_of(t, draw, depth + 1, marks, unknowns) for t in ty[1]])
    # soup-go's decoder names one missing attribute, picked by Go's random
    # map order when several are missing: at most one is left out
    attrs = ty[1]
    drop = draw(st.sampled_from([None] * 3 + sorted(attrs))) if attrs else None
    return leaf_wrap({k: known_of(t, draw, depth + 1, marks, unknowns)
                      for k, t in attrs.items() if k != drop})


class RawNumber(str):
    """A number written as its digits in the JSON text."""


def dumps(v):
    if isinstance(v, RawNumber):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    return json.dumps(v)


@st.composite
def typed_value(draw, marks=1, unknowns=True, dynamic=True):
    ty = draw(types(dynamic=dynamic))
    return ty, known_of(ty, draw, 0, marks, unknowns)


T = json.dumps


# ---- one test per command ---------------------------------------------------

def sorted_go_marks(text):
    """A value with two marks: GoString lists them in Go's map order."""
    def sort_args(m):
        return "NewValueMarks(" + ", ".join(sorted(m.group(1).split(", "))) + ")"
    return re.sub(r'NewValueMarks\(((?:\\"[^\\]*\\"(?:, )?)+)\)', sort_args, text)


@given(typed_value(marks=1))
def test_rich(oracle, tv):
    compare(oracle, ["rich", "--type", T(tv[0]), dumps(tv[1])], canon=sorted_go_marks)


@given(typed_value(marks=0))
def test_unknown_as_null(oracle, tv):
    compare(oracle, ["unknown-as-null", "--type", T(tv[0]), dumps(tv[1])])


def sorted_paths(text):
    """go-cty 1.12.1's UnmarkDeepWithPaths meets an object's attributes in
    Go's random map order; 1.17 reads them in order, as soup-c does
    (cli-vectors.txt pins that order)."""
    o = json.loads(text)
    if "paths" in o:
        o["paths"] = sorted(o["paths"], key=lambda p: json.dumps(p, sort_keys=True))
    return json.dumps(o, sort_keys=True)


@given(typed_value(marks=2, unknowns=True))
def test_marks(oracle, tv):
    compare(oracle, ["marks", "--type", T(tv[0]), dumps(tv[1])], canon=sorted_paths)


def sorted_errors(text):
    o = json.loads(text)
    o["errors"] = sorted(o.get("errors", []), key=lambda e: json.dumps(e, sort_keys=True))
    return json.dumps(o, sort_keys=True)


@given(types(), types())
def test_conformance(oracle, given_ty, want_ty):
    compare(oracle, ["conformance", "--given", T(given_ty), "--want", T(want_ty)],
            canon=sorted_errors)


def invalid_json_of_dynamic_val(want):
    """go-cty < 1.14.4 wrote cty.DynamicVal as nothing, so that its output
    was not JSON (and the oracle's answer fails to encode)."""
    return want["rc"] == 1 and "invalid character" in want["stderr"]


@given(typed_value(marks=1, unknowns=True))
def test_json_marshal(oracle, tv):
    compare(oracle, ["json", "marshal", "--type", T(tv[0]), dumps(tv[1])],
            unless=invalid_json_of_dynamic_val)


def plain(v):
    """The plain JSON go-cty's json.Marshal writes for a known value."""
    if isinstance(v, dict) and "$dynamic" in v:
        return {"value": plain(v["$dynamic"]["value"]), "type": v["$dynamic"]["type"]}
    if isinstance(v, dict) and "$null" in v:
        return None
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


@given(typed_value(marks=0, unknowns=False))
def test_json_unmarshal(oracle, tv):
    compare(oracle, ["json", "unmarshal", "--type", T(tv[0]), dumps(plain(tv[1]))])


@given(typed_value(marks=0, unknowns=False, dynamic=False))
def test_json_implied_type(oracle, tv):
    compare(oracle, ["json", "implied-type", dumps(plain(tv[1]))])


def without_messages(text):
    o = json.loads(text)
    o.pop("mismatch_message", None)
    if "error" in o:
        o["error"] = "<convert error>"
    return json.dumps(o, sort_keys=True)


@given(st.data())
def test_convert_value(oracle, data):
    from_ty, v = data.draw(typed_value(marks=1))
    to_ty = data.draw(st.one_of(types(), st.just(from_ty)))
    compare(oracle, ["convert-value", "--from", T(from_ty), "--to", T(to_ty), dumps(v)],
            canon=without_messages)


@given(typed_value(marks=1), st.integers(-1, 3))
def test_walk(oracle, tv, prune):
    compare(oracle, ["walk", "--type", T(tv[0]), dumps(tv[1]), "--prune-depth", str(prune)])


def leaf_marks_only(ty):
    """Transform of a marked object changed in go-cty 1.15: marks stay on
    strings, numbers and bools."""
    return ty in PRIMS


@st.composite
def transform_case(draw):
    ty = draw(types(dynamic=False))

    def strip(t, v):
        if isinstance(v, dict) and "$marks" in v and not leaf_marks_only(t):
            return strip(t, v["$value"])
        if isinstance(t, list) and isinstance(v, list):
            ets = t[1] if t[0] == "tuple" else [t[1]] * len(v)
            return [strip(et, x) for et, x in zip(ets, v)]
        if isinstance(t, list) and isinstance(v, dict) and "$null" not in v and "$unknown" not in v:
            return {k: strip(t[1][k] if t[0] == "object" else t[1], x) for k, x in v.items()}
        return v
    return ty, strip(ty, known_of(ty, draw, 0, 1, True))


@given(transform_case(), st.sampled_from(["upper", "unknown-to-null"]))
def test_transform(oracle, tv, op):
    compare(oracle, ["transform", "--type", T(tv[0]), "--op", op, dumps(tv[1])])


@given(typed_value(marks=1, unknowns=True))
def test_msgpack_round_trip(oracle, tv):
    words = ["msgpack", "encode", "--type", T(tv[0]), dumps(tv[1])]
    compare(oracle, words)
    enc = json.loads(oracle.ask(words)["stdout"])
    if enc.get("ok"):
        compare(oracle, ["msgpack", "decode", "--type", T(tv[0]), enc["base64"]])


EXT_CODES = set(range(0xc7, 0xca)) | set(range(0xd4, 0xd9))


@given(types(max_depth=2), st.binary(max_size=12).filter(lambda b: not EXT_CODES & set(b)))
def test_msgpack_decode_bytes(oracle, ty, raw):
    """Malformed input. Extension headers are left out: Debian's go-cty
    1.12.1 reads them with vmihailenco/msgpack v4, soup-go with v5, whose
    errors differ (cli-vectors.txt has v5's)."""
    import base64
    compare(oracle, ["msgpack", "decode", "--type", T(ty), base64.b64encode(raw).decode()])


@st.composite
def equals_case(draw):
    ty = draw(types(max_depth=2))
    left = known_of(ty, draw, 0, 1, True)
    right = left if draw(st.booleans()) else known_of(ty, draw, 0, 1, True)

    def top_null(v):
        while isinstance(v, dict) and "$marks" in v:
            v = v["$value"]
        return isinstance(v, dict) and "$null" in v

    def unmark(v):
        if isinstance(v, dict) and "$marks" in v:
            return unmark(v["$value"])
        if isinstance(v, dict) and "$dynamic" in v:
            return v
        if isinstance(v, dict):
            return {k: unmark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [unmark(x) for x in v]
        return v
    if top_null(left) or top_null(right):  # go-cty 1.18's null rule
        left, right = unmark(left), unmark(right)
    return ty, left, right


def unknown_or_false(text):
    """go-cty's Value.Equals ranges over an object's attributes in Go's
    random map order and stops at the first unknown or false one, so for
    objects "unknown" and "false" can both be its answer."""
    o = json.loads(text)
    eq = o.get("equals", {})
    if eq.get("known") is False or eq.get("value") is False:
        eq.pop("value", None)
        eq["known"] = "unknown or false"
    return json.dumps(o, sort_keys=True)


@given(equals_case())
def test_equals(oracle, case):
    ty, left, right = case
    compare(oracle, ["equals", "--left-type", T(ty), "--right-type", T(ty), dumps(left),
                     dumps(right)], canon=unknown_or_false if "object" in T(ty) else None)


@given(st.lists(types(max_depth=2), min_size=1, max_size=4), st.booleans())
def test_unify(oracle, tys, safe):
    compare(oracle, ["unify"] + (["--safe"] if safe else []) + [T(t) for t in tys])
