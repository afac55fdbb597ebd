import FerryTestSupport
import Foundation
import XCTest

/// The legacy (non-expression) members through the tools: boto3 against ferry-serve, and
/// ferry-table's legacy options (docs/legacy-parameters.md).
final class LegacyServeToolTests: ToolTestCase {
    func testBoto3LegacyMembersGetDynamoDBsResultsAndErrors() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/legacy-parameters.py")
        XCTAssertTrue(r.stdout.hasSuffix("all legacy checks passed\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
    }

    func testFerryTableTakesEachKindOfLegacyOption() throws {
        let r = try sh(#"""
        set -e
        ferry-table create-table --table-name Songs --billing-mode PAY_PER_REQUEST \
          --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=Title,AttributeType=S \
          --key-schema AttributeName=Artist,KeyType=HASH AttributeName=Title,KeyType=RANGE > /dev/null
        ferry-table put-item --table-name Songs --item '{"Artist":{"S":"Band"},"Title":{"S":"One"},"Plays":{"N":"1"}}' \
          --expected '{"Artist":{"Exists":false}}'
        ferry-table put-item --table-name Songs --item '{"Artist":{"S":"Band"},"Title":{"S":"Two"},"Plays":{"N":"5"}}'
        status=0; ferry-table put-item --table-name Songs --item '{"Artist":{"S":"Band"},"Title":{"S":"One"}}' \
          --expected '{"Plays":{"Value":{"N":"9"}},"Title":{"Exists":false}}' --conditional-operator OR 2> refused.err || status=$?
        echo "refused $status: $(cat refused.err)"
        ferry-table update-item --table-name Songs --key '{"Artist":{"S":"Band"},"Title":{"S":"One"}}' \
          --attribute-updates '{"Plays":{"Action":"ADD","Value":{"N":"2"}}}' --return-values UPDATED_NEW --output json | tr -d ' \n'; echo
        ferry-table get-item --table-name Songs --key '{"Artist":{"S":"Band"},"Title":{"S":"One"}}' --attributes-to-get Plays | tr -d ' \n'; echo
        ferry-table query --table-name Songs --key-conditions '{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}}' \
          --query-filter '{"Plays":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"4"}]}}' --attributes-to-get Title | tr -d ' \n'; echo
        ferry-table scan --table-name Songs --scan-filter '{"Plays":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"4"}]}}' \
          --attributes-to-get Title | tr -d ' \n'; echo
        """#)
        XCTAssertEqual(r.stdout, """
        refused 1: ferry-table: error: An error occurred (ConditionalCheckFailedException) when calling the PutItem operation: The conditional request failed
        {"Attributes":{"Plays":{"N":"3"}}}
        {"Item":{"Plays":{"N":"3"}}}
        {"Items":[{"Title":{"S":"Two"}}],"Count":1,"ScannedCount":2,"ConsumedCapacity":null}
        {"Items":[{"Title":{"S":"One"}}],"Count":1,"ScannedCount":2,"ConsumedCapacity":null}

        """)
        XCTAssertEqual(r.stderr, "")
    }
}
