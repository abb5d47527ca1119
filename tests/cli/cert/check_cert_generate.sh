#!/bin/sh
# Runs `soup-c rpc cert generate` for every key type and curve/size and
# checks each result with the openssl command line (rpc-spec.md §6, §12):
# SAN, EKU, key usage, validity, CA flag, key/cert match, file modes, and
# the exit codes and messages of bad invocations.
# Usage: check_cert_generate.sh SOUP_C [OPENSSL]
set -u
SOUPC=$1
OPENSSL=${2:-openssl}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/soupc-cert-test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
failures=0
checks=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_in TEXT NEEDLE WHAT
expect_in() {
  checks=$((checks + 1))
  case $1 in
  *"$2"*) ;;
  *) fail "$3: missing '$2'" ;;
  esac
}

expect_not_in() {
  checks=$((checks + 1))
  case $1 in
  *"$2"*) fail "$3: unexpected '$2'" ;;
  esac
}

# check_pair NAME CERT KEY PUBKEY_TEXT CA(0|1) DAYS [CN]
check_pair() {
  name=$1 cert=$2 key=$3 pk=$4 ca=$5 days=$6 cn=${7:-localhost}
  text=$("$OPENSSL" x509 -in "$cert" -noout -text 2>&1) ||
    fail "$name: openssl x509 cannot read the certificate"
  expect_in "$text" "Version: 3 (0x2)" "$name"
  expect_in "$text" "DNS:localhost" "$name"
  expect_in "$text" "IP Address:127.0.0.1" "$name"
  expect_in "$text" "IP Address:0:0:0:0:0:0:0:1" "$name"
  expect_in "$text" "TLS Web Server Authentication, TLS Web Client Authentication" "$name"
  expect_in "$text" "Digital Signature" "$name"
  expect_in "$text" "Subject: O = soup-c, CN = $cn" "$name"
  expect_in "$text" "$pk" "$name"
  case $pk in
  *RSA* | *bit\)*) ;;
  esac
  if [ "$ca" = 1 ]; then
    expect_in "$text" "CA:TRUE" "$name"
    expect_in "$text" "Certificate Sign" "$name"
  else
    expect_in "$text" "CA:FALSE" "$name"
    expect_not_in "$text" "Certificate Sign" "$name"
  fi
  # Validity: NotBefore is in the past (now-30s), NotAfter about DAYS ahead.
  checks=$((checks + 1))
  "$OPENSSL" x509 -in "$cert" -noout -checkend $(((days - 1) * 86400)) >/dev/null ||
    fail "$name: expires before $days days"
  checks=$((checks + 1))
  if "$OPENSSL" x509 -in "$cert" -noout -checkend $(((days + 1) * 86400)) >/dev/null; then
    fail "$name: valid for more than $days days"
  fi
  # A self-signed certificate verifies against itself; OpenSSL 3 accepts it
  # as its own trust anchor whether or not it is a CA.
  out=$("$OPENSSL" verify -purpose sslserver -CAfile "$cert" "$cert" 2>&1)
  expect_in "$out" "$cert: OK" "$name verify (server)"
  out=$("$OPENSSL" verify -purpose sslclient -CAfile "$cert" "$cert" 2>&1)
  expect_in "$out" "$cert: OK" "$name verify (client)"
  if [ "$ca" = 1 ]; then
    # X509_STRICT (Python >= 3.13's default) must accept a CA root too.
    out=$("$OPENSSL" verify -x509_strict -CAfile "$cert" "$cert" 2>&1)
    expect_in "$out" "$cert: OK" "$name verify -x509_strict"
  fi
  # The key is PKCS#8, mode 0600, and matches the certificate.
  expect_in "$(head -n 1 "$key")" "-----BEGIN PRIVATE KEY-----" "$name key"
  expect_in "$(stat -c %a "$key")" "600" "$name key mode"
  kpub=$("$OPENSSL" pkey -in "$key" -pubout 2>&1)
  cpub=$("$OPENSSL" x509 -in "$cert" -noout -pubkey 2>&1)
  checks=$((checks + 1))
  [ -n "$kpub" ] && [ "$kpub" = "$cpub" ] || fail "$name: key does not match certificate"
}

# gen NAME PUBKEY_TEXT CA DAYS -- ARGS...
gen() {
  name=$1 pk=$2 ca=$3 days=$4
  shift 5
  cert=$TMP/$name.crt key=$TMP/$name.key
  out=$("$SOUPC" rpc cert generate --out-cert "$cert" --out-key "$key" "$@" 2>&1)
  rc=$?
  checks=$((checks + 1))
  if [ $rc -ne 0 ]; then
    fail "$name: exit $rc: $out"
    return
  fi
  expect_in "$out" "$cert" "$name output"
  expect_in "$out" "$key" "$name output"
  check_pair "$name" "$cert" "$key" "$pk" "$ca" "$days"
}

gen default "NIST CURVE: P-384" 0 365 --
gen ec-secp256r1 "NIST CURVE: P-256" 0 365 -- --key-type ec --curve secp256r1
gen ec-p256-ca "NIST CURVE: P-256" 1 365 -- --curve P256 --ca
gen ec-prime256v1 "NIST CURVE: P-256" 0 365 -- --curve prime256v1
gen ec-p-384 "NIST CURVE: P-384" 0 30 -- --key-type EC --curve p-384 --days 30
gen ec-secp384r1-ca "NIST CURVE: P-384" 1 365 -- --curve SECP384R1 --ca
gen ec-p-521 "NIST CURVE: P-521" 0 365 -- --curve P-521
gen ec-secp521r1-ca "NIST CURVE: P-521" 1 10950 -- --curve secp521r1 --ca --days 10950
gen rsa-default "Public-Key: (2048 bit)" 0 365 -- --key-type rsa
gen rsa-2048-ca "Public-Key: (2048 bit)" 1 365 -- --key-type rsa --bits 2048 --ca
gen rsa-3072 "Public-Key: (3072 bit)" 0 365 -- --key-type rsa --bits 3072
gen rsa-4096-ca "Public-Key: (4096 bit)" 1 365 -- --key-type rsa --bits 4096 --ca

# RSA certificates also allow key encipherment (TLS 1.2 RSA key exchange);
# EC ones do not.
expect_in "$("$OPENSSL" x509 -in "$TMP/rsa-3072.crt" -noout -text)" "Key Encipherment" rsa-3072
expect_not_in "$("$OPENSSL" x509 -in "$TMP/ec-p-521.crt" -noout -text)" "Key Encipherment" ec-p-521

# --common-name
"$SOUPC" rpc cert generate --common-name tofusoup.rpc.server \
  --out-cert "$TMP/cn.crt" --out-key "$TMP/cn.key" >/dev/null 2>&1 ||
  fail "common-name: nonzero exit"
check_pair cn "$TMP/cn.crt" "$TMP/cn.key" "NIST CURVE: P-384" 0 365 tofusoup.rpc.server

# An existing world-readable key file becomes 0600.
: >"$TMP/old.key"
chmod 644 "$TMP/old.key"
"$SOUPC" rpc cert generate --out-cert "$TMP/old.crt" --out-key "$TMP/old.key" \
  >/dev/null 2>&1 || fail "overwrite: nonzero exit"
expect_in "$(stat -c %a "$TMP/old.key")" "600" "overwritten key mode"

# expect_exit CODE MESSAGE ARGS...: exit code and a one-line "Error: ..."
expect_exit() {
  want=$1 msg=$2
  shift 2
  err=$("$SOUPC" rpc cert generate "$@" 2>&1 >/dev/null)
  rc=$?
  checks=$((checks + 1))
  [ $rc -eq "$want" ] || fail "args '$*': exit $rc, want $want ($err)"
  expect_in "$err" "Error: $msg" "args '$*'"
}

O="--out-cert $TMP/x.crt --out-key $TMP/x.key"
# shellcheck disable=SC2086
{
  expect_exit 2 "unsupported curve: p-224" $O --curve p-224
  expect_exit 2 "unsupported curve: auto" $O --curve auto
  expect_exit 2 "unsupported key type: dsa" $O --key-type dsa
  expect_exit 2 "unsupported RSA key size: 1024" $O --key-type rsa --bits 1024
  expect_exit 2 "unsupported RSA key size: 2k" $O --key-type rsa --bits 2k
  expect_exit 2 "--curve applies to --key-type ec only" $O --key-type rsa --curve p256
  expect_exit 2 "--bits applies to --key-type rsa only" $O --bits 2048
  expect_exit 2 "--common-name must be 1 to 64 bytes" $O --common-name ""
  expect_exit 2 "--common-name must be 1 to 64 bytes" $O --common-name \
    xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
  expect_exit 2 "invalid --days: 0" $O --days 0
  expect_exit 2 "invalid --days: x" $O --days x
  expect_exit 2 "unknown flag: --bogus" $O --bogus
  expect_exit 2 "unexpected argument: extra" $O extra
  expect_exit 2 "--out-cert and --out-key are required" --out-cert "$TMP/x.crt"
  expect_exit 2 "--out-cert and --out-key are required"
  expect_exit 2 "flag needs an argument" --out-cert
  expect_exit 1 "writing key $TMP/nodir/x.key" --out-cert "$TMP/x.crt" --out-key "$TMP/nodir/x.key"
  expect_exit 1 "writing certificate $TMP/nodir/x.crt" --out-cert "$TMP/nodir/x.crt" --out-key "$TMP/y.key"
}
checks=$((checks + 1))
[ ! -e "$TMP/y.key" ] || fail "the key was left behind when the certificate could not be written"

help=$("$SOUPC" rpc cert generate --help 2>&1)
rc=$?
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "--help: exit $rc"
expect_in "$help" "Usage: soup-c rpc cert generate" "--help"
expect_in "$help" "--key-type ec|rsa" "--help"

if [ $failures -ne 0 ]; then
  echo "$failures of $checks checks failed" >&2
  exit 1
fi
echo "all $checks checks passed"
