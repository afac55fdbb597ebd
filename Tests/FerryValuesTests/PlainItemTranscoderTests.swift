import FerryIO
import FerryValues
import XCTest

/// The plain-to-typed fast path (ferry-extract's hot loop) against the path it stands
/// in for, decoding the line and writing the item typed: where it takes a line, the
/// bytes must be the same; where the decoder refuses a line, it must not take it.
final class PlainItemTranscoderTests: XCTestCase {
    private let transcoder = PlainItemTranscoder()
    private let decoder = ItemDecoder(spelling: .auto)

    /// What the decoder's path writes for `line`, nil when it refuses it.
    private func reference(_ line: [UInt8]) -> [UInt8]? {
        guard case let .item(item)? = try? line.withUnsafeBytes({ try decoder.decodeRecord($0) }),
              (try? ItemRules.checkSize(item)) != nil else { return nil }
        let out = ByteBuffer(capacity: 256)
        ItemEncoder.writeTyped(item, into: out)
        return out.array
    }

    private func fast(_ line: [UInt8]) -> [UInt8]? {
        let out = ByteBuffer(capacity: 256)
        out.append("prefix")
        let taken = line.withUnsafeBytes { transcoder.transcode($0, into: out) }
        if !taken {
            XCTAssertEqual(out.array, Array("prefix".utf8), "a refused line leaves the buffer as it was")
            return nil
        }
        return Array(out.array.dropFirst(6))
    }

    func testRandomPlainItemsTranscodeAsTheDecoderWritesThem() {
        var seed: UInt64 = 31
        func random(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        func value(_ depth: Int) -> AttributeValue {
            switch random(depth > 3 ? 5 : 7) {
            case 0: return .s(["", "plain", "héllo ☃", "😀", String(repeating: "z", count: random(40))][random(5)])
            case 1: return .n((try? DynamoNumber(["0", "-1", "42", "3.25", "-0.001", "1E+25", "12345678901234567890123456789012345678"][random(7)])) ?? DynamoNumber(0))
            case 2: return .bool(random(2) == 0)
            case 3: return .null
            case 4: return .s("v\(random(100))")
            case 5: return .l((0..<random(4)).map { _ in value(depth + 1) })
            default: return .m(Item((0..<random(4)).map { ("k\($0)", value(depth + 1)) }))
            }
        }
        var taken = 0
        for round in 0..<3000 {
            var attributes: [(String, AttributeValue)] = [("id", .s("i\(round)"))]
            for i in 0..<random(8) { attributes.append(("a\(i)", value(0))) }
            let out = ByteBuffer(capacity: 256)
            ItemEncoder.writePlain(Item(attributes), into: out)
            let line = out.array
            let expected = reference(line)
            XCTAssertNotNil(expected)
            XCTAssertEqual(fast(line), expected, "round \(round): \(String(decoding: line, as: UTF8.self))")
            taken += 1
        }
        XCTAssertEqual(taken, 3000)
    }

    func testLinesTheDecoderRefusesOrSpellsDifferentlyAreLeftToIt() {
        let cases = [
            #"{"id": "a", "n": 1.50, "f": 1e3, "z": -0}"#,                 // whitespace, numbers to canonicalise: taken
            #"{"id":"a","s":"\u00e9"}"#, #"{"id":"a","s":"tab\there"}"#,      // escapes: the decoder's
            #"{"id":"a","id":"b"}"#, #"{"":1}"#, #"{"id":"a","m":{"":1}}"#,    // repeated or empty names
            #"{"id":{"S":"typed"}}"#, #"{"Item":{"id":{"S":"x"}}}"#, #"{"Item":"x"}"#,
            #"{"ferry:barrier":{"source":"s"}}"#, #"{"ferry:x":1}"#, "{}", "[]", "", "   ",
            #"{"id":"a","n":1e400}"#, #"{"id":"a","n":123456789012345678901234567890123456789}"#,
            #"{"id":"a","n":01}"#, #"{"id":"a","n":1.}"#, #"{"id":"a","n":-}"#, #"{"id":"a","n":.5}"#,
            #"{"id":"a"} x"#, #"{"id":"a",}"#, #"{"id":"a""#, #"{"id":tru}"#, #"{"id":nul}"#,
            "{\"id\":\"\u{01}\"}", "{\"id\":\"a\u{7F}\"}",
            #"{"id":"a","l":[1,2,,3]}"#, #"{"id":"a","l":[]}"#, #"{"id":"a","m":{}}"#,
            #"{"id":"a","s":"x"}"# + "\n",
        ]
        for text in cases {
            let line = Array(text.utf8)
            let expected = reference(line)
            if let got = fast(line) { XCTAssertEqual(got, expected, text) }
        }
        // Whitespace and numbers in other spellings are taken, written as the decoder writes them.
        XCTAssertEqual(fast(Array(#"{"id": "a", "n": 1.50, "f": 1e3, "z": -0}"#.utf8)).map { String(decoding: $0, as: UTF8.self) },
                       #"{"Item":{"id":{"S":"a"},"n":{"N":"1.5"},"f":{"N":"1000"},"z":{"N":"0"}}}"#)
        // Invalid UTF-8, deep nesting and 400 KB are never taken.
        XCTAssertNil(fast([UInt8](#"{"id":""#.utf8) + [0xC0, 0x80] + [UInt8](#""}"#.utf8)))
        XCTAssertNil(fast([UInt8](#"{"id":""#.utf8) + [0xE2, 0x82] + [UInt8](#""}"#.utf8)))
        let deep = #"{"id":"a","d":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"
        XCTAssertNil(fast(Array(deep.utf8)))
        XCTAssertNil(fast(Array((#"{"id":""# + String(repeating: "x", count: 400 * 1024) + #""}"#).utf8)))
    }
}
