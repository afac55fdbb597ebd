import FerryIO
import FerryObjectStore
import FerryTestSupport
import Foundation
import XCTest

final class ObjectStoreTests: XCTestCase {
    private var data = ""
    private var store: ObjectStore!

    override func setUpWithError() throws {
        data = try TestSupport.temporaryFolder().path
        store = try ObjectStore(dataFolder: data)
        try store.createBucket("bkt")
    }

    @discardableResult
    private func put(_ key: String, _ text: String = "x", bucket: String = "bkt") throws -> ObjectInfo {
        try store.put(bucket: bucket, key: key, from: MemorySource(Array(text.utf8)))
    }

    private func get(_ key: String, range: String? = nil) throws -> String {
        let sink = MemorySink()
        try store.get(bucket: "bkt", key: key, range: range.flatMap(ByteRange.init), into: sink)
        return String(decoding: sink.buffer.bytes, as: UTF8.self)
    }

    private func error(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    private func keys(_ request: ListRequest) throws -> [String] {
        let page = try store.list(bucket: "bkt", request)
        return page.commonPrefixes.map { "P:" + $0 } + page.contents.map(\.key)
    }

    // MARK: Names

    func testBucketNamesFollowS3Rules() {
        for good in ["abc", "my-bucket.2026", String(repeating: "a", count: 63)] {
            XCTAssertNoThrow(try BucketName.validate(good), good)
        }
        let cases = [
            ("ab", "must be 3 to 63 characters long"), (String(repeating: "a", count: 64), "must be 3 to 63 characters long"),
            ("My-Bucket", "only lowercase letters, digits, dots and hyphens are allowed"),
            ("-abc", "must begin and end with a letter or digit"), ("abc.", "must begin and end with a letter or digit"),
            ("a..b", "must not contain two adjacent dots"), ("192.168.5.4", "must not be formatted as an IP address"),
            ("xn--abc", "must not start with 'xn--'"), ("abc-s3alias", "must not end with '-s3alias'"),
        ]
        for (name, reason) in cases {
            XCTAssertEqual(error { try BucketName.validate(name) },
                           "InvalidBucketName: \(name): The specified bucket is not valid: \(reason)")
        }
    }

    func testEveryUnsafeKeyShapeIsRefused() {
        let prefix = "UnsafeKey: s3://bkt/"
        let cases = [
            ("/a", "it has an empty path segment (a leading, trailing or doubled '/')"),
            ("a/", "it has an empty path segment (a leading, trailing or doubled '/')"),
            ("a//b", "it has an empty path segment (a leading, trailing or doubled '/')"),
            ("a/../b", "it has a '.' or '..' segment"), ("./a", "it has a '.' or '..' segment"), ("..", "it has a '.' or '..' segment"),
            ("a\u{0}b", "it contains a NUL byte"),
            (String(repeating: "s", count: 256), "a segment is longer than 255 bytes"),
            ("x/.ferry-tmp-1", "'.ferry-tmp-' is reserved for temporary files"),
        ]
        for (key, reason) in cases {
            XCTAssertEqual(error { try put(key) }, "\(prefix)\(key): the key cannot be stored as a file: \(reason)", key)
        }
        XCTAssertEqual(error { try put("") }, "UnsafeKey: s3://bkt/: the key cannot be stored as a file: the key is empty")
        let long = String(repeating: "k/", count: 512) + "k"
        XCTAssertEqual(error { try put(long) }, "KeyTooLongError: s3://bkt/\(long.prefix(64))...: Your key is too long (over 1024 bytes)")
        XCTAssertNoThrow(try put(String(repeating: "k/", count: 511) + "kk"))   // exactly 1024 bytes
    }

    func testKeyThatIsAlsoAFolderIsRefusedBothWays() throws {
        try put("a/b")
        XCTAssertEqual(error { try put("a/b/c") },
                       "KeyConflict: s3://bkt/a/b/c: conflicts with s3://bkt/a/b: a key cannot also be the folder of another key")
        XCTAssertEqual(error { try put("a") },
                       "KeyConflict: s3://bkt/a: conflicts with s3://bkt/a/...: a key cannot also be the folder of another key")
        // Once the deeper key is gone, its folder is gone too and the name is free.
        try store.delete(bucket: "bkt", key: "a/b")
        XCTAssertNoThrow(try put("a"))
    }

    // MARK: Objects

    func testPutRecordsETagChecksumTypeAndMetadata() throws {
        let info = try store.put(bucket: "bkt", key: "d/hello.json", from: MemorySource(Array("hello\n".utf8)),
                                 metadata: ["origin": "test"])
        XCTAssertEqual(info.etag, "\"b1946ac92492d2347c6235b4d2611184\"")   // md5sum of "hello\n"
        XCTAssertEqual(info.crc32, "NjowIA==")                              // 0x363A3020, big-endian, base64
        XCTAssertEqual(info.size, 6)
        XCTAssertEqual(info.contentType, "application/json")
        let again = try store.head(bucket: "bkt", key: "d/hello.json")
        XCTAssertEqual(again, info)
        XCTAssertEqual(again.metadata, ["origin": "test"])
        // The object is a plain file at its key's path.
        XCTAssertEqual(try String(contentsOfFile: data + "/s3/bkt/d/hello.json", encoding: .utf8), "hello\n")
    }

    func testMissingBucketsAndKeysUseS3Names() throws {
        XCTAssertEqual(error { _ = try store.head(bucket: "bkt", key: "nope") }, "NoSuchKey: s3://bkt/nope: The specified key does not exist.")
        XCTAssertEqual(error { _ = try store.head(bucket: "nobucket", key: "k") }, "NoSuchBucket: s3://nobucket: The specified bucket does not exist")
        XCTAssertEqual(error { try store.createBucket("bkt") }, "BucketAlreadyExists: s3://bkt: The requested bucket name is not available.")
        try put("k")
        XCTAssertEqual(error { try store.deleteBucket("bkt") }, "BucketNotEmpty: s3://bkt: The bucket you tried to delete is not empty")
        try store.deleteBucket("bkt", force: true)
        XCTAssertEqual(try store.listBuckets().map(\.name), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/s3/.ferry/meta/bkt"))
    }

    func testByteRanges() throws {
        try put("r", "0123456789")
        XCTAssertEqual(try get("r", range: "bytes=0-3"), "0123")
        XCTAssertEqual(try get("r", range: "bytes=7-"), "789")
        XCTAssertEqual(try get("r", range: "bytes=-2"), "89")
        XCTAssertEqual(try get("r", range: "bytes=8-100"), "89")
        XCTAssertEqual(error { _ = try get("r", range: "bytes=10-") },
                       "InvalidRange: s3://bkt/r: The requested range is not satisfiable: bytes=10-")
        XCTAssertNil(ByteRange("bytes=5-2"))
        XCTAssertNil(ByteRange("0-3"))
    }

    func testDeleteRemovesSidecarAndEmptyFoldersAndIsIdempotent() throws {
        try put("x/y/z")
        try store.delete(bucket: "bkt", key: "x/y/z")
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/s3/bkt/x"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/s3/.ferry/meta/bkt/x"))
        XCTAssertNoThrow(try store.delete(bucket: "bkt", key: "x/y/z"))
    }

    func testCopyKeepsContentTypeAndMetadata() throws {
        try store.put(bucket: "bkt", key: "src.csv", from: MemorySource(Array("a,b\n".utf8)), metadata: ["m": "1"])
        try store.createBucket("other")
        let copied = try store.copy(fromBucket: "bkt", key: "src.csv", toBucket: "other", key: "dst")
        XCTAssertEqual(copied.contentType, "text/csv")
        XCTAssertEqual(copied.metadata, ["m": "1"])
        XCTAssertEqual(copied.etag, try store.head(bucket: "bkt", key: "src.csv").etag)
    }

    func testHandDroppedAndHandEditedFilesGetFreshMetadata() throws {
        try FileManager.default.createDirectory(atPath: data + "/s3/bkt/in", withIntermediateDirectories: true)
        try Data("dropped\n".utf8).write(to: URL(fileURLWithPath: data + "/s3/bkt/in/file.txt"))
        let first = try store.head(bucket: "bkt", key: "in/file.txt")
        XCTAssertEqual(first.etag, "\"\(Hex.encode(MD5.digest(Array("dropped\n".utf8))))\"")
        XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/s3/.ferry/meta/bkt/in/file.txt"))
        try Data("edited by hand\n".utf8).write(to: URL(fileURLWithPath: data + "/s3/bkt/in/file.txt"))
        let second = try store.head(bucket: "bkt", key: "in/file.txt")
        XCTAssertEqual(second.size, 15)
        XCTAssertEqual(second.etag, "\"\(Hex.encode(MD5.digest(Array("edited by hand\n".utf8))))\"")
    }

    func testCorruptSidecarIsRecomputed() throws {
        try put("k", "content")
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: data + "/s3/.ferry/meta/bkt/k"))
        XCTAssertEqual(try store.head(bucket: "bkt", key: "k").etag, "\"\(Hex.encode(MD5.digest(Array("content".utf8))))\"")
    }

    // MARK: Links and stray files

    func testSymbolicLinksAreNeverFollowed() throws {
        let outside = try TestSupport.temporaryFolder().path
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret"))
        try FileManager.default.createSymbolicLink(atPath: data + "/s3/bkt/link", withDestinationPath: outside + "/secret")
        try FileManager.default.createSymbolicLink(atPath: data + "/s3/bkt/dir", withDestinationPath: outside)
        XCTAssertEqual(try keys(ListRequest()), [])
        XCTAssertEqual(error { _ = try store.head(bucket: "bkt", key: "link") }, "NoSuchKey: s3://bkt/link: The specified key does not exist.")
        XCTAssertEqual(error { try put("dir/x") },
                       "UnsafeKey: s3://bkt/dir/x: the key cannot be stored as a file: 'dir' is a symbolic link or special file")
        XCTAssertEqual(error { try put("link") },
                       "UnsafeKey: s3://bkt/link: the key cannot be stored as a file: a symbolic link or special file is in the way")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["secret"])
        XCTAssertEqual(try String(contentsOfFile: outside + "/secret", encoding: .utf8), "secret")
    }

    func testTemporaryFilesNeverShowInListings() throws {
        try put("real")
        try Data("half".utf8).write(to: URL(fileURLWithPath: data + "/s3/bkt/.ferry-tmp-abc"))
        XCTAssertEqual(try keys(ListRequest()), ["real"])
        try store.delete(bucket: "bkt", key: "real")
        XCTAssertNoThrow(try store.deleteBucket("bkt"))   // leftover temporary files do not make a bucket non-empty
    }
}
