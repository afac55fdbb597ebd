import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// Time to live (docs/ferry-serve.md, "Time to live"): DynamoDB's UpdateTimeToLive and
/// DescribeTimeToLive, and the sweep that deletes expired items under a test clock.
final class TimeToLiveTests: XCTestCase, ServiceTestCase {
    var service: DynamoDBService!
    private let now = 1_800_000_000

    override func setUpWithError() throws {
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: try TestSupport.temporaryFolder().path), program: "ferry-table")
        try call("CreateTable", """
        {"TableName":"Sessions","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"user","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
         "GlobalSecondaryIndexes":[{"IndexName":"byUser","KeySchema":[{"AttributeName":"user","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}
        """)
        setenv("FERRY_TEST_NOW", String(now), 1)
    }

    override func tearDown() { unsetenv("FERRY_TEST_NOW") }



    private func enable(_ attribute: String = "expires", _ enabled: Bool = true) throws -> String {
        try call("UpdateTimeToLive", #"{"TableName":"Sessions","TimeToLiveSpecification":{"Enabled":\#(enabled),"AttributeName":"\#(attribute)"}}"#).jsonText
    }

    func testUpdateAndDescribeTimeToLiveAnswerAsDynamoDB() throws {
        XCTAssertEqual(try call("DescribeTimeToLive", #"{"TableName":"Sessions"}"#).jsonText, #"{"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}}"#)
        XCTAssertEqual(try enable(), #"{"TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}}"#)
        XCTAssertEqual(try call("DescribeTimeToLive", #"{"TableName":"Sessions"}"#).jsonText,
                       #"{"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"expires"}}"#)
        refused("UpdateTimeToLive", #"{"TableName":"Sessions","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}}"#, "TimeToLive is already enabled")
        refused("UpdateTimeToLive", #"{"TableName":"Sessions","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"other"}}"#,
                "TimeToLive is active on a different AttributeName: current AttributeName is expires")
        XCTAssertEqual(try enable("expires", false), #"{"TimeToLiveSpecification":{"Enabled":false,"AttributeName":"expires"}}"#)
        refused("UpdateTimeToLive", #"{"TableName":"Sessions","TimeToLiveSpecification":{"Enabled":false,"AttributeName":"expires"}}"#, "TimeToLive is already disabled")
        refused("UpdateTimeToLive", #"{"TableName":"Sessions","TimeToLiveSpecification":{"Enabled":true,"AttributeName":""}}"#,
                "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1")
        refused("UpdateTimeToLive", #"{"TableName":"Sessions","TimeToLiveSpecification":{"AttributeName":"x"}}"#,
                "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
        refused("UpdateTimeToLive", #"{"TableName":"Sessions"}"#,
                "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
        refused("DescribeTimeToLive", #"{"TableName":"Nope"}"#, "Requested resource not found: Table: Nope not found")
    }

    /// Past, future, exactly now, five years back, non-number and missing values under
    /// the test clock: only the past ones within five years go, with their index entries.
    func testASweepDeletesOnlyItemsWhoseTimeHasPassed() throws {
        let items: [(String, String)] = [
            ("past", #"{"N":"\#(now - 10)"}"#), ("fraction", #"{"N":"\#(now - 1).5"}"#), ("exponent", #"{"N":"1.7999999E9"}"#),
            ("future", #"{"N":"\#(now + 10)"}"#), ("now", #"{"N":"\#(now)"}"#), ("ancient", #"{"N":"\#(now - 5 * 365 * 86_400 - 1)"}"#),
            ("text", #"{"S":"\#(now - 10)"}"#), ("none", ""),
        ]
        for (id, ttl) in items {
            try call("PutItem", #"{"TableName":"Sessions","Item":{"id":{"S":"\#(id)"},"user":{"S":"u"}\#(ttl.isEmpty ? "" : #","expires":"# + ttl)}}"#)
        }
        XCTAssertEqual(try service.sweepExpiredItems(), [])   // no table has it on yet
        _ = try enable()
        XCTAssertEqual(try service.sweepExpiredItems(), [.init(table: "Sessions", scanned: 8, deleted: 3)])
        let left = try call("Scan", #"{"TableName":"Sessions"}"#)["Items"]?.arrayValue?.compactMap { $0["id"]?["S"]?.stringValue }.sorted()
        XCTAssertEqual(left, ["ancient", "future", "none", "now", "text"])
        let byUser = try call("Query", ##"{"TableName":"Sessions","IndexName":"byUser","KeyConditionExpression":"#u = :u","ExpressionAttributeNames":{"#u":"user"},"ExpressionAttributeValues":{":u":{"S":"u"}}}"##)
        XCTAssertEqual(byUser["Count"]?.numberText, "5")
        XCTAssertEqual(try call("DescribeTable", #"{"TableName":"Sessions"}"#)["Table"]?["ItemCount"]?.numberText, "5")
        XCTAssertEqual(try service.sweepExpiredItems(["Sessions"]), [.init(table: "Sessions", scanned: 5, deleted: 0)])
        // Time moves on: the future one goes too.
        setenv("FERRY_TEST_NOW", String(now + 11), 1)
        XCTAssertEqual(try service.sweepExpiredItems(["Sessions"]), [.init(table: "Sessions", scanned: 5, deleted: 2)])
    }

    /// A table another process holds is left to it; the sweep goes on with the others.
    func testASweepSkipsATableHeldElsewhereAndSweepsTheRest() throws {
        for name in ["Aaa", "Bbb"] {
            try call("CreateTable", #"{"TableName":"\#(name)","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#)
            try call("UpdateTimeToLive", #"{"TableName":"\#(name)","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}}"#)
            try call("PutItem", #"{"TableName":"\#(name)","Item":{"id":{"S":"old"},"expires":{"N":"\#(now - 1)"}}}"#)
        }
        let server = DynamoDBService(catalog: service.catalog, program: "ferry-serve at http://127.0.0.1:1", access: .held)
        defer { _ = server.close() }
        _ = try server.call("DescribeTable", try JSONValue.parse(#"{"TableName":"Aaa"}"#))   // holds Aaa's writer
        XCTAssertEqual(try service.sweepExpiredItems(), [.init(table: "Bbb", scanned: 1, deleted: 1)])
    }
}
