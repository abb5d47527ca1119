#!/bin/sh
# Build soup-c's Go peers offline (GOPATH mode, Debian's /usr/share/gocode):
#   kvref, kvclient, goplugin-host, goplugin-kv, broker-host, broker-plugin,
#   reflect-client, mux-host, mux-plugin
#   ->  OUTDIR/
# Generated Go stubs for proto/kv.proto go to OUTDIR/gen (never committed).
# Usage: peers/go/build.sh OUTDIR
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
gen="$out/gen"

mkdir -p "$gen/src/soupcpeers"
# protoc-gen-go 1.3 with the grpc plugin; go_package "./proto" puts the file
# in soupcpeers/proto, imported as "soupcpeers/proto".
protoc -I "$root/proto" --go_out=plugins=grpc:"$gen/src/soupcpeers" "$root/proto/kv.proto"
protoc -I "$root/proto" --go_out=plugins=grpc:"$gen/src/soupcpeers" "$root/proto/callback.proto"
# go-plugin's side services with the multiplexing knock (ConnInfo.knock),
# which Debian's go-plugin 1.0.1 predates: package soupcpeers/goplugin.
mkdir -p "$gen/src/soupcpeers/goplugin"
protoc -I "$root/proto" --go_out=plugins=grpc:"$gen/src/soupcpeers/goplugin" "$root/proto/plugin.proto"

export GO111MODULE=off GOPROXY=off GOFLAGS='' CGO_ENABLED=0
export GOPATH="$gen:$here:/usr/share/gocode"
# Reuse the user's build cache when there is one (grpc-go takes a while to
# compile from scratch); otherwise keep the cache inside OUTDIR.
if [ -z "${GOCACHE:-}" ]; then
	if [ -n "${HOME:-}" ] && { [ -d "$HOME/.cache/go-build" ] || mkdir -p "$HOME/.cache/go-build" 2>/dev/null; } && [ -w "$HOME/.cache/go-build" ]; then
		GOCACHE="$HOME/.cache/go-build"
	else
		GOCACHE="$out/.gocache"
	fi
	export GOCACHE
fi
for prog in kvref kvclient goplugin-host goplugin-kv broker-host broker-plugin reflect-client \
	mux-host mux-plugin; do
	go build -p 2 -o "$out/$prog" "soupcpeers/cmd/$prog"
done
echo "built: kvref kvclient goplugin-host goplugin-kv broker-host broker-plugin reflect-client mux-host mux-plugin in $out"
