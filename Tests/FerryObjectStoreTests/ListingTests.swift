import FerryIO
import FerryObjectStore
import FerryTestSupport
import Foundation
import XCTest

final class ListingTests: XCTestCase {
    private var store: ObjectStore!

    override func setUpWithError() throws {
        store = try ObjectStore(dataFolder: try TestSupport.temporaryFolder().path)
        try store.createBucket("bkt")
    }

    private func put(_ key: String) throws {
        try store.put(bucket: "bkt", key: key, from: MemorySource(Array(key.utf8)))
    }

    private func list(_ request: ListRequest) throws -> [String] {
        let page = try store.list(bucket: "bkt", request)
        var out: [String] = []
        // Interleave by key order for the check, as S3 orders them together.
        out += page.commonPrefixes.map { "P:" + $0 }
        out += page.contents.map(\.key)
        return out
    }

    /// Every key a full listing returns, page by page, of `size` items each.
    private func allPages(_ request: ListRequest, size: Int) throws -> [String] {
        var request = request
        request.maxKeys = size
        var out: [String] = []
        while true {
            let page = try store.list(bucket: "bkt", request)
            XCTAssertLessThanOrEqual(page.keyCount, size)
            out += page.commonPrefixes.map { "P:" + $0 } + page.contents.map(\.key)
            guard page.isTruncated else { return out }
            request.continuationToken = try XCTUnwrap(page.nextContinuationToken)
        }
    }

    func testOrderIsUTF8ByteOrderAsS3Defines() throws {
        let expected = try String(contentsOf: TestSupport.fixture("s3/listing-order.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for key in expected.shuffled() { try put(key) }
        XCTAssertEqual(try list(ListRequest()), expected)
        for size in [1, 2, 5] { XCTAssertEqual(try allPages(ListRequest(), size: size), expected, "pages of \(size)") }
    }

    func testPrefixMatchesBytesNotCharacters() throws {
        try put("e\u{301}tude")   // "e" + combining accent: starts with the byte "e"
        try put("etude")
        try put("\u{E9}tude")     // precomposed: does not
        XCTAssertEqual(try list(ListRequest(prefix: "e")), ["e\u{301}tude", "etude"].sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }

    func testDelimiterRollsUpCommonPrefixes() throws {
        for key in ["logs/2026/01/a", "logs/2026/02/b", "logs/2026/x", "logs/readme", "logs-old/c", "top"] { try put(key) }
        XCTAssertEqual(try list(ListRequest(delimiter: "/")), ["P:logs-old/", "P:logs/", "top"])
        XCTAssertEqual(try list(ListRequest(prefix: "logs/", delimiter: "/")), ["P:logs/2026/", "logs/readme"])
        XCTAssertEqual(try list(ListRequest(prefix: "logs/2026/", delimiter: "/")), ["P:logs/2026/01/", "P:logs/2026/02/", "logs/2026/x"])
        XCTAssertEqual(try list(ListRequest(prefix: "logs", delimiter: "/")), ["P:logs-old/", "P:logs/"])
        // Any delimiter, not only "/".
        XCTAssertEqual(try list(ListRequest(delimiter: "-")), ["P:logs-"] + ["logs/2026/01/a", "logs/2026/02/b", "logs/2026/x", "logs/readme", "top"])
        // Pages across common prefixes: each group once, nothing lost.
        XCTAssertEqual(try allPages(ListRequest(prefix: "logs/2026/", delimiter: "/"), size: 1),
                       ["P:logs/2026/01/", "P:logs/2026/02/", "logs/2026/x"])
    }

    func testStartAfterAndMaxKeys() throws {
        for key in ["a", "b/1", "b/2", "c", "d"] { try put(key) }
        XCTAssertEqual(try list(ListRequest(startAfter: "b/1")), ["b/2", "c", "d"])
        XCTAssertEqual(try list(ListRequest(startAfter: "b")), ["b/1", "b/2", "c", "d"])
        XCTAssertEqual(try list(ListRequest(startAfter: "zzz")), [])
        let page = try store.list(bucket: "bkt", ListRequest(maxKeys: 2))
        XCTAssertEqual(page.contents.map(\.key), ["a", "b/1"])
        XCTAssertTrue(page.isTruncated)
        XCTAssertNotNil(page.nextContinuationToken)
        let whole = try store.list(bucket: "bkt", ListRequest(maxKeys: 5))
        XCTAssertFalse(whole.isTruncated)
        XCTAssertNil(whole.nextContinuationToken)
        XCTAssertEqual(try store.list(bucket: "bkt", ListRequest(maxKeys: 0)).keyCount, 0)
    }

    func testContinuationTokensStayValidWhileObjectsAreAdded() throws {
        for i in stride(from: 0, to: 100, by: 2) { try put(String(format: "k%03d", i)) }
        var request = ListRequest(maxKeys: 10)
        var seen: [String] = []
        var added: [String] = []
        while true {
            let page = try store.list(bucket: "bkt", request)
            seen += page.contents.map(\.key)
            // Between pages another writer adds keys before and after the cursor.
            let odd = String(format: "k%03d", seen.count * 2 + 1)
            let early = "a-before-\(seen.count)"
            try put(odd); try put(early)
            added += [odd, early]
            guard page.isTruncated else { break }
            request.continuationToken = page.nextContinuationToken
        }
        // No key twice, order kept, every original key seen, and keys added after the
        // cursor were picked up; keys added before it were not.
        XCTAssertEqual(seen, seen.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        XCTAssertEqual(Set(seen).count, seen.count)
        for i in stride(from: 0, to: 100, by: 2) { XCTAssertTrue(seen.contains(String(format: "k%03d", i))) }
        XCTAssertFalse(seen.contains { $0.hasPrefix("a-before-") })
        XCTAssertTrue(seen.contains("k021"))
    }

    func testListingWithoutChecksumsGivesSizesAndTimes() throws {
        try put("k")
        var request = ListRequest()
        request.includeChecksums = false
        let light = try store.list(bucket: "bkt", request).contents[0]
        let full = try store.list(bucket: "bkt", ListRequest()).contents[0]
        XCTAssertEqual(light.size, full.size)
        XCTAssertEqual(light.modified, full.modified)
        XCTAssertEqual(light.etag, "")
        XCTAssertEqual(full.etag, "\"\(Hex.encode(MD5.digest(Array("k".utf8))))\"")
    }

    func testBadContinuationTokenIsRefused() {
        XCTAssertThrowsError(try store.list(bucket: "bkt", ListRequest(continuationToken: "garbage!"))) {
            XCTAssertEqual("\($0)", "InvalidArgument: The continuation token provided is incorrect")
        }
    }
}
