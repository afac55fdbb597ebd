import FerryTestSupport
import Foundation
import XCTest

/// Runs the built ferry-table as aws dynamodb users would.
final class FerryTableToolTests: XCTestCase {
    private var work = URL(fileURLWithPath: "/")
    private var data: String { work.path + "/data" }

    override func setUpWithError() throws { work = try TestSupport.temporaryFolder() }

    @discardableResult
    private func table(_ args: String...) throws -> TestSupport.Result {
        try TestSupport.run("ferry-table", args, environment: ["FERRY_DATA": data], currentDirectory: work)
    }

    private func createMusic() throws {
        let r = try table("create-table", "--table-name", "Music",
                          "--attribute-definitions", "AttributeName=Artist,AttributeType=S", "AttributeName=SongTitle,AttributeType=S",
                          "--key-schema", "AttributeName=Artist,KeyType=HASH", "AttributeName=SongTitle,KeyType=RANGE",
                          "--billing-mode", "PAY_PER_REQUEST")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// The README's walkthrough, run verbatim by bash with ferry-table on the PATH.
    func testReadmeWalkthroughRunsVerbatim() throws {
        let readme = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let begin = readme.range(of: "<!-- walkthrough: begin -->\n```sh\n"),
              let end = readme.range(of: "```\n<!-- walkthrough: end -->") else { return XCTFail("no walkthrough in README.md") }
        let script = "set -e\n" + readme[begin.upperBound..<end.lowerBound]
        let environment = ["PATH": TestSupport.productsFolder.path + ":/usr/bin:/bin", "FERRY_DATA": data]
        let r = try TestSupport.run("../../../../bin/bash-not-used", [], environment: environment, currentDirectory: work, bash: script,
                                    at: TestSupport.repositoryRoot)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.contains("\"AlbumTitle\": {\n            \"S\": \"Updated Album Title\""), r.stdout)
        XCTAssertTrue(r.stdout.contains("\"IndexName\": \"GenreAndPriceIndex\""))
        XCTAssertTrue(r.stdout.contains("\"TableStatus\": \"DELETING\""))
        XCTAssertTrue(r.stdout.contains("\"Count\": 2,\n    \"ScannedCount\": 2,\n    \"ConsumedCapacity\": null"))   // Acme Band's songs
        XCTAssertTrue(r.stdout.contains("\"ItemCount\": 5"))
    }

    func testErrorsReadAsTheAwsCliPrintsThem() throws {
        // (A data folder that does not exist is its own error: CatalogSafetyTests.)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("data"), withIntermediateDirectories: true)
        let missing = try table("describe-table", "--table-name", "Nope")
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "ferry-table: error: An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: Requested resource not found: Table: Nope not found\n")
        XCTAssertEqual(missing.stdout, "")
        try createMusic()
        let failed = try table("put-item", "--table-name", "Music", "--item", #"{"Artist":{"S":"a"}}"#)
        XCTAssertEqual(failed.stderr, "ferry-table: error: An error occurred (ValidationException) when calling the PutItem operation: One or more parameter values were invalid: Missing the key SongTitle in the item\n")
        let usage = try table("put-item", "--table-nam", "Music")
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.hasPrefix("ferry-table: error: unknown option '--table-nam'\n"))
        let badJSON = try table("put-item", "--table-name", "Music", "--item", #"{"Artist":"#)
        XCTAssertEqual(badJSON.status, 2)
        XCTAssertTrue(badJSON.stderr.contains("Error parsing parameter '--item': Invalid JSON"), badJSON.stderr)
    }

    func testSecondWriterIsToldWhoHoldsTheTable() throws {
        try createMusic()
        // An independent holder: python takes the flock and names itself as ferry-load does.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import fcntl, os, sys, time
            f = open(sys.argv[1], "a+"); fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); f.write("%d ferry-load\\n" % os.getpid()); f.flush()
            print("locked", flush=True); time.sleep(30)
            """, data + "/tables/Music/LOCK"]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        _ = out.fileHandleForReading.availableData   // "locked"
        let r = try table("put-item", "--table-name", "Music", "--item", #"{"Artist":{"S":"a"},"SongTitle":{"S":"b"}}"#)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "ferry-table: table 'Music' is locked by pid \(holder.processIdentifier) (ferry-load)\n")
        // Readers need no lock.
        XCTAssertEqual(try table("scan", "--table-name", "Music").status, 0)
    }

    func testShorthandCliInputJsonAndFileValues() throws {
        let r = try table("create-table", "--table-name", "Songs", "--attribute-definitions", "AttributeName=Artist,AttributeType=S",
                          "AttributeName=AlbumTitle,AttributeType=S", "--key-schema", "AttributeName=Artist,KeyType=HASH",
                          "--billing-mode", "PAY_PER_REQUEST", "--global-secondary-indexes",
                          "IndexName=AlbumIndex,KeySchema=[{AttributeName=AlbumTitle,KeyType=HASH}],Projection={ProjectionType=INCLUDE,NonKeyAttributes=[Year,Genre]}")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"NonKeyAttributes\": [\n                        \"Year\",\n                        \"Genre\"\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\"BillingMode\": \"PAY_PER_REQUEST\""))
        try Data(#"{"TableName":"Songs","Item":{"Artist":{"S":"x"},"AlbumTitle":{"S":"y"},"Year":{"N":"1999"}}}"#.utf8)
            .write(to: work.appendingPathComponent("put.json"))
        XCTAssertEqual(try table("put-item", "--cli-input-json", "file://put.json").status, 0)
        let got = try table("get-item", "--table-name", "Songs", "--key", "Artist={S=x}", "--projection-expression", "#y",
                            "--expression-attribute-names", "#y=Year")
        XCTAssertEqual(got.stdout, "{\n    \"Item\": {\n        \"Year\": {\n            \"N\": \"1999\"\n        }\n    }\n}\n", got.stderr)
        let page = try table("scan", "--table-name", "Songs", "--limit", "1")
        XCTAssertTrue(page.stdout.contains("\"LastEvaluatedKey\""), page.stdout)   // --limit turns paging off, as in aws
        XCTAssertFalse(page.stdout.contains("ConsumedCapacity"))
    }

    func testVerifyFindsADamagedRunAndNamesTheOffset() throws {
        try createMusic()
        let items = (0..<25).map { #"{"PutRequest":{"Item":{"Artist":{"S":"a"},"SongTitle":{"S":"\#($0)"},"pad":{"S":"\#(String(repeating: "z", count: 2000))"}}}}"# }
        for _ in 0..<2 {
            XCTAssertEqual(try table("batch-write-item", "--request-items", #"{"Music":[\#(items.joined(separator: ","))]}"#).status, 0)
        }
        // A writer flushes a memtable over 4 MiB at exit; force a run with a small table instead.
        let tableFolder = data + "/tables/Music"
        let big = (0..<25).map { #"{"PutRequest":{"Item":{"Artist":{"S":"b"},"SongTitle":{"S":"\#($0)"},"pad":{"S":"\#(String(repeating: "y", count: 200_000))"}}}}"# }
        try Data(#"{"Music":[\#(big.joined(separator: ","))]}"#.utf8).write(to: work.appendingPathComponent("big.json"))
        XCTAssertEqual(try table("batch-write-item", "--request-items", "file://big.json").status, 0)
        let ok = try table("verify", "--table-name", "Music")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.hasSuffix("every checksum matches\n"), ok.stdout)
        let run = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: tableFolder).first { $0.hasSuffix(".run") })
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: tableFolder + "/" + run))
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
        try handle.close()
        let damaged = try table("verify", "--table-name", "Music")
        XCTAssertEqual(damaged.status, 1)
        XCTAssertTrue(damaged.stderr.contains("\(run): corrupt sorted run block at byte 16: checksum mismatch"), damaged.stderr)
        let read = try table("scan", "--table-name", "Music")
        XCTAssertEqual(read.status, 1)
        XCTAssertTrue(read.stderr.contains("checksum mismatch"), read.stderr)
    }
}
