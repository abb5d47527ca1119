#!/bin/sh
# Runs the example built in directory $1 (tests/install/examples): the C
# host, and with SOUPC_EXAMPLES_GO=1 also go-plugin's own Go host (built
# here by go-host/build.sh from Debian's Go sources).
set -e
here=$(cd "$(dirname "$0")" && pwd)
"$1/counter-host" "$1/counter-plugin"
if [ "${SOUPC_EXAMPLES_GO:-0}" = 1 ]; then
  "$here/go-host/build.sh" "$1/go-host-build"
  "$1/go-host-build/go-host" "$1/counter-plugin"
else
  echo "counter-plugin: Go host not run (SOUPC_EXAMPLES_GO=1 runs it)"
fi
