"""soup-c against recorded answers of soup-go (TofuSoup's Go harness):
every line of cli-vectors.txt (recorded by record_vectors.py from a
soup-go build) and cty118-vectors.txt (go-cty 1.17 and 1.18 behaviour,
from go-cty's own tests and code; each line cites its source) is a command
line with soup-go's exit code, stdout and first stderr line. soup-c must
give the same three, byte for byte: help texts, flag and argument errors,
refinements, ranges, SafeKnownPrefix, convert's messages, msgpack errors.

Where soup-go crashed (exit 2: a go-cty panic it does not recover),
soup-c must instead answer: exit 0 or 1, never a crash.

Usage: test_cli_vectors.py SOUP_C"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOUPC = None


def vectors(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        words, rc, out, err = line.split("\t")
        yield n, json.loads(words), int(rc), json.loads(out), json.loads(err)


class Vectors(unittest.TestCase):
    def check(self, name, at_least):
        env = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"}
        count = 0
        for n, words, rc, out, err in vectors(name):
            r = subprocess.run([SOUPC] + words, capture_output=True, env=env, timeout=60)
            where = "%s:%d %r" % (name, n, words)
            count += 1
            if rc == 2:
                self.assertIn(r.returncode, (0, 1), where)
                continue
            got_out = r.stdout.decode("utf-8", "replace")
            got_err = r.stderr.decode("utf-8", "replace").split("\n", 1)[0] if r.returncode else ""
            self.assertEqual((r.returncode, got_out, got_err), (rc, out, err), where)
        self.assertGreaterEqual(count, at_least)

    def test_recorded_from_soup_go(self):
        self.check("cli-vectors.txt", 200)

    def test_go_cty_1_18(self):
        self.check("cty118-vectors.txt", 5)


if __name__ == "__main__":
    SOUPC = sys.argv[1]
    unittest.main(argv=[sys.argv[0], "-v"])
