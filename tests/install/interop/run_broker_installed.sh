#!/usr/bin/env bash
# go-plugin interop against the installed library: builds the GRPCBroker
# peers written on plugin.h (tests/interop/go/broker/*.c) out of tree with
# pkg-config against a fresh `cmake --install`, linked to libsoupc.so, and
# runs the interop/go/broker suite with them: four pairings with Debian's
# go-plugin 1.0.1 host and plugin, with and without AutoMTLS.
#
#   run_broker_installed.sh BUILD_DIR SOURCE_DIR PYTHON3 "C_FLAGS" "LD_FLAGS"
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
python=$3
cflags=${4:-}
ldflags=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-broker-installed-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name soupc.pc | head -n1)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH=$pcdir

mkdir "$tmp/gen"
protoc-c --proto_path="$src/proto" --c_out="$tmp/gen" callback.proto
for prog in broker_host broker_plugin; do
  # shellcheck disable=SC2046 # pkg-config prints several words
  cc -O1 -g -Wall -Wextra -Werror $cflags -I"$tmp/gen" -o "$tmp/$prog" \
    "$src/tests/interop/go/broker/$prog.c" "$tmp/gen/callback.pb-c.c" \
    $ldflags -Wl,-rpath,"$libdir" \
    $(pkg-config --cflags --libs soupc libprotobuf-c)
  deps=$(ldd "$tmp/$prog")
  if [[ $deps != *"$libdir/libsoupc.so.0"* ]]; then
    echo "FAIL: $prog does not load the installed libsoupc.so.0" >&2
    exit 1
  fi
done

cd "$src/tests/interop/go"
SOUPC_BROKER_HOST_C=$tmp/broker_host SOUPC_BROKER_PLUGIN_C=$tmp/broker_plugin \
  PYTHONDONTWRITEBYTECODE=1 \
  "$python" -m pytest -q -p no:cacheprovider -rfE test_broker.py
