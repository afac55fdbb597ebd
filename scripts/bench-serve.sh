#!/usr/bin/env bash
# make bench's server section: wrk drives GetItem, PutItem (durable), BatchWriteItem (25
# items) and Query (16 items) with keep-alive at 8 and 64 connections against ferry-serve
# and, in the same run, against moto_server; prints requests/s, items/s, p50/p99 and the
# ratio. Loopback only. Usage: scripts/bench-serve.sh [seconds per run]
set -euo pipefail
SECONDS_PER_RUN=${1:-${BENCH_SERVE_SECONDS:-5}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FERRY_SERVE=${FERRY_SERVE:-$ROOT/.build/release/ferry-serve}
WORK=$(mktemp -d)
export WRK_COMMON=$ROOT/scripts/wrk/common.lua BENCH_KEYS=${BENCH_KEYS:-1000}
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

if ! command -v wrk > /dev/null; then
    echo "server bench: installing wrk from Debian" >&2
    (apt-get install -y wrk > "$WORK/apt.log" 2>&1 || { apt-get update > /dev/null 2>&1 && apt-get install -y wrk > "$WORK/apt.log" 2>&1; }) ||
        { echo "server bench: wrk is not installed and apt-get failed (see $WORK/apt.log); section skipped"; exit 0; }
fi
PIDS=()
# The servers are waited for before their folder goes: ferry-serve finishes its flush
# after SIGTERM, and rm -rf beside it fails with "Directory not empty".
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
    for p in "${PIDS[@]}"; do
        # At most 10 s each, then SIGKILL.
        ( sleep 10; kill -9 "$p" 2> /dev/null ) > /dev/null 2>&1 &
        local watchdog=$!
        wait "$p" 2> /dev/null || true
        kill "$watchdog" 2> /dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$FERRY_SERVE" --port 0 --data "$WORK/data" > "$WORK/ferry.out" 2> "$WORK/ferry.err" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$WORK/ferry.out" 2> /dev/null && break; sleep 0.1; done
FERRY_URL=$(sed -n 's/.*listening on //p' "$WORK/ferry.out")
[ -n "$FERRY_URL" ] || { echo "ferry-serve did not start: $(cat "$WORK/ferry.err")"; exit 1; }

MOTO_URL=
if command -v moto_server > /dev/null; then
    port=$(free_port)
    moto_server -H 127.0.0.1 -p "$port" > "$WORK/moto.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2> /dev/null && { MOTO_URL=http://127.0.0.1:$port; break; }
        sleep 0.2
    done
fi

# The table on each, with BENCH_KEYS partitions of 16 items for GetItem and Query.
prepare() {
    python3 - "$1" << 'PY'
import os, sys, boto3
client = boto3.client("dynamodb", endpoint_url=sys.argv[1])
client.create_table(TableName="Bench", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}])
batch = []
for p in range(int(os.environ["BENCH_KEYS"])):
    for s in range(16):
        batch.append({"PutRequest": {"Item": {"pk": {"S": "p%d" % p}, "sk": {"N": str(s)},
                                               "name": {"S": "item %d-%d" % (p, s)}, "score": {"N": str(p * 16 + s)}}}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={"Bench": batch}); batch = []
if batch: client.batch_write_item(RequestItems={"Bench": batch})
r = client.get_item(TableName="Bench", Key={"pk": {"S": "p0"}, "sk": {"N": "3"}})
assert r["Item"]["score"]["N"] == "3", r
assert client.query(TableName="Bench", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p1"}})["Count"] == 16
PY
}
prepare "$FERRY_URL"
[ -n "$MOTO_URL" ] && prepare "$MOTO_URL"

# run URL SCRIPT CONNECTIONS -> "requests/s p50_ms p99_ms non2xx"
run() {
    local threads=1
    [ "$3" -ge 16 ] && threads=2
    local out
    out=$(wrk -t"$threads" -c"$3" -d"${SECONDS_PER_RUN}s" --timeout 10s -s "$ROOT/scripts/wrk/$2.lua" "$1" 2>&1) || true
    local bad
    bad=$(printf '%s\n' "$out" | sed -n 's/.*Non-2xx or 3xx responses: *//p')
    printf '%s\n' "$out" | awk -v bad="${bad:-0}" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.0f %.2f %.2f %d\n", v["requests"] / v["seconds"], v["p50_us"] / 1000, v["p99_us"] / 1000, bad + v["errors"] }'
}

echo
echo "== ferry-serve vs moto_server (wrk, keep-alive, ${SECONDS_PER_RUN} s per run; same machine, same run) =="
printf '%-16s %5s | %10s %10s %8s %8s %6s | %9s %8s | %7s\n' operation conns "ferry r/s" "items/s" "p50 ms" "p99 ms" "fail" "moto r/s" "p99 ms" ratio
for op in getitem:1 putitem:1 batchwrite:25 query:16; do
    name=${op%%:*} items=${op##*:}
    for c in 8 64; do
        read -r rps p50 p99 bad <<< "$(run "$FERRY_URL" "$name" "$c")"
        mrps=- mp99=- ratio=-
        if [ -n "$MOTO_URL" ]; then
            read -r mrps _ mp99 _ <<< "$(run "$MOTO_URL" "$name" "$c")"
            ratio=$(awk -v a="$rps" -v b="$mrps" 'BEGIN { if (b > 0) printf "%.0fx", a / b; else print "-" }')
        fi
        printf '%-16s %5d | %10s %10s %8s %8s %6s | %9s %8s | %7s\n' "$name" "$c" "$rps" "$((rps * items))" "$p50" "$p99" "$bad" "$mrps" "$mp99" "$ratio"
    done
done
echo "(items/s = requests/s x items per request; PutItem and BatchWriteItem answers wait for their fsync: group commit)"
