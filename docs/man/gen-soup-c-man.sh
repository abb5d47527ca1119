#!/usr/bin/env bash
# Generates soup-c.1 with help2man from the binary's own help texts, so the
# page never drifts from the flags: the top-level --help becomes the
# synopsis and description, and every command listed there gets its own
# subsection with its --help. Static prose comes from soup-c.h2m.
#
#   gen-soup-c-man.sh SOUP_C_BINARY SOUP_C_H2M OUTPUT
set -euo pipefail
bin=$1
h2m=$2
out=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-man-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Command lines of the top-level help look like "  rpc kv get    Get ...":
# the words before two spaces or more.
"$bin" --help >"$tmp/help.txt"
sed -n '/^Commands:/,/^$/p' "$tmp/help.txt" | sed '1d;/^$/d' |
  sed -E 's/^  ([a-z][a-z -]*[a-z])( {1,}[A-Z].*)?$/\1/' |
  sed -E 's/ {2,}.*$//' >"$tmp/commands.txt"

{
  cat "$h2m"
  echo "[COMMANDS]"
  while read -r cmd; do
    [ -n "$cmd" ] || continue
    echo ".SS \"soup-c $cmd\""
    echo ".nf"
    # shellcheck disable=SC2086 # the command is several words on purpose
    "$bin" $cmd --help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"
    echo ".fi"
  done <"$tmp/commands.txt"
} >"$tmp/soup-c.h2m"

# help2man reads a program's --help; give it one whose help is the usage
# line and the global flags only (they become SYNOPSIS and OPTIONS), since
# the commands have their own section above.
{
  echo '#!/bin/sh'
  echo "if [ \"\$1\" = --version ]; then exec '$bin' --version; fi"
  echo "cat <<'HELP'"
  sed -n '1p' "$tmp/help.txt"
  echo
  sed -n '/^Global flags:/,/^$/p' "$tmp/help.txt" | sed '1s/.*/Options:/'
  echo HELP
} >"$tmp/soup-c"
chmod +x "$tmp/soup-c"

mkdir -p "$(dirname "$out")"
help2man --no-info --section=1 --no-discard-stderr \
  --name="go-plugin KV plugin, host and cty tool (TofuSoup in C)" \
  --include="$tmp/soup-c.h2m" --output="$out.tmp" "$tmp/soup-c"
mv "$out.tmp" "$out"
