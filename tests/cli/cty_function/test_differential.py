"""Differential test: `soup-c cty call FN ARG...` against go-cty's own
stdlib (peers/go-cty oracle, `callbatch`), byte for byte, on arguments
Hypothesis draws for each function: valid values, wrong types, nulls,
unknowns (refined ones with a modern oracle), edge-case strings.

With Debian's go-cty 1.12.1 the comparison skips exactly the inputs where
go-cty 1.12.1 and 1.19 are known to differ (docs/internals/cty-function.md,
"go-cty 1.12.1 and 1.19"); function-vectors.txt pins 1.19's answers there.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, note, settings, strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctyfunc_testlib as lib  # noqa: E402
from ctyfunc_testlib import (MODERN, NUMBER, TEXT, arg_of, int_arg, known, null,  # noqa: E402,F401
                             num_arg, str_arg, str_list_arg, unknown, wrong_arg)

EXAMPLES = int(os.environ.get("SOUPC_FUNC_EXAMPLES", "25"))
settings.register_profile("ctyfunc", max_examples=EXAMPLES, deadline=None,
                          suppress_health_check=list(HealthCheck), derandomize=False)
settings.load_profile("ctyfunc")


@pytest.fixture(scope="module")
def oracle():
    if not lib.ORACLE or not os.access(lib.ORACLE, os.X_OK):
        pytest.fail("SOUPC_GO_CTY_ORACLE is not set to the built oracle", pytrace=False)
    o = lib.Oracle(lib.ORACLE)
    yield o
    o.close()


def args(*strategies):
    return st.tuples(*strategies).map(list)


def maybe_wrong(s):
    return st.one_of(s, s, s, wrong_arg())


# Each function's argument shapes. Variadic functions draw lists.
SPECS = {
    "upper": args(maybe_wrong(str_arg())),
    "lower": args(maybe_wrong(str_arg())),
    "title": args(str_arg()),
    "strrev": args(str_arg()),
    "strlen": args(maybe_wrong(str_arg())),
    "trimspace": args(str_arg()),
    "chomp": args(str_arg()),
    "trim": args(str_arg(), str_arg()),
    "trimprefix": args(str_arg(), str_arg()),
    "trimsuffix": args(str_arg(), str_arg()),
    "indent": args(int_arg(), str_arg()),
    "replace": args(str_arg(), str_arg(), str_arg()),
    "substr": args(str_arg(), int_arg(), int_arg()),
    "split": args(str_arg(), str_arg()),
    "sort": args(str_list_arg()),
    "abs": args(maybe_wrong(num_arg())),
    "negate": args(num_arg()),
    "add": args(num_arg(), num_arg()),
    "subtract": args(num_arg(), num_arg()),
    "multiply": args(num_arg(), num_arg()),
    "divide": args(num_arg(), num_arg()),
    "modulo": args(num_arg(), num_arg()),
    "int": args(num_arg()),
    "ceil": args(num_arg()),
    "floor": args(num_arg()),
    "signum": args(num_arg()),
    "log": args(num_arg(), num_arg()),
    "pow": args(num_arg(), num_arg()),
    "min": st.lists(maybe_wrong(num_arg()), max_size=4),
    "max": st.lists(maybe_wrong(num_arg()), max_size=4),
    "parseint": args(st.one_of(arg_of("string", lib.parseint_text()), wrong_arg()),
                     arg_of("number", st.sampled_from([2, 8, 10, 16, 36, 37, 62, 1, 63, 0])
                            .map(lambda i: lib.Num(str(i))))),
    "lessthan": args(num_arg(), num_arg()),
    "lessthanorequalto": args(num_arg(), num_arg()),
    "greaterthan": args(num_arg(), num_arg()),
    "greaterthanorequalto": args(num_arg(), num_arg()),
    "not": args(maybe_wrong(lib.bool_arg())),
    "and": args(lib.bool_arg(), lib.bool_arg()),
    "or": args(lib.bool_arg(), lib.bool_arg()),
    "regex": args(arg_of("string", lib.REGEX), arg_of("string", lib.REGEX_TEXT)),
    "regexall": args(arg_of("string", lib.REGEX), arg_of("string", lib.REGEX_TEXT)),
    "regexreplace": args(arg_of("string", lib.REGEX_TEXT), arg_of("string", lib.REGEX),
                         arg_of("string", lib.REPLACEMENT)),
    "formatdate": args(arg_of("string", lib.DATE_FORMAT), arg_of("string", lib.TIMESTAMP)),
    "timeadd": args(arg_of("string", lib.TIMESTAMP), arg_of("string", lib.DURATION)),
    "csvdecode": args(arg_of("string", lib.CSV_TEXT)),
    "jsondecode": args(arg_of("string", lib.JSON_TEXT)),
    "jsonencode": args(lib.any_arg()),
    "equal": args(lib.any_arg(), lib.any_arg()),
    "notequal": args(lib.any_arg(), lib.any_arg()),
    "coalesce": st.one_of(st.lists(lib.any_arg(2), max_size=3),
                          lib.any_type(3).flatmap(lambda t: st.lists(
                              st.one_of(lib.value_for(t).map(lambda v: known(t, v)),
                                        st.just(null(t)), st.just(unknown(t))), max_size=4))),
    "tostring": args(st.one_of(lib.CONVERTIBLE, lib.any_arg())),
    "tonumber": args(st.one_of(lib.CONVERTIBLE, lib.any_arg())),
    "tobool": args(st.one_of(lib.CONVERTIBLE, lib.any_arg())),
    "assertnotnull": args(lib.any_arg()),
    "byteslen": args(lib.bytes_arg()),
    "bytesslice": args(lib.bytes_arg(), int_arg(), int_arg()),
    "join": st.tuples(str_arg(), st.lists(str_list_arg(), max_size=3)).map(
        lambda t: [t[0]] + t[1]),
    "length": args(st.one_of(lib.coll_arg(), lib.seq_arg())),
    "element": args(lib.seq_arg(), st.one_of(int_arg(), num_arg())),
    "index": args(lib.coll_arg(), lib.key_arg()),
    "hasindex": args(lib.coll_arg(), lib.key_arg()),
    "contains": st.one_of(lib.member_args(), args(lib.coll_arg(), lib.any_arg(2))),
    "distinct": args(st.one_of(lib.typed_arg(lib.shaped_type(["list"])), lib.seq_arg())),
    "chunklist": args(st.one_of(lib.typed_arg(lib.shaped_type(["list"])), lib.seq_arg()),
                      st.one_of(int_arg(), num_arg())),
    "flatten": args(lib.nested_seq_arg()),
    "keys": args(lib.mapping_arg()),
    "values": args(lib.mapping_arg()),
    "lookup": args(lib.mapping_arg(), str_arg(), st.one_of(str_arg(), lib.any_arg(2))),
    "merge": st.lists(st.one_of(lib.mapping_arg(), lib.typed_arg(lib.shaped_type(
        ["map", "object"], inner=lib.PRIM_TYPES))), max_size=4),
    "coalescelist": st.lists(st.one_of(lib.seq_arg(), lib.typed_arg(lib.shaped_type(
        ["list", "tuple"], inner=lib.PRIM_TYPES))), max_size=4),
    "compact": args(st.one_of(str_list_arg(), lib.seq_arg())),
    "concat": st.lists(st.one_of(lib.seq_arg(), lib.typed_arg(lib.shaped_type(
        ["list", "tuple"], inner=lib.PRIM_TYPES))), max_size=4),
    "range": st.lists(st.one_of(int_arg(), num_arg(st.sampled_from([
        lib.Num("0.5"), lib.Num("-0.25"), lib.Num("0"), lib.Num("1e3"), lib.Num("-2000"),
        {"$number": "Infinity"}, {"$number": "-Infinity"}, lib.Num("0.1"), lib.Num("3")]))),
        max_size=4),
    "reverselist": args(lib.seq_arg()),
    "setproduct": st.lists(st.one_of(lib.seq_arg(), lib.typed_arg(lib.shaped_type(
        ["list", "set", "tuple"], inner=lib.PRIM_TYPES))), max_size=4),
    "slice": args(lib.seq_arg(), int_arg(), int_arg()),
    "zipmap": args(st.one_of(str_list_arg(), lib.typed_arg(st.just(["list", "string"]))),
                   lib.seq_arg()),
    "setunion": st.lists(st.one_of(lib.set_arg(), lib.set_arg(), wrong_arg()), max_size=4),
    "setintersection": st.lists(st.one_of(lib.set_arg(), lib.set_arg(), wrong_arg()),
                                max_size=4),
    "setsubtract": args(lib.set_arg(), lib.set_arg()),
    "setsymmetricdifference": st.lists(st.one_of(lib.set_arg(), lib.set_arg(), wrong_arg()),
                                       max_size=4),
    "sethaselement": st.one_of(args(lib.set_arg(), lib.any_arg(2)),
                               args(lib.set_arg(), lib.known_of("string"))),
    "format": lib.format_call(lib.format_value_arg()),
    "formatlist": lib.format_call(st.one_of(lib.format_value_arg(), lib.format_list_arg())),
}


def contains_unknown(v):
    if isinstance(v, dict):
        if v.get("unknown") is True or v.get("$unknown") is True:
            return True
        return any(contains_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(contains_unknown(x) for x in v)
    return False


def drop_refine(line):
    """An unknown result's refine map is its last field; 1.12.1 has none
    (refinements are go-cty >= 1.13)."""
    i = line.find(',"refine":{')
    return line if i < 0 else line[:i] + "}"


TIME_ELEMS = re.compile(r'(as year|as UTC offset|before UTC offset)"')


def go119_time_gap(fn, want_line, got_line):
    """Go 1.20 changed time.ParseError.ValueElem for the year and UTC-offset
    fields to the text before the field (`hold`); the oracles run Go 1.19,
    which reports the text after it. soup-c follows Go 1.25 (soup-go);
    function-vectors.txt pins those messages (docs/internals/cty-function.md)."""
    if fn not in ("formatdate", "timeadd"):
        return False
    w, g = json.loads(want_line), json.loads(got_line)
    if w.get("ok") or g.get("ok") or not TIME_ELEMS.search(want_line):
        return False
    return TIME_ELEMS.search(got_line) is not None and \
        TIME_ELEMS.search(want_line).group(1).split()[-1] == TIME_ELEMS.search(got_line).group(1).split()[-1]


FLOAT_VERB_MINUS_ZERO = re.compile(r"%[-+# 0]*(-[-+# ]*0|0[-+# ]*-)[0-9.]*(\[[0-9]+\])?[eEfgG]")


def go119_fmt_gap(fn, argv):
    """Go 1.22's fmt keeps the '0' flag beside '-' for a Formatter (golang/go
    #61784), so big.Float pads "%-08.3f" with zeros on the left; the
    oracles run Go 1.19, which dropped the '0'. soup-c follows the Go
    soup-go is built with; function-vectors.txt pins those answers."""
    if fn not in ("format", "formatlist") or not argv:
        return False
    f = argv[0].get("value") if isinstance(argv[0], dict) else None
    if isinstance(f, dict):
        f = f.get("$value")
    return isinstance(f, str) and FLOAT_VERB_MINUS_ZERO.search(f) is not None


BUT_HAVE = re.compile(r", but have [^\"\\\\]*")


def judge(fn, argv, want_line, got):
    rc, out, err = got
    want_rc, want_out, want_err = lib.expected_cli(want_line)
    if want_rc == 2:
        # soup-go itself would die (a Go panic outside function.Call);
        # soup-c must refuse cleanly instead.
        assert rc == 1 and err.startswith("Error: "), got
        return
    if want_rc == 1:
        assert rc == 1, got
        assert err.split("\n")[0] == want_err, (err, want_err)
        return
    assert rc == 0, got
    got_line = out.rstrip("\n")
    if '"panic in function implementation: ' in want_line:
        # Go appends a goroutine stack trace; soup-c has none.
        w, g = json.loads(want_line), json.loads(got_line)
        w["error"] = w["error"].split("\n")[0]
        assert g == w
        return
    if got_line == want_line:
        return
    if go119_time_gap(fn, want_line, got_line) or go119_fmt_gap(fn, argv):
        return
    if not MODERN and fn == "jsondecode" and '"duplicate \\"' in got_line:
        # go-cty >= 1.16.2: ImpliedType refuses a repeated key whose values
        # imply different types; 1.12.1 took the last (vectors pin it).
        return
    if not MODERN:
        if BUT_HAVE.sub("", got_line) == want_line:
            # go-cty 1.16: convert's mismatch message names the type it was
            # given ("number required, but have bool"); 1.12.1 did not.
            return
        if contains_unknown(argv):
            w, g = json.loads(want_line), json.loads(got_line)
            if w.get("unknown") and g.get("ok") and g.get("type") == w.get("type"):
                # 1.19 may know more than 1.12.1 here (a refined or
                # collapsed unknown); function-vectors.txt pins those.
                return
        got_line = drop_refine(got_line)
    assert got_line == want_line


# Not in go-cty 1.12.1 at all (1.14+): checked against function-vectors.txt.
NEW_IN_113 = {"assertnotnull"}


def is_dynamic_unknown(a):
    return isinstance(a, dict) and a.get("type") == "dynamic" and a.get("unknown")


def differs_from_112(fn, argv):
    """Inputs where go-cty 1.12.1 and 1.19 give different answers by design
    (docs/internals/cty-function.md lists each, with its go-cty change);
    function-vectors.txt holds 1.19's answers for them."""
    if fn in ("tostring", "tonumber", "tobool"):
        # 1.13: the parameter takes AllowDynamicType, so the result is an
        # unknown of the target type, not of dynamic type.
        return any(is_dynamic_unknown(a) for a in argv)
    if fn == "element":
        # 1.15 (#160): a negative index counts from the end; 1.12.1 refused
        # it before even looking at the collection's type.
        return len(argv) == 2 and is_negative_number(argv[1])
    if fn == "contains":
        # 1.14: the value may be null.
        return len(argv) == 2 and is_null(argv[1])
    if fn in ("format", "formatlist") and any(
            isinstance(a, dict) and a.get("type") == "bytes" for a in argv[1:]):
        # 1.16: convert names a capsule type it cannot convert ("string
        # required, but have bytes").
        return True
    if fn == "format":
        # 1.13: the arguments take unknown and dynamic-typed values.
        return any(is_dynamic_unknown(a) for a in argv[1:])
    if fn == "formatlist":
        # 1.13: an unknown result element is refined as not null.
        return contains_unknown(argv[1:])
    if fn == "sethaselement":
        # 1.13: a set with unknown elements cannot rule an element out.
        return len(argv) == 2 and contains_unknown(argv[0])
    if fn in ("length", "setproduct"):
        # 1.13: the parameters take unknown values: a tuple's length is
        # known, marks are kept, the result may be refined.
        return contains_unknown(argv)
    if fn == "merge":
        # 1.14: a null object counts as an object with no attributes.
        return any(is_null(a) and isinstance(a.get("type"), list) and
                   a["type"][0] == "object" for a in argv if isinstance(a, dict))
    return False


def is_null(a):
    return isinstance(a, dict) and (a.get("null") is True or
                                    ("value" in a and a["value"] is None))


def is_negative_number(a):
    if not isinstance(a, dict) or a.get("type") != "number" or a.get("unknown"):
        return False
    v = a.get("value")
    v = v.get("$value") if isinstance(v, dict) else v
    try:
        return float(v) < 0
    except (TypeError, ValueError):
        return False


@pytest.mark.parametrize("fn", sorted(SPECS))
def test_soupc_matches_go_cty(oracle, fn):
    if fn in NEW_IN_113 and not MODERN:
        pytest.skip("%s is not in go-cty 1.12.1; function-vectors.txt has it" % fn)
    @given(SPECS[fn])
    def check(argv):
        note(" ".join([fn] + [lib.dumps(a) for a in argv]))
        if not MODERN and differs_from_112(fn, argv):
            return
        judge(fn, argv, oracle.call(fn, argv), lib.soupc_call(fn, argv))

    check()


# soup-go's 83 names: the keys of stdlibFunctions in tofusoup's
# src/tofusoup/harness/go/soup-go/cty_call.go (tofusoup d6afa28), sorted.
SOUP_GO_FUNCTIONS = ["abs", "add", "and", "assertnotnull", "byteslen", "bytesslice", "ceil",
    "chomp", "chunklist", "coalesce", "coalescelist", "compact", "concat", "contains",
    "csvdecode", "distinct", "divide", "element", "equal", "flatten", "floor", "format",
    "formatdate", "formatlist", "greaterthan", "greaterthanorequalto", "hasindex", "indent",
    "index", "int", "join", "jsondecode", "jsonencode", "keys", "length", "lessthan",
    "lessthanorequalto", "log", "lookup", "lower", "max", "merge", "min", "modulo",
    "multiply", "negate", "not", "notequal", "or", "parseint", "pow", "range", "regex",
    "regexall", "regexreplace", "replace", "reverselist", "sethaselement",
    "setintersection", "setproduct", "setsubtract", "setsymmetricdifference", "setunion",
    "signum", "slice", "sort", "split", "strlen", "strrev", "substr", "subtract", "timeadd",
    "title", "tobool", "tonumber", "tostring", "trim", "trimprefix", "trimspace",
    "trimsuffix", "upper", "values", "zipmap"]


def test_functions_lists_soup_go_names(oracle):
    """`cty functions` prints exactly soup-go's names, sorted, as one JSON
    line; the table above has a strategy for each, and go-cty's stdlib
    (the oracle) has each one but those it predates."""
    r = subprocess.run([lib.SOUPC, "cty", "functions"], capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stderr == b""
    assert r.stdout.decode() == json.dumps(SOUP_GO_FUNCTIONS, separators=(",", ":")) + "\n"
    assert len(SOUP_GO_FUNCTIONS) == 83
    assert sorted(SPECS) == SOUP_GO_FUNCTIONS
    o = subprocess.run([lib.ORACLE, "cty", "functions"], capture_output=True, timeout=60)
    go = json.loads(o.stdout)
    assert sorted(set(SOUP_GO_FUNCTIONS) - set(go)) == ([] if MODERN else sorted(NEW_IN_113))
    assert set(go) <= set(SOUP_GO_FUNCTIONS)


# soup-go's Long text for `cty call` (cty_call.go, tofusoup d6afa28), with
# the program named soup-c as the recorded vectors name it.
SOUP_GO_CALL_LONG = """Call a function from go-cty's standard library and print the result as JSON.

Exists to be an oracle: a second implementation can be compared against real
go-cty behaviour rather than against a reading of its source.

Each argument is a JSON object {"type": <type-spec>, "value": <json>}, and may
instead set "unknown": true or "null": true, or carry "marks": ["sensitive"].
The result reports unknown-ness, null-ness and marks separately from the value,
because those are exactly the distinctions a JSON value cannot carry.

  soup-c cty call upper '{"type":"string","value":"hello"}'
  soup-c cty call contains '{"type":["list","string"],"value":["a"]}' '{"type":"string","unknown":true}'
  soup-c cty call upper '{"type":"string","value":"hi","marks":["sensitive"]}'"""


def recorded_global_flags():
    """The "Global Flags:" block of a help text recorded from soup-go."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cty",
                        "cli-vectors.txt")
    for line in open(path, encoding="utf-8"):
        if line.startswith('["cty", "walk", "--help"]\t'):
            out = json.loads(line.split("\t")[2])
            return out[out.index("Global Flags:"):]
    raise AssertionError("no recorded `cty walk --help` in cli-vectors.txt")


def test_call_and_functions_help_are_cobras():
    """cobra's help for soup-go's `cty call` (its Long) and `cty functions`
    (no Long: its Short), with the root's persistent flags."""
    tail = recorded_global_flags()
    want = {
        "call": SOUP_GO_CALL_LONG + "\n\nUsage:\n  soup-c cty call [function] [arg-json...] "
                "[flags]\n\nFlags:\n  -h, --help   help for call\n\n" + tail,
        "functions": "List the go-cty stdlib functions available to `cty call`\n\nUsage:\n"
                     "  soup-c cty functions [flags]\n\nFlags:\n  -h, --help   help for "
                     "functions\n\n" + tail,
    }
    for cmd, text in want.items():
        r = subprocess.run([lib.SOUPC, "cty", cmd, "--help"], capture_output=True, timeout=60)
        assert (r.returncode, r.stdout.decode(), r.stderr) == (0, text, b"")
