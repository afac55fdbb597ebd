import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// DynamoDB's operations through the JSON API, with DynamoDB's messages.
final class DynamoDBServiceTests: XCTestCase {
    private var service: DynamoDBService!

    override func setUpWithError() throws {
        let catalog = try TableCatalog(dataFolder: try TestSupport.temporaryFolder().path)
        catalog.flushThreshold = 64 << 10   // small, so tests cross flushes and compactions
        service = DynamoDBService(catalog: catalog, program: "test")
    }

    @discardableResult
    private func call(_ operation: String, _ json: String) throws -> JSONValue {
        try service.call(operation, try JSONValue.parse(json))
    }

    private func fails(_ operation: String, _ json: String, _ kind: DynamoDBError.Kind, _ message: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try call(operation, json), file: file, line: line) { error in
            guard let e = error as? DynamoDBError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, file: file, line: line)
            XCTAssertEqual(e.message, message, file: file, line: line)
        }
    }

    private let music = """
    {"TableName":"Music","AttributeDefinitions":[{"AttributeName":"Artist","AttributeType":"S"},{"AttributeName":"SongTitle","AttributeType":"S"}],
     "KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"},{"AttributeName":"SongTitle","KeyType":"RANGE"}],
     "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}
    """

    private func song(_ artist: String, _ title: String, _ extra: String = "") -> String {
        "{\"TableName\":\"Music\",\"Item\":{\"Artist\":{\"S\":\"\(artist)\"},\"SongTitle\":{\"S\":\"\(title)\"}\(extra)}}"
    }

    private func count(_ response: JSONValue, _ key: String = "Count") -> Int { Int(response[key]?.numberText ?? "-1") ?? -1 }

    func testCreateTableChecksDefinitionsAgainstTheKeySchema() throws {
        fails("CreateTable", """
        {"TableName":"Tab1","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}
        """, .validation, "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
        fails("CreateTable", """
        {"TableName":"Tab1","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"b","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}
        """, .validation, "Invalid KeySchema: Some index key attribute have no definition")
        fails("CreateTable", """
        {"TableName":"ab","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}
        """, .validation, "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3")
        fails("CreateTable", """
        {"TableName":"Tab1","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}]}
        """, .validation, "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
        try call("CreateTable", music)
        fails("CreateTable", music, .resourceInUse, "Table already exists: Music")
        fails("DescribeTable", #"{"TableName":"Nope"}"#, .resourceNotFound, "Requested resource not found: Table: Nope not found")
    }

    func testItemCountAndSizeFollowPutsReplacesAndDeletes() throws {
        try call("CreateTable", music)
        try call("PutItem", song("A", "1", #","n":{"N":"1"}"#))
        try call("PutItem", song("A", "2"))
        try call("PutItem", song("A", "1", #","n":{"N":"22"}"#))   // replaces
        try call("DeleteItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"2"}}}"#)
        try call("DeleteItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"missing"}}}"#)
        let table = try call("DescribeTable", #"{"TableName":"Music"}"#)["Table"]
        XCTAssertEqual(table?["ItemCount"]?.numberText, "1")
        // Artist(6)+1, SongTitle(9)+1, n(1)+ 22 -> 2 bytes: 6+1+9+1+1+2 = 20
        XCTAssertEqual(table?["TableSizeBytes"]?.numberText, "20")
    }

    func testConditionsAndReturnValues() throws {
        try call("CreateTable", music)
        let insertOnly = #","ConditionExpression":"attribute_not_exists(Artist)""#
        try call("PutItem", String(song("A", "1", #","plays":{"N":"1"}"#).dropLast()) + insertOnly + "}")
        fails("PutItem", String(song("A", "1").dropLast()) + insertOnly + "}", .conditionalCheckFailed, "The conditional request failed")
        let old = try call("PutItem", String(song("A", "1", #","plays":{"N":"2"}"#).dropLast()) + #","ReturnValues":"ALL_OLD"}"#)
        XCTAssertEqual(old["Attributes"]?["plays"]?["N"]?.stringValue, "1")
        fails("PutItem", String(song("A", "1").dropLast()) + #","ReturnValues":"ALL_NEW"}"#, .validation, "Return values set to invalid value")
        let updated = try call("UpdateItem", """
        {"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"1"}},"UpdateExpression":"SET plays = plays + :one, #y = :y",
         "ExpressionAttributeNames":{"#y":"Year"},"ExpressionAttributeValues":{":one":{"N":"1"},":y":{"N":"2026"}},"ReturnValues":"UPDATED_NEW"}
        """)
        XCTAssertEqual(updated["Attributes"]?.objectValue?.map(\.key).sorted(), ["Year", "plays"])
        XCTAssertEqual(updated["Attributes"]?["plays"]?["N"]?.stringValue, "3")
        fails("UpdateItem", """
        {"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"1"}},"UpdateExpression":"SET Artist = :a","ExpressionAttributeValues":{":a":{"S":"B"}}}
        """, .validation, "One or more parameter values were invalid: Cannot update attribute Artist. This attribute is part of the key")
        fails("GetItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"}}}"#, .validation, "The provided key element does not match the schema")
        fails("UpdateItem", """
        {"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"1"}},"UpdateExpression":"SET x = :a","ExpressionAttributeValues":{":a":{"S":"B"},":b":{"S":"C"}}}
        """, .validation, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}")
        let deleted = try call("DeleteItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"1"}},"ConditionExpression":"plays = :p","ExpressionAttributeValues":{":p":{"N":"3"}},"ReturnValues":"ALL_OLD"}"#)
        XCTAssertEqual(deleted["Attributes"]?["Year"]?["N"]?.stringValue, "2026")
        XCTAssertEqual(try call("GetItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"1"}}}"#), .object([]))
    }

    /// 600 songs for one artist and a few for others; queries select by sort key in both
    /// directions, and paging with Limit visits every item once.
    func testQueryRangesDirectionsAndPaging() throws {
        try call("CreateTable", music)
        for i in 0..<600 {
            try call("PutItem", song(i % 3 == 0 ? "Other \(i % 4)" : "Band", String(format: "song %04d", i), #","n":{"N":"\#(i)"}"#))
        }
        func titles(_ condition: String, forward: Bool = true, extra: String = "") throws -> [String] {
            var values = [#"":a":{"S":"Band"}"#]
            if condition.contains(":x") { values.append(#"":x":{"S":"song 0100"}"#) }
            if condition.contains(":y") { values.append(#"":y":{"S":"song 0110"}"#) }
            let r = try call("Query", """
            {"TableName":"Music","KeyConditionExpression":"Artist = :a\(condition)","ScanIndexForward":\(forward),
             "ExpressionAttributeValues":{\(values.joined(separator: ","))}\(extra)}
            """)
            return r["Items"]?.arrayValue?.compactMap { $0["SongTitle"]?["S"]?.stringValue } ?? []
        }
        XCTAssertEqual(try titles(" AND SongTitle BETWEEN :x AND :y"), ["song 0100", "song 0101", "song 0103", "song 0104", "song 0106", "song 0107", "song 0109", "song 0110"])
        XCTAssertEqual(try titles(" AND SongTitle < :x", forward: false).prefix(2), ["song 0098", "song 0097"])
        XCTAssertEqual(try titles(" AND SongTitle > :y").first, "song 0112")
        XCTAssertEqual(try titles(" AND begins_with(SongTitle, :x)", extra: "").count, 1)
        XCTAssertEqual(try titles("").count, 400)
        var seen: [String] = []
        var start: JSONValue? = nil
        var pages = 0
        repeat {
            var request = #"{"TableName":"Music","KeyConditionExpression":"Artist = :a","ExpressionAttributeValues":{":a":{"S":"Band"}},"Limit":150"#
            if let start { request += #","ExclusiveStartKey":"# + start.jsonText }
            let r = try call("Query", request + "}")
            seen += r["Items"]?.arrayValue?.compactMap { $0["SongTitle"]?["S"]?.stringValue } ?? []
            start = r["LastEvaluatedKey"]
            pages += 1
        } while start != nil
        XCTAssertEqual(seen.count, 400)
        XCTAssertEqual(Set(seen).count, 400)
        XCTAssertEqual(pages, 3)   // 150 + 150 + 100 (the last page ends before Limit)
        let counted = try call("Query", #"{"TableName":"Music","KeyConditionExpression":"Artist = :a","FilterExpression":"n > :k","Select":"COUNT","ExpressionAttributeValues":{":a":{"S":"Band"},":k":{"N":"500"}}}"#)
        XCTAssertNil(counted["Items"])
        XCTAssertEqual(count(counted), 66)
        XCTAssertEqual(count(counted, "ScannedCount"), 400)
        fails("Query", #"{"TableName":"Music","KeyConditionExpression":"SongTitle = :a","ExpressionAttributeValues":{":a":{"S":"x"}}}"#,
              .validation, "Query condition missed key schema element: Artist")
    }

    func testPagesStopNearOneMegabyte() throws {
        try call("CreateTable", music)
        let big = String(repeating: "x", count: 100_000)
        for i in 0..<25 { try call("PutItem", song("Band", "s\(i)", #","blob":{"S":"\#(big)"}"#)) }
        let first = try call("Scan", #"{"TableName":"Music"}"#)
        XCTAssertEqual(count(first), 11)   // 11 x ~100 KB passes 1 MB
        XCTAssertNotNil(first["LastEvaluatedKey"])
    }

    func testScanSegmentsSplitTheTableWithoutOverlap() throws {
        try call("CreateTable", music)
        for i in 0..<300 { try call("PutItem", song("Artist \(i)", "t")) }
        var all: [String] = []
        for segment in 0..<4 {
            let r = try call("Scan", #"{"TableName":"Music","Segment":\#(segment),"TotalSegments":4}"#)
            XCTAssertNil(r["LastEvaluatedKey"])
            XCTAssertGreaterThan(count(r), 30)   // the hash spreads keys
            all += r["Items"]?.arrayValue?.compactMap { $0["Artist"]?["S"]?.stringValue } ?? []
        }
        XCTAssertEqual(all.count, 300)
        XCTAssertEqual(Set(all).count, 300)
        fails("Scan", #"{"TableName":"Music","Segment":4,"TotalSegments":4}"#, .validation,
              "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
        fails("Scan", #"{"TableName":"Music","Segment":1}"#, .validation,
              "The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
    }

    func testGlobalIndexIsSparseFollowsUpdatesAndProjects() throws {
        try call("CreateTable", """
        {"TableName":"Music","AttributeDefinitions":[{"AttributeName":"Artist","AttributeType":"S"},{"AttributeName":"SongTitle","AttributeType":"S"},
         {"AttributeName":"Genre","AttributeType":"S"},{"AttributeName":"Price","AttributeType":"N"}],
         "KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"},{"AttributeName":"SongTitle","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST",
         "GlobalSecondaryIndexes":[{"IndexName":"GenreAndPriceIndex","KeySchema":[{"AttributeName":"Genre","KeyType":"HASH"},{"AttributeName":"Price","KeyType":"RANGE"}],
           "Projection":{"ProjectionType":"KEYS_ONLY"}}]}
        """)
        try call("PutItem", song("A", "1", #","Genre":{"S":"Rock"},"Price":{"N":"2"},"Album":{"S":"x"}"#))
        try call("PutItem", song("A", "2", #","Genre":{"S":"Rock"},"Price":{"N":"1"}"#))
        try call("PutItem", song("A", "3", #","Genre":{"S":"Rock"}"#))          // no Price: not indexed
        try call("PutItem", song("B", "1", #","Genre":{"S":"Jazz"},"Price":{"N":"5"}"#))
        fails("PutItem", song("C", "1", #","Genre":{"N":"1"}"#), .validation,
              "One or more parameter values were invalid: Type mismatch for Index Key Genre Expected: S Actual: N IndexName: GenreAndPriceIndex")
        func rock() throws -> [String] {
            let r = try call("Query", #"{"TableName":"Music","IndexName":"GenreAndPriceIndex","KeyConditionExpression":"Genre = :g","ExpressionAttributeValues":{":g":{"S":"Rock"}}}"#)
            XCTAssertNil(r["Items"]?.arrayValue?.first?["Album"])   // KEYS_ONLY
            return r["Items"]?.arrayValue?.compactMap { $0["SongTitle"]?["S"]?.stringValue } ?? []
        }
        XCTAssertEqual(try rock(), ["2", "1"])   // by Price
        try call("UpdateItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"1"}},"UpdateExpression":"SET Genre = :j","ExpressionAttributeValues":{":j":{"S":"Jazz"}}}"#)
        XCTAssertEqual(try rock(), ["2"])
        try call("DeleteItem", #"{"TableName":"Music","Key":{"Artist":{"S":"A"},"SongTitle":{"S":"2"}}}"#)
        XCTAssertEqual(try rock(), [])
        let d = try call("DescribeTable", #"{"TableName":"Music"}"#)
        XCTAssertEqual(d["Table"]?["GlobalSecondaryIndexes"]?.arrayValue?.first?["ItemCount"]?.numberText, "2")
        fails("Query", #"{"TableName":"Music","IndexName":"GenreAndPriceIndex","Select":"ALL_ATTRIBUTES","KeyConditionExpression":"Genre = :g","ExpressionAttributeValues":{":g":{"S":"Rock"}}}"#,
              .validation, "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index GenreAndPriceIndex because its projection type is not ALL")
    }

    func testIndexAddedToAPopulatedTableIsBackfilledAndADroppedOneIsPurged() throws {
        try call("CreateTable", music)
        for i in 0..<2000 { try call("PutItem", song("A\(i % 50)", "s\(i)", i % 2 == 0 ? #","Genre":{"S":"G\#(i % 7)"}"# : "")) }
        try call("UpdateTable", """
        {"TableName":"Music","AttributeDefinitions":[{"AttributeName":"Genre","AttributeType":"S"}],
         "GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"ByGenre","KeySchema":[{"AttributeName":"Genre","KeyType":"HASH"}],
           "Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}}]}
        """)
        let g3 = try call("Query", #"{"TableName":"Music","IndexName":"ByGenre","KeyConditionExpression":"Genre = :g","ExpressionAttributeValues":{":g":{"S":"G3"}}}"#)
        XCTAssertEqual(count(g3), (0..<2000).filter { $0 % 2 == 0 && $0 % 7 == 3 }.count)
        let described = try call("DescribeTable", #"{"TableName":"Music"}"#)["Table"]
        XCTAssertEqual(described?["GlobalSecondaryIndexes"]?.arrayValue?.first?["ItemCount"]?.numberText, "1000")
        XCTAssertEqual(described?["AttributeDefinitions"]?.arrayValue?.count, 3)
        try call("UpdateTable", #"{"TableName":"Music","GlobalSecondaryIndexUpdates":[{"Delete":{"IndexName":"ByGenre"}}]}"#)
        fails("Query", #"{"TableName":"Music","IndexName":"ByGenre","KeyConditionExpression":"Genre = :g","ExpressionAttributeValues":{":g":{"S":"G3"}}}"#,
              .validation, "The table does not have the specified index: ByGenre")
        XCTAssertEqual(count(try call("Scan", #"{"TableName":"Music","Select":"COUNT"}"#)), 2000)
        fails("UpdateTable", #"{"TableName":"Music","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}"#, .validation,
              "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.")
    }

    func testLocalIndexQueriesFetchUnprojectedAttributesFromTheTable() throws {
        try call("CreateTable", """
        {"TableName":"Music","AttributeDefinitions":[{"AttributeName":"Artist","AttributeType":"S"},{"AttributeName":"SongTitle","AttributeType":"S"},{"AttributeName":"Year","AttributeType":"N"}],
         "KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"},{"AttributeName":"SongTitle","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST",
         "LocalSecondaryIndexes":[{"IndexName":"ByYear","KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"},{"AttributeName":"Year","KeyType":"RANGE"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]}
        """)
        for (title, year) in [("x", 1999), ("y", 1970), ("z", 2020)] { try call("PutItem", song("A", title, #","Year":{"N":"\#(year)"},"Len":{"N":"3"}"#)) }
        let r = try call("Query", ##"{"TableName":"Music","IndexName":"ByYear","KeyConditionExpression":"Artist = :a AND #y >= :y","ExpressionAttributeNames":{"#y":"Year"},"ExpressionAttributeValues":{":a":{"S":"A"},":y":{"N":"1990"}},"Select":"ALL_ATTRIBUTES"}"##)
        XCTAssertEqual(r["Items"]?.arrayValue?.compactMap { $0["SongTitle"]?["S"]?.stringValue }, ["x", "z"])
        XCTAssertEqual(r["Items"]?.arrayValue?.first?["Len"]?["N"]?.stringValue, "3")
        fails("CreateTable", """
        {"TableName":"Other","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
         "LocalSecondaryIndexes":[{"IndexName":"Loc1","KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"b","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]}
        """, .validation, "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
    }

    func testBatchWriteAndGetKeepDynamoDBsLimits() throws {
        try call("CreateTable", music)
        let puts = (0..<25).map { #"{"PutRequest":{"Item":{"Artist":{"S":"A"},"SongTitle":{"S":"\#($0)"}}}}"# }
        try call("BatchWriteItem", #"{"RequestItems":{"Music":[\#(puts.joined(separator: ","))]}}"#)
        let tooMany = (0..<26).map { #"{"PutRequest":{"Item":{"Artist":{"S":"A"},"SongTitle":{"S":"\#($0)"}}}}"# }
        fails("BatchWriteItem", #"{"RequestItems":{"Music":[\#(tooMany.joined(separator: ","))]}}"#, .validation, "Too many items requested for the BatchWriteItem call")
        fails("BatchWriteItem", #"{"RequestItems":{"Music":[\#(puts[0]),\#(puts[0])]}}"#, .validation, "Provided list of item keys contains duplicates")
        let keys = (0..<30).map { #"{"Artist":{"S":"A"},"SongTitle":{"S":"\#($0)"}}"# }
        let got = try call("BatchGetItem", #"{"RequestItems":{"Music":{"Keys":[\#(keys.joined(separator: ","))]}}}"#)
        XCTAssertEqual(got["Responses"]?["Music"]?.arrayValue?.count, 25)
        XCTAssertEqual(got["UnprocessedKeys"], .object([]))
        let many = (0..<101).map { #"{"Artist":{"S":"A"},"SongTitle":{"S":"\#($0)"}}"# }
        fails("BatchGetItem", #"{"RequestItems":{"Music":{"Keys":[\#(many.joined(separator: ","))]}}}"#, .validation, "Too many items requested for the BatchGetItem call")
        // One bad request refuses the whole batch.
        let mixed = #"{"PutRequest":{"Item":{"Artist":{"S":"B"},"SongTitle":{"S":"ok"}}}},{"PutRequest":{"Item":{"Artist":{"S":"B"}}}}"#
        fails("BatchWriteItem", #"{"RequestItems":{"Music":[\#(mixed)]}}"#, .validation, "One or more parameter values were invalid: Missing the key SongTitle in the item")
        XCTAssertEqual(try call("GetItem", #"{"TableName":"Music","Key":{"Artist":{"S":"B"},"SongTitle":{"S":"ok"}}}"#), .object([]))
    }

    func testListTablesPagesInNameOrder() throws {
        for name in ["Zeta", "alpha", "Beta", "Gamma"] {
            try call("CreateTable", #"{"TableName":"\#(name)","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#)
        }
        let first = try call("ListTables", #"{"Limit":2}"#)
        XCTAssertEqual(first["TableNames"], .array([.string("Beta"), .string("Gamma")]))
        XCTAssertEqual(first["LastEvaluatedTableName"], .string("Gamma"))
        let rest = try call("ListTables", #"{"ExclusiveStartTableName":"Gamma"}"#)
        XCTAssertEqual(rest["TableNames"], .array([.string("Zeta"), .string("alpha")]))
        XCTAssertNil(rest["LastEvaluatedTableName"])
        let all = try AWSCLIOutput.call(service, "ListTables", try JSONValue.parse(#"{}"#), pageSize: 1)
        XCTAssertEqual(all["TableNames"]?.arrayValue?.count, 4)
    }

    func testDataSurvivesReopeningAcrossFlushes() throws {
        try call("CreateTable", music)
        for i in 0..<500 { try call("PutItem", song("A\(i % 10)", "s\(i)", #","pad":{"S":"\#(String(repeating: "p", count: 300))"}"#)) }
        let folder = service.catalog.path
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: String(folder.dropLast("/tables".count))), program: "test")
        let d = try call("DescribeTable", #"{"TableName":"Music"}"#)
        XCTAssertEqual(d["Table"]?["ItemCount"]?.numberText, "500")
        XCTAssertEqual(count(try AWSCLIOutput.call(service, "Scan", try JSONValue.parse(#"{"TableName":"Music","Select":"COUNT"}"#))), 500)
        let runs = try FileManager.default.contentsOfDirectory(atPath: folder + "/Music").filter { $0.hasSuffix(".run") }
        XCTAssertFalse(runs.isEmpty)
    }
}
