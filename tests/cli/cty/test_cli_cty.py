"""soup-c wire/cty CLI against soup-go's behaviour (wire-cty-spec.md §1.4).

Usage: test_cli_cty.py SOUP_C VECTORS_FILE
Every `wire` vector goes through `soup-c wire encode - --type T` (base64 on
stdout) and `--output-format json`; errors must exit 1 with "Error: ...",
never crash; decode, convert and validate-value follow §1.4."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

SOUPC = None
VECTORS = None


def run(args, data=b"", check_rc=None):
    r = subprocess.run([SOUPC] + args, input=data, capture_output=True, timeout=30)
    assert r.returncode in (0, 1, 2), "crash: rc=%d stderr=%r" % (r.returncode, r.stderr)
    if check_rc is not None:
        assert r.returncode == check_rc, (args, r.returncode, r.stderr)
    return r


def modern_json(s):
    return s.replace("\\u0008", "\\b").replace("\\u000c", "\\f")


class WireVectors(unittest.TestCase):
    def test_every_wire_vector_encodes_like_go_cty(self):
        n = 0
        for line in open(VECTORS, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.startswith("wire\t"):
                continue
            _, ty, value, rest = line.split("\t", 3)
            if value == '{"a":1,"a":"x"}':
                continue  # go-cty >= 1.16.2 refuses it (test_vectors.c)
            r = run(["wire", "encode", "-", "--type", ty], value.encode())
            j = run(["wire", "encode", "-", "--type", ty, "--output-format", "json"], value.encode())
            n += 1
            if rest.startswith("MP=") and not rest.startswith("MP= "):
                want = rest.split(" ")[0][3:]
                self.assertEqual(r.returncode, 0, (line, r.stderr))
                self.assertNotIn(b"\n", r.stdout)
                self.assertEqual(base64.b64decode(r.stdout).hex(), want, line)
                if " JSON=" in rest:
                    self.assertEqual(j.stdout.decode(), modern_json(rest.split(" JSON=", 1)[1]), line)
            else:
                self.assertEqual(r.returncode, 1, line)
                self.assertTrue(r.stderr.startswith(b"Error: "), r.stderr)
        self.assertGreater(n, 70)

    def test_file_output_is_raw_msgpack(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "v.bin")
            run(["wire", "encode", "-", out, "--type", '"string"'], b'"hello"', 0)
            with open(out, "rb") as f:
                self.assertEqual(f.read().hex(), "a568656c6c6f")

    def test_decode_reads_base64_stdin_and_raw_files(self):
        r = run(["wire", "decode", "-", "--type", '"string"'], b"pWhlbGxv\n", 0)
        self.assertEqual(r.stdout, b'"hello"')
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "v.bin")
            with open(src, "wb") as f:
                f.write(bytes.fromhex("92c40822737472696e6722a568656c6c6f"))
            r = run(["wire", "decode", src, "--type", '"dynamic"'], b"", 0)
            self.assertEqual(r.stdout, b'{"value":"hello","type":"string"}')
            r = run(["wire", "decode", src, "--type", '"dynamic"', "--output-format", "msgpack"], b"", 0)
            self.assertEqual(r.stdout.hex(), "92c40822737472696e6722a568656c6c6f")

    def test_unknown_cannot_be_written_as_json(self):
        r = run(["wire", "decode", "-", "--type", '"string"'], b"1AAA", 1)
        self.assertIn(b"value is not known", r.stderr)
        r = run(["wire", "decode", "-", "--type", '"string"', "--output-format", "msgpack"], b"1AAA", 0)
        self.assertEqual(r.stdout.hex(), "d40000")

    def test_json_input_decode_uses_go_cty_unmarshal(self):
        r = run(["wire", "decode", "-", "--type", '"string"', "--input-format", "json"], b"5.50", 0)
        self.assertEqual(r.stdout, b'"5.50"')
        r = run(["wire", "decode", "-", "--type", '["tuple",["string","number"]]', "--input-format", "json"],
                b'["a"]', 1)
        self.assertTrue(r.stderr.startswith(b"Error: "))

    def test_generic_encode_and_decode_without_type(self):
        r = run(["wire", "encode", "-", "-"], b'{"type":"string","value":"test"}', 0)
        raw = base64.b64decode(r.stdout)
        self.assertEqual(raw[0], 0x82)
        r = run(["wire", "decode", "-", "-"], b"gqR0eXBlpnN0cmluZ6V2YWx1ZaR0ZXN0", 0)
        self.assertEqual(json.loads(r.stdout), {"type": "string", "value": "test"})
        r = run(["wire", "decode", "-", "-"], b"1AAA", 1)
        self.assertIn(b"unknown ext id=0", r.stderr)

    def test_convert_is_raw_both_ways(self):
        r = run(["cty", "convert", "-", "-", "--type", '["list","number"]', "--output-format", "msgpack"],
                b"[1, 1.5]", 0)
        self.assertEqual(r.stdout.hex(), "9201cb3ff8000000000000")
        r = run(["cty", "convert", "-", "-", "--type", '["list","number"]', "--input-format", "msgpack"],
                bytes.fromhex("9201cb3ff8000000000000"), 0)
        self.assertEqual(r.stdout, b"[1,1.5]")
        r = run(["cty", "convert", "-", "-", "--type", '"dynamic"'], b'"x"', 0)
        self.assertEqual(r.stdout, b'{"value":"x","type":"string"}')
        r = run(["cty", "convert", "-", "--type", '"string"'], b'"x"', 1)
        r = run(["cty", "convert", "-", "-"], b'"x"', 1)
        self.assertIn(b'required flag(s) "type" not set', r.stderr)

    def test_validate_value(self):
        r = run(["cty", "validate-value", '"hello"', "--type", '"string"', "--log-level", "trace"], b"", 0)
        self.assertEqual(r.stdout, b"Validation Succeeded\n")
        r = run(["cty", "validate-value", "--type", '"number"', "--", "-5"], b"", 0)
        # soup-go only builds: a missing attribute still validates (§1.4)
        run(["cty", "validate-value", '{"a":"x"}', "--type", '["object",{"a":"string","b":"string"}]'], b"", 0)
        r = run(["cty", "validate-value", "5", "--type", '"string"'], b"", 1)
        self.assertIn(b"validation failed: expected string at", r.stderr)

    def test_bad_input_is_a_clear_error_not_a_crash(self):
        cases = [
            (["wire", "encode", "-", "--type", "string"], b'"x"', b"failed to parse type"),
            (["wire", "encode", "-", "--type", '["list","string",["a"]]'], b"[]", b"unexpected extra data"),
            (["wire", "encode", "-", "--type", '["object",{"a":"string"},[1]]'], b"{}", b"Error: "),
            (["wire", "encode", "-", "--type", '"number"'], b'"abc"', b"is not a number"),
            (["wire", "encode", "-", "--type", '"string"'], b"[1,", b"unexpected EOF"),
            (["wire", "encode", "-", "--type", '"string"'], b"[" * 5000, b"Error: "),
            (["wire", "decode", "-", "--type", '"number"'], bytes.fromhex("cb7ff8000000000001"), b"NaN"),
            (["wire", "decode", "-", "--type", '["list","string"]'], bytes.fromhex("dd7fffffff"), b"failed to decode: EOF"),
            (["wire", "decode", "-", "--type", '"string"'], bytes.fromhex("91" * 3000 + "c0"), b"Error: "),
            (["wire", "decode", "-", "--type", '"dynamic"'], bytes.fromhex("92c4035b5b5bc0"), b"Error: "),
            (["wire", "encode", "-", "--output-format", "yaml", "--type", '"string"'], b'"x"',
             b"unsupported output format"),
            (["wire", "encode", "--bogus", "-"], b"", b"unknown flag"),
            (["wire", "encode"], b"", b"accepts between 1 and 2"),
        ]
        for args, data, msg in cases:
            r = run(args, data)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn(msg, r.stderr, args)

    def test_duplicate_keys_last_wins_as_soup_go(self):
        """soup-go (go-cty 1.16.4 build, recorded 2026-12-04): a typed
        object or map and the untyped path take the last duplicate; with
        --type dynamic, go-cty >= 1.16.2's ImpliedType refuses duplicates
        of different types and accepts same-typed ones (last wins)."""
        dup = b'{"a":1,"a":"x"}'
        for ty in ('["object",{"a":"string"}]', '["map","string"]'):
            r = run(["wire", "encode", "-", "--type", ty, "--output-format", "json"], dup, 0)
            self.assertEqual(r.stdout, b'{"a":"x"}')
        r = run(["wire", "encode", "-"], dup, 0)
        self.assertEqual(r.stdout, b"gaFhoXg=")  # msgpack {"a":"x"}
        r = run(["wire", "encode", "-", "--type", '"dynamic"', "--output-format", "json"],
                b'{"a":1,"a":2}', 0)
        self.assertEqual(r.stdout, b'{"value":{"a":2},"type":["object",{"a":"number"}]}')
        r = run(["wire", "encode", "-", "--type", '"dynamic"'], dup, 1)
        self.assertIn(b'failed to build value: duplicate "a" property in JSON object', r.stderr)

    def test_help(self):
        for cmd in (["wire", "encode"], ["wire", "decode"], ["cty", "convert"], ["cty", "validate-value"]):
            r = run(cmd + ["--help"], b"", 0)
            self.assertIn(b"Usage:\n  soup-c " + " ".join(cmd).encode(), r.stdout)


if __name__ == "__main__":
    SOUPC, VECTORS = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
