#!/bin/sh
# Longer fault runs for soup-c's etcd backend than CI's smoke-sized ones:
# the member-kill and minority-partition tests (tests/etcd/cluster) with
# longer load phases and more clients, N times over, then the conformance
# families on etcd with the default Hypothesis profile.
#
#   bench/etcd_faults.sh [ROUNDS [PHASE_SECONDS [CLIENTS]]]   (default 5 5 16)
#
# SOUPC_BIN: the soup-c to test (default build/dev/soup-c). Each round
# starts fresh 3-member etcd clusters on free loopback ports and removes
# them. Prints each round's result; exits non-zero if any failed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=${1:-5}
export SOUPC_ETCD_FAULT_SECONDS="${2:-5}"
export SOUPC_ETCD_FAULT_CLIENTS="${3:-16}"
: "${SOUPC_BIN:=$root/build/dev/soup-c}"
export SOUPC_BIN PYTHONDONTWRITEBYTECODE=1
failed=0
i=1
while [ "$i" -le "$rounds" ]; do
	echo "== round $i/$rounds: ${SOUPC_ETCD_FAULT_CLIENTS} clients, ${SOUPC_ETCD_FAULT_SECONDS} s phases"
	if ! /usr/bin/python3 -m pytest -q -p no:cacheprovider "$root/tests/etcd/cluster/test_faults.py"; then
		failed=$((failed + 1))
	fi
	i=$((i + 1))
done
echo "== conformance families on etcd, default profile"
if ! "$root/conformance/run.sh" --hypothesis-profile default -q -p no:cacheprovider \
	--impl soup-c-etcd kv/test_stress.py kv/test_stateful.py kv/test_concurrency.py kv/test_crash.py; then
	failed=$((failed + 1))
fi
echo "etcd_faults: $failed failed run(s)"
[ "$failed" -eq 0 ]
