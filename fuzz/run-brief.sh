#!/bin/sh
# Builds the fuzz preset (clang + libFuzzer + ASan/UBSan) and runs every
# fuzz target briefly, each on its seed corpus, printing executions per
# target. Usage: fuzz/run-brief.sh [SECONDS_PER_TARGET]   (default 20)
# SOUPC_FUZZ_BUILD_DIR=dir skips the preset build and uses dir instead.
# Exit status is non-zero if any target finds a crash, leak or UB.
set -u
secs=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
if [ -z "${SOUPC_FUZZ_BUILD_DIR:-}" ]; then
  # Only the fuzz targets (one per corpus directory) and what they link.
  targets=$(for d in "$root"/fuzz/corpus/fuzz_*; do basename "$d"; done)
  cmake --preset fuzz >/dev/null &&
    cmake --build --preset fuzz -j2 --target $targets || exit 1
  bdir=$root/build/fuzz
else
  bdir=$SOUPC_FUZZ_BUILD_DIR
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
status=0
printf '%-24s %12s %8s  %s\n' target executions seconds result
for bin in "$bdir"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  # New inputs go to a scratch copy; the committed corpus is only read.
  mkdir -p "$work/$name"
  seeds=$root/fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  log=$work/$name.log
  "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 "$work/$name" $seeds >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (rc=$rc)"
    status=1
    grep -E "ERROR|runtime error|Assertion|SUMMARY" "$log" | head -5 | sed 's/^/    /'
    crash=$(ls "$root"/crash-* "$root"/leak-* "$root"/timeout-* 2>/dev/null | head -1)
    [ -n "$crash" ] && echo "    reproducer: $crash"
  fi
  printf '%-24s %12s %8s  %s\n' "$name" "${execs:-?}" "$secs" "$result"
done
exit $status
