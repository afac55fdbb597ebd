import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// The service as ferry-serve runs it (`TableAccess.held`): many threads, one long-lived
/// writer per table, group commit; and the request-member rules both modes share.
final class HeldServiceTests: XCTestCase, ServiceTestCase {
    private var folder: String!
    var service: DynamoDBService!

    override func setUpWithError() throws {
        folder = try TestSupport.temporaryFolder().path
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-serve at http://127.0.0.1:1", access: .held)
        try call("CreateTable", """
        {"TableName":"Ctr","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}
        """)
    }

    override func tearDown() { _ = service?.close() }



    func testConcurrentUpdatesShareCommitsAndLoseNothing() throws {
        let threads = 8, updates = 300, keys = 10
        let failures = Mutexed<[String]>([])
        let service = self.service!
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<updates {
                do {
                    _ = try service.call("UpdateItem", try JSONValue.parse("""
                    {"TableName":"Ctr","Key":{"k":{"S":"k\((t * updates + i) % keys)"}},"UpdateExpression":"ADD n :one",
                     "ExpressionAttributeValues":{":one":{"N":"1"}}}
                    """))
                } catch { failures.mutate { $0.append("\(error)") } }
            }
        }
        XCTAssertEqual(failures.value, [])
        let scan = try call("Scan", #"{"TableName":"Ctr"}"#)
        let counts = (scan["Items"]?.arrayValue ?? []).compactMap { $0["n"]?["N"]?.stringValue }.compactMap { Int($0) }
        XCTAssertEqual(counts.count, keys)
        XCTAssertEqual(counts.reduce(0, +), threads * updates)
        XCTAssertEqual(Set(counts), [threads * updates / keys])
    }

    func testTheServerHoldsTheTableSoACommandLineWriterIsRefusedNamingIt() throws {
        try call("PutItem", #"{"TableName":"Ctr","Item":{"k":{"S":"a"}}}"#)
        let cli = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        XCTAssertThrowsError(try cli.call("PutItem", try JSONValue.parse(#"{"TableName":"Ctr","Item":{"k":{"S":"b"}}}"#))) { error in
            XCTAssertTrue("\(error)".hasPrefix("table 'Ctr' is held by ferry-serve at http://127.0.0.1:1 (pid "), "\(error)")
        }
        // Readers in other processes (here: another service) see what the server committed.
        let read = try cli.call("GetItem", try JSONValue.parse(#"{"TableName":"Ctr","Key":{"k":{"S":"a"}}}"#))
        XCTAssertEqual(read["Item"]?["k"]?["S"]?.stringValue, "a")
    }

    func testDeleteAndRecreateReleaseAndRetakeTheWriter() throws {
        try call("PutItem", #"{"TableName":"Ctr","Item":{"k":{"S":"a"}}}"#)
        try call("DeleteTable", #"{"TableName":"Ctr"}"#)
        try call("CreateTable", """
        {"TableName":"Ctr","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}
        """)
        XCTAssertNil(try call("GetItem", #"{"TableName":"Ctr","Key":{"k":{"S":"a"}}}"#)["Item"])
        try call("PutItem", #"{"TableName":"Ctr","Item":{"k":{"S":"b"}}}"#)
        XCTAssertEqual(try call("Scan", #"{"TableName":"Ctr"}"#)["Count"]?.numberText, "1")
    }

    func testWritesAreDurableWhenAnsweredAndSurviveAReopen() throws {
        for i in 0..<20 { try call("PutItem", #"{"TableName":"Ctr","Item":{"k":{"S":"\#(i)"}}}"#) }
        XCTAssertEqual(service.close().count, 0)
        let again = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "t", access: .held)
        XCTAssertEqual(try again.call("Scan", try JSONValue.parse(#"{"TableName":"Ctr","Select":"COUNT"}"#))["Count"]?.numberText, "20")
        _ = again.close()
    }

    func testABatchWithAnInvalidItemWritesNothing() throws {
        try call("UpdateTable", """
        {"TableName":"Ctr","AttributeDefinitions":[{"AttributeName":"g","AttributeType":"N"}],
         "GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"ByG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}}]}
        """)
        XCTAssertThrowsError(try call("BatchWriteItem", """
        {"RequestItems":{"Ctr":[{"PutRequest":{"Item":{"k":{"S":"ok"}}}},{"PutRequest":{"Item":{"k":{"S":"bad"},"g":{"S":"not a number"}}}}]}}
        """))
        XCTAssertEqual(try call("Scan", #"{"TableName":"Ctr"}"#)["Count"]?.numberText, "0")
    }

    func testLegacyMembersAreReadNotIgnoredAndUnknownMembersAreRefusedByName() {
        // The legacy members are implemented (LegacyParameterTests): bad ones get DynamoDB's refusal.
        refused("PutItem", #"{"TableName":"Ctr","Item":{"k":{"S":"a"}},"Expected":{"k":{"Exists":true}}}"#,
                "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: k")
        refused("Scan", #"{"TableName":"Ctr","ScanFilter":{"n":{}}}"#,
                "1 validation error detected: Value null at 'scanFilter.n.member.comparisonOperator' failed to satisfy constraint: Member must not be null")
        refused("Query", #"{"TableName":"Ctr","KeyConditions":{}}"#, "Conditions can be of length 1 or 2 only")
        refused("UpdateItem", #"{"TableName":"Ctr","Key":{"k":{"S":"a"}},"AttributeUpdates":{"n":{"Action":"ADD"}}}"#,
                "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
        refused("GetItem", #"{"TableName":"Ctr","Key":{"k":{"S":"a"}},"AttributesToGet":[]}"#,
                "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
        refused("Scan", #"{"TableName":"Ctr","ScanFilter":{},"FilterExpression":"k = :k","ExpressionAttributeValues":{":k":{"S":"a"}}}"#,
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}")
        refused("DescribeTable", #"{"TableName":"Ctr","Bogus":1}"#,
                "Unknown request member Bogus for DescribeTable (Ferry refuses members DynamoDB's API does not define)")
        refused("CreateTable", #"{"TableName":"D","WarmThroughput":{"ReadUnitsPerSecond":100}}"#, "Ferry does not implement WarmThroughput in CreateTable")
        refused("GetItem", #"{"TableName":"Ctr","Key":{"k":{"S":"a"}},"ReturnConsumedCapacity":"ALL"}"#,
                "1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
    }

    func testHostileTableDefinitionsAndNestedMembersAreRefusedNotObeyedOrFatal() throws {
        let indexes = (0..<255).map { #"{"IndexName":"ix\#($0)","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}"# }
        refused("CreateTable", """
        {"TableName":"Many","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],
         "BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[\(indexes.joined(separator: ","))]}
        """, "One or more parameter values were invalid: Number of GlobalSecondaryIndexes exceeds per-table limit of 20")
        refused("CreateTable", """
        {"TableName":"Odd","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],
         "BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"ixa","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"Bogus":1}]}
        """, "Unknown request member Bogus for a secondary index of CreateTable (Ferry refuses members DynamoDB's API does not define)")
        refused("BatchGetItem", #"{"RequestItems":{"Ctr":{"Keys":[{"k":{"S":"a"}}],"AttributesToGet":["k","k"]}}}"#,
                "One or more parameter values were invalid: Duplicate value in attribute name: k")
        refused("BatchWriteItem", #"{"RequestItems":{"Ctr":[{"PutRequest":{"Item":{"k":{"S":"a"}}},"DeleteRequest":{"Key":{"k":{"S":"a"}}}}]}}"#,
                "A BatchWriteItem WriteRequest must have exactly one of PutRequest and DeleteRequest")
        XCTAssertNil(try call("GetItem", #"{"TableName":"Ctr","Key":{"k":{"S":"a"}}}"#)["Item"])
    }

    func testDefaultValuedMembersAreAccepted() throws {
        try call("GetItem", #"{"TableName":"Ctr","Key":{"k":{"S":"a"}},"ReturnConsumedCapacity":"NONE","ConsistentRead":true}"#)
        try call("PutItem", #"{"TableName":"Ctr","Item":{"k":{"S":"a"}},"ReturnItemCollectionMetrics":"NONE","ReturnValuesOnConditionCheckFailure":"NONE"}"#)
        let limits = try call("DescribeLimits", "{}")
        XCTAssertEqual(limits["TableMaxWriteCapacityUnits"]?.numberText, "40000")
    }
}

/// A value behind a lock, for collecting results from concurrent test threads.
final class Mutexed<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout T) -> Void) { lock.lock(); body(&stored); lock.unlock() }
}
