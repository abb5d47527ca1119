#!/usr/bin/env bash
# Builds everything under ASan+UBSan and runs the whole test suite with
# ctest: unit tests, interop with Go/Python peers, crash recovery, the
# conformance suite (quick profile), the examples and fuzz-corpus replay.
# Then clang-tidy over src/ (scripts/tidy.sh, zero findings allowed).
# Then runs each libFuzzer target briefly (FUZZ_SECONDS, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -j2 "$@"
# clang-tidy on src/ with .clang-tidy's checks: zero findings (~4 min).
scripts/tidy.sh build/asan
# The Debian packages, built and installed on a clean bookworm chroot with
# examples/ built against them (~2.5 min; SOUPC_SKIP_DEBS=1 skips).
if [ "${SOUPC_SKIP_DEBS:-0}" != 1 ]; then
  scripts/build-debs.sh build/debs
  if [ "$(id -u)" -eq 0 ]; then
    scripts/deb-check.sh build/debs
  else
    echo "test.sh: scripts/deb-check.sh needs root (chroot); not run"
  fi
fi
if [ -x fuzz/run-brief.sh ]; then
  fuzz/run-brief.sh "${FUZZ_SECONDS:-20}"
fi
