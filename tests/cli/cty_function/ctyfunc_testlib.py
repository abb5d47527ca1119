"""Shared pieces of the cty function tests: running `soup-c cty call`, the
go-cty oracle (peers/go-cty, `callbatch`), JSON text with exact number
tokens, and the Hypothesis strategies for arguments.

Environment:
  SOUPC_BIN               the soup-c binary
  SOUPC_GO_CTY_ORACLE     soupc-cty-oracle built by peers/go-cty/build.sh
  SOUPC_GO_CTY_MODERN=1   the oracle links go-cty >= 1.13 (refinements,
                          assertnotnull): compare exactly, no 1.12.1 rules
"""

import json
import os
import subprocess

from hypothesis import strategies as st

SOUPC = os.environ.get("SOUPC_BIN", "")
ORACLE = os.environ.get("SOUPC_GO_CTY_ORACLE", "")
MODERN = os.environ.get("SOUPC_GO_CTY_MODERN") == "1"


class Num(str):
    """A JSON number token, written without quotes."""


def dumps(v):
    """Compact JSON like Go's, with Num tokens verbatim."""
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def soupc_call(fn, args, timeout=60):
    """Runs soup-c cty call; returns (rc, stdout, stderr) as text."""
    r = subprocess.run([SOUPC, "cty", "call", fn] + [dumps(a) for a in args],
                       capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


class Oracle:
    """One long-lived `soupc-cty-oracle callbatch` (JSON lines)."""

    def __init__(self, path):
        self.proc = subprocess.Popen([path, "callbatch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)

    def call(self, fn, args):
        req = "[" + ",".join([json.dumps(fn)] + [dumps(a) for a in args]) + "]\n"
        self.proc.stdin.write(req.encode("utf-8"))
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("go-cty oracle exited")
        return line.decode("utf-8").rstrip("\n")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def expected_cli(oracle_line):
    """What soup-go prints for an oracle answer: (rc, stdout, stderr
    first line or None)."""
    if oracle_line.startswith('{"cmd_error"'):
        o = json.loads(oracle_line)
        return (2 if o["panic"] else 1), "", "Error: " + o["cmd_error"]
    return 0, oracle_line + "\n", None


# ---- strategies ---------------------------------------------------------

# Code points that exist in Unicode 13 (Debian's Go 1.19 and go-textseg
# v13) as well as 15 (utf8proc, soup-go's Go 1.25), chosen for the edge
# cases: combining marks, ZWJ emoji sequences, skin tones, flags, Hangul,
# title-case digraphs, ligatures, special spaces, dotted/dotless i.
ALPHABET = (
    "abcxyzABCXYZ019 _-.,:;!?'\"\\/<>&%$#@()[]{}*+=~|^`"
    "\n\r\t\x00\x01\x7f"
    "éüßÆøÅ"          # Latin-1
    "\u0301\u0308\u0323\u0300"  # combining marks
    "αβΣσςΩ" "жЖЯ"    # Greek, Cyrillic
    "中文字" "한국" "\u1100\u1161\u11a8"  # CJK, Hangul syllables and jamo
    "\U0001F469\u200d\U0001F467\U0001F44D\U0001F3FD\U0001F1FA\U0001F1F8\u2764\ufe0f"
    "ǅǆǄ" "ﬁﬀ" "İı" "ǰ"
    "\u00a0\u2003\u3000\u0085\u2028\u1680\u200b"
)

TEXT = st.one_of(
    st.text(alphabet=ALPHABET, max_size=12),
    st.sampled_from(["", "hello", "Hello World", "  padded  ", "a,b,,c", "e\u0301",
                     "\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466",
                     "\U0001F1FA\U0001F1F8\U0001F1EC\U0001F1E7", "line1\nline2\r\n\n",
                     "ǆemal", "ﬁne", "istanbul İ", "\u0915\u094d\u0937"]),
)

SMALL_INT = st.integers(min_value=-6, max_value=12)


def _num_text():
    ints = st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(str)
    small = st.integers(min_value=-20, max_value=300).map(str)
    floats = st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr)
    decimals = st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str)
    sci = st.tuples(st.integers(-999, 999), st.integers(-30, 30)).map(lambda t: "%de%d" % t)
    return st.one_of(small, small, ints, floats, decimals, sci)


NUM_TEXT = _num_text()
NUMBER = st.one_of(NUM_TEXT.map(Num), NUM_TEXT, SMALL_INT.map(lambda i: Num(str(i))),
                   st.sampled_from([Num("-0"), Num("0.5"), Num("-0.5"), Num("1e400"),
                                    Num("2.5"), Num("-2.5"), {"$number": "Infinity"},
                                    {"$number": "-Infinity"}, Num("9007199254740993"),
                                    Num("0.1"), Num("1e-400")]))


def known(ty, value):
    return {"type": ty, "value": value}


def unknown(ty):
    return {"type": ty, "unknown": True}


def null(ty):
    return {"type": ty, "null": True}


def refinements(ty):
    """$refine objects go-cty accepts for an unknown of type ty."""
    nn = st.sampled_from([{}, {"is_known_null": False}])
    if ty == "string":
        more = TEXT.map(lambda p: {"string_prefix": p} if p else {})
    elif ty == "number":
        def bounds(t):
            lo, hi, li, hi_inc = t
            lo, hi = sorted((lo, hi))
            r = {}
            if lo is not None:
                r["number_lower_bound"] = [str(lo), li]
            if hi is not None and (hi != lo or (li and hi_inc)):
                r["number_upper_bound"] = [str(hi), hi_inc]
            return r
        more = st.tuples(st.integers(-5, 5), st.integers(-5, 5), st.booleans(),
                         st.booleans()).map(bounds)
    elif isinstance(ty, list) and ty[0] in ("list", "set", "map"):
        def lens(t):
            lo, hi = sorted(t)
            return {"collection_length_lower_bound": lo, "collection_length_upper_bound": hi}
        more = st.tuples(st.integers(0, 4), st.integers(0, 4)).map(lens)
    else:
        more = st.just({})
    def no_collapse(r):
        # TODO(ctymodel): go-cty's RefinementBuilder.NewValue turns a
        # not-null unknown whose range is one value (or whose length is
        # fixed) into a known value; soup-c's rich reader does not yet.
        lo, hi = r.get("number_lower_bound"), r.get("number_upper_bound")
        fixed_num = lo and hi and lo[0] == hi[0] and lo[1] and hi[1]
        fixed_len = ("collection_length_lower_bound" in r and
                     r["collection_length_lower_bound"] == r.get("collection_length_upper_bound"))
        if fixed_num or fixed_len:
            r.pop("is_known_null", None)
        return r
    return st.tuples(nn, more).map(lambda t: no_collapse(dict(t[0], **t[1])))


def refined(ty):
    return refinements(ty).map(lambda r: {"type": ty, "value": {"$unknown": True, "$refine": r}})


def arg_of(ty, values, nullable=True, unknowable=True):
    """An argument of type ty: usually known, sometimes null, unknown (and
    refined, with a go-cty >= 1.13 oracle) or of dynamic type."""
    alts = [values.map(lambda v: known(ty, v))] * 6
    alts.append(values.map(lambda v: known(ty, {"$marks": ["sensitive"], "$value": v})
                           if not isinstance(v, dict) else known(ty, v)))
    if nullable:
        alts.append(st.just(null(ty)))
    if unknowable:
        alts.append(st.just(unknown(ty)))
        alts.append(st.just(unknown("dynamic")))
        alts.append(st.just(dict(unknown(ty), marks=["b"])))
        if MODERN:
            alts.append(refined(ty))
            alts.append(refined(ty))
    return st.one_of(*alts)


def str_arg():
    return arg_of("string", TEXT)


def num_arg(values=None):
    return arg_of("number", values if values is not None else NUMBER)


def int_arg():
    return arg_of("number", SMALL_INT.map(lambda i: Num(str(i))))


def wrong_arg():
    """A value of some other type, for the type checks."""
    return st.sampled_from([
        known("number", Num("1")), known("bool", True), known("string", "x"),
        known(["list", "string"], ["a"]), known(["map", "number"], {"a": Num("1")}),
        known(["tuple", ["string", "number"]], ["a", Num("2")]),
        known(["object", {"a": "string"}], {"a": "x"}), known(["set", "bool"], [True]),
    ])


def bool_arg():
    return arg_of("bool", st.booleans())


def parseint_text():
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return st.one_of(
        st.text(alphabet=digits[:16] + "-+_ x", max_size=10),
        st.text(alphabet=digits, min_size=1, max_size=40),
        st.sampled_from(["", "-", "+", "0x1f", "-FF", "zz", "ZZ", "1_000", " 12", "12 "]))


# Regex pieces, valid and not, joined by Hypothesis into patterns. No
# "(?<name>": Go accepts it since 1.22, the oracles run Go 1.19
# (docs/internals/cty-function.md).
REGEX_PIECES = ["a", "b", "x", "é", ".", "\\d", "\\w", "\\s", "\\b", "\\B", "^", "$",
                "[a-c]", "[^x]", "[[:alpha:]]", "[[:foo:]]", "(", ")", "(?:", "(?P<n>",
                "(?P<m>", "(?P<n1>", "(?P<>", "(?P<1a>", "*", "+", "?", "*?", "+?", "{2}",
                "{1,3}", "{,2}", "{1001}", "|", "\\", "\\C", "(?i)", "(?s)", "(?m)", "(?U)",
                "[z-a]", "\\pL", "\\p{Greek}", "\\p{Foo}", "\\Q.*\\E", "\\x41",
                "\\x{1F600}", "\\z", "\\A", "\\n", "\\1", "\\8", "[", "]", "**",
                "\\.", "\\$", "a|", "()", "\\q"]
REGEX = st.one_of(
    st.lists(st.sampled_from(REGEX_PIECES), max_size=6).map("".join),
    st.sampled_from(["(\\w+)@(\\w+)", "(?P<user>\\w+)@(?P<host>\\w+)", "a*", "", "x*?",
                     "(a)|(b)", "(?P<x>a)(?P<x>b)", "[0-9]+", "^", "$", "\\b", "(a*)*"]))
REGEX_TEXT = st.one_of(TEXT, st.sampled_from(["abc123", "aaa", "", "a\nb", "bob@example",
                                              "ab ab", "xyz", "héllo wörld", "ΑΒΓ"]))
REPLACEMENT = st.one_of(st.text(alphabet="$12{}nmx_ab ", max_size=8),
                        st.sampled_from(["$1", "${1}x", "$1x", "$$", "$", "${n}", "$n", "$0",
                                         "$01", "[$0]", "${user}@", "${"]))


def _timestamps():
    def ts(t):
        y, mo, d, h, mi, sec, frac, zone = t
        return "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (y, mo, d, h, mi, sec, frac, zone)
    zones = st.sampled_from(["Z", "+00:00", "-07:00", "+05:30", "+23:59", "-12:45", "+24:00",
                             "+00:60", "z", "", "+0700", "+07"])
    fracs = st.sampled_from(["", ".5", ".123456789", ".1234567891234", ",5", "."])
    parts = st.tuples(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32),
                      st.integers(0, 25), st.integers(0, 61), st.integers(0, 61), fracs, zones)
    return st.one_of(
        parts.map(ts),
        st.sampled_from(["2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T12:00:00Z",
                         "1900-02-29T12:00:00Z", "2017-11-22T00:00:00Z", "2017-11-22 00:00:00Z",
                         "2017-11-22t00:00:00Z", "2017-11-22T1:00:00Z", "2017-11-22T01:0:00Z",
                         "2017-11-22T01:00:00", "2017-11-22T01:00:00Zextra", "2017-11-22",
                         "2017-11-22T", "2017-11", "", "0000-01-01T00:00:00Z",
                         "9999-12-31T23:59:59Z", "2017-11-22T01:00:00.Z", "20a7-11-22T01:00:00Z",
                         "2017-1-22T01:00:00Z", "2017-11-22T01:00:00+07:00:00",
                         "2017-11-22T24:00:00Z", "2017-11-22T23:60:00Z"]))


def _valid_timestamps():
    """Well-formed RFC 3339: what go-cty 1.12.1 (time.Parse) and 1.13+
    (its strict parser) agree on."""
    def ts(t):
        y, mo, d, h, mi, sec, frac, zone = t
        d = min(d, 28) if mo == 2 else min(d, 30)
        return "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (y, mo, d, h, mi, sec, frac, zone)
    zones = st.sampled_from(["Z", "+00:00", "-07:00", "+05:30", "+23:59", "-12:45"])
    fracs = st.sampled_from(["", ".5", ".123456789", ".1234567891234"])
    return st.tuples(st.integers(0, 9999), st.integers(1, 12), st.integers(1, 31),
                     st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), fracs,
                     zones).map(ts)


# go-cty 1.13 replaced time.Parse by a strict RFC 3339 parser with its own
# errors; with the 1.12.1 oracle only well-formed timestamps compare.
TIMESTAMP = _timestamps() if MODERN else _valid_timestamps()
DURATION = st.one_of(
    st.tuples(st.integers(-3, 99999),
              st.sampled_from(["h", "m", "s", "ms", "us", "\u00b5s", "\u03bcs", "ns", "x", ""]))
    .map(lambda t: "%d%s" % t),
    st.sampled_from(["1h", "-1.5h", "300ms", "1h2m3s", "2562047h47m16.854775807s",
                     "2562047h47m16.854775808s", "-2562047h47m16.854775808s", "1x", ".5h", "1.h",
                     ".h", "", "+", "-", "-0", "0", "+0", "1", "1h1", "9223372036854775808ns",
                     "99999999999999999999h", "0.000000001s", "1.0000000001s", "1e3s", " 1h",
                     "1\u00e9s", "1.5.5h", "\u00b5s"]))
DATE_FORMAT = st.one_of(
    st.text(alphabet="YMDEhHAamsZ'-:. TxQ", max_size=10),
    st.sampled_from(["YYYY-MM-DD", "DD MMM YYYY hh:mm ZZZ", "EEEE, MMMM D, YYYY", "h:mm AA",
                     "HH:mm:ss aa Z", "'quoted ''text'''", "'unterminated", "''", "YYY", "ZZ",
                     "ZZZZZ", "MMMMM", "hh'h'mm", "x", "YYYYMMDDhhmmss"]))


def with_marks(s):
    """Sometimes marks on the whole argument ("marks") as well."""
    return st.one_of(s, s, s, st.tuples(s, st.sampled_from([["sensitive"], ["a", "b"]]))
                     .map(lambda t: dict(t[0], marks=t[1])))


CSV_TEXT = st.one_of(
    st.text(alphabet='ab,"\n\r x', max_size=16),
    st.sampled_from(["a,b\n1,2\n", "a,b\n1,2", "a,b\r\n1,2\r\n", "a,a\n1,2\n", "", "\n\n",
                     "a,b\n1\n", "a,b\n1,2,3\n", 'a,b\n"1",2\n', 'a,b\n"1"x,2\n',
                     'a,b\n1,"2\n', 'a,b\n1,"multi\nline"\n', 'a\n\n\nx\n', 'a,b\n1,2\r',
                     ' a , b \n 1 , 2 \n', 'a"b,c\n', '"a""b",c\n1,2\n', 'a,b\n\r\n1,2\n',
                     'a,b\n1,2\n"3', 'a\r\n"x\r\ny"\r\n']))
JSON_TEXT = st.one_of(
    st.text(alphabet='{}[]":,0123456789.-+eEtrufalsn\\ ab', max_size=16),
    st.sampled_from(['{"a":1}', '[1,"a",true,null]', '"x"', '1.5e3', 'true', 'null', '{}',
                     '[]', '{"a":{"b":[1,2]}}', '{"a":1,"a":"x"}', '{"a":1,"a":2}', ' 1 ',
                     '1 2', '[1,', '{"a"}', '"\\u00e9"', '"\\ud800"', '9007199254740993',
                     '-0', '1e400', '[[[[]]]]', '{"":null}', 'nul', 'tru', '01', '.5']))

PRIM_TYPES = st.sampled_from(["string", "number", "bool"])


def any_type(max_leaves=5):
    def extend(inner):
        return st.one_of(
            st.tuples(st.sampled_from(["list", "set", "map"]), inner).map(list),
            st.lists(inner, max_size=3).map(lambda ts: ["tuple", ts]),
            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)
            .map(lambda attrs: ["object", attrs]),
        )
    return st.recursive(PRIM_TYPES, extend, max_leaves=max_leaves)


SMALL_TEXT = st.sampled_from(["a", "b", "c", "", "\u00e9", "e\u0301", "1", "true"])
SMALL_NUMBER = st.sampled_from([Num("0"), Num("1"), Num("2"), Num("-0"), Num("1.5"), Num("10"),
                                Num("1.0"), Num("-3")])


def value_for(ty, depth=0, small=False):
    """A rich-dialect value of type ty, with nulls, unknowns and marks
    inside sometimes. small: leaves from a few values, so that sets,
    distinct and contains meet equal elements."""
    special = [st.just(None), st.just({"$unknown": True})]
    if ty == "string":
        base = SMALL_TEXT if small else TEXT
    elif ty == "number":
        base = SMALL_NUMBER if small else NUMBER
    elif ty == "bool":
        base = st.booleans()
    elif ty == "dynamic":
        base = st.just(None)
    elif ty[0] in ("list", "set"):
        base = st.lists(value_for(ty[1], depth + 1, small), max_size=4 if small else 3)
    elif ty[0] == "map":
        base = st.dictionaries(st.sampled_from(["a", "b", "k", "\u00e9"]),
                               value_for(ty[1], depth + 1, small), max_size=3)
    elif ty[0] == "tuple":
        base = st.tuples(*[value_for(t, depth + 1, small) for t in ty[1]]).map(list)
    else:
        names = sorted(ty[1])
        base = st.tuples(*[value_for(ty[1][n], depth + 1, small) for n in names]).map(
            lambda vs: dict(zip(names, vs)))
    marked = base.map(lambda v: {"$marks": ["s"], "$value": v})
    return st.one_of(base, base, base, base, marked, *special)


def shaped_type(kinds, inner=None, max_leaves=3):
    """A type whose outer kind is one of kinds ("list", "set", "map",
    "tuple", "object")."""
    inner = inner if inner is not None else any_type(max_leaves)
    alts = []
    for k in kinds:
        if k in ("list", "set", "map"):
            alts.append(inner.map(lambda t, k=k: [k, t]))
        elif k == "tuple":
            alts.append(st.lists(inner, max_size=3).map(lambda ts: ["tuple", ts]))
        else:
            alts.append(st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)
                        .map(lambda attrs: ["object", attrs]))
    return st.one_of(*alts)


def typed_arg(types, small=True):
    """An argument of one of the given types: mostly known (with marks and
    unknowns inside), sometimes marked whole, null, unknown (refined with a
    modern oracle) or of dynamic type."""
    def for_type(ty):
        k = known_of(ty, small)
        alts = [k, k, k, k, k,
                k.map(lambda a: dict(a, marks=["m"])),
                st.just(null(ty)), st.just(unknown(ty)), st.just(unknown("dynamic"))]
        if MODERN:
            alts.append(refined(ty))
        return st.one_of(*alts)
    return types.flatmap(for_type)


def known_of(ty, small=True):
    return value_for(ty, small=small).filter(
        lambda v: v is not None and v != {"$unknown": True}).map(lambda v: known(ty, v))


def any_arg(max_leaves=5):
    """An argument of a random type."""
    return any_type(max_leaves).flatmap(
        lambda ty: st.one_of(value_for(ty).map(lambda v: known(ty, v)),
                             st.just(unknown(ty)), st.just(null(ty))))


BYTES = st.binary(max_size=12).map(lambda b: __import__("base64").b64encode(b).decode())


def bytes_arg():
    return st.one_of(BYTES.map(lambda b: known("bytes", b)),
                     BYTES.map(lambda b: known("bytes", {"$bytes": b})),
                     st.just(null("bytes")), st.just(unknown("bytes")),
                     st.just(unknown("dynamic")), st.just(known("bytes", "not base64!")))


CONVERTIBLE = st.one_of(
    arg_of("string", st.sampled_from(["true", "false", "1.5", "-0", "x", "", "1e3", " 1",
                                      "TRUE", "Infinity", "0x10"])),
    arg_of("number", NUMBER), arg_of("bool", st.booleans()))


def str_list_arg():
    elem = st.one_of(TEXT, TEXT, TEXT, st.just({"$unknown": True}), st.none(),
                     TEXT.map(lambda t: {"$marks": ["m"], "$value": t}))
    return st.one_of(
        st.lists(TEXT, max_size=5).map(lambda v: known(["list", "string"], v)),
        st.lists(elem, max_size=5).map(lambda v: known(["list", "string"], v)),
        st.just(unknown(["list", "string"])),
        st.just(null(["list", "string"])),
    )


# ---- collections, sets and format ---------------------------------------

SEQ_TYPES = shaped_type(["list", "tuple", "set"])
MAPPING_TYPES = shaped_type(["map", "object"])
COLL_TYPES = shaped_type(["list", "tuple", "set", "map", "object"])


def seq_arg():
    return st.one_of(typed_arg(SEQ_TYPES), typed_arg(SEQ_TYPES), wrong_arg())


def mapping_arg():
    return st.one_of(typed_arg(MAPPING_TYPES), typed_arg(MAPPING_TYPES), wrong_arg())


def coll_arg():
    return st.one_of(typed_arg(COLL_TYPES), any_arg(3))


def set_arg(elem=None):
    elem = elem if elem is not None else st.one_of(PRIM_TYPES, PRIM_TYPES, any_type(2))
    same = st.sampled_from(["string", "number"]).map(lambda t: ["set", t])
    return st.one_of(typed_arg(elem.map(lambda t: ["set", t])), typed_arg(same),
                     typed_arg(same))


def nested_seq_arg():
    """Lists, sets and tuples of lists, sets and tuples (flatten)."""
    inner = shaped_type(["list", "tuple", "set"], inner=st.one_of(PRIM_TYPES, shaped_type(
        ["list", "tuple", "set"], inner=PRIM_TYPES)))
    return st.one_of(typed_arg(shaped_type(["list", "tuple", "set"], inner=inner)),
                     typed_arg(SEQ_TYPES), coll_arg())


def key_arg():
    return st.one_of(int_arg(), str_arg(), num_arg(), wrong_arg(),
                     st.just(unknown("dynamic")))


def member_args():
    """A sequence and a value that is often one of its elements."""
    def pair(ty):
        ety = ty[1] if ty[0] in ("list", "set") else "string"
        return st.tuples(typed_arg(st.just(ty)),
                         st.one_of(known_of(ety), typed_arg(st.just(ety)), any_arg(2))).map(list)
    return shaped_type(["list", "set", "tuple"], inner=st.one_of(PRIM_TYPES, PRIM_TYPES,
                                                                 any_type(2))).flatmap(pair)


FORMAT_PIECES = ["%s", "%d", "%v", "%#v", "%q", "%t", "%x", "%X", "%o", "%b", "%e", "%E",
                 "%f", "%g", "%G", "%5s", "%-5s", "%05d", "%+d", "% d", "%.2f", "%10.3e",
                 "%[2]s", "%[1]d", "%[3]v", "%%", "%", "%z", "%[0]d", "%.s", "%5.1q", "%.3s",
                 "%-#8x", "%#x", "%#o", "%#b", "%08.3f", "%+.3e", "% g", "%.0d", "%.0f", "%.f",
                 "%5[1]d", "%[1]5d", "%.2[1]f", "%+v", "%-5v", "%05v", "%.1s", "%3.2s",
                 "%-08.3f", "%0-9e", "%-010g", "%-05d", "%0-6x", "%12.4E", "%+08.2G",
                 "abc", " ", "\u00e9", "\n", "e\u0301", "x%", "%[99]d", "%\u00e9"]
FORMAT = st.one_of(st.lists(st.sampled_from(FORMAT_PIECES), max_size=4).map("".join),
                   st.sampled_from(["Hello, %s!", "%d items", "%s-%s", "%v", "", "plain",
                                    "%-10s|", "%08.3f", "%x %X", "%[2]s %[1]s"]))


def format_value_arg():
    plain = st.one_of(TEXT.map(lambda v: known("string", v)),
                      NUMBER.map(lambda v: known("number", v)),
                      st.booleans().map(lambda v: known("bool", v)),
                      st.sampled_from(["12", "1.5", "true", "x", "-0", "0x1", "1e3"]).map(
                          lambda v: known("string", v)))
    return st.one_of(plain, plain, plain, plain, plain, str_arg(), num_arg(), bool_arg(),
                     any_arg(3), bytes_arg())


def format_list_arg():
    return st.one_of(
        st.lists(TEXT, max_size=3).map(lambda v: known(["list", "string"], v)),
        st.lists(NUMBER, max_size=3).map(lambda v: known(["list", "number"], v)),
        st.lists(SMALL_TEXT, max_size=3).map(lambda v: known(["set", "string"], v)),
        seq_arg(), str_list_arg())


def format_call(value_arg):
    """A format string (mostly known) and about as many arguments as it has
    verbs."""
    def with_args(fmt_arg):
        f = fmt_arg.get("value")
        f = f.get("$value") if isinstance(f, dict) else f
        n = f.replace("%%", "").count("%") if isinstance(f, str) else 1
        return st.lists(value_arg, min_size=max(0, n - 1), max_size=n + 1).map(
            lambda a: [fmt_arg] + a)
    fmt = st.one_of(*([FORMAT.map(lambda f: known("string", f))] * 8 +
                      [arg_of("string", FORMAT)]))
    return fmt.flatmap(with_args)
