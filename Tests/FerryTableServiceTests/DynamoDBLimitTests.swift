import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// DynamoDB's limits and the exactness fixes of issue order 3, each as a user met it:
/// long table names, long attribute names, key conditions in DynamoDB's other orders,
/// filters on keys, a batch with a bad index key, backfills of items an index cannot hold.
final class DynamoDBLimitTests: XCTestCase, ServiceTestCase {
    var service: DynamoDBService!

    override func setUpWithError() throws {
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: try TestSupport.temporaryFolder().path), program: "ferry-table")
    }



    private func create(_ name: String, sort: Bool = false, extra: String = "") throws {
        let definitions = #"{"AttributeName":"p","AttributeType":"S"}"# + (sort ? #",{"AttributeName":"c","AttributeType":"S"}"# : "")
        let keys = #"{"AttributeName":"p","KeyType":"HASH"}"# + (sort ? #",{"AttributeName":"c","KeyType":"RANGE"}"# : "")
        try call("CreateTable", #"{"TableName":"\#(name)","AttributeDefinitions":[\#(definitions)],"KeySchema":[\#(keys)],"BillingMode":"PAY_PER_REQUEST"\#(extra)}"#)
    }

    func testTableNamesUpTo255CharactersWork() throws {
        for length in [230, 255] {
            let name = String(repeating: "T", count: length)
            try create(name)
            try call("PutItem", #"{"TableName":"\#(name)","Item":{"p":{"S":"x"}}}"#)
            XCTAssertEqual(try call("GetItem", #"{"TableName":"\#(name)","Key":{"p":{"S":"x"}}}"#)["Item"]?["p"]?["S"]?.stringValue, "x")
            try call("DeleteTable", #"{"TableName":"\#(name)"}"#)
        }
        let long = String(repeating: "T", count: 256)
        refused("CreateTable", #"{"TableName":"\#(long)","AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
                "1 validation error detected: Value '\(long)' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255")
    }

    func testAttributeNamesOver64KBAndKeyNamesOver255BytesAreRefused() throws {
        try create("Names")
        let fits = String(repeating: "a", count: 65535)
        try call("PutItem", #"{"TableName":"Names","Item":{"p":{"S":"x"},"\#(fits)":{"S":"v"}}}"#)
        refused("PutItem", #"{"TableName":"Names","Item":{"p":{"S":"y"},"\#(fits)b":{"S":"v"}}}"#,
                "One or more parameter values were invalid: An attribute name is 65536 bytes, over DynamoDB's limit of 65535")
        refused("PutItem", #"{"TableName":"Names","Item":{"p":{"S":"y"},"m":{"M":{"\#(fits)b":{"S":"v"}}}}}"#,
                "One or more parameter values were invalid: An attribute name is 65536 bytes, over DynamoDB's limit of 65535")
        let key = String(repeating: "k", count: 256)
        refused("CreateTable", #"{"TableName":"LongKey","AttributeDefinitions":[{"AttributeName":"\#(key)","AttributeType":"S"}],"KeySchema":[{"AttributeName":"\#(key)","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
                "1 validation error detected: Value '\(key)' at 'attributeDefinitions.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
        XCTAssertEqual(try call("Scan", #"{"TableName":"Names","Select":"COUNT"}"#)["Count"]?.numberText, "1")
    }

    func testKeyConditionsInEitherOrderValueFirstAndFiltersOnKeysRefused() throws {
        try create("Qry", sort: true)
        for c in ["a", "b", "c"] { try call("PutItem", #"{"TableName":"Qry","Item":{"p":{"S":"x"},"c":{"S":"\#(c)"},"n":{"N":"1"}}}"#) }
        func count(_ condition: String) throws -> String {
            let values = condition.contains(":c") ? #"{":p":{"S":"x"},":c":{"S":"b"}}"# : #"{":p":{"S":"x"}}"#
            return try call("Query", #"{"TableName":"Qry","KeyConditionExpression":"\#(condition)","ExpressionAttributeValues":\#(values)}"#)["Count"]?.numberText ?? "?"
        }
        XCTAssertEqual(try count("c = :c AND p = :p"), "1")
        XCTAssertEqual(try count(":p = p"), "3")
        XCTAssertEqual(try count(":c < c AND :p = p"), "1")
        XCTAssertEqual(try count("(:c >= c) AND (p = :p)"), "2")
        refused("Query", #"{"TableName":"Qry","KeyConditionExpression":"p = :p AND c = :c AND n = :n","ExpressionAttributeValues":{":p":{"S":"x"},":c":{"S":"b"},":n":{"N":"1"}}}"#,
                "The number of query conditions (3) exceeds the number of key attributes defined in the schema (2)")
        refused("Query", #"{"TableName":"Qry","KeyConditionExpression":"c = :c AND n = :n","ExpressionAttributeValues":{":c":{"S":"b"},":n":{"N":"1"}}}"#,
                "Query condition missed key schema element: p")
        refused("Query", #"{"TableName":"Qry","KeyConditionExpression":"p = :p","FilterExpression":"c > :c OR n = :n","ExpressionAttributeValues":{":p":{"S":"x"},":c":{"S":"b"},":n":{"N":"1"}}}"#,
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: c")
        // A scan's filter may name keys.
        XCTAssertEqual(try call("Scan", #"{"TableName":"Qry","FilterExpression":"c > :c","ExpressionAttributeValues":{":c":{"S":"a"}}}"#)["Count"]?.numberText, "2")
    }

    private func indexCount(_ table: String) throws -> String {
        try call("DescribeTable", #"{"TableName":"\#(table)"}"#)["Table"]?["GlobalSecondaryIndexes"]?.arrayValue?.first?["ItemCount"]?.numberText ?? "?"
    }

    func testABatchWithABadIndexKeyOnItsThirdItemWritesNothing() throws {
        try call("CreateTable", """
        {"TableName":"Gsi","AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
         "GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]}
        """)
        let puts = ["1", "2"].map { #"{"PutRequest":{"Item":{"p":{"S":"\#($0)"},"g":{"S":"ok"}}}}"# } + [#"{"PutRequest":{"Item":{"p":{"S":"3"},"g":{"N":"3"}}}}"#]
        refused("BatchWriteItem", #"{"RequestItems":{"Gsi":[\#(puts.joined(separator: ","))]}}"#,
                "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byG")
        XCTAssertEqual(try call("Scan", #"{"TableName":"Gsi","Select":"COUNT"}"#)["Count"]?.numberText, "0")
        refused("PutItem", #"{"TableName":"Gsi","Item":{"p":{"S":"4"},"g":{"S":"\#(String(repeating: "x", count: 2049))"}}}"#,
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
    }

    /// Items written before an index whose key values it cannot hold (empty, too long)
    /// stay out of it, and later writes to them keep the index's count exact.
    func testABackfillSkipsItemsWithEmptyOrOversizedIndexKeys() throws {
        try create("Hst")
        try call("PutItem", #"{"TableName":"Hst","Item":{"p":{"S":"good"},"g":{"S":"x"}}}"#)
        try call("PutItem", #"{"TableName":"Hst","Item":{"p":{"S":"empty"},"g":{"S":""}}}"#)
        try call("PutItem", #"{"TableName":"Hst","Item":{"p":{"S":"long"},"g":{"S":"\#(String(repeating: "y", count: 3000))"}}}"#)
        try call("UpdateTable", """
        {"TableName":"Hst","AttributeDefinitions":[{"AttributeName":"g","AttributeType":"S"}],
         "GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}}]}
        """)
        XCTAssertEqual(try indexCount("Hst"), "1")
        try call("UpdateItem", #"{"TableName":"Hst","Key":{"p":{"S":"empty"}},"UpdateExpression":"REMOVE g"}"#)
        try call("DeleteItem", #"{"TableName":"Hst","Key":{"p":{"S":"long"}}}"#)
        XCTAssertEqual(try indexCount("Hst"), "1")
        try call("UpdateItem", #"{"TableName":"Hst","Key":{"p":{"S":"empty"}},"UpdateExpression":"SET g = :g","ExpressionAttributeValues":{":g":{"S":"z"}}}"#)
        XCTAssertEqual(try indexCount("Hst"), "2")
    }
}
