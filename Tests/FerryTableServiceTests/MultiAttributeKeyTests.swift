import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// Multi-attribute GSI keys (DynamoDB, November 2025): up to four HASH and four RANGE
/// attributes; queries give every partition attribute and a left-to-right prefix of the
/// sort attributes (docs/ferry-serve.md, "Multi-attribute keys").
final class MultiAttributeKeyTests: XCTestCase, ServiceTestCase {
    private var folder: String!
    var service: DynamoDBService!

    private static let index = """
    {"IndexName":"byMatch","KeySchema":[{"AttributeName":"tournament","KeyType":"HASH"},{"AttributeName":"tier","KeyType":"HASH"},
      {"AttributeName":"stage","KeyType":"RANGE"},{"AttributeName":"seq","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}
    """
    private static let definitions = """
    [{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"tournament","AttributeType":"S"},{"AttributeName":"tier","AttributeType":"S"},
     {"AttributeName":"stage","AttributeType":"S"},{"AttributeName":"seq","AttributeType":"N"}]
    """

    override func setUpWithError() throws {
        folder = try TestSupport.temporaryFolder().path
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
    }



    private func createMatches(withIndex: Bool = true) throws {
        try call("CreateTable", """
        {"TableName":"Matches","AttributeDefinitions":\(withIndex ? Self.definitions : #"[{"AttributeName":"id","AttributeType":"S"}]"#),
         "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"\(withIndex ? #","GlobalSecondaryIndexes":["# + Self.index + "]" : "")}
        """)
        let matches: [(String, String, String?, String, Int)] = [
            ("m1", "winter", "eu", "final", 1), ("m2", "winter", "eu", "semi", 2), ("m3", "winter", "eu", "semi", 10),
            ("m4", "winter", "na", "semi", 1), ("m5", "summer", "eu", "semi", 1), ("m6", "winter", nil, "semi", 3),
        ]
        for (id, t, r, stage, seq) in matches {
            let tier = r.map { #","tier":{"S":"\#($0)"}"# } ?? ""
            try call("PutItem", #"{"TableName":"Matches","Item":{"id":{"S":"\#(id)"},"tournament":{"S":"\#(t)"}\#(tier),"stage":{"S":"\#(stage)"},"seq":{"N":"\#(seq)"}}}"#)
        }
    }

    private func ids(_ condition: String, _ values: String, extra: String = "") throws -> [String] {
        let r = try call("Query", #"{"TableName":"Matches","IndexName":"byMatch","KeyConditionExpression":"\#(condition)","ExpressionAttributeValues":{\#(values)}\#(extra)}"#)
        return r["Items"]?.arrayValue?.compactMap { $0["id"]?["S"]?.stringValue } ?? []
    }

    private let winterEU = #"":t":{"S":"winter"},":r":{"S":"eu"}"#
    private let stageName = ",\"ExpressionAttributeNames\":{\"#stage\":\"stage\"}"

    func testQueriesTakeTheWholePartitionAndASortPrefixInKeyOrder() throws {
        try createMatches()
        let described = try call("DescribeTable", #"{"TableName":"Matches"}"#)["Table"]?["GlobalSecondaryIndexes"]?.arrayValue?.first
        XCTAssertEqual(described?["KeySchema"]?.jsonText,
                       #"[{"AttributeName":"tournament","KeyType":"HASH"},{"AttributeName":"tier","KeyType":"HASH"},{"AttributeName":"stage","KeyType":"RANGE"},{"AttributeName":"seq","KeyType":"RANGE"}]"#)
        XCTAssertEqual(described?["ItemCount"]?.numberText, "5")   // m6 has no tier: not indexed
        // The partition tuple alone, in sort order: stage, then seq as a number (2 before 10).
        XCTAssertEqual(try ids("tournament = :t AND tier = :r", winterEU), ["m1", "m2", "m3"])
        XCTAssertEqual(try ids("tier = :r AND #stage = :stage AND tournament = :t", winterEU + #",":stage":{"S":"semi"}"#,
                               extra: stageName), ["m2", "m3"])
        XCTAssertEqual(try ids("tournament = :t AND tier = :r AND #stage = :stage AND seq > :s", winterEU + #",":stage":{"S":"semi"},":s":{"N":"2"}"#,
                               extra: stageName), ["m3"])
        XCTAssertEqual(try ids("tournament = :t AND tier = :r AND begins_with(#stage, :p)", winterEU + #",":p":{"S":"se"}"#,
                               extra: stageName), ["m2", "m3"])
        XCTAssertEqual(try ids("tournament = :t AND tier = :r AND #stage < :stage", winterEU + #",":stage":{"S":"g"}"#,
                               extra: stageName + #","ScanIndexForward":false"#), ["m1"])
        // Pages carry every key attribute of the index and the table.
        let page = try call("Query", #"{"TableName":"Matches","IndexName":"byMatch","KeyConditionExpression":"tournament = :t AND tier = :r","ExpressionAttributeValues":{\#(winterEU)},"Limit":1}"#)
        let last = try XCTUnwrap(page["LastEvaluatedKey"])
        XCTAssertEqual(Set(last.objectValue?.map(\.key) ?? []), ["id", "tournament", "tier", "stage", "seq"])
        let rest = try ids("tournament = :t AND tier = :r", winterEU, extra: #","ExclusiveStartKey":\#(last.jsonText)"#)
        XCTAssertEqual(rest, ["m2", "m3"])
    }

    func testQueriesThatDoNotFitTheKeyAreRefusedNamingTheAttributes() throws {
        try createMatches()
        XCTAssertThrowsError(try ids("tournament = :t", #"":t":{"S":"winter"}"#)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "Query key condition not supported: every HASH key attribute needs an equality condition; tier has none")
        }
        XCTAssertThrowsError(try ids("tournament = :t AND tier > :r", winterEU)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "Query key condition not supported: every HASH key attribute needs an equality condition; tier has another")
        }
        XCTAssertThrowsError(try ids("tournament = :t AND tier = :r AND seq = :s", winterEU + #",":s":{"N":"1"}"#)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "Query key condition not supported: RANGE key attribute seq needs an equality condition on stage before it")
        }
        XCTAssertThrowsError(try ids("tournament = :t AND tier = :r AND #stage > :stage AND seq = :s", winterEU + #",":stage":{"S":"a"},":s":{"N":"1"}"#,
                                     extra: stageName)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "Query key condition not supported: RANGE key attribute seq follows stage, which needs an equality condition")
        }
        XCTAssertThrowsError(try ids("tournament = :t AND tier = :r AND seq = :s", #"":t":{"S":"winter"},":r":{"N":"1"},":s":{"N":"1"}"#)) { _ in }
    }

    func testKeySchemasAreCheckedWithDynamoDBsMessages() throws {
        func create(_ keySchema: String, local: Bool = false) -> String {
            let index = #"{"IndexName":"ix1","KeySchema":\#(keySchema),"Projection":{"ProjectionType":"ALL"}}"#
            return #"{"TableName":"Bad","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"S"},{"AttributeName":"c","AttributeType":"S"},{"AttributeName":"d","AttributeType":"S"},{"AttributeName":"e","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}\#(local ? #",{"AttributeName":"a","KeyType":"RANGE"}"# : "")],"BillingMode":"PAY_PER_REQUEST","\#(local ? "LocalSecondaryIndexes" : "GlobalSecondaryIndexes")":[\#(index)]}"#
        }
        func key(_ name: String, _ type: String) -> String { #"{"AttributeName":"\#(name)","KeyType":"\#(type)"}"# }
        refused("CreateTable", create("[" + ["a", "b", "c", "d", "e"].map { key($0, "HASH") }.joined(separator: ",") + "]"),
                "One or more parameter values were invalid: The KeySchema exceeds the maximum allowed number of HASH key attributes")
        refused("CreateTable", create("[" + key("id", "HASH") + "," + ["a", "b", "c", "d", "e"].map { key($0, "RANGE") }.joined(separator: ",") + "]"),
                "One or more parameter values were invalid: The KeySchema exceeds the maximum allowed number of RANGE key attributes")
        refused("CreateTable", create("[" + [key("a", "HASH"), key("b", "RANGE"), key("c", "HASH")].joined(separator: ",") + "]"),
                "One or more parameter values were invalid: All HASH key attributes must precede RANGE key attributes in the KeySchema")
        refused("CreateTable", create("[" + [key("a", "HASH"), key("b", "HASH"), key("a", "RANGE")].joined(separator: ",") + "]"),
                "The KeySchema contains multiple key attributes with the same name")
        refused("CreateTable", create("[" + [key("id", "HASH"), key("b", "RANGE"), key("c", "RANGE")].joined(separator: ",") + "]", local: true),
                "1 validation error detected: Value '3' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
        XCTAssertEqual(try call("ListTables", "{}").jsonText, #"{"TableNames":[]}"#)
    }

    func testAnIndexAddedLaterIsBackfilledAndSurvivesReopening() throws {
        try createMatches(withIndex: false)
        try call("UpdateTable", #"{"TableName":"Matches","AttributeDefinitions":\#(Self.definitions),"GlobalSecondaryIndexUpdates":[{"Create":\#(Self.index)}]}"#)
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        XCTAssertEqual(try ids("tournament = :t AND tier = :r", winterEU), ["m1", "m2", "m3"])
        try call("UpdateItem", ##"{"TableName":"Matches","Key":{"id":{"S":"m1"}},"UpdateExpression":"SET #r = :r","ExpressionAttributeNames":{"#r":"tier"},"ExpressionAttributeValues":{":r":{"S":"na"}}}"##)
        XCTAssertEqual(try ids("tournament = :t AND tier = :r", winterEU), ["m2", "m3"])
        let definitions = try call("DescribeTable", #"{"TableName":"Matches"}"#)["Table"]?["AttributeDefinitions"]?.arrayValue?.compactMap { $0["AttributeName"]?.stringValue }
        XCTAssertEqual(definitions, ["id", "seq", "stage", "tier", "tournament"])   // sorted by name, as DynamoDB describes them
    }
}
