#!/usr/bin/env bash
# make demo: runs Ferry on the fixtures in the data folder and shows the result.
# Today: the foundation stage (ferry-transform). The S3-to-table import replaces this
# once ferry-extract and ferry-load exist.
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:-ferry-data}
bin=.build/release
work="$data/demo"
mkdir -p "$work"
gzip -c fixtures/demo/orders.jsonl > "$work/orders.jsonl.gz"

echo "== Input: $work/orders.jsonl.gz (gzip, plain and typed lines mixed, one broken line)"
zcat "$work/orders.jsonl.gz" | head -n 3
echo "   ..."
echo
echo "== ferry-transform: every item checked against DynamoDB's rules, written as typed DynamoDB JSON"
echo "   \$ ferry-transform --rejects $work/rejects.jsonl $work/orders.jsonl.gz > $work/orders.typed.jsonl"
"$bin/ferry-transform" --rejects "$work/rejects.jsonl" "$work/orders.jsonl.gz" > "$work/orders.typed.jsonl"
status=$?
cat "$work/orders.typed.jsonl"
echo "   exit status $status (3: finished, some records rejected); the reject file holds the original line:"
cat "$work/rejects.jsonl"
echo
echo "== Back to plain JSON: numbers exact and canonical (129.90 -> 129.9, 15.5e1 -> 155)"
echo "   \$ ferry-transform --plain $work/orders.typed.jsonl"
"$bin/ferry-transform" --plain "$work/orders.typed.jsonl"
echo
echo "Files are in $work/. Next: make test"
