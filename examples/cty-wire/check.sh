#!/bin/sh
# Runs the cty-wire built in directory $1 (tests/install/examples) and
# compares it with go-cty: each expected output is what go-cty 1.16's
# json.Unmarshal then msgpack.Marshal and json.Marshal give for the same
# type and value, and the error is json.Unmarshal's (Debian's go-cty,
# through peers/go-cty's oracle, op "jsonin").
set -eu
ty='["object",{"name":"string","ports":["list","number"],"tags":["map","string"],"ratio":"number"}]'
expect() { # VALUE-JSON WANT
  got=$("$1/cty-wire" "$ty" "$2")
  if [ "$got" != "$3" ]; then
    printf 'cty-wire: FAIL for %s\n got: %s\nwant: %s\n' "$2" "$got" "$3" >&2
    exit 1
  fi
}
expect "$1" '{"name":"web ✓","ports":[80,443],"tags":{"env":"prod"},"ratio":0.1}' \
'msgpack 84a46e616d65a777656220e29c93a5706f7274739250cd01bba5726174696fa3302e31a47461677381a3656e76a470726f64
json {"name":"web ✓","ports":[80,443],"ratio":0.1,"tags":{"env":"prod"}}'
# Absent attributes are null, as go-cty's json.Unmarshal makes them.
expect "$1" '{"name":"x"}' \
'msgpack 84a46e616d65a178a5706f727473c0a5726174696fc0a474616773c0
json {"name":"x","ports":null,"ratio":null,"tags":null}'
if err=$("$1/cty-wire" "$ty" '{"name":"x","ports":[],"tags":{},"ratio":1,"extra":2}' 2>&1); then
  echo "cty-wire: FAIL: an attribute outside the type was accepted" >&2
  exit 1
fi
if [ "$err" != 'cty-wire: unsupported attribute "extra"' ]; then
  echo "cty-wire: FAIL: unexpected error: $err" >&2
  exit 1
fi
echo "cty-wire: msgpack and JSON as go-cty writes them: ok"
