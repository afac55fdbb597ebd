import FerryTestSupport
import Foundation
import XCTest

/// ferry-extract and ferry-load run as users run them: every format, resume, shards,
/// modes, and bad input rejected or refused with its object, line and reason.
final class ImportToolTests: ToolTestCase {

    private func items(_ table: String) throws -> [String] {
        try sh("ferry-table scan --table-name \(table) --output json | jq -c '.Items[]' | sort").stdout
            .split(separator: "\n").map(String.init)
    }

    /// The README's import walkthrough, run verbatim by bash.
    func testReadmePipelineRunsVerbatim() throws {
        let readme = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let begin = readme.range(of: "<!-- pipeline: begin -->\n```sh\n"),
              let end = readme.range(of: "```\n<!-- pipeline: end -->") else { return XCTFail("no pipeline walkthrough in README.md") }
        let r = try sh("set -e\n" + readme[begin.upperBound..<end.lowerBound])
        XCTAssertTrue(r.stdout.contains("\"S\": \"HAPPY DAY\""), r.stdout)
        XCTAssertTrue(r.stderr.contains("ferry-load: Music: 9 read, 9 loaded, 0 rejected, 0 already loaded"), r.stderr)
        XCTAssertTrue(r.stderr.contains("ferry-load: Music: 0 read, 0 loaded"), r.stderr)
        let rejects = try String(contentsOf: work.appendingPathComponent("rejects.jsonl"), encoding: .utf8)
        XCTAssertEqual(rejects, #"{"ferry:reject":{"source":"s3://music/incoming/songs.csv","line":8,"reason":"the row has 2 fields, the header has 6","record":"Too Few Fields,Oops"}}"# + "\n")
    }

    func testCSVTypesQuotesAndMultilineFields() throws {
        let r = try sh("ferry-extract --plain --types Price:N,Year:N,Explicit:BOOL fixtures/extract/songs.csv | grep -v ferry:barrier", expect: 0)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 5)
        XCTAssertTrue(r.stdout.contains(#"{"Artist":"The Acme Band","SongTitle":"Still \"In\" Love","AlbumTitle":"Songs About\nLife","Price":2.47,"Year":2023,"Explicit":true}"#), r.stdout)
        XCTAssertTrue(r.stdout.contains(#""AlbumTitle":"Another Album Title, Deluxe""#))
        let bad = try sh("ferry-extract --types Price:N fixtures/extract/songs.csv > /dev/null", expect: 3)
        XCTAssertEqual(bad.stderr, "ferry-extract: fixtures/extract/songs.csv:8: the row has 2 fields, the header has 6\nferry-extract: 1 record(s) rejected\n")
        let header = try sh("printf 'a;1\\nb;x\\n' > h.csv && ferry-extract --format csv --delimiter ';' --header id,n --types n:N h.csv", expect: 3)
        XCTAssertTrue(header.stdout.contains(#"{"Item":{"id":{"S":"a"},"n":{"N":"1"}}}"#))
        XCTAssertTrue(header.stderr.contains("h.csv:2: column n: 'x' is not a number"), header.stderr)
    }

    func testByteOrderMarksCROnlyLinesAndSingleByteEncodingsAreRead() throws {
        // A JSON lines file saved with a UTF-8 byte order mark (Windows editors), gzipped or not.
        try sh(#"printf '\xef\xbb\xbf{"id":"bom"}\n{"id":"two"}\n' > bom.jsonl && gzip -c bom.jsonl > bom.jsonl.gz"#)
        for file in ["bom.jsonl", "bom.jsonl.gz"] {
            let r = try sh("ferry-extract --plain \(file) | grep -v ferry:barrier")
            XCTAssertEqual(r.stdout, "{\"id\":\"bom\"}\n{\"id\":\"two\"}\n", file)
            let load = try sh("ferry-load --table Bom --create id:S --summary s.json \(file) && grep -c '\"loaded\": 2' s.json")
            XCTAssertEqual(load.stdout, "1\n", load.stderr)
        }
        // CSV with old Mac line ends (CR only), and Excel's cp1252 with a BOM.
        try sh(#"printf 'id,name\rk1,Ren\xe9e\rk2,5 \x80\r' > mac.csv"#)
        let mac = try sh("ferry-extract --plain --format csv --encoding cp1252 mac.csv | grep -v ferry:barrier")
        XCTAssertEqual(mac.stdout, "{\"id\":\"k1\",\"name\":\"Ren\u{E9}e\"}\n{\"id\":\"k2\",\"name\":\"5 \u{20AC}\"}\n")
        let latin1 = try sh("ferry-extract --plain --format csv --encoding latin1 mac.csv | grep -v ferry:barrier")
        XCTAssertTrue(latin1.stdout.contains("\"name\":\"5 \u{80}\""), latin1.stdout)
        // Without --encoding the same bytes are rejected, never turned into U+FFFD (which
        // made caf\xe9, caf\xe8 and caf\xea one key).
        try sh(#"printf 'id\ncaf\xe9\ncaf\xe8\ncaf\xea\n' > cafe.csv"#)
        let strict = try sh("ferry-extract --format csv cafe.csv | ferry-load --table Cafe --create id:S", expect: 0)
        XCTAssertTrue(strict.stderr.contains("cafe.csv:2: line 2, column 4: byte 0xE9 is not UTF-8"), strict.stderr)
        XCTAssertTrue(strict.stderr.contains("warning: cafe.csv: not one of its records could be read (3 rejected)"), strict.stderr)
        XCTAssertTrue(strict.stderr.contains("no records in the input: table 'Cafe' was not created"), strict.stderr)
        try sh("ferry-extract --format csv --encoding latin1 cafe.csv | ferry-load --table Cafe --create id:S")
        XCTAssertEqual(try items("Cafe").count, 3, "three keys, converted exactly")
    }

    /// Shapes that took 55 s, 11.7 s and 82 s when each record was split again as it grew
    /// (and a 100 MB field that took 311 MB): now one pass, a record held up to 16 MiB.
    func testCSVTakesLinearTimeAndBoundedMemory() throws {
        try sh("""
            python3 -c "
            line = 'x' * 99
            open('field.csv', 'w').write('id,note\\n1,\\"' + '\\n'.join([line] * 20000) + '\\"\\n')
            open('wide.csv', 'w').write(','.join('c%d' % i for i in range(40000)) + '\\n' + ','.join(str(i) for i in range(40000)) + '\\n')
            open('stray.csv', 'w').write('id,note\\n1,\\"oops\\n' + '\\n'.join('%d,plain' % i for i in range(80000)) + '\\n')
            "
            """)
        for (file, status) in [("field.csv", Int32(3)), ("wide.csv", 3), ("stray.csv", 3)] {   // items over 400 KB, and an unclosed quote
            let start = Date()
            try sh("ferry-extract --format csv \(file) > /dev/null 2>&1", expect: status)
            XCTAssertLessThan(Date().timeIntervalSince(start), 10, file)
        }
        let big = try sh("""
            python3 -c "import sys; sys.stdout.write('id,note\\n1,\\"' + 'y' * 100000000 + '\\"\\n2,after\\n')" > big.csv
            /usr/bin/time -f '%M' -o rss.txt ferry-extract --format csv --plain big.csv | grep -v ferry:barrier; cat rss.txt; rm big.csv
            """, expect: 0)
        let lines = big.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, #"{"id":"2","note":"after"}"#, "the record after the over-long one is read")
        XCTAssertLessThan(Int(lines.last ?? "") ?? .max, 120_000, "peak RSS in KB stays near the 16 MiB record limit")
        XCTAssertTrue(big.stderr.contains("big.csv:2: the record is longer than the limit of 16777216 bytes"), big.stderr)
    }

    func testDataPipelineExportWithManifestAndBothLineForms() throws {
        let r = try sh("ferry-extract fixtures/extract/datapipeline | grep -v ferry:barrier")
        XCTAssertEqual(r.stdout, """
            {"Item":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Happy Day"},"Price":{"N":"0.99"},"Genres":{"SS":["Pop","Rock"]},"Live":{"BOOL":false},"Notes":{"NULL":true},"Label":{"M":{"Name":{"S":"Ferry Records"}}},"Tracks":{"L":[{"S":"Intro"},{"N":"2"}]},"Cover":{"B":"iVBORw0KGgo="}}}
            {"Item":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"},"Year":{"N":"2015"}}}

            """)
    }

    func testAmazonFullThenIncrementalExportLoadsTheLatestState() throws {
        try sh("""
            ferry-extract fixtures/extract/export | ferry-load --table Music --create Artist:S,SongTitle:S 2>/dev/null
            ferry-extract --format aws-export fixtures/extract/incremental | ferry-load --table Music 2>/dev/null
            """)
        let all = try items("Music")
        XCTAssertEqual(all.count, 4, all.joined(separator: "\n"))
        XCTAssertFalse(all.contains { $0.contains("Howdy") }, "the incremental export deleted Howdy")
        XCTAssertTrue(all.contains { $0.contains("New One") })
        XCTAssertTrue(all.contains { $0.contains("Happy Day") && $0.contains("\"1.09\"") && !$0.contains("Genres") })
    }

    func testExportDataFileWithWrongMD5IsRefusedBeforeAnyRecord() throws {
        try sh("""
            cp -r fixtures/extract/export bad && cd bad/AWSDynamoDB/*/data
            printf '{"Item":{"Artist":{"S":"Intruder"},"SongTitle":{"S":"x"}}}\\n' | gzip -n > ykk6xsqh3e2cdmkucsp2xdwg6e.json.gz
            """)
        let r = try sh("ferry-extract bad", expect: 1)
        XCTAssertFalse(r.stdout.contains("Intruder"))
        XCTAssertTrue(r.stdout.contains("PartiQL Rocks"), "the other data files are read")
        XCTAssertTrue(r.stderr.contains("ykk6xsqh3e2cdmkucsp2xdwg6e.json.gz: MD5 "), r.stderr)
        XCTAssertTrue(r.stderr.contains("does not match the manifest's mL8aZrk48xVTfmAEKZ15bg==; the object was not read"), r.stderr)
    }

    func testAnUnfinishedExportBesideAFinishedOneIsRefusedNotReadTwice() throws {
        // A killed ferry-export, then a finished retry, under one prefix.
        try sh("mkdir -p exp/AWSDynamoDB && cp -r fixtures/extract/export/AWSDynamoDB/* exp/AWSDynamoDB/ && cp -r exp/AWSDynamoDB/01732320000000-a1b2c3d4 exp/AWSDynamoDB/01732320099999-b2c3d4e5 && rm exp/AWSDynamoDB/01732320099999-b2c3d4e5/manifest-summary.*")
        let both = try sh("ferry-extract exp", expect: 1)
        XCTAssertTrue(both.stderr.contains("exp/AWSDynamoDB/01732320099999-b2c3d4e5/manifest-summary.json: bad manifest: missing: the export is unfinished"), both.stderr)
        XCTAssertFalse(both.stdout.contains("Item"), "nothing is read: its data files would double the finished export's items")
        let finished = try sh("ferry-extract exp/AWSDynamoDB/01732320000000-a1b2c3d4 | grep -c Item")
        XCTAssertEqual(finished.stdout, "4\n")
    }

    func testPartOfAFinishedExportNamedOnItsOwnIsRead() throws {
        try sh("cp -r fixtures/extract/export exp")
        let data = try sh("ferry-extract exp/AWSDynamoDB/01732320000000-a1b2c3d4/data | grep -c Item")
        XCTAssertEqual(data.stdout, "4\n")
    }

    func testAWideCSVWhoseHeaderIsOverAMebibyteIsStillReadAsCSV() throws {
        try sh("python3 -c \"print(','.join('column%06d' % i for i in range(120000))); print(','.join('v' for i in range(120000)))\" > wide.csv")
        let r = try sh("ferry-extract wide.csv > /dev/null", expect: 3)
        XCTAssertTrue(r.stderr.contains("wide.csv:2: Item size has exceeded the maximum allowed size"), "read as CSV, the row too big for an item: \(r.stderr)")
    }

    func testExportItemCountMismatchLeavesTheObjectIncomplete() throws {
        try sh("cp -r fixtures/extract/export bad && sed -i 's/\"itemCount\":1,/\"itemCount\":2,/; ' bad/AWSDynamoDB/*/manifest-files.json && sed -i 's/\"itemCount\":4,/\"itemCount\":5,/' bad/AWSDynamoDB/*/manifest-summary.json")
        // The manifests' checksum files catch the edit first ...
        let edited = try sh("ferry-extract bad", expect: 1)
        XCTAssertTrue(edited.stderr.contains("manifest-summary.md5: bad manifest: holds 'oBhF+JuenV+p4dKFnvCdug==', but manifest-summary.json has MD5"), edited.stderr)
        XCTAssertFalse(edited.stdout.contains("Item"), "nothing is sent from a manifest that was changed")
        // ... and with them rewritten to match, the item count is checked per data file.
        try sh("cd bad/AWSDynamoDB/*/ && for m in manifest-summary manifest-files; do openssl dgst -md5 -binary $m.json | base64 | tr -d '\\n' > $m.md5; done")
        let r = try sh("ferry-extract bad", expect: 1)
        XCTAssertTrue(r.stderr.contains("3ouyx3ztgi6b7hpnp6q3p7ds5q.json.gz: 1 items read but the manifest's itemCount says 2; the object was not marked complete"), r.stderr)
        XCTAssertFalse(r.stdout.contains("PartiQL Rocks"), "nothing of the object is sent without its barrier")
        XCTAssertEqual(r.stdout.components(separatedBy: "\"complete\":true").count - 1, 2, "the two good files end complete")
    }

    func testCorruptGzipObjectStopsThatObjectOnlyAndIsRetriedByTheNextRun() throws {
        try sh("""
            ferry-s3 mb s3://logs >/dev/null
            for i in 1 2 3; do seq 1 3000 | sed "s/.*/{\\"pk\\":\\"$i-&\\"}/" | gzip > part-$i.jsonl.gz; done
            head -c 2000 part-2.jsonl.gz > cut.gz && mv cut.gz part-2.jsonl.gz
            for i in 1 2 3; do ferry-s3 cp part-$i.jsonl.gz s3://logs/in/part-$i.jsonl.gz >/dev/null; done
            """)
        let r = try sh("set -o pipefail; ferry-extract --resume cp.json --barrier-every 1000 s3://logs/in/ | ferry-load --table Logs --create pk:S --checkpoint cp.json", expect: 1)
        XCTAssertTrue(r.stderr.contains("ferry-extract: error: s3://logs/in/part-2.jsonl.gz: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("records after line") || r.stderr.contains("nothing from it was sent"), r.stderr)
        let checkpoint = try String(contentsOf: work.appendingPathComponent("cp.json"), encoding: .utf8)
        XCTAssertTrue(checkpoint.contains(#""source":"s3://logs/in/part-1.jsonl.gz""#) && checkpoint.contains(#""source":"s3://logs/in/part-3.jsonl.gz""#))
        XCTAssertFalse(checkpoint.contains(#"part-2.jsonl.gz","etag":"\"\#(0)"#))
        XCTAssertFalse(checkpoint.contains(#"part-2.jsonl.gz""#) && checkpoint.contains(#""complete":true}"# + "\n{\"source\":\"s3://logs/in/part-3"), checkpoint)
        // The object is replaced with a good copy: the next run loads it and only it.
        try sh("seq 1 3000 | sed 's/.*/{\"pk\":\"2-&\"}/' | gzip > part-2.jsonl.gz && ferry-s3 cp part-2.jsonl.gz s3://logs/in/part-2.jsonl.gz >/dev/null")
        let again = try sh("set -o pipefail; ferry-extract --resume cp.json --barrier-every 1000 s3://logs/in/ | ferry-load --table Logs --checkpoint cp.json --summary s.json")
        XCTAssertTrue(again.stderr.contains("already loaded"), again.stderr)
        XCTAssertEqual(try items("Logs").count, 9000)
    }

    func testBadRecordsAreRejectedWithLineAndReasonAndTheRestLoads() throws {
        let big = String(repeating: "x", count: 410_000)
        let lines = [
            #"{"id":"ok-1","n":1}"#,
            #"{"id":7}"#,                                  // wrong key type
            #"{"name":"no key"}"#,                         // missing key
            #"{"id":"big","blob":"\#(big)"}"#,             // over 400 KB
            #"{"id":"broken""#,                            // bad JSON
            #"{"id":"ok-2","n":2}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: work.appendingPathComponent("in.jsonl"))
        var bytes = Array("{\"id\":\"bad-utf8-\u{FF}\"}\n".utf8)
        bytes[bytes.count - 4] = 0xFF   // an invalid byte inside the string
        try Data(bytes).write(to: work.appendingPathComponent("utf8.jsonl"))
        let r = try sh("ferry-load --table Tab1 --create id:S --rejects rejects.jsonl in.jsonl utf8.jsonl", expect: 3)
        XCTAssertTrue(r.stderr.contains("Tab1: 7 read, 2 loaded, 5 rejected"), r.stderr)
        let rejects = try String(contentsOf: work.appendingPathComponent("rejects.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rejects.count, 5)
        XCTAssertTrue(rejects[0].hasPrefix(#"{"ferry:reject":{"source":"in.jsonl","line":2,"reason":"#), String(rejects[0]))
        XCTAssertTrue(rejects[0].contains("key") || rejects[0].contains("Key"), String(rejects[0]))
        XCTAssertTrue(rejects[1].contains(#""line":3"#) && rejects[1].contains("id"), String(rejects[1]))
        XCTAssertTrue(rejects[2].contains(#""line":4"#) && rejects[2].contains("size"), String(rejects[2]))
        XCTAssertTrue(rejects[3].contains(#""line":5,"reason":"invalid JSON"#), String(rejects[3]))
        XCTAssertTrue(rejects[4].contains(#""source":"utf8.jsonl","line":1"#) && rejects[4].contains("UTF-8"), String(rejects[4]))
        XCTAssertEqual(try items("Tab1").count, 2)
    }

    func testResumeSkipsCompleteObjectsAndRestartsAPartialOneAfterItsLine() throws {
        try sh("mkdir -p in && printf '{\"id\":\"a\"}\\n{\"id\":\"b\"}\\n{\"id\":\"c\"}\\n' > in/x.jsonl && printf '{\"id\":\"d\"}\\n' > in/y.jsonl")
        let first = try sh("ferry-extract --barrier-every 2 in")
        // A checkpoint as the loader writes it: x committed through line 2, y complete.
        let etag = { (name: String) -> String in
            let line = first.stdout.split(separator: "\n").first { $0.contains("in/\(name)") }!
            return String(line[line.range(of: #""etag":""#)!.upperBound...].prefix { $0 != "\"" })
        }
        let checkpoint = """
            {"ferry:checkpoint":{"version":1,"table":"T","lines":0,"sources":[
            {"source":"in/x.jsonl","etag":"\(etag("x.jsonl"))","line":2,"records":2,"complete":false},
            {"source":"in/y.jsonl","etag":"\(etag("y.jsonl"))","line":1,"records":1,"complete":true}
            ]}}

            """
        try Data(checkpoint.utf8).write(to: work.appendingPathComponent("cp.json"))
        let resumed = try sh("ferry-extract --resume cp.json --barrier-every 2 in")
        XCTAssertEqual(resumed.stdout, """
            {"ferry:barrier":{"source":"in/x.jsonl","etag":"\(etag("x.jsonl"))","line":2,"records":2,"complete":false}}
            {"Item":{"id":{"S":"c"}}}
            {"ferry:barrier":{"source":"in/x.jsonl","etag":"\(etag("x.jsonl"))","line":3,"records":3,"complete":true}}
            {"ferry:barrier":{"source":"in/y.jsonl","etag":"\(etag("y.jsonl"))","line":1,"records":1,"complete":true}}

            """, "a complete object is skipped, and said so with its checkpoint's barrier")
        // The hand-written fixture reads too (its objects do not exist: nothing is skipped).
        try sh("ferry-extract --resume fixtures/extract/checkpoint.json in > /dev/null")
    }

    func testShardsSplitObjectsWithoutOverlap() throws {
        try sh("mkdir -p in && for i in $(seq 1 12); do echo \"{\\\"id\\\":\\\"$i\\\"}\" > in/$i.jsonl; done")
        var seen: [String] = []
        for i in 0..<3 {
            seen += try sh("ferry-extract --plain --shard \(i)/3 in | grep -v ferry:").stdout.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(seen.count, 12)
        XCTAssertEqual(Set(seen).count, 12)
        try sh("ferry-extract --shard 3/3 in", expect: 2)
    }

    func testLoadModesConditionAndPlainCheckpoint() throws {
        try sh("""
            printf '{"id":"a","n":1,"x":"keep"}\\n{"id":"b","n":2}\\n' | ferry-load --table Mix1 --create id:S 2>/dev/null
            printf '{"id":"a","n":10}\\n' | ferry-load --table Mix1 --mode update 2>/dev/null
            printf '{"id":"b","anything":1}\\n' | ferry-load --table Mix1 --mode delete 2>/dev/null
            """)
        XCTAssertEqual(try items("Mix1"), [#"{"id":{"S":"a"},"n":{"N":"10"},"x":{"S":"keep"}}"#])
        let insertOnly = try sh("printf '{\"id\":\"a\"}\\n{\"id\":\"c\"}\\n' | ferry-load --table Mix1 --condition 'attribute_not_exists(id)'", expect: 3)
        XCTAssertTrue(insertOnly.stderr.contains("-:1: The conditional request failed"), insertOnly.stderr)
        XCTAssertTrue(insertOnly.stderr.contains("Mix1: 2 read, 1 loaded, 1 rejected"), insertOnly.stderr)
        // Plain NDJSON: the position is the count of lines; a rerun skips them.
        try sh("seq 1 25 | sed 's/.*/{\"id\":\"p&\",\"v\":&}/' > plain.jsonl")
        try sh("ferry-load --table Pln1 --create id:S --group 10 --checkpoint p.ckpt --update 'ADD total :v' plain.jsonl 2>/dev/null")
        let rerun = try sh("ferry-load --table Pln1 --group 10 --checkpoint p.ckpt --update 'ADD total :v' plain.jsonl")
        XCTAssertTrue(rerun.stderr.contains("Pln1: 25 read, 0 loaded, 0 rejected, 25 already loaded"), rerun.stderr)
        XCTAssertTrue(try items("Pln1").contains(#"{"id":{"S":"p25"},"total":{"N":"25"}}"#))
    }

    /// The same stream loaded with groups as sorted runs and through the log: puts of
    /// repeated keys, deletes, typed and plain lines, rejects, a GSI: the same items,
    /// index entries, counts, rejects and summary.
    func testBulkLoadsLeaveWhatLoggedLoadsLeave() throws {
        try sh("""
            python3 -c "
            import json, random
            random.seed(7)
            for i in range(6000):
                k = 'k%d' % random.randrange(2500)
                r = random.random()
                if r < 0.1: print(json.dumps({'ferry:delete': {'Keys': {'id': {'S': k}}}}))
                elif r < 0.12: print('{\\"id\\": 5}')
                elif r < 0.5: print(json.dumps({'Item': {'id': {'S': k}, 'g': {'S': 'g%d' % (i % 9)}, 'n': {'N': str(i)}}}, separators=(',', ':')))
                else: print(json.dumps({'id': k, 'n': i, 'tags': ['a', 'b'], 'm': {'x': 1.50}}))
            " > mixed.jsonl
            """)
        let create = """
            ferry-table create-table --table-name NAME --attribute-definitions AttributeName=id,AttributeType=S AttributeName=g,AttributeType=S \
                --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
                --global-secondary-indexes '[{"IndexName":"ByG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["n"]}}]' > /dev/null
            """
        var summaries: [String] = []
        for (table, bulk) in [("ByLog", "never"), ("ByRun", "always"), ("ByAuto", "auto")] {
            try sh(create.replacingOccurrences(of: "NAME", with: table))
            let r = try sh("ferry-load --table \(table) --bulk \(bulk) --group 700 mixed.jsonl", expect: 3)
            summaries.append(String(r.stderr.split(separator: "\n").last { $0.contains(" read, ") }?.split(separator: ";").first ?? ""))
            XCTAssertTrue(r.stderr.contains("mixed.jsonl:"), r.stderr)
        }
        XCTAssertEqual(summaries[0].replacingOccurrences(of: "ByLog", with: "T"), summaries[1].replacingOccurrences(of: "ByRun", with: "T"))
        XCTAssertEqual(summaries[0].replacingOccurrences(of: "ByLog", with: "T"), summaries[2].replacingOccurrences(of: "ByAuto", with: "T"))
        let state = { (t: String) in
            try self.sh("ferry-export --table \(t) | sort; ferry-export --table \(t) --index ByG | sort; ferry-table describe-table --table-name \(t) | grep -E 'ItemCount|SizeBytes'").stdout
        }
        let logged = try state("ByLog")
        XCTAssertGreaterThan(logged.count, 10_000)
        XCTAssertEqual(try state("ByRun"), logged)
        XCTAssertEqual(try state("ByAuto"), logged)
        let runs = try sh("ls data/tables/ByRun/ | grep -c '[.]run$' || true").stdout
        XCTAssertNotEqual(runs.trimmingCharacters(in: .whitespacesAndNewlines), "0", "--bulk always wrote no run")
        try sh("ferry-table verify --table-name ByRun > /dev/null")
    }

    func testMissingTableNamesCreateTableAndBadOptionsAreUsageErrors() throws {
        let r = try sh("echo '{\"id\":\"a\"}' | ferry-load --table Nope", expect: 1)
        XCTAssertEqual(r.stderr, "ferry-load: error: table 'Nope' does not exist; create it with 'ferry-table create-table --table-name Nope ...' or pass --create 'pk:S[,sk:N]'\n")
        try sh("echo '{}' | ferry-load --table Nope --create id:X", expect: 2)
        try sh("echo '{}' | ferry-load --table Nope --create id:S --update 'ADD'", expect: 2)
        try sh("ferry-extract --format nope x", expect: 2)
        let bulk = try sh("ferry-load --table Nope --create id:S --bulk sometimes < /dev/null", expect: 2)
        XCTAssertEqual(bulk.stderr.split(separator: "\n").first.map(String.init),
                       "ferry-load: error: invalid value 'sometimes' for '--bulk': expected one of auto, always, never")
        let none = try sh("ferry-extract s3://nobucket/x", expect: 1)
        XCTAssertTrue(none.stderr.hasPrefix("ferry-extract: error: "), none.stderr)
    }

    func testProgressShowsABarForAPlainFileAndTheSummaryFileHoldsTheCounts() throws {
        let r = try sh("seq 1 500 | sed 's/.*/{\"id\":\"p&\"}/' > in.jsonl && ferry-load --table Prog --create id:S --progress --summary s.json in.jsonl")
        XCTAssertTrue(r.stderr.contains("[####################] 100%"), r.stderr)
        let summary = try String(contentsOf: work.appendingPathComponent("s.json"), encoding: .utf8)
        XCTAssertTrue(summary.contains("\"read\": 500,") && summary.contains("\"loaded\": 500,") && summary.contains("\"itemsPerSecond\":"), summary)
    }

    func testStreamCutInsideAnObjectCommitsNothingAfterItsLastBarrier() throws {
        try sh("seq 1 25 | sed 's/.*/{\"id\":\"r&\"}/' > in.jsonl && ferry-extract --barrier-every 10 in.jsonl | head -n 14 > cut.jsonl")
        let r = try sh("ferry-load --table Cut1 --create id:S --checkpoint c.ckpt < cut.jsonl", expect: 1)
        XCTAssertTrue(r.stderr.contains("2 record(s) after the stream's last barrier were not loaded"), r.stderr)
        XCTAssertEqual(try items("Cut1").count, 10)
        try sh("ferry-extract --resume c.ckpt --barrier-every 10 in.jsonl | ferry-load --table Cut1 --checkpoint c.ckpt 2>/dev/null")
        XCTAssertEqual(try items("Cut1").count, 25)
    }
}

/// `make demo` is the README's first command: its script must keep working.
final class DemoScriptTests: XCTestCase {
    func testDemoRunsTheImportAndTheRerunLoadsNothing() throws {
        let work = try TestSupport.temporaryFolder()
        let r = try TestSupport.bash("scripts/demo.sh '\(work.path)/data'",
                                     environment: ["FERRY_BIN": TestSupport.productsFolder.path, "PATH": "/usr/bin:/bin"],
                                     in: TestSupport.repositoryRoot)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("ferry-load: Music: 16 read, 16 loaded, 0 rejected, 0 already loaded"), r.stderr)
        XCTAssertTrue(r.stderr.contains("ferry-load: Music: 0 read, 0 loaded"), r.stderr)
        XCTAssertTrue(r.stdout.contains("\"S\": \"EXACTLY ONCE\""), r.stdout)
        XCTAssertTrue(r.stdout.contains("(exit statuses: 3 0 0;"), r.stdout)
    }
}
