#!/usr/bin/env bash
# Runs notification-cfile, as built in directory $1, under CrowdSec's own
# plugin broker (tests/interop/crowdsec/csbroker, from Debian's crowdsec
# sources; its path in $SOUPC_CROWDSEC_BROKER): a plugin directory and a
# notification config as CrowdSec has them, two local alerts, shutdown.
set -euo pipefail
built=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
broker=${SOUPC_CROWDSEC_BROKER:?set SOUPC_CROWDSEC_BROKER to the csbroker binary}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/soupc-crowdsec-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# As root, CrowdSec runs plugins as nobody:nogroup: they must reach the
# binary and write the output file and their socket.
chmod 0711 "$tmp"
mkdir -p "$tmp/plugins" "$tmp/notifications" "$tmp/log" "$tmp/out" "$tmp/sock"
chmod 1777 "$tmp/sock"
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$tmp/out"
fi
# CrowdSec refuses plugins not owned by its user, group- or world-writable.
install -m 0755 "$built/notification-cfile" "$tmp/plugins/notification-cfile"
sed -e "s|^output_file: .*|output_file: $tmp/out/notifications.log|" \
  "$here/cfile.yaml" >"$tmp/notifications/cfile.yaml"

TMPDIR=$tmp/sock "$broker" -plugin-dir "$tmp/plugins" \
  -notification-dir "$tmp/notifications" -log-dir "$tmp/log" ||
  { echo "--- crowdsec.log" >&2; tail -n 40 "$tmp/log/crowdsec.log" >&2; exit 1; }
# The plugin wrote as the user CrowdSec gave it.
if [ "$(id -u)" -eq 0 ]; then
  owner=$(stat -c %U "$tmp/out/notifications.log")
  [ "$owner" = nobody ] || { echo "FAIL: output written by $owner" >&2; exit 1; }
fi
# The plugin removed its socket when it stopped.
if [ -n "$(ls -A "$tmp/sock")" ]; then
  echo "FAIL: left in the socket directory: $(ls -A "$tmp/sock")" >&2
  exit 1
fi
