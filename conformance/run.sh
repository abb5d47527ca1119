#!/bin/sh
# The conformance suite in one command.
#
#   conformance/run.sh [--hypothesis-profile quick|default|thorough] [--impl soup-c|python-ref|go-kvref]
#                      [pytest args...]
#
# Profile: the flag, else $SOUPC_HYPOTHESIS_PROFILE, else quick when CI=true,
# else default. Binary under test: $SOUPC_BIN (default build/soup-c). Go
# peers: $SOUPC_GO_PEERS (default peers/go/bin; built by peers/go/build.sh).
# The run report (report.html: verdict, binary, commit, seed, matrix,
# families) goes to conformance/reports/ (or $SOUPC_REPORT_DIR /
# --report-dir). -n N|auto spreads the run over pytest-xdist workers
# (python3-pytest-xdist); README "Thorough runs across machines".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SOUPC_HYPOTHESIS_PROFILE:-}" ]; then
  if [ "${CI:-}" = "true" ]; then SOUPC_HYPOTHESIS_PROFILE=quick; else SOUPC_HYPOTHESIS_PROFILE=default; fi
fi
export SOUPC_HYPOTHESIS_PROFILE
: "${SOUPC_BIN:=$(dirname "$here")/build/soup-c}"
export SOUPC_BIN
for a in "$@"; do
  case "$a" in
    -n|-n*|--numprocesses*|--tx*|-d|--dist*)
      if ! /usr/bin/python3 -c 'import xdist' 2>/dev/null; then
        echo "run.sh: $a needs pytest-xdist: apt-get install python3-pytest-xdist (scripts/install-deps.sh)" >&2
        exit 2
      fi ;;
  esac
done
cd "$here"
exec /usr/bin/python3 -m pytest "$@"
