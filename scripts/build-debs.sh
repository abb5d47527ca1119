#!/usr/bin/env bash
# Builds the Debian packages libsoupc0, libsoupc-dev and soup-c with
# `dpkg-buildpackage -us -uc -b`, in a clean copy of the tree (the files git
# tracks or would track, nothing from build/), and puts the .debs in
# OUT_DIR (default build/debs). Needs debian/control's Build-Depends
# (scripts/install-deps.sh installs them).
#
#   scripts/build-debs.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build/debs}" && cd "${1:-build/debs}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-debs-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^project(soupc VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
src=$tmp/soupc-$version
mkdir "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    grep -zv '^build/' | xargs -0 cp --parents -t "$src"
else # an unpacked tarball: everything but build trees
  tar -C . --exclude=./build --exclude='./obj-*' -cf - . | tar -C "$src" -xf -
fi
t0=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
  { tail -n 60 "$tmp/build.log" >&2; cp "$tmp/build.log" "$out/"; exit 1; }
cp "$tmp/build.log" "$out/"
rm -f "$out"/*.deb
mv "$tmp"/*.deb "$out/"
echo "build-debs: $(ls "$out"/*.deb | wc -l) packages in $out ($(($(date +%s) - t0)) s):"
ls -1 "$out"/*.deb
