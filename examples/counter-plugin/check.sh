#!/bin/sh
# Runs the example built in directory $1 (tests/install/examples).
set -e
exec "$1/counter-host" "$1/counter-plugin"
