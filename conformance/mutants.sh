#!/bin/sh
# Runs the conformance suite against each deliberately broken soup-c
# (conformance/mutants.md) and prints which mutants it caught.
#
#   conformance/mutants.sh [--hypothesis-profile P] [--impl soup-c|python-ref]
#                          [--unit] [--tests 'PYTEST ARGS'] [MUTANT...]
#   conformance/mutants.sh --check     # each patch still applies (no build)
#
# soup-c: each mutant is a patch, conformance/mutants/NAME.patch, against the
# current tree. The tree (tracked and untracked, not ignored files) is copied
# to a scratch dir ($SOUPC_MUTANT_BUILD_ROOT, default <repo>/build-mutant),
# which is configured once (Debug); then per mutant: apply the patch, build
# soup-c incrementally, run kv/ with -x (the first failing test means
# caught), revert the patch. The product source is never touched.
# --unit also runs the unit tests (ctest -R '^unit/') on the mutant.
# --tests replaces the suite's part (default: kv), e.g. --tests kv/test_framing.py
# to show that one family catches a mutant.
# python-ref: the reference server injects the same defects through
# $REFSERVER_MUTANT (no build), which checks the suite itself quickly.
# Exit status: 0 if every mutant was caught, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
profile=${SOUPC_HYPOTHESIS_PROFILE:-default}
impl=soup-c
unit=0
check=0
tests=kv
mutants=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hypothesis-profile) profile=$2; shift 2 ;;
    --hypothesis-profile=*) profile=${1#*=}; shift ;;
    --impl) impl=$2; shift 2 ;;
    --impl=*) impl=${1#*=}; shift ;;
    --unit) unit=1; shift ;;
    --check) check=1; shift ;;
    --tests) tests=$2; shift 2 ;;
    --tests=*) tests=${1#*=}; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "mutants.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) mutants="$mutants $1"; shift ;;
  esac
done
if [ -z "$mutants" ]; then
  for p in "$here"/mutants/*.patch; do
    mutants="$mutants $(basename "$p" .patch)"
  done
fi
for m in $mutants; do
  if [ ! -f "$here/mutants/$m.patch" ]; then
    echo "mutants.sh: no patch $here/mutants/$m.patch" >&2
    exit 2
  fi
done
if [ "$check" = 1 ]; then
  bad=0
  for m in $mutants; do
    if out=$(cd "$repo" && patch -p1 --dry-run -s -f <"$here/mutants/$m.patch" 2>&1); then
      echo "$m: applies"
    else
      echo "$m: DOES NOT APPLY to the current tree: $out"
      bad=1
    fi
  done
  if [ $bad = 1 ]; then
    echo "refresh it: apply with 'patch -p1 --merge' in a scratch copy, fix the"
    echo "conflict so the defect stays the same, and save 'diff -u' of the file"
    echo "(conformance/mutants.md)."
  fi
  exit $bad
fi
logdir=${SOUPC_MUTANT_LOG_DIR:-$here/reports/mutants-$impl}
mkdir -p "$logdir"

scratch=${SOUPC_MUTANT_BUILD_ROOT:-$repo/build-mutant}
src="$scratch/src"
bdir="$scratch/build"

# A fresh copy of the tree; mtimes are kept so the build stays incremental,
# and every file a patch touches is touched so that no object compiled from
# an interrupted run's mutant survives.
prepare_scratch() {
  mkdir -p "$scratch"
  rm -rf "$src"
  mkdir -p "$src"
  (cd "$repo" && git ls-files -z -co --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -x -C "$src" || return 1
  for p in "$here"/mutants/*.patch; do
    sed -n 's|^+++ b/||p' "$p"
  done | sort -u | (cd "$src" && xargs touch)
  cmake -S "$src" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
}

build_targets() {
  if [ "$unit" = 1 ]; then
    cmake --build "$bdir" -- -j2
  else
    cmake --build "$bdir" --target soup-c -- -j2
  fi
}

if [ "$impl" = soup-c ]; then
  mkdir -p "$scratch"
  exec 9>"$scratch/.lock" || exit 2
  if ! flock -n 9; then
    echo "mutants.sh: $scratch is in use by another run" >&2
    exit 2
  fi
  echo "mutants.sh: copying the tree to $scratch and building it"
  if ! { prepare_scratch && build_targets; } >"$logdir/baseline.build" 2>&1; then
    echo "mutants.sh: the unmutated tree does not build (see $logdir/baseline.build)" >&2
    exit 2
  fi
fi

results=""
caught_all=0
for m in $mutants; do
  log="$logdir/$m.log"
  patch="$here/mutants/$m.patch"
  start=$(date +%s)
  if [ "$impl" = soup-c ]; then
    if ! (cd "$src" && patch -p1 -s --no-backup-if-mismatch <"$patch") >"$log.build" 2>&1; then
      results="$results\n$m\tPATCH-FAILED\t(see $log.build)"
      caught_all=1
      (cd "$src" && patch -p1 -R -s -f --no-backup-if-mismatch <"$patch") >/dev/null 2>&1
      continue
    fi
    if ! build_targets >>"$log.build" 2>&1; then
      results="$results\n$m\tBUILD-FAILED\t(see $log.build)"
      caught_all=1
      (cd "$src" && patch -p1 -R -s --no-backup-if-mismatch <"$patch")
      continue
    fi
    rc=0
    if [ "$unit" = 1 ]; then
      ctest --test-dir "$bdir" -R '^unit/' -j2 --timeout 300 >"$log.unit" 2>&1 || rc=1
    fi
    if [ $rc = 0 ]; then
      # From the suite's directory, so its conftest.py (which defines --impl)
      # is loaded whatever the caller's working directory.
      (cd "$here" && SOUPC_BIN="$bdir/soup-c" SOUPC_HYPOTHESIS_PROFILE=$profile \
        /usr/bin/python3 -m pytest -x -q -p no:cacheprovider --impl soup-c \
        --report-dir "$logdir/$m-report" $tests) >"$log" 2>&1
      rc=$?
      test=$(grep -m1 '^FAILED ' "$log" | sed 's/^FAILED //; s/ - .*//')
    else
      test="unit: $(grep -m1 -o 'unit/[^ ]* (Failed\|unit/[^ ]* (Subprocess' "$log.unit" | sed 's/ (.*//')"
    fi
    if ! (cd "$src" && patch -p1 -R -s --no-backup-if-mismatch <"$patch"); then
      echo "mutants.sh: could not revert $m in $src; stopping" >&2
      exit 2
    fi
  else
    (cd "$here" && REFSERVER_MUTANT=$m SOUPC_HYPOTHESIS_PROFILE=$profile \
      /usr/bin/python3 -m pytest -x -q -p no:cacheprovider --impl "$impl" \
      --report-dir "$logdir/$m-report" $tests) >"$log" 2>&1
    rc=$?
    test=$(grep -m1 '^FAILED ' "$log" | sed 's/^FAILED //; s/ - .*//')
  fi
  secs=$(( $(date +%s) - start ))
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
