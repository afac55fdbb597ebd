import FerryTestSupport
import Foundation
import XCTest

/// ferry-load into remote tables: BatchWriteItem into ferry-serve and moto_server, the
/// same items as a local load; through a proxy that throttles, leaves items unprocessed,
/// resets connections and delays; kill -9 then a rerun; the --max-wcu limiter; refusals.
final class RemoteLoadToolTests: ToolTestCase {
    /// items.jsonl (2,000 records, 1,600 keys: later records replace earlier ones, some
    /// in the same group) and local.jsonl, the sorted export of the same load into the
    /// data folder: what every remote load must equal.
    private func remote(_ script: String, expect status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try remoteScript("""
        python3 -c '
        import json
        for i in range(2000):
            print(json.dumps({"id": "k%05d" % (i % 1600), "n": i, "tags": ["a", str(i % 7)], "m": {"x": i % 3, "l": [1, "two"]}, "pad": "x" * (i % 90)}))
        print(json.dumps({"ferry:delete": {"Keys": {"id": {"S": "k00007"}}}}))' > items.jsonl
        ferry-load --table Things --create id:S --data local items.jsonl 2> /dev/null
        ferry-export --table Things --data local | sort > local.jsonl
        \(script)
        """, expect: status, file: file, line: line)
    }

    /// The remote table's items, sorted, compared with the local load's.
    private let compare = """
    same() { ferry-export --endpoint-url "$1" --table Things 2> /dev/null | sort | cmp - local.jsonl && echo "$2"; }
    """

    func testALoadIntoFerryServeEqualsTheLocalLoadAndARerunSkipsEveryRecord() throws {
        let r = try remote("""
        \(compare)
        start_server --data served
        ferry-load --endpoint-url "$URL" --table Things --create id:S --checkpoint cp.json --group 300 items.jsonl 2> out.txt
        sed 's/ in [0-9.]* s (.*//; s/http:[^ ]*/URL/g; s/region .*/.../' out.txt
        same "$URL" same
        ferry-load --endpoint-url "$URL" --table Things --checkpoint cp.json items.jsonl 2>&1 | sed -n 1p | sed 's/ in [0-9.]* s (.*//'
        ferry-load --endpoint-url "$URL" --table Things --mode update --summary s.json items.jsonl 2> /dev/null
        python3 -c 'import json; s = json.load(open("s.json")); print(s["loaded"], s["requests"], s["writeUnits"], s["endpoint"] == "'"$URL"'")'
        same "$URL" "same after merges"
        """)
        // 2,001 records in groups of 300 (no key twice in one): 81 batches. The merges
        // go in one group: the delete of k00007 makes its two merges moot (not sent),
        // so 1,998 UpdateItems and one batch.
        XCTAssertEqual(r.stdout, """
        ferry-load: created table 'Things' with key id:S at URL
        ferry-load: Things: 2001 read, 2001 loaded, 0 rejected, 0 already loaded; 269242 bytes
        ferry-load: Things: 81 requests, 0 retried, 0 unprocessed items sent again, 2001.0 write units, to endpoint URL (--endpoint-url), ...
        same
        ferry-load: Things: 2001 read, 0 loaded, 0 rejected, 2001 already loaded; 269242 bytes
        2001 1999 1999.0 True
        same after merges

        """)
    }

    func testALoadIntoMotoEqualsTheLocalLoad() throws {
        let r = try remote("""
        \(compare)
        start_moto
        ferry-load --endpoint-url "$MOTO_URL" --table Things --create id:S --concurrency 4 items.jsonl 2> /dev/null
        same "$MOTO_URL" same
        """)
        XCTAssertEqual(r.stdout, "same\n")
    }

    func testThrottlingUnprocessedItemsResetsAndDelaysLoseAndDoubleNothing() throws {
        let r = try remote("""
        \(compare)
        start_server --data served
        start_proxy "$URL" --seed 7 --throttle 0.1 --unprocessed 0.25 --reset-before 0.05 --reset-after 0.05 --error 0.05 --delay 0.05 --events events.txt
        AWS_MAX_ATTEMPTS=2 ferry-load --endpoint-url "$PROXY_URL" --table Things --create id:S --checkpoint cp.json --group 250 --summary s.json items.jsonl 2> /dev/null
        stop_proxy
        same "$URL" "same despite faults"
        sort events.txt | uniq | tr '\\n' ' '; echo
        python3 -c 'import json; s = json.load(open("s.json")); print(s["loaded"], s["retries"] > 0, s["unprocessedItems"] > 0)'
        """)
        XCTAssertEqual(r.stdout, """
        same despite faults
        delay error reset_after reset_before throttle unprocessed \n2001 True True

        """)
    }

    func testAKilledLoadRerunsToTheSameTable() throws {
        // Killed right after the 1st, 3rd and 6th commit (before the checkpoint file
        // caught up), then at a random moment inside a commit slowed by the proxy.
        let r = try remote("""
        \(compare)
        start_server --data served
        ferry-table create-table --endpoint-url "$URL" --table-name Things --attribute-definitions AttributeName=id,AttributeType=S \\
            --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
        for n in 1 3 6; do
            FERRY_TEST_KILL_AFTER_COMMITS=$n ferry-load --endpoint-url "$URL" --table Things --checkpoint cp.json --group 150 items.jsonl 2> /dev/null && exit 9 || true
        done
        start_proxy "$URL" --seed 2 --delay 0.5
        ferry-load --endpoint-url "$PROXY_URL" --table Things --checkpoint cp.json --group 150 --concurrency 2 items.jsonl 2> /dev/null & pid=$!
        sleep 0.$((RANDOM % 9 + 1)); kill -9 $pid; wait $pid 2> /dev/null || true
        stop_proxy
        ferry-load --endpoint-url "$URL" --table Things --checkpoint cp.json --group 150 items.jsonl 2>&1 | sed -n 1p | grep -o 'already loaded' || true
        same "$URL" "same after kills"
        """)
        XCTAssertEqual(r.stdout, "already loaded\nsame after kills\n")
    }

    func testMaxWcuHoldsTheWriteRateWithinTenPercent() throws {
        // 1,200 items of one unit each at 400 units/s: 3 s.
        let r = try remoteScript("""
        start_server --data served
        python3 -c '
        import json
        for i in range(1200): print(json.dumps({"id": "k%05d" % i, "pad": "x" * 500}))' > items.jsonl
        ferry-load --endpoint-url "$URL" --table Things --create id:S --max-wcu 400 --summary s.json items.jsonl 2> /dev/null
        python3 -c '
        import json
        s = json.load(open("s.json"))
        rate = float(s["writeUnits"]) / float(s["seconds"])
        print(s["writeUnits"], "within 10%" if 360 <= rate <= 440 else "rate %.0f" % rate)'
        """)
        XCTAssertEqual(r.stdout, "1200.0 within 10%\n")
    }

    func testARecordTheServiceRefusesIsRejectedAndTheRestOfItsBatchLoaded() throws {
        // The index key g is a string: a number there passes the key checks Ferry makes
        // before sending and is refused by the service, failing its whole batch.
        let r = try remoteScript("""
        start_server --data served
        ferry-table create-table --endpoint-url "$URL" --table-name Things \\
            --attribute-definitions AttributeName=id,AttributeType=S AttributeName=g,AttributeType=S \\
            --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \\
            --global-secondary-indexes 'IndexName=byG,KeySchema=[{AttributeName=g,KeyType=HASH}],Projection={ProjectionType=ALL}' > /dev/null
        printf '%s\\n' '{"id":"a","g":"x"}' '{"id":"b","g":5}' '{"id":"c","g":"y"}' > items.jsonl
        ferry-load --endpoint-url "$URL" --table Things items.jsonl 2> err.txt || echo "status $?"
        grep -v '^ferry-load: Things' err.txt
        ferry-table scan --endpoint-url "$URL" --table-name Things --select COUNT | grep -o '"Count": [0-9]*'
        """)
        XCTAssertEqual(r.stdout, """
        status 3
        ferry-load: items.jsonl:2: ValidationException: One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byG
        "Count": 2

        """)
    }

    func testRemoteLoadsRefuseWhatTheyCannotDoByName() throws {
        try "[default]\naws_access_key_id = AKIDLOAD\naws_secret_access_key = load-secret\n"
            .write(to: work.appendingPathComponent("keys.ini"), atomically: true, encoding: .utf8)
        let r = try remoteScript("""
        start_server --data served --credentials keys.ini
        export AWS_ACCESS_KEY_ID=AKIDLOAD AWS_SECRET_ACCESS_KEY=load-secret
        printf '%s\\n' '{"id":"a","n":1}' > items.jsonl
        ferry-load --endpoint-url "$URL" --table Things items.jsonl 2>&1 | sed "s|$URL|URL|" || true
        ferry-load --endpoint-url "$URL" --table Things --create id:S --update 'ADD n :n' items.jsonl 2>&1 | head -n 1 || true
        ferry-load --endpoint-url "$URL" --table Things --create id:S --bulk always items.jsonl 2>&1 | head -n 1 || true
        ferry-load --table Things --create id:S --max-wcu 10 items.jsonl 2>&1 | head -n 1 || true
        ferry-load --endpoint-url "$URL" --table Things --create id:S --max-wcu 0 items.jsonl 2>&1 | head -n 1 || true
        ferry-load --endpoint-url "$URL" --table Things --create id:S --max-wcu-percent 50 items.jsonl 2>&1 | head -n 1 || true
        ferry-table create-table --endpoint-url "$URL" --table-name Things --attribute-definitions AttributeName=id,AttributeType=S \\
            --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
        ferry-load --endpoint-url "$URL" --table Things --max-wcu-percent 50 items.jsonl 2>&1 | head -n 1 | sed "s|$URL|URL|" || true
        AWS_ACCESS_KEY_ID=wrong ferry-load --endpoint-url "$URL" --table Things items.jsonl 2>&1 | sed "s|$URL|URL|" || true
        """)
        XCTAssertEqual(r.stdout, """
        ferry-load: error: table 'Things' does not exist at URL; create it with 'ferry-table --endpoint-url ... create-table --table-name Things ...' or pass --create 'pk:S[,sk:N]'
        ferry-load: error: --update into a table at an endpoint is not available yet: its writes are not idempotent, so exactly once needs each group in a transaction with its checkpoint (docs/remote.md, "Loads")
        ferry-load: error: --bulk is for the data folder's tables: a remote load writes with BatchWriteItem
        ferry-load: error: --max-wcu is for a table at an endpoint (--endpoint-url); this load writes the data folder
        ferry-load: error: invalid value '0' for '--max-wcu': expected a number of write units per second above 0
        ferry-load: error: --max-wcu-percent: --create makes an on-demand table (no provisioned write capacity); give --max-wcu <units>
        ferry-load: error: --max-wcu-percent: table 'Things' at URL is on demand (no provisioned write capacity); give --max-wcu <units>
        ferry-load: error: An error occurred (UnrecognizedClientException) when calling the DescribeTable operation on URL: The security token included in the request is invalid.

        """)
    }
}
