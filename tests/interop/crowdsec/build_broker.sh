#!/bin/sh
# Builds csbroker (CrowdSec's notification broker, driven as the crowdsec
# daemon drives it) offline from Debian's Go sources:
# golang-github-crowdsecurity-crowdsec-dev 1.4.6 and its dependencies.
#   build_broker.sh OUT_DIR      -> OUT_DIR/csbroker
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/gopath/src/csbroker" "$out/gocache"
cp "$here/csbroker/main.go" "$here/csbroker/go.mod" "$out/gopath/src/csbroker/"
cd "$out/gopath/src/csbroker"
GO111MODULE=off GOPROXY=off CGO_ENABLED=0 \
  GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" \
  go build -o "$out/csbroker.tmp" csbroker
mv "$out/csbroker.tmp" "$out/csbroker"
