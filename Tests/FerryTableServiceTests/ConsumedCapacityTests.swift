import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// ReturnConsumedCapacity and ReturnItemCollectionMetrics by DynamoDB's rules (docs/
/// ferry-serve.md, "Consumed capacity"): 4 KB read units, halved for eventual reads;
/// 1 KB write units on the larger of the item before and after; index writes; doubled
/// in transactions; DynamoDB's response shapes.
final class ConsumedCapacityTests: XCTestCase, ServiceTestCase {
    var service: DynamoDBService!

    override func setUpWithError() throws {
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: try TestSupport.temporaryFolder().path), program: "ferry-table")
        try call("CreateTable", """
        {"TableName":"Music","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"s","AttributeType":"S"},
          {"AttributeName":"g","AttributeType":"S"},{"AttributeName":"l","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"s","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST",
         "GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}],
         "LocalSecondaryIndexes":[{"IndexName":"byL","KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"l","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]}
        """)
        try call("CreateTable", #"{"TableName":"Plain","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#)
    }


    private func consumed(_ operation: String, _ json: String) throws -> String {
        try call(operation, json)["ConsumedCapacity"]?.jsonText ?? "absent"
    }

    private func padding(_ bytes: Int) -> String { String(repeating: "x", count: bytes) }

    func testWritesCountKilobytesOfTheLargerItemAndEachIndexTheyChange() throws {
        XCTAssertEqual(try consumed("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Plain","CapacityUnits":1.0}"#)
        // 1 byte name + 1 byte key + 1 byte name + 1022 = 1025 bytes: two units.
        XCTAssertEqual(try consumed("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"b"},"p":{"S":"\#(padding(1022))"}},"ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Plain","CapacityUnits":2.0}"#)
        // A short item over a 2 KB one costs the 2 KB one's units; so does deleting it.
        try call("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"c"},"p":{"S":"\#(padding(2100))"}}}"#)
        XCTAssertEqual(try consumed("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"c"}},"ReturnConsumedCapacity":"INDEXES"}"#),
                       #"{"TableName":"Plain","CapacityUnits":3.0,"Table":{"CapacityUnits":3.0}}"#)
        XCTAssertEqual(try consumed("DeleteItem", #"{"TableName":"Plain","Key":{"k":{"S":"gone"}},"ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Plain","CapacityUnits":1.0}"#)
        // New item in both indexes; then the GSI key moves (delete + put: 2) and the LSI entry is rewritten.
        XCTAssertEqual(try consumed("PutItem", #"{"TableName":"Music","Item":{"a":{"S":"x"},"s":{"S":"1"},"g":{"S":"rock"},"l":{"S":"z"}},"ReturnConsumedCapacity":"INDEXES"}"#),
                       #"{"TableName":"Music","CapacityUnits":3.0,"Table":{"CapacityUnits":1.0},"GlobalSecondaryIndexes":{"byG":{"CapacityUnits":1.0}},"LocalSecondaryIndexes":{"byL":{"CapacityUnits":1.0}}}"#)
        XCTAssertEqual(try consumed("UpdateItem", #"{"TableName":"Music","Key":{"a":{"S":"x"},"s":{"S":"1"}},"UpdateExpression":"SET g = :g","ExpressionAttributeValues":{":g":{"S":"jazz"}},"ReturnConsumedCapacity":"INDEXES"}"#),
                       #"{"TableName":"Music","CapacityUnits":4.0,"Table":{"CapacityUnits":1.0},"GlobalSecondaryIndexes":{"byG":{"CapacityUnits":2.0}},"LocalSecondaryIndexes":{"byL":{"CapacityUnits":1.0}}}"#)
        // An attribute no index keeps leaves the KEYS_ONLY GSI alone.
        XCTAssertEqual(try consumed("UpdateItem", #"{"TableName":"Music","Key":{"a":{"S":"x"},"s":{"S":"1"}},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"1"}},"ReturnConsumedCapacity":"INDEXES"}"#),
                       #"{"TableName":"Music","CapacityUnits":2.0,"Table":{"CapacityUnits":1.0},"LocalSecondaryIndexes":{"byL":{"CapacityUnits":1.0}}}"#)
        XCTAssertEqual(try consumed("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"d"}}}"#), "absent")
    }

    func testReadsCountFourKilobyteUnitsHalvedWhenEventual() throws {
        try call("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"big"},"p":{"S":"\#(padding(9000))"}}}"#)
        XCTAssertEqual(try consumed("GetItem", #"{"TableName":"Plain","Key":{"k":{"S":"big"}},"ProjectionExpression":"k","ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Plain","CapacityUnits":1.5}"#)
        XCTAssertEqual(try consumed("GetItem", #"{"TableName":"Plain","Key":{"k":{"S":"big"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Plain","CapacityUnits":3.0}"#)
        XCTAssertEqual(try consumed("GetItem", #"{"TableName":"Plain","Key":{"k":{"S":"none"}},"ReturnConsumedCapacity":"INDEXES"}"#),
                       #"{"TableName":"Plain","CapacityUnits":0.5,"Table":{"CapacityUnits":0.5}}"#)
        // A query sums what it reads, then rounds once: three 2 KB items are 2 units.
        for s in ["1", "2", "3"] {
            try call("PutItem", #"{"TableName":"Music","Item":{"a":{"S":"q"},"s":{"S":"\#(s)"},"g":{"S":"pop"},"p":{"S":"\#(padding(2000))"}}}"#)
        }
        XCTAssertEqual(try consumed("Query", #"{"TableName":"Music","KeyConditionExpression":"a = :a","ExpressionAttributeValues":{":a":{"S":"q"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Music","CapacityUnits":2.0}"#)
        XCTAssertEqual(try consumed("Query", #"{"TableName":"Music","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"pop"}},"ReturnConsumedCapacity":"INDEXES"}"#),
                       #"{"TableName":"Music","CapacityUnits":0.5,"GlobalSecondaryIndexes":{"byG":{"CapacityUnits":0.5}}}"#)
        XCTAssertThrowsError(try call("Query", #"{"TableName":"Music","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"pop"}},"ConsistentRead":true}"#)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "Consistent reads are not supported on global secondary indexes")
        }
        XCTAssertEqual(try consumed("Scan", #"{"TableName":"Plain","Select":"COUNT","ReturnConsumedCapacity":"TOTAL"}"#),
                       #"{"TableName":"Plain","CapacityUnits":1.5}"#)
    }

    func testBatchesAndTransactionsReportAListPerTable() throws {
        let batch = try call("BatchWriteItem", #"{"RequestItems":{"Plain":[{"PutRequest":{"Item":{"k":{"S":"1"}}}},{"PutRequest":{"Item":{"k":{"S":"2"}}}}],"Music":[{"PutRequest":{"Item":{"a":{"S":"b"},"s":{"S":"1"}}}}]},"ReturnConsumedCapacity":"TOTAL"}"#)
        XCTAssertEqual(batch["ConsumedCapacity"]?.jsonText, #"[{"TableName":"Plain","CapacityUnits":2.0},{"TableName":"Music","CapacityUnits":1.0}]"#)
        let got = try call("BatchGetItem", #"{"RequestItems":{"Plain":{"Keys":[{"k":{"S":"1"}},{"k":{"S":"2"}},{"k":{"S":"3"}}]}},"ReturnConsumedCapacity":"TOTAL"}"#)
        XCTAssertEqual(got["ConsumedCapacity"]?.jsonText, #"[{"TableName":"Plain","CapacityUnits":1.5}]"#)
        let written = try call("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Plain","Item":{"k":{"S":"t"}}}},{"ConditionCheck":{"TableName":"Plain","Key":{"k":{"S":"1"}},"ConditionExpression":"attribute_exists(k)"}}],"ReturnConsumedCapacity":"INDEXES"}"#)
        XCTAssertEqual(written["ConsumedCapacity"]?.jsonText,
                       #"[{"TableName":"Plain","CapacityUnits":4.0,"WriteCapacityUnits":4.0,"Table":{"CapacityUnits":4.0,"WriteCapacityUnits":4.0}}]"#)
        let read = try call("TransactGetItems", #"{"TransactItems":[{"Get":{"TableName":"Plain","Key":{"k":{"S":"t"}}}},{"Get":{"TableName":"Plain","Key":{"k":{"S":"none"}}}}],"ReturnConsumedCapacity":"TOTAL"}"#)
        XCTAssertEqual(read["ConsumedCapacity"]?.jsonText, #"[{"TableName":"Plain","CapacityUnits":4.0,"ReadCapacityUnits":4.0}]"#)
    }

    func testItemCollectionMetricsOnlyForTablesWithLocalIndexes() throws {
        let put = try call("PutItem", #"{"TableName":"Music","Item":{"a":{"S":"m"},"s":{"S":"1"}},"ReturnItemCollectionMetrics":"SIZE"}"#)
        XCTAssertEqual(put["ItemCollectionMetrics"]?.jsonText, #"{"ItemCollectionKey":{"a":{"S":"m"}},"SizeEstimateRangeGB":[0.0,1.0]}"#)
        XCTAssertNil(try call("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"m"}},"ReturnItemCollectionMetrics":"SIZE"}"#)["ItemCollectionMetrics"])
        let batch = try call("BatchWriteItem", #"{"RequestItems":{"Music":[{"PutRequest":{"Item":{"a":{"S":"m"},"s":{"S":"2"}}}}]},"ReturnItemCollectionMetrics":"SIZE"}"#)
        XCTAssertEqual(batch["ItemCollectionMetrics"]?.jsonText, #"{"Music":[{"ItemCollectionKey":{"a":{"S":"m"}},"SizeEstimateRangeGB":[0.0,1.0]}]}"#)
    }

    func testInvalidValuesAreRefusedTogether() throws {
        XCTAssertThrowsError(try call("PutItem", #"{"TableName":"Plain","Item":{"k":{"S":"m"}},"ReturnConsumedCapacity":"BOGUS","ReturnItemCollectionMetrics":"BOGUS2"}"#)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "2 validation errors detected: Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'BOGUS2' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]")
        }
        XCTAssertThrowsError(try call("Scan", #"{"TableName":"Plain","ReturnConsumedCapacity":"total"}"#)) {
            XCTAssertEqual(($0 as? DynamoDBError)?.message, "1 validation error detected: Value 'total' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
        }
    }
}
