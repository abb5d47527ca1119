#!/usr/bin/env python3
"""Every soup-c command refuses a long flag it does not know, abbreviations
included, as soup-go's flag parser (pflag) does (issue 13): getopt_long
would read `rpc kv put --key x` as --key-file and `--addr` as --address.

The command tree and each command's long flags are read from the binary's
own --help texts, so a new command or flag is covered without editing this
file. For every flag, three of its proper prefixes (two letters, half, all
but the last letter) that are not themselves flags of that command are
tried as `--prefix` (the longest also as `--prefix=x`): the command must
exit non-zero before doing anything, with "unknown flag: --prefix" on the
first line of stderr.

Usage: test_long_flags.py SOUP_C
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

FLAG_RE = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])")
WORD_RE = re.compile(r"^[a-z][a-z0-9-]*$")


def run(soupc, args, env, timeout=20):
    return subprocess.run([soupc] + args, stdin=subprocess.DEVNULL,
                          capture_output=True, env=env, timeout=timeout)


def help_text(soupc, path, env):
    r = run(soupc, path + ["--help"], env)
    return r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def subcommands(text, top):
    """Commands listed in a help text's "Commands:" (soup-c's own layout,
    whole paths such as "rpc kv get") or "Available Commands:" section
    (cobra's, one word each). A description starts with a word that is not
    a plain lower-case name ("Serve", "ctyjson.Marshal")."""
    out, in_section = [], False
    for line in text.splitlines():
        if line.rstrip() in ("Commands:", "Available Commands:"):
            in_section = True
            continue
        if not in_section:
            continue
        if not line.startswith("  ") or not line.strip():
            in_section = False
            continue
        words = line.split()
        if not top:
            out.append(words[:1])
            continue
        name = []
        for w in words:
            if not WORD_RE.match(w):
                break
            name.append(w)
        if name:
            out.append(name)
    return out


def command_tree(soupc, env):
    """Every command path, from the top help down through each group."""
    seen, todo = [], [[]]
    while todo:
        path = todo.pop(0)
        seen.append(path)
        for words in subcommands(help_text(soupc, path, env), not path):
            child = path + words
            if child not in seen and child not in todo:
                todo.append(child)
    return seen


def main():
    soupc = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="soupc-flags-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
           "KV_STORAGE_DIR": os.path.join(tmp, "store"),
           "XDG_CACHE_HOME": os.path.join(tmp, "cache")}
    try:
        return check(soupc, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check(soupc, env):
    tree = command_tree(soupc, env)
    must_have = [["rpc", "kv", "put"], ["rpc", "kv", "server"], ["cty", "json", "marshal"],
                 ["wire", "encode"], ["rpc", "cert", "generate"]]
    failures, tried = [], 0
    for need in must_have:
        if need not in tree:
            failures.append("command tree read from --help lacks %s" % " ".join(need))
    for path in tree:
        flags = set(FLAG_RE.findall(help_text(soupc, path, env)))
        for flag in sorted(flags):
            # The shortest, a middle and the longest abbreviation: the
            # ones getopt_long would have taken (unambiguous prefixes).
            for n in sorted({2, len(flag) // 2, len(flag) - 1}):
                prefix = flag[:n]
                if n < 2 or prefix in flags or prefix.endswith("-"):
                    continue
                forms = ["--" + prefix]
                if n == len(flag) - 1:
                    forms.append("--" + prefix + "=x")
                for arg in forms:
                    tried += 1
                    r = run(soupc, path + [arg], env)
                    first = r.stderr.decode("utf-8", "replace").split("\n", 1)[0]
                    want = "unknown flag: --" + prefix
                    if r.returncode == 0 or want not in first:
                        failures.append("%s %s: exit %d, stderr %r (want %r)" %
                                        (" ".join(path), arg, r.returncode, first, want))
    print("%d commands, %d abbreviated flags tried" % (len(tree), tried))
    for f in failures[:40]:
        print("FAIL " + f)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
