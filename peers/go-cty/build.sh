#!/bin/sh
# Builds the go-cty oracle offline (GOPATH mode, Debian's Go packages):
#   peers/go-cty/build.sh OUTDIR   ->  OUTDIR/soupc-cty-oracle
# Needs golang-go, golang-github-zclconf-go-cty-dev and
# golang-github-vmihailenco-msgpack.v5-dev (which brings the v4 tree that
# Debian's go-cty 1.12.1 imports).
set -eu
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d /usr/share/gocode/src/github.com/zclconf/go-cty ]; then
  echo "build.sh: /usr/share/gocode/src/github.com/zclconf/go-cty is missing" \
       "(apt-get install golang-github-zclconf-go-cty-dev)" >&2
  exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${GOCACHE:-$out/.gocache}
# Debian ships go-cty 1.12.1. Since 1.13 Marshal writes an integer outside
# int64 as a decimal string even when float64 holds it exactly (spec §2.3
# rule 3: "exact float64 and !IsInt"); 1.12.1 wrote float64. Shadow the
# module with a copy carrying that one-line change (GOPATH lookup stops at
# the first tree holding the directory, so the whole module is copied), so
# the oracle speaks the wire format soup-go (go-cty 1.19) speaks.
overlay="$out/gopath"
pkg=github.com/zclconf/go-cty/cty/msgpack
rm -rf "$overlay"
mkdir -p "$overlay/src/github.com/zclconf"
cp -r /usr/share/gocode/src/github.com/zclconf/go-cty "$overlay/src/github.com/zclconf/"
sed -i 's/} else if fv, acc := bf.Float64(); acc == big.Exact {/} else if fv, acc := bf.Float64(); acc == big.Exact \&\& !bf.IsInt() {/' \
  "$overlay/src/$pkg/marshal.go"
grep -q '!bf.IsInt()' "$overlay/src/$pkg/marshal.go" || {
  echo "build.sh: could not apply the go-cty 1.13 number rule" >&2
  exit 1
}
cd "$here/src/soupc-cty-oracle"
GO111MODULE=off GOPROXY=off CGO_ENABLED=0 \
  GOPATH="$overlay:$here:/usr/share/gocode" GOCACHE="$cache" \
  go build -o "$out/soupc-cty-oracle" .
echo "$out/soupc-cty-oracle"
