import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// Tags, ARNs and the table options people pass (streams, encryption, table class,
/// on-demand limits, deletion protection): accepted, stored, described and checked with
/// DynamoDB's messages (docs/ferry-serve.md, "Table options").
final class TableOptionTests: XCTestCase, ServiceTestCase {
    private var folder: String!
    var service: DynamoDBService!
    private let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Music"

    override func setUpWithError() throws {
        ResourceNames.configure(region: "us-east-1", account: "000000000000")
        folder = try TestSupport.temporaryFolder().path
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
    }



    private func create(_ extra: String = "") throws -> JSONValue {
        try call("CreateTable", #"{"TableName":"Music","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"\#(extra)}"#)
    }

    private func tags() throws -> String { try call("ListTagsOfResource", #"{"ResourceArn":"\#(arn)"}"#).jsonText }

    func testTagsOnCreateAndTagOperationsWithDynamoDBsLimits() throws {
        let created = try create(#","Tags":[{"Key":"team","Value":"data"},{"Key":"env","Value":""}]"#)
        XCTAssertEqual(created["TableDescription"]?["TableArn"]?.stringValue, arn)
        XCTAssertNil(created["TableDescription"]?["Tags"])
        XCTAssertEqual(try tags(), #"{"Tags":[{"Key":"team","Value":"data"},{"Key":"env","Value":""}]}"#)
        try call("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"team","Value":"ops"},{"Key":"cost center","Value":"a+b=c/d@e.f_g:h-i"}]}"#)
        try call("UntagResource", #"{"ResourceArn":"\#(arn)","TagKeys":["env","absent"]}"#)
        XCTAssertEqual(try tags(), #"{"Tags":[{"Key":"team","Value":"ops"},{"Key":"cost center","Value":"a+b=c/d@e.f_g:h-i"}]}"#)
        // Kept in table.json across processes.
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        XCTAssertTrue(try tags().contains("cost center"))

        let fortyNine = (0..<49).map { #"{"Key":"k\#($0)","Value":"v"}"# }.joined(separator: ",")
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[\#(fortyNine)]}"#, .validation, "Number of Tags exceed the current limit for the provided ResourceArn")
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"aws:x","Value":"v"}]}"#, .validation, "Tag Key cannot be prefixed with aws:, Key: aws:x")
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"a#b","Value":"v"}]}"#, .validation, "The Tag Key provided is invalid, Key: a#b")
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"\#(String(repeating: "k", count: 129))","Value":"v"}]}"#, .validation,
                "The Tag Key provided is invalid, Key: \(String(repeating: "k", count: 129))")
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"k","Value":"(v)"}]}"#, .validation, "The Tag Value provided is invalid, Value: (v)")
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[]}"#, .validation, "Atleast one Tag needs to be provided as Input.")
        refused("TagResource", #"{"ResourceArn":"\#(arn)"}"#, .validation, "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
        refused("UntagResource", #"{"ResourceArn":"\#(arn)","TagKeys":[]}"#, .validation, "Atleast one Tag Key needs to be provided as Input.")
        refused("ListTagsOfResource", #"{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/Nope"}"#, .resourceNotFound,
                "Requested resource not found: ResourceArn: arn:aws:dynamodb:us-east-1:000000000000:table/Nope not found")
        refused("ListTagsOfResource", #"{"ResourceArn":"Music"}"#, .validation, "Invalid TableArn: Invalid ResourceArn provided as input Music")
        refused("ListTagsOfResource", #"{"ResourceArn":"\#(arn)/index/byX"}"#, .validation, "Invalid TableArn: Invalid ResourceArn provided as input \(arn)/index/byX")
        // Lengths in UTF-16 units, as DynamoDB counts them: one grapheme of 201 units is too long.
        let grapheme = "a" + String(repeating: "\u{0903}", count: 200)
        refused("TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"\#(grapheme)","Value":"v"}]}"#, .validation,
                "The Tag Key provided is invalid, Key: \(grapheme)")
        XCTAssertEqual(try tags().components(separatedBy: "Key").count - 1, 2)
    }

    func testTheARNsRegionAndAccountAreConfigurable() throws {
        ResourceNames.configure(region: "eu-west-2", account: "123456789012")
        defer { ResourceNames.configure(region: "us-east-1", account: "000000000000") }
        try call("CreateTable", #"{"TableName":"Music","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"byB","KeySchema":[{"AttributeName":"b","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}"#)
        let table = try call("DescribeTable", #"{"TableName":"Music"}"#)["Table"]
        XCTAssertEqual(table?["TableArn"]?.stringValue, "arn:aws:dynamodb:eu-west-2:123456789012:table/Music")
        XCTAssertEqual(table?["GlobalSecondaryIndexes"]?.arrayValue?.first?["IndexArn"]?.stringValue, "arn:aws:dynamodb:eu-west-2:123456789012:table/Music/index/byB")
        XCTAssertEqual(try call("ListTagsOfResource", #"{"ResourceArn":"arn:aws:dynamodb:eu-west-2:123456789012:table/Music"}"#).jsonText, #"{"Tags":[]}"#)
    }

    func testStreamEncryptionClassAndOnDemandOptionsAreStoredAndDescribed() throws {
        try create(#","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"},"SSESpecification":{"Enabled":true,"SSEType":"KMS","KMSMasterKeyId":"1234abcd"},"TableClass":"STANDARD_INFREQUENT_ACCESS","OnDemandThroughput":{"MaxReadRequestUnits":100}"#)
        var t = try call("DescribeTable", #"{"TableName":"Music"}"#)["Table"]
        XCTAssertEqual(t?["StreamSpecification"]?.jsonText, #"{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}"#)
        XCTAssertNil(t?["LatestStreamArn"])
        XCTAssertEqual(t?["SSEDescription"]?.jsonText, #"{"Status":"ENABLED","SSEType":"KMS","KMSMasterKeyArn":"arn:aws:kms:us-east-1:000000000000:key/1234abcd"}"#)
        XCTAssertEqual(t?["TableClassSummary"]?["TableClass"]?.stringValue, "STANDARD_INFREQUENT_ACCESS")
        XCTAssertEqual(t?["OnDemandThroughput"]?.jsonText, #"{"MaxReadRequestUnits":100,"MaxWriteRequestUnits":-1}"#)
        refused("UpdateTable", #"{"TableName":"Music","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}}"#, .validation,
                "Table already has an enabled stream: TableName: Music")
        try call("UpdateTable", #"{"TableName":"Music","StreamSpecification":{"StreamEnabled":false}}"#)
        try call("UpdateTable", #"{"TableName":"Music","SSESpecification":{"Enabled":false}}"#)
        try call("UpdateTable", #"{"TableName":"Music","TableClass":"STANDARD"}"#)
        t = try call("DescribeTable", #"{"TableName":"Music"}"#)["Table"]
        XCTAssertNil(t?["StreamSpecification"])
        XCTAssertNil(t?["SSEDescription"])
        XCTAssertEqual(t?["TableClassSummary"]?["TableClass"]?.stringValue, "STANDARD")
        refused("UpdateTable", #"{"TableName":"Music","StreamSpecification":{"StreamEnabled":false}}"#, .validation,
                "Table has no stream to disable: TableName: Music")
        refused("UpdateTable", #"{"TableName":"Music","StreamSpecification":{"StreamEnabled":true}}"#, .validation,
                "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required")
        refused("UpdateTable", #"{"TableName":"Music","StreamSpecification":{"StreamEnabled":false,"StreamViewType":"KEYS_ONLY"}}"#, .validation,
                "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified")
    }

    func testBadTableOptionsGetDynamoDBsMessagesAndCreateNothing() throws {
        let cases: [(String, String)] = [
            (#""StreamSpecification":{"StreamEnabled":true}"#, "One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required"),
            (#""StreamSpecification":{"StreamEnabled":false,"StreamViewType":"NEW_IMAGE"}"#, "One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified"),
            (#""StreamSpecification":{"StreamViewType":"NEW_IMAGE"}"#, "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null"),
            (#""StreamSpecification":{"StreamEnabled":true,"StreamViewType":"new_image"}"#, "1 validation error detected: Value 'new_image' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]"),
            (#""SSESpecification":{"Enabled":false,"SSEType":"KMS"}"#, "One or more parameter values were invalid: SSEType can not be specified if Enabled is false"),
            (#""SSESpecification":{"Enabled":false,"KMSMasterKeyId":"k"}"#, "One or more parameter values were invalid: KMSMasterKeyId can not be specified if Enabled is false"),
            (#""SSESpecification":{"Enabled":true,"SSEType":"AES256"}"#, "One or more parameter values were invalid: SSEType AES256 is not supported"),
            (#""SSESpecification":{"Enabled":true,"KMSMasterKeyId":"k"}"#, "One or more parameter values were invalid: SSEType KMS is required if KMSMasterKeyId is specified"),
            (#""SSESpecification":{"SSEType":"kms"}"#, "1 validation error detected: Value 'kms' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]"),
            (#""TableClass":"COLD""#, "1 validation error detected: Value 'COLD' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]"),
            (#""Tags":[{"Key":"aws:x","Value":"v"}]"#, "Tag Key cannot be prefixed with aws:, Key: aws:x"),
        ]
        for (extra, message) in cases { refused("CreateTable", #"{"TableName":"Music","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",\#(extra)}"#, .validation, message) }
        XCTAssertEqual(try call("ListTables", "{}").jsonText, #"{"TableNames":[]}"#)
        // The default key, asked for plainly, has no description, as in DynamoDB.
        try create(#","SSESpecification":{"Enabled":false}"#)
        XCTAssertNil(try call("DescribeTable", #"{"TableName":"Music"}"#)["Table"]?["SSEDescription"])
    }

    func testDeletionProtectionRefusesDeleteTableUntilTurnedOff() throws {
        try create(#","DeletionProtectionEnabled":true"#)
        refused("DeleteTable", #"{"TableName":"Music"}"#, .validation,
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
        try call("UpdateTable", #"{"TableName":"Music","DeletionProtectionEnabled":false}"#)
        let deleted = try call("DeleteTable", #"{"TableName":"Music"}"#)["TableDescription"]
        XCTAssertEqual(deleted?["TableStatus"]?.stringValue, "DELETING")
        XCTAssertEqual(deleted?["TableArn"]?.stringValue, arn)
        XCTAssertEqual(deleted?["ItemCount"]?.numberText, "0")
    }
}
