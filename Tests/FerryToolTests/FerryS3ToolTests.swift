import FerryTestSupport
import Foundation
import XCTest

/// Runs the built ferry-s3 and checks what `aws s3` / `aws s3api` users rely on.
final class FerryS3ToolTests: XCTestCase {
    private var data = URL(fileURLWithPath: "/")
    private var work = URL(fileURLWithPath: "/")

    override func setUpWithError() throws {
        work = try TestSupport.temporaryFolder()
        data = work.appendingPathComponent("data")
    }

    @discardableResult
    private func s3(_ args: String..., stdin: String = "") throws -> TestSupport.Result {
        try TestSupport.run("ferry-s3", args, stdin: Array(stdin.utf8),
                            environment: ["FERRY_DATA": data.path, "TZ": "UTC"], currentDirectory: work)
    }

    /// Sets a file's modification time to 2026-01-02 03:04:05 UTC.
    private func pinTime(_ path: String) {
        var times = [timespec(tv_sec: 1_767_323_045, tv_nsec: 0), timespec(tv_sec: 1_767_323_045, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
    }

    private func file(_ name: String, _ text: String) throws {
        let url = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func testMakeCopyListHeadAsAwsPrintsThem() throws {
        XCTAssertEqual(try s3("mb", "s3://logs").stdout, "make_bucket: logs\n")
        try file("a.txt", "hello\n")
        XCTAssertEqual(try s3("cp", "a.txt", "s3://logs/2026/11/a.txt").stdout, "upload: a.txt to s3://logs/2026/11/a.txt\n")
        XCTAssertEqual(try s3("cp", "a.txt", "s3://logs/").stdout, "upload: a.txt to s3://logs/a.txt\n")
        XCTAssertEqual(try s3("cp", "-", "s3://logs/in.json", stdin: "{\"x\":1}\n").status, 0)
        for key in ["2026/11/a.txt", "a.txt", "in.json"] { pinTime(data.path + "/s3/logs/" + key) }

        XCTAssertEqual(try s3("ls", "s3://logs").stdout, """
                                       PRE 2026/
            2026-01-02 03:04:05          6 a.txt
            2026-01-02 03:04:05          8 in.json

            """)
        XCTAssertEqual(try s3("ls", "s3://logs", "--recursive").stdout, """
            2026-01-02 03:04:05          6 2026/11/a.txt
            2026-01-02 03:04:05          6 a.txt
            2026-01-02 03:04:05          8 in.json

            """)
        XCTAssertTrue(try s3("ls").stdout.hasSuffix(" logs\n"))
        XCTAssertEqual(try s3("head-object", "--bucket", "logs", "--key", "a.txt").stdout, """
            {
                "AcceptRanges": "bytes",
                "LastModified": "2026-01-02T03:04:05+00:00",
                "ContentLength": 6,
                "ETag": "\\"b1946ac92492d2347c6235b4d2611184\\"",
                "ContentType": "text/plain",
                "Metadata": {}
            }

            """)
        XCTAssertEqual(try s3("cp", "s3://logs/in.json", "-").stdout, "{\"x\":1}\n")
    }

    func testListObjectsV2PagesWithTokens() throws {
        try s3("mb", "s3://pages")
        try file("f", "1")
        for key in ["a", "b/x", "b/y", "c"] { try s3("cp", "f", "s3://pages/\(key)") }
        for key in ["a", "b/x", "b/y", "c"] { pinTime(data.path + "/s3/pages/" + key) }
        let first = try s3("list-objects-v2", "--bucket", "pages", "--delimiter", "/", "--max-keys", "2")
        XCTAssertEqual(first.status, 0)
        let json = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["IsTruncated"] as? Bool, true)
        XCTAssertEqual(json?["KeyCount"] as? Int, 2)
        XCTAssertEqual((json?["Contents"] as? [[String: Any]])?.map { $0["Key"] as? String }, ["a"])
        XCTAssertEqual((json?["CommonPrefixes"] as? [[String: Any]])?.map { $0["Prefix"] as? String }, ["b/"])
        XCTAssertEqual((json?["Contents"] as? [[String: Any]])?.first?["LastModified"] as? String, "2026-01-02T03:04:05+00:00")
        XCTAssertEqual((json?["Contents"] as? [[String: Any]])?.first?["StorageClass"] as? String, "STANDARD")
        let token = try XCTUnwrap(json?["NextContinuationToken"] as? String)
        let second = try s3("list-objects-v2", "--bucket", "pages", "--delimiter", "/", "--max-keys", "2", "--continuation-token", token)
        let next = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((next?["Contents"] as? [[String: Any]])?.map { $0["Key"] as? String }, ["c"])
        XCTAssertEqual(next?["IsTruncated"] as? Bool, false)
        XCTAssertNil(next?["NextContinuationToken"])
        XCTAssertEqual(next?["ContinuationToken"] as? String, token)
    }

    func testErrorsAreOneLineWithS3NamesAndStatusOne() throws {
        // (A data folder that does not exist is its own error: CatalogSafetyTests.)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("data"), withIntermediateDirectories: true)
        let missing = try s3("ls", "s3://nope")
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "ferry-s3: error: NoSuchBucket: s3://nope: The specified bucket does not exist\n")
        let bad = try s3("mb", "s3://Bad_Name")
        XCTAssertEqual(bad.stderr, "ferry-s3: error: InvalidBucketName: Bad_Name: The specified bucket is not valid: only lowercase letters, digits, dots and hyphens are allowed\n")
        try s3("mb", "s3://errs")
        XCTAssertEqual(try s3("mb", "s3://errs").stderr, "ferry-s3: error: BucketAlreadyExists: s3://errs: The requested bucket name is not available.\n")
        let noKey = try s3("cp", "s3://errs/none", "out.txt")
        XCTAssertEqual(noKey.status, 1)
        XCTAssertEqual(noKey.stderr, "ferry-s3: error: NoSuchKey: s3://errs/none: The specified key does not exist.\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("out.txt").path))
        try file("f", "x")
        XCTAssertEqual(try s3("cp", "f", "s3://errs/a/../b").stderr,
                       "ferry-s3: error: UnsafeKey: s3://errs/a/../b: the key cannot be stored as a file: it has a '.' or '..' segment\n")
        XCTAssertEqual(try s3("ls", "s3://errs/nothing-here").status, 1)   // as aws s3 ls: an empty match fails
        try s3("cp", "f", "s3://errs/k")
        let notEmpty = try s3("rb", "s3://errs")
        XCTAssertEqual(notEmpty.stderr, "ferry-s3: error: BucketNotEmpty: s3://errs: The bucket you tried to delete is not empty\n")
        XCTAssertEqual(try s3("rb", "s3://errs", "--force").stdout, "remove_bucket: errs\n")
    }

    func testUsageErrorsAndHelp() throws {
        let unknown = try s3("sync", "a", "b")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.hasPrefix("ferry-s3: error: unknown command 'sync'\nUSAGE: ferry-s3 <command>"), unknown.stderr)
        let help = try s3("--help")
        XCTAssertEqual(help.status, 0)
        for command in ["mb", "rb", "ls", "cp", "mv", "rm", "head-object", "get-object", "list-objects-v2"] {
            XCTAssertTrue(help.stdout.contains("\n  \(command) "), command)
        }
        let missing = try s3("head-object", "--bucket", "x")
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("ferry-s3: error: missing required option '--key'\nUSAGE: ferry-s3 head-object"), missing.stderr)
        XCTAssertTrue(try s3("cp", "--help").stdout.contains("USAGE: ferry-s3 cp <source> <destination>"))
    }

    func testRecursiveCopyMoveAndRemove() throws {
        try s3("mb", "s3://tree")
        try file("src/one.json", "1")
        try file("src/sub/two.json", "22")
        XCTAssertEqual(try s3("cp", "src", "s3://tree/in", "--recursive").stdout,
                       "upload: src/one.json to s3://tree/in/one.json\nupload: src/sub/two.json to s3://tree/in/sub/two.json\n")
        XCTAssertEqual(try s3("cp", "s3://tree/in", "back", "--recursive").status, 0)
        XCTAssertEqual(try String(contentsOf: work.appendingPathComponent("back/sub/two.json"), encoding: .utf8), "22")
        XCTAssertEqual(try s3("mv", "s3://tree/in/one.json", "s3://tree/done/one.json").stdout,
                       "move: s3://tree/in/one.json to s3://tree/done/one.json\n")
        XCTAssertEqual(try s3("rm", "s3://tree/in", "--recursive").stdout, "delete: s3://tree/in/sub/two.json\n")
        XCTAssertEqual(try s3("ls", "s3://tree", "--recursive").stdout.split(separator: "\n").map { String($0.split(separator: " ").last!) }, ["done/one.json"])
        XCTAssertEqual(try s3("get-object", "--bucket", "tree", "--key", "done/one.json", "--range", "bytes=0-0", "part").status, 0)
        XCTAssertEqual(try String(contentsOf: work.appendingPathComponent("part"), encoding: .utf8), "1")
    }
}
