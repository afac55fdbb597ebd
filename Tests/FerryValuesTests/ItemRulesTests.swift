import FerryIO
import FerryValues
import XCTest

final class ItemRulesTests: XCTestCase {
    private let schema = KeySchema(partition: KeyAttribute(name: "pk", type: .s), sort: KeyAttribute(name: "sk", type: .n))

    private func keyError(_ item: Item) -> String {
        do { try schema.validateKey(of: item); return "no error" } catch { return "\(error)" }
    }

    func testSizeFollowsDynamoDBsFormula() throws {
        // Names count; S by UTF-8 bytes; N one byte per two digits plus one; BOOL/NULL one byte.
        XCTAssertEqual(ItemRules.size(of: Item([("id", .s("héllo"))])), 2 + 6)
        XCTAssertEqual(ItemRules.size(of: Item([("n", .n(try DynamoNumber("123.45")))])), 1 + 4)
        XCTAssertEqual(ItemRules.size(of: Item([("f", .bool(true)), ("z", .null)])), 2 + 2)
        XCTAssertEqual(ItemRules.size(of: Item([("b", .b([1, 2, 3]))])), 1 + 3)
        // Lists and maps: 3 bytes plus 1 per element, map keys counted.
        XCTAssertEqual(ItemRules.size(of: Item([("l", .l([.s("ab"), .null]))])), 1 + 3 + (1 + 2) + (1 + 1))
        XCTAssertEqual(ItemRules.size(of: Item([("m", .m(Item([("k", .s("v"))])))])), 1 + 3 + (1 + 1 + 1))
        XCTAssertEqual(ItemRules.size(of: Item([("e", .m(Item()))])), 1 + 3)
        XCTAssertEqual(ItemRules.size(of: Item([("ss", .ss(["a", "bc"])), ("ns", .ns([DynamoNumber(10), DynamoNumber(7)]))])), 2 + 3 + 2 + 4)
    }

    /// The size worked out from stored bytes (scans and queries that copy them) is the
    /// size of the decoded item, for every type, nesting, escapes and whitespace; what it
    /// does not expect is nil, never a wrong size.
    func testSizeFromStoredBytesEqualsTheDecodedItemsSize() throws {
        var seed: UInt64 = 2026
        func random(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        func value(_ depth: Int) -> AttributeValue {
            switch random(depth > 3 ? 9 : 11) {
            case 0: return .s(["", "plain", "héllo ☃", "quote \" and \\ slash", "tab\tnew\nline", "😀 astral"][random(6)])
            case 1: return .n((try? DynamoNumber(["0", "-1", "123.456", "1E+30", "-0.000001", "99999999999999999999999999999999999999"][random(6)])) ?? DynamoNumber(0))
            case 2: return .b([UInt8](repeating: 7, count: random(9)))
            case 3: return .bool(random(2) == 0)
            case 4: return .null
            case 5: return .ss(["a", "bé", "c\"d"].prefix(1 + random(3)).map { $0 })
            case 6: return .ns([DynamoNumber(1), DynamoNumber(22), DynamoNumber(-333)].prefix(1 + random(3)).map { $0 })
            case 7: return .bs([[1], [2, 3], []].prefix(1 + random(3)).map { $0 })
            case 8: return .s(String(repeating: "x", count: random(300)))
            case 9: return .l((0..<random(4)).map { _ in value(depth + 1) })
            default: return .m(Item((0..<random(4)).map { ("k\($0)é", value(depth + 1)) }))
            }
        }
        for round in 0..<2000 {
            let item = Item((0..<(1 + random(8))).map { ("attr\($0)\(["", "\"", "☃"][random(3)])", value(0)) })
            let out = ByteBuffer(capacity: 256)
            ItemEncoder.writeTypedMap(item, into: out)
            XCTAssertEqual(out.array.withUnsafeBytes { StoredItemSize.of($0) }, ItemRules.size(of: item), "round \(round): \(String(decoding: out.array, as: UTF8.self))")
        }
        // Whitespace is allowed; what is not an item's typed map is nil.
        let spaced = Array(#" { "a" : { "L" : [ { "S" : "xy" } , { "NULL" : true } ] } } "#.utf8)
        XCTAssertEqual(spaced.withUnsafeBytes { StoredItemSize.of($0) }, 1 + 3 + (1 + 2) + (1 + 1))
        for bad in [#"{"a":{"Q":"x"}}"#, #"{"a":{"S":1}}"#, #"{"a":{"NULL":null}}"#, #"{"a":{"N":"x"}}"#, #"{"a":{"S":"x"}"#, "[]", #"{"a":{"B":"abc"}}"#] {
            XCTAssertNil(Array(bad.utf8).withUnsafeBytes { StoredItemSize.of($0) }, bad)
        }
        // Deeper than DynamoDB's 32 levels is refused, not recursed into.
        let deep = String(repeating: #"{"a":{"M":"#, count: 40_000) + "{}" + String(repeating: "}}", count: 40_000)
        XCTAssertNil(Array(("{\"x\":{\"M\":" + deep + "}}").utf8).withUnsafeBytes { StoredItemSize.of($0) })
    }

    func testItemOf400KBIsTheLimit() throws {
        let atLimit = Item([("d", .s(String(repeating: "x", count: 400 * 1024 - 1)))])
        XCTAssertEqual(try ItemRules.validate(atLimit), 409_600)
        let over = Item([("d", .s(String(repeating: "x", count: 400 * 1024)))])
        XCTAssertThrowsError(try ItemRules.validate(over)) {
            XCTAssertEqual("\($0)", "Item size has exceeded the maximum allowed size")
        }
    }

    func testValidateChecksSetsBuiltInCode() {
        XCTAssertThrowsError(try ItemRules.validate(Item([("t", .l([.bs([])]))]))) {
            XCTAssertEqual("\($0)", "attribute t[0]: One or more parameter values were invalid: An binary set  may not be empty")
        }
        let many = (0..<20).map { "m\($0)" } + ["m3"]
        XCTAssertThrowsError(try ItemRules.validate(Item([("s", .ss(many))])))
    }

    func testKeyRulesUseDynamoDBWording() throws {
        let invalid = "One or more parameter values were invalid: "
        XCTAssertEqual(keyError(Item([("pk", .s("a")), ("sk", .n(DynamoNumber(1)))])), "no error")
        XCTAssertEqual(keyError(Item([("sk", .n(DynamoNumber(1)))])), "\(invalid)Missing the key pk in the item")
        XCTAssertEqual(keyError(Item([("pk", .n(DynamoNumber(1))), ("sk", .n(DynamoNumber(1)))])),
                       "\(invalid)Type mismatch for key pk expected: S actual: N")
        XCTAssertEqual(keyError(Item([("pk", .s("")), ("sk", .n(DynamoNumber(1)))])),
                       "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk")
        XCTAssertEqual(keyError(Item([("pk", .s(String(repeating: "k", count: 2049))), ("sk", .n(DynamoNumber(1)))])),
                       "\(invalid)Size of hashkey has exceeded the maximum size limit of2048 bytes")
        XCTAssertEqual(keyError(Item([("pk", .s(String(repeating: "k", count: 2048))), ("sk", .n(DynamoNumber(1)))])), "no error")
        let binarySchema = KeySchema(partition: KeyAttribute(name: "id", type: .b), sort: KeyAttribute(name: "r", type: .s))
        XCTAssertThrowsError(try binarySchema.validateKey(of: Item([("id", .b([])), ("r", .s("x"))]))) {
            XCTAssertEqual("\($0)", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: id")
        }
        XCTAssertThrowsError(try binarySchema.validateKey(of: Item([("id", .b([1])), ("r", .s(String(repeating: "r", count: 1025)))]))) {
            XCTAssertEqual("\($0)", "\(invalid)Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
        }
    }
}
