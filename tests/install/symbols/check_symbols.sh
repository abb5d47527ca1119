#!/usr/bin/env bash
# Installs into a temporary prefix and checks with nm -D that the installed
# shared libraries export only public, declared, documented soupc_
# functions, and every declared one (scripts/check_api_docs.py symbols).
#
#   check_symbols.sh BUILD_DIR SOURCE_DIR DOXYGEN_XML_DIR [PENDING_HEADER...]
set -euo pipefail
build=$1
src=$2
xml=$3
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-symbols-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libs=()
for so in $(find "$tmp/prefix" -name 'libsoupc*.so.[0-9]*' -type f); do
  libs+=(--lib "$so")
done
# two --lib SO pairs: libsoupc and libsoupc-cty
[ ${#libs[@]} -eq 4 ] ||
  { echo "expected 2 shared libraries, found $((${#libs[@]} / 2))" >&2; exit 1; }
exec /usr/bin/python3 "$src/scripts/check_api_docs.py" symbols --xml "$xml" \
  --headers "$tmp/prefix/include/soupc" "${libs[@]}" --pending "$@"
