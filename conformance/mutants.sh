#!/bin/sh
# Runs the conformance suite against each deliberately broken soup-c
# (conformance/mutants.md) and prints which mutants it caught.
#
#   conformance/mutants.sh [--hypothesis-profile P] [--impl soup-c|python-ref] [MUTANT...]
#
# soup-c: each mutant is built with -DSOUPC_MUTANT=NAME in its own build
# dir ($SOUPC_MUTANT_BUILD_ROOT, default <repo>/build-mutant-NAME), then the
# kv/ tests run against it with -x (the first failing test means caught).
# python-ref: the reference server injects the same defects through
# $REFSERVER_MUTANT (no build), which checks the suite itself quickly.
# Exit status: 0 if every mutant was caught, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
profile=${SOUPC_HYPOTHESIS_PROFILE:-default}
impl=soup-c
mutants=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hypothesis-profile) profile=$2; shift 2 ;;
    --hypothesis-profile=*) profile=${1#*=}; shift ;;
    --impl) impl=$2; shift 2 ;;
    --impl=*) impl=${1#*=}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) mutants="$mutants $1"; shift ;;
  esac
done
if [ -z "$mutants" ]; then
  mutants="DROP_PUT TRUNCATE_64K NUL_KEY OK_NOT_FOUND EMPTY_KEY_OK SKIP_FSYNC ACK_BEFORE_COMMIT LOSE_CONCURRENT_WRITE KEY_TRUNCATE_250 STALE_READ NO_KEY_LIMIT UTF8_UNCHECKED"
fi
root=${SOUPC_MUTANT_BUILD_ROOT:-$repo}
logdir=${SOUPC_MUTANT_LOG_DIR:-$here/reports/mutants-$impl}
mkdir -p "$logdir"

results=""
caught_all=0
for m in $mutants; do
  log="$logdir/$m.log"
  start=$(date +%s)
  if [ "$impl" = soup-c ]; then
    bdir="$root/build-mutant-$m"
    if ! { cmake -S "$repo" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSOUPC_MUTANT="$m" &&
           cmake --build "$bdir" --target soup-c -- -j2; } >"$log.build" 2>&1; then
      results="$results\n$m\tBUILD-FAILED\t(see $log.build)"
      caught_all=1
      continue
    fi
    # From the suite's directory, so its conftest.py (which defines --impl)
    # is loaded whatever the caller's working directory.
    (cd "$here" && SOUPC_BIN="$bdir/soup-c" SOUPC_HYPOTHESIS_PROFILE=$profile \
      /usr/bin/python3 -m pytest -x -q -p no:cacheprovider --impl soup-c \
      --report-dir "$logdir/$m-report" kv) >"$log" 2>&1
    rc=$?
  else
    (cd "$here" && REFSERVER_MUTANT=$m SOUPC_HYPOTHESIS_PROFILE=$profile \
      /usr/bin/python3 -m pytest -x -q -p no:cacheprovider --impl "$impl" \
      --report-dir "$logdir/$m-report" kv) >"$log" 2>&1
    rc=$?
  fi
  secs=$(( $(date +%s) - start ))
  test=$(grep -m1 '^FAILED ' "$log" | sed 's/^FAILED //; s/ - .*//')
  case $rc in
    1) results="$results\n$m\tCAUGHT\t${secs}s\t$test" ;;
    0) results="$results\n$m\tMISSED\t${secs}s"; caught_all=1 ;;
    *) results="$results\n$m\tERROR(rc=$rc)\t${secs}s\t(see $log)"; caught_all=1 ;;
  esac
  printf '%s\t%s\n' "$m" "$(printf "$results" | tail -1 | cut -f2-)"
done
echo
echo "mutant results (impl=$impl, profile=$profile):"
printf "$results\n" | sed '/^$/d' | column -t -s "$(printf '\t')"
exit $caught_all
