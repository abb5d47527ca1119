#!/usr/bin/python3
"""Time brokered call round trips (go-plugin's GRPCBroker): the host serves
Adder on a new broker id (AcceptAndServe), calls the plugin's AddViaHost, and
the plugin dials back into the host during that call (Dial), calls Sum and
answers. One round trip = new listener + ConnInfo (or, multiplexed, a knock
and a new yamux stream) + new connection (TLS handshake under AutoMTLS) +
two unary calls. Cases, alternated in one run, each against its Go pair:

  go plaintext        broker-host -> broker-plugin      go-plugin 1.0.1
  soup-c plaintext    broker_host_c -> broker_plugin_c  soup-c's plugin.h
  go mux automtls     mux-host -> mux-plugin            peers/go gpmux: go-plugin
                                                        1.6's multiplexing on
                                                        hashicorp/yamux, P-521
  soup-c mux automtls broker_host_c --multiplex -> broker_plugin_c
  go mux plaintext / soup-c mux plaintext: the same without TLS
  soup-c automtls     broker_host_c -> broker_plugin_c under AutoMTLS, not
                      multiplexed (no Go pair: go-plugin 1.0.1's plugin cannot
                      dial back under AutoMTLS, see tests/interop/go/
                      test_broker.py); shown against go plaintext

Each host times its round trips in-process (--bench N) and prints the
median; this script runs R rounds per case, alternating, and prints the
median of the medians and the soup-c/Go ratio (target <= 0.60). It only
measures; nothing is asserted.

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
    env = dict(os.environ, TMPDIR=tmp, PLUGIN_UNIX_SOCKET_DIR=tmp)
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
    gp = lambda name: os.path.join(peers, name)  # noqa: E731
    cp = lambda name: os.path.join(cdir, name)  # noqa: E731
    n = ["--bench", str(a.n), "--"]
    # name: (argv, the Go case it is compared with)
    cases = {
        "go plaintext": ([gp("broker-host"), "--no-automtls"] + n + [gp("broker-plugin")], None),
        "soup-c plaintext": ([cp("broker_host_c"), "--no-automtls"] + n + [cp("broker_plugin_c")],
                             "go plaintext"),
        "go mux automtls": ([gp("mux-host")] + n + [gp("mux-plugin")], None),
        "soup-c mux automtls": ([cp("broker_host_c"), "--multiplex"] + n + [cp("broker_plugin_c")],
                                "go mux automtls"),
        "go mux plaintext": ([gp("mux-host"), "--no-automtls"] + n + [gp("mux-plugin")], None),
        "soup-c mux plaintext": ([cp("broker_host_c"), "--multiplex", "--no-automtls"] + n
                                 + [cp("broker_plugin_c")], "go mux plaintext"),
        "soup-c automtls": ([cp("broker_host_c")] + n + [cp("broker_plugin_c")], "go plaintext"),
    }
    res = {k: [] for k in cases}
    with tempfile.TemporaryDirectory(prefix="brk-bench-") as tmp:
        for i in range(a.r):
            for name, (argv, _) in cases.items():
                res[name].append(run(argv, tmp))
                print("round %d/%d %-20s median %6d us" % (i + 1, a.r, name, res[name][-1][0]),
                      file=sys.stderr)
    print("\nbrokered round trip (AcceptAndServe + call + plugin Dial back + Sum), "
          "%d per run, %d runs per case, alternated" % (a.n, a.r))
    print("%-21s %10s %10s %8s  %s" % ("case", "median_us", "p90_us", "ratio", "vs"))
    med = {k: statistics.median(m for m, _ in v) for k, v in res.items()}
    for name, (_, ref) in cases.items():
        p90 = statistics.median(p for _, p in res[name])
        ratio = "%.2f" % (med[name] / med[ref]) if ref else "-"
        print("%-21s %10d %10d %8s  %s" % (name, med[name], p90, ratio, ref or ""))
    print("target: each soup-c case <= 0.60 x its Go pair")


if __name__ == "__main__":
    main()
