import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import Foundation
import XCTest

/// A table folder written from the docs alone (fixtures/tables/make-music.py and a
/// hand-typed table.json) must open, read and verify in Ferry.
final class HandWrittenTableTests: XCTestCase {
    func testTableFolderWrittenFromTheDocsOpensAndReads() throws {
        let data = try TestSupport.temporaryFolder()
        try FileManager.default.createDirectory(at: data.appendingPathComponent("tables"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TestSupport.fixture("tables/Music"), to: data.appendingPathComponent("tables/Music"))
        let service = DynamoDBService(catalog: try TableCatalog(dataFolder: data.path), program: "test")
        let described = try service.call("DescribeTable", try JSONValue.parse(#"{"TableName":"Music"}"#))["Table"]
        XCTAssertEqual(described?["ItemCount"]?.numberText, "1")
        XCTAssertEqual(described?["TableSizeBytes"]?.numberText, "50")
        XCTAssertEqual(described?["GlobalSecondaryIndexes"]?.arrayValue?.first?["ItemCount"]?.numberText, "1")
        XCTAssertEqual(described?["ProvisionedThroughput"]?["ReadCapacityUnits"]?.numberText, "10")
        let got = try service.call("GetItem", try JSONValue.parse(#"{"TableName":"Music","Key":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}}"#))
        XCTAssertEqual(got["Item"]?["Year"]?["N"]?.stringValue, "2015")
        let byYear = try service.call("Query", try JSONValue.parse(##"{"TableName":"Music","IndexName":"ByYear","KeyConditionExpression":"#y = :y","ExpressionAttributeNames":{"#y":"Year"},"ExpressionAttributeValues":{":y":{"N":"2015"}}}"##))
        XCTAssertEqual(byYear["Count"]?.numberText, "1")
        XCTAssertTrue(try service.catalog.verify("Music").hasSuffix("every checksum matches"))
        // The description Ferry writes back reads the same.
        let original = try XCTUnwrap(try service.catalog.description(of: "Music"))
        let table = try service.catalog.openForWriting("Music", program: "test")
        try table.replace(description: original)
        try table.close()
        XCTAssertEqual(try service.catalog.description(of: "Music"), original)
    }
}
