#!/usr/bin/env bash
# make demo: the main job on the fixtures. A fresh data folder, objects put into the
# store with ferry-s3, then ferry-extract | ferry-transform | ferry-load into a table,
# a query, and the summary. Every command is echoed before it runs.
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:-ferry-data}
export PATH="${FERRY_BIN:-$PWD/.build/release}:$PATH"   # FERRY_BIN: the tests run the debug build
export FERRY_DATA="$data"
work="$data/demo"

step() { echo; echo "== $1"; }
run() { echo "\$ $*"; "$@"; }

rm -rf "$data"
mkdir -p "$work"
gzip -c fixtures/demo/music.jsonl > "$work/music-2026-11-23.jsonl.gz"

step "1. Objects into the store (S3 layout on disk in $data/s3)"
run ferry-s3 mb s3://demo
run ferry-s3 cp "$work/music-2026-11-23.jsonl.gz" s3://demo/music/2026-11-23.jsonl.gz
run ferry-s3 cp fixtures/extract/songs.csv s3://demo/csv/songs.csv
run ferry-s3 cp --recursive fixtures/extract/export s3://demo/exports/ > /dev/null
run ferry-s3 ls --recursive s3://demo/

step "2. The import: gzip JSON lines, DynamoDB's import CSV and an Amazon export, into table Music"
echo "\$ ferry-extract --resume $work/music.ckpt --types Price:N,Year:N,Explicit:BOOL --rejects $work/rejects.jsonl \\"
echo "      s3://demo/music/ s3://demo/csv/ s3://demo/exports/ \\"
echo "    | ferry-transform --set 'Title = upper(SongTitle)' \\"
echo "    | ferry-load --table Music --create Artist:S,SongTitle:S --checkpoint $work/music.ckpt --summary $work/summary.json"
ferry-extract --resume "$work/music.ckpt" --types Price:N,Year:N,Explicit:BOOL --rejects "$work/rejects.jsonl" \
    s3://demo/music/ s3://demo/csv/ s3://demo/exports/ \
  | ferry-transform --set 'Title = upper(SongTitle)' \
  | ferry-load --table Music --create Artist:S,SongTitle:S --checkpoint "$work/music.ckpt" --summary "$work/summary.json"
echo "(exit statuses: ${PIPESTATUS[*]}; ferry-extract's 3 means some records were rejected)"

step "3. The rejected records, each with its object, line and reason"
run cat "$work/rejects.jsonl"

step "4. A query"
echo "\$ ferry-table query --table-name Music --key-condition-expression 'Artist = :a' \\"
echo "    --expression-attribute-values '{\":a\":{\"S\":\"Ferry Tales\"}}' --projection-expression 'SongTitle, Price, Title'"
ferry-table query --table-name Music --key-condition-expression 'Artist = :a' \
    --expression-attribute-values '{":a":{"S":"Ferry Tales"}}' --projection-expression 'SongTitle, Price, Title'

step "5. The summary and the checkpoint (the bookmark for the next run)"
run cat "$work/summary.json"
run cat "$work/music.ckpt"

step "6. Run it again: only new or changed objects load, nothing twice"
ferry-extract --resume "$work/music.ckpt" --types Price:N,Year:N,Explicit:BOOL s3://demo/music/ s3://demo/csv/ s3://demo/exports/ 2>/dev/null \
  | ferry-transform --set 'Title = upper(SongTitle)' \
  | ferry-load --table Music --checkpoint "$work/music.ckpt"

echo
echo "Data is in $data/. Next: make test"
