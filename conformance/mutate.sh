#!/bin/sh
# Mechanical mutation testing (conformance/mutate/mutate.py; README
# "Mutation testing"). A long run: nice it, and give it hours.
#   conformance/mutate.sh run --sample 40         # 40 mutants per file, seeded
#   conformance/mutate.sh report
exec /usr/bin/python3 "$(dirname "$0")/mutate/mutate.py" "$@"
