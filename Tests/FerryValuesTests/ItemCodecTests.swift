import FerryIO
import FerryTestSupport
import FerryValues
import Foundation
import XCTest

final class ItemCodecTests: XCTestCase {
    private let auto = ItemDecoder()

    private func typedLine(_ item: Item) -> String {
        let out = ByteBuffer()
        ItemEncoder.writeTyped(item, into: out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    private func plainLine(_ item: Item) -> String {
        let out = ByteBuffer()
        ItemEncoder.writePlain(item, into: out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    private func decodeError(_ text: String, spelling: ItemSpelling = .auto) -> String {
        do {
            _ = try ItemDecoder(spelling: spelling).decodeItem(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testAmazonExportLinesRoundTripByteForByte() throws {
        let text = String(decoding: try TestSupport.fixtureBytes("items/amazon-export-lines.json"), as: UTF8.self)
        for line in text.split(separator: "\n") {
            let item = try auto.decodeItem(String(line))
            XCTAssertEqual(typedLine(item), String(line))
        }
    }

    func testEveryTypeDecodesFromTypedJSON() throws {
        let text = String(decoding: try TestSupport.fixtureBytes("items/amazon-export-lines.json"), as: UTF8.self)
        let item = try auto.decodeItem(String(text.split(separator: "\n")[1]))
        XCTAssertEqual(item["Price"], .n(try DynamoNumber("0.99")))
        XCTAssertEqual(item["Genres"], .ss(["Rock", "Pop"]))   // sets compare unordered
        XCTAssertEqual(item["Ratings"], .ns([try DynamoNumber("5"), try DynamoNumber("4.5")]))
        XCTAssertEqual(item["Cover"], .b([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        XCTAssertEqual(item["Samples"], .bs([[0, 1], [2, 3]]))
        XCTAssertEqual(item["Live"], .bool(false))
        XCTAssertEqual(item["Notes"], .null)
        XCTAssertEqual(item["Tracks"], .l([.s("Intro"), .n(DynamoNumber(2))]))
        XCTAssertEqual(item["Label"], .m(AttributeMap([("Name", .s("Ferry Records")), ("Founded", .n(DynamoNumber(1999)))])))
    }

    func testPlainJSONMapsAsBoto3TypeSerializerDoes() throws {
        let text = String(decoding: try TestSupport.fixtureBytes("items/plain.jsonl"), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        let first = try auto.decodeItem(lines[0])
        XCTAssertEqual(typedLine(first),
            #"{"Item":{"id":{"S":"order-1"},"qty":{"N":"3"},"price":{"N":"19.9"},"paid":{"BOOL":true},"coupon":{"NULL":true},"lines":{"L":[{"M":{"sku":{"S":"A-1"},"n":{"N":"2"}}},{"M":{"sku":{"S":"B-7"},"n":{"N":"1"}}}]},"meta":{"M":{"source":{"S":"web"}}}}}"#)
        let second = try auto.decodeItem(lines[1])
        XCTAssertEqual(plainLine(second), #"{"id":"order-2","qty":-150,"price":0,"paid":false,"coupon":"","lines":[],"meta":{}}"#)
    }

    func testAutoDetectsTheBareTypedMap() throws {
        let item = try auto.decodeItem(#"{"id":{"S":"1"},"n":{"N":"2"}}"#)
        XCTAssertEqual(item["n"], .n(DynamoNumber(2)))
        // Forced plain reads the same text as nested maps.
        let plain = try ItemDecoder(spelling: .plain).decodeItem(#"{"id":{"S":"1"}}"#)
        XCTAssertEqual(plain["id"], .m(AttributeMap([("S", .s("1"))])))
    }

    func testControlLinesAreRecognised() throws {
        let line = #"{"ferry:barrier":{"source":"s3://b/k","line":10,"complete":false}}"#
        guard case let .control(name, body) = try auto.decodeRecord(Array(line.utf8)) else { return XCTFail() }
        XCTAssertEqual(name, "ferry:barrier")
        XCTAssertEqual(body["ferry:barrier"]?["line"], .number("10"))
    }

    func testTypedAndPlainRoundTripEveryType() throws {
        let item = Item([
            ("s", .s("tab\there \"quoted\" é😀")), ("n", .n(try DynamoNumber("-12.5e-3"))), ("b", .b([0, 255, 7])),
            ("t", .bool(true)), ("z", .null), ("ss", .ss(["a", "b"])), ("ns", .ns([DynamoNumber(1), DynamoNumber(2)])),
            ("bs", .bs([[1], [2, 3]])), ("l", .l([.s(""), .l([]), .m(Item())])),
            ("m", .m(Item([("deep", .m(Item([("x", .n(DynamoNumber(0)))])))]))),
        ])
        XCTAssertEqual(try auto.decodeItem(typedLine(item)), item)
        XCTAssertEqual(typedLine(try auto.decodeItem(typedLine(item))), typedLine(item))
        XCTAssertEqual(plainLine(item),
            #"{"s":"tab\there \"quoted\" é😀","n":-0.0125,"b":"AP8H","t":true,"z":null,"ss":["a","b"],"ns":[1,2],"bs":["AQ==","AgM="],"l":["",[],{}],"m":{"deep":{"x":0}}}"#)
    }

    func testBadItemsAreRefusedWithDynamoDBWording() {
        let invalid = "One or more parameter values were invalid: "
        XCTAssertEqual(decodeError(#"{"Item":{"s":{"SS":[]}}}"#), "attribute s: \(invalid)An string set  may not be empty")
        XCTAssertEqual(decodeError(#"{"Item":{"n":{"NS":[]}}}"#), "attribute n: \(invalid)An number set  may not be empty")
        XCTAssertEqual(decodeError(#"{"Item":{"s":{"SS":["a","b","a"]}}}"#),
                       "attribute s: \(invalid)Input collection [a, b, a] contains duplicates.")
        XCTAssertEqual(decodeError(#"{"Item":{"n":{"NS":["1","1.0"]}}}"#),
                       "attribute n: \(invalid)Input collection [1, 1] contains duplicates.")
        XCTAssertEqual(decodeError(#"{"Item":{"z":{"NULL":false}}}"#), "attribute z: \(invalid)Null attribute value types must have the value of true")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{}}}"#),
                       "attribute a: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{"S":"x","N":"1"}}}"#),
                       "attribute a: Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{"X":"1"}}}"#),
                       "attribute a: unknown DynamoDB type 'X' (expected one of S, N, B, BOOL, NULL, M, L, SS, NS, BS)")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{"N":"abc"}}}"#), "attribute a: The parameter cannot be converted to a numeric value: abc")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{"N":1}}}"#), "attribute a: N value must be a number in a JSON string")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{"B":"!!!!"}}}"#), "attribute a: Invalid Base64 value in a binary attribute")
        XCTAssertEqual(decodeError(#"{"Item":{"m":{"M":{"l":{"L":[{"S":"ok"},{"BOOL":"yes"}]}}}}}"#),
                       "attribute m.l[1]: BOOL value must be true or false")
        XCTAssertEqual(decodeError(#"{"Item":{"a":{"S":"x"}},"Other":1}"#), "unexpected key 'Other' beside 'Item'")
        XCTAssertEqual(decodeError(#"{"a":1,"a":2}"#), "duplicate attribute name 'a'")
        XCTAssertEqual(decodeError(#"{"a":1e400}"#), "attribute a: Number overflow. Attempting to store a number with magnitude larger than supported range")
        XCTAssertEqual(decodeError("[1,2]"), "an item must be a JSON object")
        XCTAssertEqual(decodeError(#"{"a":"x"#), "invalid JSON at line 1, column 8: unterminated string")
        XCTAssertEqual(decodeError(""), "invalid JSON at line 1, column 1: unexpected end of input, expected a JSON object")
    }

    /// DynamoDB compares strings by bytes: precomposed and decomposed "é" are different
    /// values, although Swift's String == calls them equal.
    func testStringsCompareByUTF8BytesNotUnicodeEquivalence() throws {
        let nfc = "\u{E9}", nfd = "e\u{301}"
        XCTAssertNotEqual(AttributeValue.s(nfc), AttributeValue.s(nfd))
        XCTAssertEqual(decodeError("{\"Item\":{\"s\":{\"SS\":[\"\(nfc)\",\"\(nfd)\"]}}}"), "no error")
        let item = try auto.decodeItem("{\"\(nfc)\":1,\"\(nfd)\":2}")
        XCTAssertEqual(item.count, 2)
        XCTAssertEqual(item[nfd], .n(DynamoNumber(2)))
        XCTAssertEqual(item[nfc], .n(DynamoNumber(1)))
    }

    func testNestingLimitIs32Levels() {
        func nested(_ levels: Int) -> String {
            String(repeating: #"{"a":"#, count: levels) + "1" + String(repeating: "}", count: levels)
        }
        // The item's own object plus 31 maps puts the number at level 32: accepted; one
        // more map puts it at level 33, under 33 attribute names.
        XCTAssertEqual(decodeError(nested(32)), "no error")
        XCTAssertEqual(decodeError(nested(33)),
            "attribute " + Array(repeating: "a", count: 33).joined(separator: ".") +
            ": Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")
    }

    func testTypedValueDecodesAlone() throws {
        let value = try Array(#"{"L":[{"N":"1"},{"S":"x"}]}"#.utf8).withUnsafeBytes { try ItemDecoder.decodeTypedValue($0) }
        XCTAssertEqual(value, .l([.n(DynamoNumber(1)), .s("x")]))
    }
}
