#!/usr/bin/env bash
# Builds everything under ASan+UBSan and runs the whole test suite with
# ctest: unit tests, interop with Go/Python peers, crash recovery, the
# conformance suite (quick profile), the examples and fuzz-corpus replay.
# Then runs each libFuzzer target briefly (FUZZ_SECONDS, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -j2 "$@"
if [ -x fuzz/run-brief.sh ]; then
  fuzz/run-brief.sh "${FUZZ_SECONDS:-20}"
fi
