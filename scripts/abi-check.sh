#!/usr/bin/env bash
# The ABI baseline of libsoupc.so and libsoupc-cty.so (abi/*.dump, made by
# Debian's abi-dumper) and the check that the current build still matches
# it (abi-compliance-checker).
#
#   scripts/abi-check.sh [BUILD_DIR]            check (default build/dev)
#   scripts/abi-check.sh --update [BUILD_DIR]   regenerate the baseline
#
# A check fails on any binary or source incompatibility with the baseline:
# a removed or changed function, a struct whose size or layout changed
# (also a field appended to an option struct: safe under docs/api/abi.md's
# struct_size rule, but it must be looked at), an enum value that moved.
# If the change is deliberate, regenerate with --update and commit abi/ in
# the same commit; a real break also needs a new soname. Added functions
# are compatible and only reported. The HTML reports are kept in
# BUILD_DIR/abi-report/. Needs the build's debug info (-g; every preset).
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
if [ "${1:-}" = --update ]; then
  update=1
  shift
fi
build=${1:-build/dev}
[ -d "$build" ] || { echo "abi-check: no build in $build" >&2; exit 2; }
for tool in abi-dumper abi-compliance-checker; do
  command -v "$tool" >/dev/null ||
    { echo "abi-check: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-abi-XXXXXX")
[ $update -eq 0 ] || mkdir -p abi
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
version=$(sed -n 's/^#define SOUPC_VERSION "\(.*\)"$/\1/p' \
  "$tmp/prefix/include/soupc/version.h")
report_dir=$build/abi-report
mkdir -p "$report_dir"

status=0
for lib in libsoupc libsoupc-cty; do
  so=$(find "$tmp/prefix" -name "$lib.so.$version" -type f | head -n1)
  [ -n "$so" ] || { echo "abi-check: $lib.so.$version not installed" >&2; exit 2; }
  abi-dumper "$so" -o "$tmp/$lib.dump" -lver "$version" \
    -public-headers "$tmp/prefix/include/soupc" >"$tmp/$lib.dumper.log" 2>&1 ||
    { cat "$tmp/$lib.dumper.log" >&2; exit 2; }
  if [ $update -eq 1 ]; then
    cp "$tmp/$lib.dump" "abi/$lib.dump"
    echo "abi-check: abi/$lib.dump regenerated from $build ($version)"
    continue
  fi
  [ -f "abi/$lib.dump" ] ||
    { echo "abi-check: no abi/$lib.dump; run $0 --update" >&2; exit 2; }
  if abi-compliance-checker -l "$lib" -old "abi/$lib.dump" -new "$tmp/$lib.dump" \
    -report-path "$report_dir/$lib.html" >"$tmp/$lib.acc.log" 2>&1; then
    echo "abi-check: $lib matches abi/$lib.dump"
  else
    status=1
    echo "abi-check: $lib differs from abi/$lib.dump:" >&2
    grep -E "compatibility|problems" "$tmp/$lib.acc.log" >&2 || cat "$tmp/$lib.acc.log" >&2
    echo "  report: $report_dir/$lib.html" >&2
  fi
  added=$(grep -o 'Added Symbols <span class=.ctrl.>[0-9]*' "$report_dir/$lib.html" |
    grep -o '[0-9]*$' || true)
  [ -z "$added" ] || [ "$added" = 0 ] || echo "abi-check: $lib adds $added function(s)"
done
if [ $status -ne 0 ]; then
  echo "abi-check: if the change is deliberate: $0 --update $build, commit abi/" \
    "with it, and bump the soname for a binary break (docs/api/abi.md)" >&2
fi
exit $status
