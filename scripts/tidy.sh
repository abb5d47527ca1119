#!/usr/bin/env bash
# clang-tidy 14 over every file of src/ in a build's compile_commands.json,
# with the checks in .clang-tidy (each disabled check says why there).
# Fails on any finding: src/ is kept at zero. A finding that is a false
# positive gets a NOLINT comment naming the check and the reason.
#   scripts/tidy.sh [BUILD_DIR]    (default build/asan; configure it first)
# Takes about 4 minutes of CPU on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/asan}"
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy.sh: $build/compile_commands.json not found; run cmake --preset first" >&2
  exit 2
fi
tidy_runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
if [ -z "$tidy_runner" ]; then
  echo "tidy.sh: run-clang-tidy not found (apt-get install clang-tidy)" >&2
  exit 2
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
files=$(git ls-files 'src/*.c' 'src/*.cc' 2>/dev/null | wc -l)
echo "tidy.sh: clang-tidy on src/ ($files files, $build)"
status=0
"$tidy_runner" -quiet -j "$(nproc)" -p "$build" "^$(pwd)/src/" >"$log" 2>&1 ||
  status=$?
# A header's finding is reported once per file that includes it.
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$log" |
  grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' | sort -u || true)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "tidy.sh: $(echo "$findings" | wc -l) clang-tidy finding(s) in src/"
  exit 1
fi
if [ "$status" -ne 0 ]; then
  sed 's/\x1b\[[0-9;]*m//g' "$log" | tail -20
  echo "tidy.sh: run-clang-tidy failed (exit $status)"
  exit 1
fi
echo "tidy.sh: no findings"
