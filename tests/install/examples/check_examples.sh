#!/usr/bin/env bash
# Installs soup-c into a temporary prefix, then builds every examples/<name>/
# out of tree twice, with its Makefile (pkg-config) and its CMakeLists.txt
# (find_package(soupc)), against that prefix only, and runs each build with
# the example's check.sh. Proves the installed headers, libraries, .pc files
# and CMake package are enough to write a plugin and a host.
#
#   check_examples.sh BUILD_DIR SOURCE_DIR "C_FLAGS" "EXE_LINKER_FLAGS" [NAME...]
#
# The flags are the build's own (ASan builds need them for the installed,
# instrumented library). NAMEs limit the run to some examples; without
# them every example runs except those in $SOUPC_EXAMPLES_SKIP (examples
# that need a host with its own ctest, such as interop/crowdsec).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cflags=${3:-}
ldflags=${4:-}
shift 4 || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A plugin host may run the plugin as another user (CrowdSec: nobody); it
# must reach the installed libraries.
chmod 0711 "$tmp"
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
pcdir=$(dirname "$(find "$prefix" -name soupc.pc | head -n1)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH=$pcdir
export LD_LIBRARY_PATH=$libdir

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$src"/examples/*/; do
    n=$(basename "$d")
    case " ${SOUPC_EXAMPLES_SKIP:-} " in *" $n "*) continue ;; esac
    [ -f "$d/check.sh" ] && names+=("$n")
  done
fi

# Every program must load libsoupc from the prefix, never from the tree.
check_links() {
  local dir=$1 f deps
  for f in "$dir"/*; do
    [ -f "$f" ] && [ -x "$f" ] && [ "$(head -c4 "$f" | tail -c3)" = ELF ] ||
      continue
    deps=$(ldd "$f") # not piped into grep -q: pipefail would see SIGPIPE
    if [[ $deps != *"$libdir/libsoupc"* ]]; then
      echo "FAIL: $f does not load libsoupc from $libdir" >&2
      echo "$deps" >&2
      return 1
    fi
    # libsoupc-cty is apart so that a plugin without cty does not load
    # cty's dependencies.
    if [[ $deps != *libsoupc-cty* && $deps =~ lib(mpfr|gmp|msgpackc|utf8proc) ]]; then
      echo "FAIL: $f loads ${BASH_REMATCH[0]} without libsoupc-cty" >&2
      return 1
    fi
  done
}

for name in "${names[@]}"; do
  ex=$src/examples/$name
  echo "== $name: pkg-config (make)"
  cp -r "$ex" "$tmp/make-$name"
  make -s -C "$tmp/make-$name" \
    CFLAGS="-O1 -g -Wall -Wextra -Werror $cflags" LDFLAGS="$ldflags"
  check_links "$tmp/make-$name"
  "$ex/check.sh" "$tmp/make-$name"

  echo "== $name: find_package (cmake)"
  cmake -S "$ex" -B "$tmp/cmake-$name" -G Ninja \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $cflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >"$tmp/cmake-$name.log"
  cmake --build "$tmp/cmake-$name" >>"$tmp/cmake-$name.log" ||
    { cat "$tmp/cmake-$name.log" >&2; exit 1; }
  check_links "$tmp/cmake-$name"
  "$ex/check.sh" "$tmp/cmake-$name"
done
echo "install/examples: ${#names[@]} example(s) built twice and run: ok"
