#!/usr/bin/python3
"""Time brokered call round trips (go-plugin's GRPCBroker): the host serves
Adder on a new broker id (AcceptAndServe), calls the plugin's AddViaHost, and
the plugin dials back into the host during that call (Dial), calls Sum and
answers. One round trip = new listener + ConnInfo + new connection (TLS
handshake under AutoMTLS) + two unary calls. Cases, alternated in one run:

  go   broker-host -> broker-plugin       go-plugin 1.0.1 on both sides
  c    broker_host_c -> broker_plugin_c   soup-c's plugin.h on both sides

Each host times its round trips in-process (--bench N) and prints the
median; this script runs R rounds per case, alternating, and prints the
median of the medians and the soup-c/Go ratio (target <= 0.60). It only
measures; nothing is asserted.

go-plugin 1.0.1's plugin cannot dial back under AutoMTLS (its brokered TLS
config has no ServerName; see tests/interop/go/test_broker.py), so the Go
pair runs in plaintext only; the soup-c pair runs in both modes and the
ratio compares plaintext with plaintext.

Usage: bench/plugin_broker.py --build DIR [-n N] [-r R]
  DIR: a soup-c build tree (release preset for numbers that mean anything)
  with the Go peers in DIR/peers-go (peers/go/build.sh DIR/peers-go).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile


def run(argv, tmp):
    env = dict(os.environ, TMPDIR=tmp)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=600)
    m = re.search(rb"summary n=(\d+) median_us=(\d+) p90_us=(\d+)", r.stdout)
    if r.returncode != 0 or m is None:
        sys.exit("%s failed:\n%s%s" % (argv[0], r.stdout.decode(), r.stderr.decode()))
    return int(m.group(2)), int(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("-n", type=int, default=200, help="round trips per run")
    ap.add_argument("-r", type=int, default=5, help="runs per case")
    a = ap.parse_args()
    b = os.path.abspath(a.build)
    peers = os.path.join(b, "peers-go")
    cdir = os.path.join(b, "tests", "interop", "go")
    cases = {
        "go plaintext": [os.path.join(peers, "broker-host"), "--no-automtls",
                         "--bench", str(a.n), "--", os.path.join(peers, "broker-plugin")],
        "soup-c plaintext": [os.path.join(cdir, "broker_host_c"), "--no-automtls",
                             "--bench", str(a.n), "--", os.path.join(cdir, "broker_plugin_c")],
        "soup-c automtls": [os.path.join(cdir, "broker_host_c"),
                            "--bench", str(a.n), "--", os.path.join(cdir, "broker_plugin_c")],
    }
    res = {k: [] for k in cases}
    with tempfile.TemporaryDirectory(prefix="brk-bench-") as tmp:
        for i in range(a.r):
            for name, argv in cases.items():
                res[name].append(run(argv, tmp))
                print("round %d/%d %-17s median %6d us" % (i + 1, a.r, name, res[name][-1][0]),
                      file=sys.stderr)
    print("\nbrokered round trip (AcceptAndServe + call + plugin Dial back + Sum), "
          "%d per run, %d runs per case, alternated" % (a.n, a.r))
    print("%-18s %12s %12s %8s" % ("case", "median_us", "p90_us", "vs go"))
    go = statistics.median(m for m, _ in res["go plaintext"])
    for name in cases:
        med = statistics.median(m for m, _ in res[name])
        p90 = statistics.median(p for _, p in res[name])
        print("%-18s %12d %12d %8.2f" % (name, med, p90, med / go))
    print("target: soup-c plaintext <= 0.60 x go plaintext")


if __name__ == "__main__":
    main()
