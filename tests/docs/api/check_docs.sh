#!/bin/sh
# Checks the API reference the build made (api-docs is part of the default
# build; ctest runs tests in parallel, so no build from in here).
#   check_docs.sh SOURCE_DIR DOCS_OUT [PENDING_HEADER...]
set -e
src=$1
out=$2
shift 2
[ -f "$out/xml/index.xml" ] || { echo "no $out/xml: build first" >&2; exit 1; }
exec /usr/bin/python3 "$src/scripts/check_api_docs.py" docs --xml "$out/xml" \
  --warnings "$out/warnings.log" --pending "$@"
