import FerryExpressions
@testable import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// Query and Scan pages (docs/table-storage.md, "Reads"): a page ends after the item
/// that brings DynamoDB's size of what it read to `pageBytes`, or at `limit`; items
/// returned as stored bytes are sized only when their stored length could reach the
/// cap, and that must never move where a page ends.
final class ReadPageTests: XCTestCase {
    private var folder: String!
    private var catalog: TableCatalog!

    override func setUpWithError() throws {
        folder = try TestSupport.temporaryFolder().path
        catalog = try TableCatalog(dataFolder: folder)
        let service = DynamoDBService(catalog: catalog, program: "test")
        _ = try service.call("CreateTable", try JSONValue.parse("""
        {"TableName":"Pages","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],
         "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}
        """))
        _ = service.close()
        let table = try catalog.openForWriting("Pages", program: "test")
        defer { try? table.close() }
        // Every type, escapes and non-ASCII text, sizes from a few bytes to a few KB: the
        // ratio of stored length to DynamoDB size varies item by item.
        var operations: [WriteOperation] = []
        for i in 0..<400 {
            var attributes: [(String, AttributeValue)] = [("pk", .s(i % 3 == 0 ? "p" : "q")), ("sk", .n(DynamoNumber(i)))]
            switch i % 7 {
            case 0: attributes.append(("text", .s(String(repeating: "é\"\\\n\u{1F600}", count: 1 + i % 40))))
            case 1:
                attributes.append(("n", .n(DynamoNumber(-123456789 * i))))
                // Numbers whose text is shortest beside their size: exponents, small fractions.
                for literal in ["1E+100", "-0.000001", "9.9999999999999999999999999999999999999E+125", "0"] {
                    var text = literal
                    attributes.append(("n\(text.count)", .n(try text.withUTF8 { try DynamoNumber(bytes: UnsafeRawBufferPointer($0)) })))
                }
            case 2: attributes.append(("bin", .b(Array(repeating: UInt8(i % 256), count: 1 + i * 3))))
            case 3:
                attributes.append(("flags", .l([.bool(true), .null, .n(DynamoNumber(i)), .s("x")])))
                attributes.append(("empty", .l([.s(""), .b([]), .l([]), .m(AttributeMap())])))
            case 4: attributes.append(("nested", .m(AttributeMap([("a", .m(AttributeMap([("b", .ss(["s\(i)", "t"]))]))), ("c", .ns([DynamoNumber(1), DynamoNumber(i)]))]))))
            case 5: attributes.append(("blobs", .bs([[1, 2, 3], Array(repeating: 7, count: i)])))
            default: attributes.append(("long", .s(String(repeating: "abcdefgh", count: i * 2))))
            }
            operations.append(.put(Item(attributes), condition: nil))
        }
        _ = try table.write(operations)
    }

    private struct Page {
        /// Each item's stored bytes (compared as a short digest: its sort key, its length).
        var items: [[UInt8]]
        var count: Int
        var scannedCount: Int
        var last: [UInt8]?
    }

    /// Every page of a scan (or a query of partition `p`), with the exact bytes read of each.
    private func pages(_ table: Table, pageBytes: Int, limit: Int?, query: Bool, exact: Bool) throws -> [(page: Page, bytes: Int)] {
        var out: [(page: Page, bytes: Int)] = []
        var start: Item? = nil
        repeat {
            var request = ReadRequest()
            if query {
                request.keyCondition = try KeyConditionExpression("pk = :p", context: ExpressionContext(values: [":p": .s("p")]))
            }
            request.pageBytes = pageBytes
            request.limit = limit
            request.exclusiveStartKey = start
            request.countsBytesRead = exact
            let page = try table.read(request)
            out.append((Page(items: page.encodedItems, count: page.count, scannedCount: page.scannedCount,
                             last: page.lastEvaluatedKey.map(Table.encodeItem)), page.bytesRead))
            start = page.lastEvaluatedKey
            XCTAssertLessThan(out.count, 2000, "pages do not advance")
        } while start != nil && out.count < 2000
        return out
    }

    /// "sk/length" of each item of a page: what a failure prints.
    private func digest(_ items: [[UInt8]]) -> [String] {
        items.map { bytes in
            let item = try? bytes.withUnsafeBytes { try ItemDecoder.forThisThread.decodeItem($0) }
            if case let .n(n)? = item?["sk"] { return "\(n)/\(bytes.count)" }
            return "?/\(bytes.count)"
        }
    }

    /// A page's counts and where it says to go on.
    private func summary(_ page: Page) -> String {
        "\(page.count)/\(page.scannedCount)/\(page.last.map { digest([$0]) } ?? [])"
    }

    func testPagesEndWhereDynamoDBsSizeReachesTheCapWhetherOrNotBytesAreCounted() throws {
        let table = try catalog.openForReading("Pages")
        for query in [false, true] {
            // Caps the running size meets exactly (after the 3rd and the 10th item): the
            // page must end there, not one item later.
            var sizes: [Int] = []
            try table.snapshot().scan { key, value in
                guard key.first == ItemKeys.tableKeyspace else { return true }
                let item = try table.decodeStored(value, decoder: ItemDecoder.forThisThread)
                if !query || item["pk"] == .s("p") { sizes.append(ItemRules.size(of: item)) }
                return true
            }
            let met = [3, 10].map { sizes.prefix($0).reduce(0, +) }
            for pageBytes in [1, 700, 5_000, 40_000, 1 << 20] + met {
                for limit in [nil, 1, 9] as [Int?] {
                    let context = "query \(query), pageBytes \(pageBytes), limit \(limit.map(String.init) ?? "none")"
                    let exact = try pages(table, pageBytes: pageBytes, limit: limit, query: query, exact: true)
                    let lazy = try pages(table, pageBytes: pageBytes, limit: limit, query: query, exact: false)
                    XCTAssertEqual(exact.map(\.page.items).map(digest), lazy.map(\.page.items).map(digest), context)
                    XCTAssertEqual(exact.map { summary($0.page) }, lazy.map { summary($0.page) }, context)
                    // The oracle: DynamoDB's rule over the decoded items, one at a time.
                    var all: [[UInt8]] = []
                    try table.snapshot().scan { key, value in
                        if key.first == ItemKeys.tableKeyspace { all.append(value) }
                        return true
                    }
                    var expected: [[[UInt8]]] = []
                    var current: [[UInt8]] = []
                    var size = 0
                    let wanted = query ? try all.filter { try table.decodeStored($0, decoder: ItemDecoder.forThisThread)["pk"] == .s("p") } : all
                    for value in wanted {
                        let itemSize = ItemRules.size(of: try table.decodeStored(value, decoder: ItemDecoder.forThisThread))
                        // Stored JSON is never shorter than the size: what lazy sizing relies on.
                        XCTAssertGreaterThanOrEqual(value.count, itemSize)
                        current.append(value)
                        size += itemSize
                        if size >= pageBytes || current.count == limit {
                            expected.append(current)
                            current = []
                            size = 0
                        }
                    }
                    if !current.isEmpty || expected.isEmpty { expected.append(current) }
                    // A page that ends exactly at the last item leaves one empty page after it.
                    let got = exact.map(\.page.items).filter { !$0.isEmpty }
                    XCTAssertEqual(got.map(digest), expected.filter { !$0.isEmpty }.map(digest), context)
                    for (page, bytes) in exact {
                        let sizes = try page.items.map { ItemRules.size(of: try table.decodeStored($0, decoder: ItemDecoder.forThisThread)) }
                        XCTAssertEqual(bytes, sizes.reduce(0, +), context)
                        XCTAssertEqual(page.count, page.items.count, context)
                        XCTAssertEqual(page.scannedCount, page.items.count, context)
                    }
                    for (page, bytes) in lazy { XCTAssertLessThanOrEqual(bytes, page.items.reduce(0) { $0 + $1.count }, context) }
                }
            }
        }
    }
}
