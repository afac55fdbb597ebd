import FerryTestSupport
import Foundation
import XCTest

/// ferry-export from remote tables: parallel Scan against ferry-serve and moto_server,
/// a kill -9 at chosen pages then a resume, and the checkpoint's refusals.
final class RemoteExportToolTests: ToolTestCase {
    private func remote(_ script: String, expect status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try remoteScript("""
        python3 -c '
        import json
        for i in range(1500): print(json.dumps({"id": "k%05d" % i, "n": i, "tags": ["a", str(i % 7)], "pad": "x" * (i % 90)}))' > items.jsonl
        ferry-load --table Things --create id:S --data served items.jsonl 2> /dev/null
        ferry-export --table Things --data served | sort > local.jsonl
        \(script)
        """, expect: status, file: file, line: line)
    }

    func testAParallelScanOfFerryServeGivesTheLocalExportAndLoadsBackTheSame() throws {
        let r = try remote("""
        start_server --data served
        ferry-export --endpoint-url "$URL" --table Things --segments 3 --page-size 100 2> summary.txt | sort > remote.jsonl
        cmp local.jsonl remote.jsonl && echo same
        sed 's/ on http[^ ]*//; s/from endpoint .*/from .../' summary.txt
        ferry-export --endpoint-url "$URL" --table Things --plain --filter 'n < :x' --values '{":x": 3}' --projection 'id, n' 2> /dev/null | sort
        stop_server
        ferry-load --table Copy --create id:S --data copy remote.jsonl 2> /dev/null
        ferry-export --table Copy --data copy | sort | cmp - local.jsonl && echo restored
        """)
        XCTAssertEqual(r.stdout, """
        same
        ferry-export: Things: 1500 items in 17 pages, 16.0 read units, from ...
        {"id":"k00000","n":0}
        {"id":"k00001","n":1}
        {"id":"k00002","n":2}
        restored

        """)
    }

    func testAnExportFromMotoRestoresLocallyToTheSameItems() throws {
        let r = try remote("""
        start_moto
        python3 - <<'PY'
        import boto3, json, os
        client = boto3.client("dynamodb", endpoint_url=os.environ["MOTO_URL"])
        client.create_table(TableName="Things", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        table = boto3.resource("dynamodb", endpoint_url=os.environ["MOTO_URL"]).Table("Things")
        with table.batch_writer() as batch:
            for line in open("items.jsonl"):
                batch.put_item(Item=json.loads(line))
        PY
        ferry-export --endpoint-url "$MOTO_URL" --table Things --segments 2 2> /dev/null > remote.jsonl
        stop_moto
        ferry-load --table Copy --create id:S --data copy remote.jsonl 2> /dev/null
        ferry-export --table Copy --data copy | sort | cmp - local.jsonl && echo restored
        wc -l < remote.jsonl
        """)
        XCTAssertEqual(r.stdout, "restored\n1500\n")
    }

    func testAKilledExportResumesWithEveryItemOnce() throws {
        // Killed after 1, 4 and 9 pages were in the file but before their checkpoint.
        let r = try remote("""
        start_server --data served
        for pages in 1 4 9; do
            FERRY_TEST_KILL_AFTER_PAGES=$pages ferry-export --endpoint-url "$URL" --table Things --segments 3 --page-size 40 \\
                --out out.jsonl --checkpoint cp.json 2> /dev/null && exit 9 || true
        done
        ferry-export --endpoint-url "$URL" --table Things --segments 3 --page-size 40 --out out.jsonl --checkpoint cp.json 2> /dev/null
        sort out.jsonl | cmp - local.jsonl && echo "exact after kills"
        ferry-export --endpoint-url "$URL" --table Things --segments 3 --page-size 40 --out out.jsonl --checkpoint cp.json 2>&1 | sed 's/ on http[^ ]*//'
        ferry-export --endpoint-url "$URL" --table Things --segments 2 --out out2.jsonl --checkpoint cp.json 2>&1 || echo "status $?"
        rm cp.json
        FERRY_TEST_KILL_AFTER_PAGES=2 ferry-export --endpoint-url "$URL" --table Things --page-size 40 --out out3.jsonl --checkpoint cp.json 2> /dev/null || true
        : > out3.jsonl
        ferry-export --endpoint-url "$URL" --table Things --page-size 40 --out out3.jsonl --checkpoint cp.json 2>&1 | sed 's/committed [0-9]*/committed N/' || true
        stop_server
        """)
        XCTAssertEqual(r.stdout, """
        exact after kills
        ferry-export: Things: cp.json says this export is complete (1500 items in out.jsonl); nothing to do
        ferry-export: error: cp.json: this checkpoint is of 3 segments, not 2; give the same options to resume, or a new --checkpoint file
        status 1
        ferry-export: error: out3.jsonl has 0 bytes but cp.json committed N: the output was replaced or cut; nothing was written (use a new --checkpoint file to export from the start)

        """)
    }

    func testRemoteOnlyOptionsAreRefusedLocallyAndLocalOnlyOnesRemotely() throws {
        let r = try remote("""
        ferry-export --table Things --data served --max-rcu 5 2>&1 | head -n 1
        ferry-export --table Things --endpoint-url http://127.0.0.1:1 --csv 2>&1 | head -n 1
        ferry-export --table Things --endpoint-url http://127.0.0.1:1 --checkpoint cp.json 2>&1 | head -n 1
        ferry-export --table Things --endpoint-url http://127.0.0.1:1 --checkpoint cp.json --out x.gz 2>&1 | head -n 1
        ferry-export --table Things --endpoint-url http://127.0.0.1:1 --max-rcu 0 2>&1 | head -n 1
        """)
        XCTAssertEqual(r.stdout, """
        ferry-export: error: --max-rcu is for exports from an endpoint (--endpoint-url); a local export reads one snapshot and needs no resuming
        ferry-export: error: --csv is not available for an export from an endpoint yet (docs/remote.md)
        ferry-export: error: --checkpoint needs --out FILE: a resumed export appends to the file it began
        ferry-export: error: --checkpoint with a gzip output is not available yet: write plain --out and gzip it after
        ferry-export: error: invalid value '0' for '--max-rcu': expected a number of read units per second above 0

        """)
    }
}
