#!/bin/sh
# Builds go-host offline (GOPATH mode) from Debian's golang-github-hashicorp-
# go-plugin-dev and golang-google-grpc-dev, with Go stubs that protoc-gen-go
# generates from ../counter.proto.
#   build.sh OUT_DIR      -> OUT_DIR/go-host
set -eu
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$out/gopath/src/counterhost
mkdir -p "$src"
cp "$here/main.go" "$src/"
protoc -I "$here/.." --go_out=plugins=grpc:"$src" "$here/../counter.proto"
export GO111MODULE=off GOPROXY=off GOFLAGS='' CGO_ENABLED=0
export GOPATH="$out/gopath:/usr/share/gocode"
# grpc-go takes a while to compile cold: share the user's build cache.
if [ -z "${GOCACHE:-}" ]; then
  GOCACHE=${HOME:-$out}/.cache/go-build
  mkdir -p "$GOCACHE" 2>/dev/null || GOCACHE=$out/gocache
  export GOCACHE
fi
go build -o "$out/go-host" counterhost
