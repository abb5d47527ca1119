#!/usr/bin/env bash
# Installs what soup-c needs, builds it (release preset) and starts the KV
# server in standalone mode on 127.0.0.1:50051 with the default store
# ($KV_STORAGE_DIR, else ~/.cache/tofusoup/kv-store). Extra flags go to the
# server, e.g.: scripts/run-server.sh --tls-mode auto
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/soup-c rpc kv server --standalone "$@"
