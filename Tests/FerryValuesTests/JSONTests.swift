import FerryIO
import FerryTestSupport
import FerryValues
import Foundation
import XCTest

final class JSONTests: XCTestCase {
    /// nst/JSONTestSuite: y_ accepted, n_ rejected, i_ either; none may crash or hang.
    func testPublishedJSONTestSuite() throws {
        let folder = TestSupport.fixture("json-test-suite/test_parsing")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertGreaterThan(names.count, 300)
        var accepted = 0, rejected = 0
        for name in names where name.hasSuffix(".json") {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            let ok = (try? JSONValue.parse(bytes)) != nil
            if name.hasPrefix("y_") { XCTAssertTrue(ok, "\(name) should be accepted") }
            if name.hasPrefix("n_") { XCTAssertFalse(ok, "\(name) should be rejected") }
            if ok { accepted += 1 } else { rejected += 1 }
        }
        XCTAssertGreaterThanOrEqual(accepted, 95)
        XCTAssertGreaterThanOrEqual(rejected, 188)
    }

    func testErrorsGiveLineAndColumn() {
        XCTAssertThrowsError(try JSONValue.parse("{\"a\": 1,\n  \"b\" 2}")) {
            XCTAssertEqual("\($0)", "invalid JSON at line 2, column 7: unexpected character '2', expected ':' after object key")
        }
        XCTAssertThrowsError(try JSONValue.parse("[1, 2")) {
            XCTAssertEqual("\($0)", "invalid JSON at line 1, column 6: unexpected end of input, expected ',' or ']' after array element")
        }
        XCTAssertThrowsError(try JSONValue.parse("\"a\u{1}\"")) {
            XCTAssertEqual("\($0)", "invalid JSON at line 1, column 3: control character in string must be escaped")
        }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0x61, 0xC3, 0x28, 0x22])) {
            XCTAssertEqual("\($0)", "invalid JSON at line 1, column 4: invalid UTF-8 in string")
        }
        XCTAssertThrowsError(try JSONValue.parse("\"\\ud800\"")) {
            XCTAssertEqual("\($0)", "invalid JSON at line 1, column 2: unpaired surrogate in \\u escape")
        }
        XCTAssertThrowsError(try JSONValue.parse("01")) {
            XCTAssertEqual("\($0)", "invalid JSON at line 1, column 2: unexpected data after the JSON value")
        }
    }

    func testDeepNestingIsRefusedNotAStackOverflow() {
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSONValue.parse(deep)) {
            XCTAssertEqual("\($0)", "invalid JSON at line 1, column 513: nesting deeper than 512 levels")
        }
    }

    func testEscapesAndSurrogatePairsDecode() throws {
        let value = try JSONValue.parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\ud83d\ude00", "é😀"]"#)
        XCTAssertEqual(value, .array([.string("\"\\/\u{8}\u{c}\n\r\t"), .string("é😀"), .string("é😀")]))
    }

    func testNumbersKeepTheirExactText() throws {
        XCTAssertEqual(try JSONValue.parse("[1.50, -0, 1E400, 123456789012345678901234567890]"),
                       .array([.number("1.50"), .number("-0"), .number("1E400"), .number("123456789012345678901234567890")]))
    }

    func testWriterEscapesOnlyWhatItMust() throws {
        let value = JSONValue.object([JSONMember("k\"", .string("a\\b\n\u{1}é/")), JSONMember("n", .number("1.5"))])
        XCTAssertEqual(value.jsonText, #"{"k\"":"a\\b\n\u0001é/","n":1.5}"#)
        XCTAssertEqual(try JSONValue.parse(value.jsonText), value)
    }

    func testLongStringsCrossTheFastPathCorrectly() throws {
        // Quotes, escapes and multi-byte characters at every offset of the 8-byte fast path.
        for offset in 0..<17 {
            let prefix = String(repeating: "x", count: offset)
            for tail in ["\\\"", "é", "😀", "\\u0041"] {
                let text = "\"\(prefix)\(tail)yyyyyyyy\""
                let expected = prefix + (tail == "\\\"" ? "\"" : tail == "\\u0041" ? "A" : tail) + "yyyyyyyy"
                XCTAssertEqual(try JSONValue.parse(text), .string(expected), text)
            }
        }
    }
}
