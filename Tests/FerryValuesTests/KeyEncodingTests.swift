import FerryIO
import FerryValues
import XCTest

final class KeyEncodingTests: XCTestCase {
    private func encoded(_ value: AttributeValue) -> [UInt8] {
        let out = ByteBuffer()
        KeyEncoding.encode(value, into: out)
        return out.array
    }

    private func memcmpLess(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }

    func testNumbersSortNumerically() throws {
        var seed: UInt64 = 7
        func random() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 11 }
        var numbers: [DynamoNumber] = try ["0", "1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125", "-1E+125", "1", "10", "1.5", "-1.5", "-2", "0.001"].map { try DynamoNumber($0) }
        for _ in 0..<2000 {
            let digits = String(random() % 1_000_000_007)
            let exponent = Int(random() % 40) - 20
            let sign = random() % 2 == 0 ? "-" : ""
            numbers.append(try DynamoNumber("\(sign)\(digits)E\(exponent)"))
        }
        let byValue = numbers.sorted()
        let byBytes = numbers.sorted { memcmpLess(encoded(.n($0)), encoded(.n($1))) }
        XCTAssertEqual(byBytes, byValue)
        // Equal numbers encode equally.
        XCTAssertEqual(encoded(.n(try DynamoNumber("1.50"))), encoded(.n(try DynamoNumber("15e-1"))))
    }

    func testStringsAndBinariesSortByBytesWithPrefixesFirst() {
        let strings = ["", "a", "a\u{0}", "a\u{0}b", "aa", "ab", "b", "é", "😀"]
        let byBytes = strings.shuffled().sorted { memcmpLess(encoded(.s($0)), encoded(.s($1))) }
        XCTAssertEqual(byBytes, strings.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        let binaries: [[UInt8]] = [[], [0], [0, 0], [0, 1], [1], [255], [255, 0]]
        XCTAssertEqual(binaries.shuffled().sorted { memcmpLess(encoded(.b($0)), encoded(.b($1))) }, binaries)
    }

    func testCompositeKeysSortByPartitionThenSort() throws {
        let schema = KeySchema(partition: KeyAttribute(name: "p", type: .s), sort: KeyAttribute(name: "s", type: .n))
        let items: [Item] = try [("a", "-5"), ("a", "2"), ("a", "10"), ("a\u{0}", "-100"), ("ab", "1")].map {
            Item([("p", .s($0.0)), ("s", .n(try DynamoNumber($0.1)))])
        }
        let keys = items.map { item -> [UInt8] in
            let out = ByteBuffer()
            schema.encodeKey(of: item, into: out)
            return out.array
        }
        XCTAssertEqual(keys.indices.shuffled().sorted { memcmpLess(keys[$0], keys[$1]) }, Array(keys.indices))
    }

    /// The worked examples of docs/key-encoding.md, bytes written by hand.
    func testBytesMatchTheDocumentedFormat() throws {
        XCTAssertEqual(encoded(.n(try DynamoNumber("12.5"))), [0x03, 0x83, 0x02, 0x03, 0x06, 0x00])
        XCTAssertEqual(encoded(.n(try DynamoNumber("-12.5"))), [0x01, 0x7C, 0xFD, 0xFC, 0xF9, 0xFF])
        XCTAssertEqual(encoded(.n(try DynamoNumber("1.50"))), [0x03, 0x82, 0x02, 0x06, 0x00])
        XCTAssertEqual(encoded(.n(.zero)), [0x02])
        XCTAssertEqual(encoded(.s("a\u{0}b")), [0x61, 0x00, 0xFF, 0x62, 0x00, 0x01])
        XCTAssertEqual(encoded(.b([])), [0x00, 0x01])
    }

    func testOtherTypesAreNotKeys() {
        XCTAssertFalse(KeyEncoding.encode(.bool(true), into: ByteBuffer()))
    }
}
