#!/usr/bin/env bash
# Installs the three .debs on a clean Debian 12 (a debootstrap minbase
# chroot: no soup-c build tree, no build dependencies), then, as a user of
# the packages would: builds examples/counter-plugin from
# /usr/share/doc/libsoupc-dev/examples with pkg-config and with
# find_package(soupc), runs it under its C host, builds and runs
# examples/crowdsec-notifier's plugin, builds examples/cty-wire (libsoupc-cty)
# both ways and runs it, checks soup-c(1) and the section-3
# pages are there, and runs a soup-c KV round trip. Root only (chroot).
#
#   scripts/deb-check.sh [DEBS_DIR]     default build/debs (scripts/build-debs.sh)
#
# The chroot's base system is cached in build/deb-check-base.tar.gz
# (debootstrap --make-tarball), so only the first run downloads it all.
set -euo pipefail
cd "$(dirname "$0")/.."
debs=$(cd "${1:-build/debs}" && pwd)
ls "$debs"/libsoupc0_*.deb "$debs"/libsoupc-dev_*.deb "$debs"/soup-c_*.deb >/dev/null
[ "$(id -u)" -eq 0 ] || { echo "deb-check: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "deb-check: apt-get install debootstrap" >&2; exit 2; }
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=$(pwd)/build/deb-check-base.tar.gz
t0=$(date +%s)

root=$(mktemp -d "${TMPDIR:-/tmp}/soupc-deb-check-XXXXXX")
chmod 0755 "$root" # apt's _apt user reads its lists under it
cleanup() {
  for m in proc dev/pts dev; do
    mountpoint -q "$root/$m" && umount -l "$root/$m"
  done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

if [ ! -f "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  debootstrap --variant=minbase --make-tarball="$cache" bookworm \
    "$root/tarball-work" "$mirror" >/dev/null
  rm -rf "$root/tarball-work"
fi
debootstrap --variant=minbase --unpack-tarball="$cache" bookworm "$root" \
  "$mirror" >/dev/null
echo "deb-check: clean bookworm chroot ready ($(($(date +%s) - t0)) s)"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir "$root/debs"
cp "$debs"/libsoupc0_*.deb "$debs"/libsoupc-dev_*.deb "$debs"/soup-c_*.deb "$root/debs/"

cat >"$root/check.sh" <<'INNER'
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
apt-get update -qq
# What a plugin author installs: the three packages (their dependencies
# come from the archive), a compiler, pkg-config, cmake, protobuf-c's
# compiler, man, and libyaml for the CrowdSec example.
apt-get install -y -qq --no-install-recommends /debs/*.deb build-essential \
  pkg-config cmake protobuf-c-compiler libyaml-dev man-db >/dev/null
soup-c --version
man -w soup-c >/dev/null && man -w soupc_plugin_serve >/dev/null
echo "man pages: soup-c(1), soupc_plugin_serve(3)"
ex=/usr/share/doc/libsoupc-dev/examples
for f in $(find $ex -name '*.gz'); do gunzip "$f"; done
cp -r $ex/counter-plugin /tmp/make-counter
make -s -C /tmp/make-counter CFLAGS="-O2 -Wall -Wextra -Werror"
/tmp/make-counter/counter-host /tmp/make-counter/counter-plugin
cmake -S $ex/counter-plugin -B /tmp/cmake-counter >/dev/null
cmake --build /tmp/cmake-counter >/dev/null
/tmp/cmake-counter/counter-host /tmp/cmake-counter/counter-plugin
cp -r $ex/crowdsec-notifier /tmp/make-notifier
make -s -C /tmp/make-notifier CFLAGS="-O2 -Wall -Wextra -Werror"
cmake -S $ex/crowdsec-notifier -B /tmp/cmake-notifier >/dev/null
cmake --build /tmp/cmake-notifier >/dev/null
# Run by hand, a plugin says it is one and exits 1 (go-plugin's words).
if /tmp/make-notifier/notification-cfile 2>/tmp/err; then exit 1; fi
grep -q "This binary is a plugin" /tmp/err
echo "crowdsec-notifier: built with pkg-config and find_package"
cp -r $ex/cty-wire /tmp/make-cty
make -s -C /tmp/make-cty CFLAGS="-O2 -Wall -Wextra -Werror"
sh $ex/cty-wire/check.sh /tmp/make-cty
cmake -S $ex/cty-wire -B /tmp/cmake-cty >/dev/null
cmake --build /tmp/cmake-cty >/dev/null
sh $ex/cty-wire/check.sh /tmp/cmake-cty
# soup-c itself: a standalone KV server on a unix socket, put and get.
d=$(mktemp -d)
soup-c rpc kv server --standalone --listen unix:$d/kv.sock --storage-dir $d/store \
  --log-level warn & pid=$!
for i in $(seq 50); do [ -S $d/kv.sock ] && break; sleep 0.1; done
soup-c rpc kv put greeting "hello from the .deb" --address unix:$d/kv.sock >/dev/null
got=$(soup-c rpc kv get greeting --address unix:$d/kv.sock)
kill $pid; wait $pid || true
[ "$got" = "hello from the .deb" ]
echo "soup-c: KV put/get round trip ok"
INNER
chroot "$root" /bin/bash /check.sh
echo "deb-check: ok ($(($(date +%s) - t0)) s in total)"
