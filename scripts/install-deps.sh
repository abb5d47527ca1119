#!/usr/bin/env bash
# Installs the Debian 12 packages soup-c builds, tests and benchmarks with.
# Idempotent: skips apt-get when every package is already installed.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang-format clang-tidy-14
  # libraries (STYLE.md / README "Libraries")
  libnghttp2-dev libssl-dev libevent-dev libprotobuf-c-dev protobuf-c-compiler
  liblmdb-dev libyajl-dev libutf8proc-dev libmsgpack-dev libmpfr-dev libgmp-dev
  libre2-dev libcsv-dev g++
  # tests and fuzzing
  libcmocka-dev clang-14 libfuzzer-14-dev libclang-rt-14-dev openssl strace
  lmdb-utils
  # interop peers and the conformance suite
  python3 python3-grpcio python3-protobuf python3-grpc-tools python3-pytest
  python3-hypothesis python3-h2 python3-cryptography protobuf-compiler
  # conformance: xdist runs, the report in a browser, the mutation generator
  python3-pytest-xdist chromium python3-clang-14
  golang-go golang-goprotobuf-dev
  golang-google-grpc-dev golang-github-hashicorp-go-plugin-dev
  golang-github-hashicorp-yamux-dev libprotobuf-dev
  golang-github-zclconf-go-cty-dev golang-github-vmihailenco-msgpack.v5-dev
  # benchmarks (bench/kv_bench.py: h2load, nghttpd bound, Redis, etcd)
  nghttp2-client nghttp2-server redis-server redis-tools etcd-server etcd-client
  # libsoupc: API reference and man pages, ABI baseline, Debian packaging
  doxygen help2man abi-dumper abi-compliance-checker debhelper debootstrap
  # examples/crowdsec-notifier and CrowdSec's broker (tests/interop/crowdsec)
  libyaml-dev golang-github-crowdsecurity-crowdsec-dev
  # etcd backend: etcd's .proto files (+ their imports) for the build; the
  # cluster in its tests and bench/etcd_bench.py is etcd-server/etcd-client
  golang-etcd-server-dev golang-github-gogo-protobuf-dev
  golang-github-grpc-ecosystem-grpc-gateway-dev libprotobuf-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
