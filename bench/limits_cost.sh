#!/bin/bash
# What the hostile-client limits (issue 8, README "Limits") cost a Get, in
# user-space instructions per request, counted by valgrind's callgrind: a
# count that a busy machine does not blur, where req/s on 2 shared cores
# moves by tens of percent between repetitions (kv_bench.py --baseline same
# --baseline-args "..." gives the req/s view of the same question).
#
#   bench/limits_cost.sh [ROUNDS]        (default 2)
#
# Builds two release soup-c binaries from HEAD in a scratch copy
# ($SOUPC_LIMITS_SCRATCH, default /tmp/soupc-limits-cost): "limits", the
# tree as it is, and "off", the tree with bench/limits/guard_off.patch, which
# makes every check of src/transport/server_guard.c return at once (the
# census of frames and the sweep timer stay). Both get
# bench/limits/lmdb_map_1g.patch: valgrind cannot map LMDB's 64 GiB default.
# Then, per round and shape, each binary serves 64 B (and 1 MiB) Gets from
# h2load under callgrind, counters zeroed after a warm-up; a third row runs
# "limits" with every limit out of reach (flags). Prints instructions per
# Get and the ratio to "off". Needs valgrind, h2load, cmake, ninja.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=${1:-2}
scratch=${SOUPC_LIMITS_SCRATCH:-/tmp/soupc-limits-cost}
OUT_OF_REACH=(--max-connection-buffer 1G --max-total-buffer 64G
  --buffer-timeout 596h --handshake-timeout 0 --idle-timeout 0
  --write-timeout 0 --keepalive-time 0 --keepalive-min-time 0
  --flood-budget 16777216 --max-connections 16777216)

for tool in valgrind callgrind_control h2load cmake; do
  command -v "$tool" >/dev/null || { echo "limits_cost: $tool not found" >&2; exit 2; }
done

build() { # NAME PATCH...
  local name=$1 src=$scratch/src-$1
  shift
  rm -rf "$src"
  mkdir -p "$src"
  git -C "$root" archive HEAD | tar -x -C "$src"
  for p in "$@"; do
    patch -s -d "$src" -p1 <"$p"
  done
  (cd "$src" && nice cmake --preset release >/dev/null &&
    nice cmake --build --preset release --target soup-c >/dev/null)
  cp "$src/build/release/soup-c" "$scratch/soup-c-$name"
}

mkdir -p "$scratch"
echo "building (release preset) in $scratch ..." >&2
build limits "$here/limits/lmdb_map_1g.patch"
build off "$here/limits/lmdb_map_1g.patch" "$here/limits/guard_off.patch"

# A gRPC Get request for key "k": the 5-byte prefix, then field 1.
printf '\0\0\0\0\003\n\001k' >"$scratch/get.bin"

measure() { # BINARY VALUE_SIZE CLIENTS STREAMS REQUESTS [FLAGS...]: prints Ir per Get
  local bin=$1 size=$2 c=$3 m=$4 n=$5 d port vpid ir
  shift 5
  d=$(mktemp -d "$scratch/run.XXXXXX")
  valgrind --tool=callgrind --callgrind-out-file="$d/cg.out" \
    "$bin" rpc kv server --standalone --listen 127.0.0.1:0 --storage-dir "$d/store" \
    --log-level error --sync none "$@" >"$d/out" 2>"$d/err" &
  vpid=$!
  for _ in $(seq 150); do
    grep -q "listening on" "$d/out" 2>/dev/null && break
    sleep 0.2
  done
  port=$(grep -o '127.0.0.1:[0-9]*' "$d/out" | cut -d: -f2)
  head -c "$size" /dev/zero | tr '\0' v >"$d/value"
  "$bin" rpc kv put --address "127.0.0.1:$port" --value-file "$d/value" k \
    >/dev/null 2>"$d/put.err" ||
    { echo "limits_cost: the Put failed: $(cat "$d/put.err")" >&2; kill "$vpid"; exit 1; }
  local h2=(h2load -c "$c" -m "$m" -d "$scratch/get.bin" -H "content-type: application/grpc"
    -H "te: trailers" "http://127.0.0.1:$port/proto.KV/Get")
  "${h2[@]}" -n $((n / 5 > 100 ? n / 5 : 100)) >/dev/null
  callgrind_control -z "$vpid" >/dev/null 2>&1
  "${h2[@]}" -n "$n" >"$d/h2load"
  callgrind_control -d "$vpid" >/dev/null 2>&1
  kill "$vpid"
  wait "$vpid" || true
  grep -q "$n succeeded" "$d/h2load" || { echo "limits_cost: not every Get succeeded" >&2; exit 1; }
  ir=$(grep -h '^summary:' "$d"/cg.out.* | awk '{print $2}' | sort -n | tail -1)
  rm -rf "$d"
  echo $((ir / n))
}

echo "| value | shape | requests | round | off | limits | ratio | limits, out of reach | ratio |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for r in $(seq "$rounds"); do
  for cell in "64 1 1 4000" "64 4 25 20000" "64 100 10 20000" "1048576 4 25 1000"; do
    read -r size c m n <<<"$cell"
    off=$(measure "$scratch/soup-c-off" "$size" "$c" "$m" "$n")
    lim=$(measure "$scratch/soup-c-limits" "$size" "$c" "$m" "$n")
    far=$(measure "$scratch/soup-c-limits" "$size" "$c" "$m" "$n" "${OUT_OF_REACH[@]}")
    awk -v s="$size" -v c="$c" -v m="$m" -v n="$n" -v r="$r" -v o="$off" -v l="$lim" -v f="$far" \
      'BEGIN { printf "| %s | %sx%s | %s | %s | %d | %d | %.3f | %d | %.3f |\n", s == 64 ? "64 B" : "1 MiB", c, m, n, r, o, l, l / o, f, f / o }'
  done
done
