#!/usr/bin/env bash
# go-plugin interop against the installed library: builds C peers out of
# tree with pkg-config against a fresh `cmake --install`, linked to
# libsoupc.so, and drives them with Debian's go-plugin 1.0.1 peers (peers/go):
#   - the GRPCBroker peers (tests/interop/go/broker/*.c) in the
#     interop/go/broker suite and the pairings of the multiplex suite:
#     each pairing with a C peer (go-plugin 1.0.1's host and plugin; the
#     go-plugin >= 1.6 multiplexing peers mux-host and mux-plugin), with
#     and without AutoMTLS (Go with Go is left to interop/go: it does not
#     touch the library);
#   - kv_plugin.c and kv_host.c (proto.KV plugin and host on plugin.h) in
#     test_kv_installed.py: go-plugin's host running the C plugin, the C host
#     running go-plugin's plugin, with and without AutoMTLS, unix and TCP;
#     the C plugin's gRPC reflection (served by default; proto.KV is in
#     soup-c's own descriptors) under grpc-go's reflection client, with
#     interop/go/reflection's checks.
#
#   run_interop_installed.sh BUILD_DIR SOURCE_DIR PYTHON3 "C_FLAGS" "LD_FLAGS"
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
python=$3
cflags=${4:-}
ldflags=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-interop-installed-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name soupc.pc | head -n1)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH=$pcdir

mkdir "$tmp/gen"
protoc-c --proto_path="$src/proto" --c_out="$tmp/gen" callback.proto kv.proto
build_prog() { # NAME SOURCE PB_C
  # shellcheck disable=SC2046 # pkg-config prints several words
  cc -O1 -g -Wall -Wextra -Werror $cflags -I"$tmp/gen" -o "$tmp/$1" "$2" \
    "$3" $ldflags -Wl,-rpath,"$libdir" \
    $(pkg-config --cflags --libs soupc libprotobuf-c)
  deps=$(ldd "$tmp/$1") # not piped into grep -q: pipefail would see SIGPIPE
  if [[ $deps != *"$libdir/libsoupc.so.0"* ]]; then
    echo "FAIL: $1 does not load the installed libsoupc.so.0" >&2
    exit 1
  fi
}
for prog in broker_host broker_plugin; do
  build_prog $prog "$src/tests/interop/go/broker/$prog.c" \
    "$tmp/gen/callback.pb-c.c"
done
for prog in kv_plugin kv_host; do
  build_prog $prog "$src/tests/install/interop/$prog.c" "$tmp/gen/kv.pb-c.c"
done

cd "$src/tests/interop/go"
SOUPC_BROKER_HOST_C=$tmp/broker_host SOUPC_BROKER_PLUGIN_C=$tmp/broker_plugin \
  SOUPC_KV_PLUGIN_C=$tmp/kv_plugin SOUPC_KV_HOST_C=$tmp/kv_host \
  PYTHONDONTWRITEBYTECODE=1 \
  "$python" -m pytest -q -p no:cacheprovider -rfE --rootdir="$src/tests" \
  -k "not go-go" test_broker.py \
  test_multiplex.py::test_multiplexed_callbacks_both_ways \
  "$src/tests/install/interop/test_kv_installed.py"
