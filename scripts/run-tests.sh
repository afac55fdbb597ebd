#!/usr/bin/env bash
# Builds and runs the XCTest suites, then prints one summary line "N passed, N failed".
# Arguments go to `swift test` (make test-faults passes a --filter).
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" | grep -Ev "^Test (Case|Suite) .*(started|passed)" 
status=${PIPESTATUS[0]}

# XCTest ends with "Executed N tests, with F failures (...)" for the whole run.
summary=$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -n 1)
total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$summary")
if [ -z "$summary" ]; then
    echo "tests: no test summary found (status $status)" >&2
    exit 1
fi
echo "tests: $((total - failed)) passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
