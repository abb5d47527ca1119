#!/usr/bin/env bash
# Static checks run by ctest (tests/lint): clang-format 14 conformance and the
# banned-function grep (curl's docs/internals/CODE_STYLE.md list).
set -uo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
status=0
files=$(git ls-files -- 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' \
        'fuzz/*.c' 'examples/*.c' 'examples/*.h' 'bench/*.c' 2>/dev/null)
if [ -z "$files" ]; then
  files=$(find src include tests fuzz examples bench -name '*.[ch]' 2>/dev/null)
fi
if [ "$mode" = all ] || [ "$mode" = format ]; then
  bad=$(for f in $files; do
          clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"
        done)
  if [ -n "$bad" ]; then
    echo "not clang-formatted (run clang-format -i):"; echo "$bad" | sed 's/^/  /'
    status=1
  else
    echo "format: $(echo "$files" | wc -w) files clang-formatted"
  fi
fi
if [ "$mode" = all ] || [ "$mode" = banned ]; then
  hits=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|gets)\s*\(' $files \
         | grep -vE '\b(snprintf|vsnprintf)\s*\(' || true)
  if [ -n "$hits" ]; then
    echo "banned functions:"; echo "$hits" | sed 's/^/  /'
    status=1
  else
    echo "banned: none of sprintf/strcpy/strcat/strtok/atoi/gets"
  fi
fi
exit $status
