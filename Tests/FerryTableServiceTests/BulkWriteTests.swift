import FerryExpressions
@testable import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// Bulk commits (docs/table-storage.md, "Bulk commits") against the log path they stand
/// in for: the same groups written both ways must leave byte-identical key spaces
/// (items, GSI and LSI entries, metadata) and identical counts, with keys repeated
/// within and across groups, deletes, sparse index keys and items already stored.
final class BulkWriteTests: XCTestCase {
    private var folder: String!
    private var catalog: TableCatalog!

    override func setUpWithError() throws {
        folder = try TestSupport.temporaryFolder().path
        catalog = try TableCatalog(dataFolder: folder)
        let service = DynamoDBService(catalog: catalog, program: "test")
        for name in ["ByLog", "ByRun"] {
            _ = try service.call("CreateTable", try JSONValue.parse("""
            {"TableName":"\(name)","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},
              {"AttributeName":"kind","AttributeType":"S"},{"AttributeName":"rank","AttributeType":"N"}],
             "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST",
             "GlobalSecondaryIndexes":[{"IndexName":"byKind","KeySchema":[{"AttributeName":"kind","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}],
             "LocalSecondaryIndexes":[{"IndexName":"byRank","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"rank","KeyType":"RANGE"}],
               "Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["note"]}}]}
            """))
        }
        _ = service.close()
    }

    private struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
    }

    /// A group of puts and deletes over a small key space, so keys repeat.
    private func group(_ random: inout Random, size: Int, round: Int) -> [WriteOperation] {
        (0..<size).map { i in
            let key: [(String, AttributeValue)] = [("pk", .s("p\(random.next(20))")), ("sk", .n(DynamoNumber(random.next(10))))]
            if random.next(5) == 0 { return .delete(key: Item(key), condition: nil) }
            var attributes = key + [("note", .s("r\(round)-\(i)")), ("other", .n(DynamoNumber(i)))]
            if random.next(3) != 0 { attributes.append(("kind", .s("k\(random.next(4))"))) }   // sparse GSI
            if random.next(2) == 0 { attributes.append(("rank", .n(DynamoNumber(random.next(100))))) }
            return .put(Item(attributes), condition: nil)
        }
    }

    private func entries(_ table: Table) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try table.snapshot().scan { key, value in out.append(key + [0xAA] + value); return true }
        return out
    }

    func testBulkGroupsLeaveTheSameKeySpacesAndCountsAsLoggedGroups() throws {
        let byLog = try catalog.openForWriting("ByLog", program: "test")
        var byRun = try catalog.openForWriting("ByRun", program: "test")
        var random = Random(state: 99)
        for round in 0..<12 {
            let operations = group(&random, size: 1 + random.next(300), round: round)
            let metadata: [(name: String, value: [UInt8]?)] = [("checkpoint\u{0}t\u{0}lines", Array("\(round)".utf8)), ("checkpoint\u{0}t\u{0}input", Array("i\(round)".utf8))]
            // A refused record among them (no sort key) is reported the same way.
            let logged = try byLog.write(prepared: (operations + [.put(Item([("pk", .s("x"))]), condition: nil)]).map { op in Result { try byLog.prepare(op) } }, metadata: metadata)
            let bulk = try byRun.writeBulk(prepared: (operations + [.put(Item([("pk", .s("x"))]), condition: nil)]).map { op in Result { try byRun.prepare(op, forBulk: true) } }, metadata: metadata)
            XCTAssertEqual(logged.map(Self.kind), bulk.map(Self.kind), "round \(round)")
            XCTAssertEqual(try entries(byLog), try entries(byRun), "round \(round)")
            XCTAssertEqual(byLog.stats, byRun.stats, "round \(round)")
            if round % 4 == 3 {
                // A logged group between bulk ones: the memtable is drained into a run first.
                let extra = group(&random, size: 30, round: 100 + round)
                _ = try byLog.write(extra)
                _ = try byRun.write(extra)
                try byRun.close()
                byRun = try catalog.openForWriting("ByRun", program: "test")
                XCTAssertEqual(try entries(byLog), try entries(byRun), "round \(round), reopened")
                XCTAssertEqual(byLog.stats, byRun.stats, "round \(round), reopened")
            }
        }
        let describedItems = byRun.stats.items
        try byRun.close()
        // Another process reads the runs and the manifest's counts, without the lock.
        let reader = try catalog.openForReading("ByRun")
        XCTAssertEqual(reader.stats.items, describedItems)
        XCTAssertEqual(try entries(reader), try entries(byLog))
        XCTAssertNoThrow(try catalog.verify("ByRun"))
        try byLog.close()
    }

    func testABulkGroupWithConditionsGoesThroughTheLog() throws {
        let table = try catalog.openForWriting("ByRun", program: "test")
        let condition = try ConditionExpression("attribute_not_exists(pk)", context: ExpressionContext())
        let item = Item([("pk", .s("a")), ("sk", .n(DynamoNumber(1)))])
        let outcomes = try table.writeBulk(prepared: [Result { try table.prepare(.put(item, condition: condition), forBulk: true) },
                                                      Result { try table.prepare(.put(item, condition: condition), forBulk: true) }])
        XCTAssertEqual(outcomes.map(Self.kind), ["applied", "conditionFailed"])
        XCTAssertEqual(table.stats.items, 1)
        XCTAssertEqual(table.store?.runCount, 0, "a conditional group is a log commit")
        try table.close()
    }

    /// A typed map as ItemEncoder writes it is stored as it is: the same key, bytes,
    /// size and index entries (KEYS_ONLY and INCLUDE projections cut from its bytes) as
    /// decoding it gives; anything not canonical or not valid is left to the decoder.
    func testCanonicalTypedMapsPrepareAsTheirDecodedItems() throws {
        let table = try catalog.openForWriting("ByRun", program: "test")
        defer { try? table.close() }
        let scanner = CanonicalTypedItem()
        var random = Random(state: 5)
        func value(_ depth: Int) -> AttributeValue {
            switch random.next(depth > 2 ? 5 : 7) {
            case 0: return .s(["", "x", "héllo ☃", "😀", String(repeating: "y", count: 100)][random.next(5)])
            case 1: return .n((try? DynamoNumber(["0", "-7", "120", "0.05", "-12.25", "1E+20", "99999999999999999999999999999999999999"][random.next(7)])) ?? DynamoNumber(0))
            case 2: return .bool(random.next(2) == 0)
            case 3: return .null
            case 4: return .s("v\(random.next(1000))")
            case 5: return .l((0..<random.next(4)).map { _ in value(depth + 1) })
            default: return .m(Item((0..<random.next(4)).map { ("m\($0)", value(depth + 1)) }))
            }
        }
        var stored = 0
        for round in 0..<1500 {
            var attributes: [(String, AttributeValue)] = [("pk", .s("p\(random.next(50))")), ("sk", .n(DynamoNumber(random.next(10))))]
            for i in 0..<random.next(6) { attributes.append(("a\(i)", value(0))) }
            if random.next(2) == 0 { attributes.append(("kind", .s("k\(random.next(3))"))) }
            if random.next(2) == 0 { attributes.append(("rank", .n(DynamoNumber(random.next(100))))) }
            if random.next(3) == 0 { attributes.append(("note", .s("n"))) }
            attributes.shuffle(using: &random)
            let item = Item(attributes)
            let bytes = Table.encodeItem(item)
            let expected = try table.prepare(.put(item, condition: nil), forBulk: true)
            guard let fast = bytes.withUnsafeBytes({ table.prepareCanonicalPut($0, scanner: scanner) }) else {
                XCTFail("round \(round): not taken: \(String(decoding: bytes, as: UTF8.self))")
                continue
            }
            stored += 1
            XCTAssertEqual(fast.key, expected.key, "round \(round)")
            XCTAssertEqual(fast.encoded, expected.encoded, "round \(round)")
            XCTAssertEqual(fast.size, expected.size, "round \(round)")
            XCTAssertEqual(fast.indexEntries.map { [[$0.keyspace]] + [$0.key, $0.value, Array("\($0.size)".utf8)] },
                           expected.indexEntries.map { [[$0.keyspace]] + [$0.key, $0.value, Array("\($0.size)".utf8)] }, "round \(round)")
        }
        XCTAssertEqual(stored, 1500)
        // Not what the encoder writes, or not valid: the decoder's path decides.
        for text in [#"{ "pk":{"S":"a"},"sk":{"N":"1"}}"#, #"{"pk":{"S":"\u0061"},"sk":{"N":"1"}}"#, #"{"pk":{"S":"a"},"sk":{"N":"1.50"}}"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"-0"}}"#, #"{"pk":{"S":"a"},"sk":{"N":"1e3"}}"#, #"{"pk":{"S":"a"},"sk":{"N":"01"}}"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"1"},"pk":{"S":"b"}}"#, #"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AQ=="}}"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"1"},"s":{"SS":["x"]}}"#, #"{"pk":{"S":""},"sk":{"N":"1"}}"#, #"{"pk":{"S":"a"}}"#,
                     #"{"pk":{"N":"1"},"sk":{"N":"1"}}"#, #"{"pk":{"S":"a"},"sk":{"N":"1"},"kind":{"N":"3"}}"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"NULL":false}}"#, #"{"pk":{"S":"a"},"sk":{"N":"1"},"":{"S":"x"}}"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"M":{"a":{"S":"1"},"a":{"S":"2"}}}}"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"S":"\#u{01}"}}"#, #"{"pk":{"S":"a"},"sk":{"N":"1"}}x"#,
                     #"{"pk":{"S":"a"},"sk":{"N":"100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}}"#] {
            XCTAssertNil(Array(text.utf8).withUnsafeBytes { table.prepareCanonicalPut($0, scanner: scanner) }, text)
        }
        let deep = String(repeating: #"{"L":["#, count: 33) + #"{"S":"x"}"# + String(repeating: "]}", count: 33)
        XCTAssertNil(Array((#"{"pk":{"S":"a"},"sk":{"N":"1"},"d":"# + deep + "}").utf8).withUnsafeBytes { table.prepareCanonicalPut($0, scanner: scanner) })
        let big = #"{"pk":{"S":"a"},"sk":{"N":"1"},"d":{"S":""# + String(repeating: "x", count: 400 * 1024) + #""}}"#
        XCTAssertNil(Array(big.utf8).withUnsafeBytes { table.prepareCanonicalPut($0, scanner: scanner) })
    }

    /// A batch large enough to be prepared on several threads (Table.prepareAll) gives
    /// the outcomes, in order, and the key spaces that one thread preparing it gives,
    /// refused operations included at their places.
    func testALargeBatchPreparedOnEveryCoreEqualsOnePreparedInOrder() throws {
        let parallel = try catalog.openForWriting("ByRun", program: "test")
        let serial = try catalog.openForWriting("ByLog", program: "test")
        var random = Random(state: 7)
        var operations = group(&random, size: 3 * Table.operationsPerPrepareThread * 2, round: 0)
        for place in [0, 5, 700, operations.count - 1] { operations[place] = .put(Item([("pk", .s("no sort key \(place)"))]), condition: nil) }
        XCTAssertGreaterThan(operations.count / Table.operationsPerPrepareThread, 1)
        let outcomes = try parallel.write(operations)
        let expected = try serial.write(prepared: operations.map { op in Result { try serial.prepare(op) } })
        XCTAssertEqual(outcomes.map(Self.kind), expected.map(Self.kind))
        XCTAssertEqual(outcomes.filter { if case .rejected = $0 { return true }; return false }.count, 4)
        XCTAssertEqual(try entries(parallel), try entries(serial))
        XCTAssertEqual(parallel.stats, serial.stats)
    }

    private static func kind(_ outcome: WriteOutcome) -> String {
        switch outcome {
        case .applied: return "applied"
        case .conditionFailed: return "conditionFailed"
        case let .rejected(error): return "rejected: \(error)"
        }
    }
}
