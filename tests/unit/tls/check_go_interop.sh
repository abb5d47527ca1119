#!/bin/sh
# TLS interop between soup-c's contexts (tls_peer) and Go's crypto/tls set up
# as go-plugin's AutoMTLS (go_peer), both directions, TLS 1.2 and 1.3, for
# each key type soup-c generates, with the Go side presenting a certificate
# made by go-plugin's own template (P-521 CA, goplugin_cert.h). Also checks
# that a missing or foreign client certificate and a wrong root are refused.
# Usage: check_go_interop.sh SOUP_C TLS_PEER GO
set -u
SOUPC=$1
PEER=$2
GO=$3
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/soupc-go-interop.XXXXXX") || exit 1
bg=""
cleanup() {
  [ -n "$bg" ] && kill "$bg" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
runs=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

for exe in "$SOUPC" "$PEER" "$GO"; do
  [ -x "$exe" ] || {
    echo "FAIL: $exe is not an executable" >&2
    exit 1
  }
done

# The Go peer, built hermetically (no modules, no network).
if ! GO111MODULE=off GOFLAGS= GOCACHE="$TMP/gocache" GOPATH="$TMP/gopath" \
  "$GO" build -o "$TMP/go_peer" "$HERE/go_peer/main.go"; then
  echo "FAIL: cannot build go_peer" >&2
  exit 1
fi

# go-plugin's certificate and SEC1 key, from the C fixture.
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$HERE/goplugin_cert.h" |
  sed 's/^ *"//; s/\\n";\{0,1\}$//' >"$TMP/go.crt"
sed -n '/BEGIN EC PRIVATE KEY/,/END EC PRIVATE KEY/p' "$HERE/goplugin_cert.h" |
  sed 's/^ *"//; s/\\n";\{0,1\}$//' >"$TMP/go.key"

# wait_port FILE: the port a background server wrote, once it is listening;
# gives up early if the server ($bg) has exited.
wait_port() {
  i=0
  while [ ! -s "$1" ] && [ $i -lt 400 ] && kill -0 "$bg" 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
  done
  cat "$1" 2>/dev/null
}

# pair NAME WANT(ok|fail) SERVER(c|go) VER  C_CERT C_KEY C_CA  G_CERT G_KEY G_CA
# Runs one connection; WANT=fail expects both sides to report failure.
pair() {
  name=$1 want=$2 side=$3 ver=$4
  rm -f "$TMP/port"
  if [ "$side" = c ]; then
    timeout 30 "$PEER" server "$TMP/port" "$5" "$6" "$7" "$ver" >"$TMP/srv.out" 2>&1 &
    bg=$!
    port=$(wait_port "$TMP/port")
    timeout 30 "$TMP/go_peer" client "$port" "$8" "$9" "${10}" "$ver" >"$TMP/cli.out" 2>&1
  else
    timeout 30 "$TMP/go_peer" server "$TMP/port" "$8" "$9" "${10}" "$ver" >"$TMP/srv.out" 2>&1 &
    bg=$!
    port=$(wait_port "$TMP/port")
    timeout 30 "$PEER" client "$port" "$5" "$6" "$7" "$ver" >"$TMP/cli.out" 2>&1
  fi
  crc=$?
  wait "$bg"
  src=$?
  bg=""
  runs=$((runs + 1))
  if [ "$want" = ok ]; then
    [ $crc -eq 0 ] && [ $src -eq 0 ] ||
      fail "$name: server: $(cat "$TMP/srv.out") / client: $(cat "$TMP/cli.out")"
  else
    [ $crc -ne 0 ] && [ $src -ne 0 ] ||
      fail "$name: expected failure; server: $(cat "$TMP/srv.out") / client: $(cat "$TMP/cli.out")"
    # The message must say why.
    grep -q "$want_msg" "$TMP/srv.out" "$TMP/cli.out" ||
      fail "$name: no '$want_msg' in: $(cat "$TMP/srv.out") / $(cat "$TMP/cli.out")"
  fi
}

for spec in "--curve p256" "--curve p384 --ca" "--curve p521" "--key-type rsa" \
  "--key-type rsa --bits 3072 --ca"; do
  # shellcheck disable=SC2086
  "$SOUPC" rpc cert generate $spec --out-cert "$TMP/c.crt" --out-key "$TMP/c.key" \
    >/dev/null || {
    fail "generate $spec"
    continue
  }
  for ver in 12 13; do
    C="$TMP/c.crt $TMP/c.key $TMP/go.crt"
    G="$TMP/go.crt $TMP/go.key $TMP/c.crt"
    # shellcheck disable=SC2086
    pair "C server ($spec) <- Go client, TLS 1.$ver" ok c $ver $C $G
    # shellcheck disable=SC2086
    pair "Go server <- C client ($spec), TLS 1.$ver" ok go $ver $C $G
  done
done

"$SOUPC" rpc cert generate --curve p256 --ca --out-cert "$TMP/other.crt" \
  --out-key "$TMP/other.key" >/dev/null || fail "generate other"
for ver in 12 13; do
  want_msg="did not return a certificate"
  pair "Go client without a certificate, TLS 1.$ver" fail c $ver \
    "$TMP/c.crt" "$TMP/c.key" "$TMP/go.crt" - - "$TMP/c.crt"
  want_msg="certificate verify failed"
  pair "Go client with a foreign certificate, TLS 1.$ver" fail c $ver \
    "$TMP/c.crt" "$TMP/c.key" "$TMP/go.crt" "$TMP/other.crt" "$TMP/other.key" "$TMP/c.crt"
  want_msg="certificate verify failed: self-signed certificate"
  pair "C client with the wrong root, TLS 1.$ver" fail go $ver \
    "$TMP/c.crt" "$TMP/c.key" "$TMP/other.crt" "$TMP/go.crt" "$TMP/go.key" "$TMP/c.crt"
done

if [ $failures -ne 0 ]; then
  echo "$failures of $runs connections failed" >&2
  exit 1
fi
echo "all $runs connections behaved"
