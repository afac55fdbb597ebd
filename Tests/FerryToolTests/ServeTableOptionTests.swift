import FerryTestSupport
import Foundation
import XCTest

/// Tags, table options and time to live through ferry-serve (boto3) and ferry-table
/// (the aws CLI's shapes), on the same cases (docs/ferry-serve.md, docs/ferry-table.md).
final class ServeTableOptionTests: ToolTestCase {
    func testBoto3TagsOptionsTimeToLiveAndCapacityWithTheServersSweep() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/ttl-and-tags.py",
                               options: "--ttl-interval 0.2 --region eu-west-1 --account-id 123456789012", env: ["FERRY_TEST_NOW": "1800000000"])
        XCTAssertEqual(r.stdout, """
        arn arn:aws:dynamodb:eu-west-1:123456789012:table/Sessions
        class STANDARD_INFREQUENT_ACCESS sse KMS stream {'StreamEnabled': True, 'StreamViewType': 'KEYS_ONLY'}
        tags [{'Key': 'owner', 'Value': 'ada'}]
        refused ValidationException Tag Key cannot be prefixed with aws:, Key: aws:x
        {'Enabled': True, 'AttributeName': 'expires'}
        {'TimeToLiveStatus': 'ENABLED', 'AttributeName': 'expires'}
        left ['new', 'text']
        refused ValidationException TimeToLive is already enabled
        put {'TableName': 'Sessions', 'CapacityUnits': 1.0}
        transact [{'TableName': 'Sessions', 'CapacityUnits': 2.0, 'WriteCapacityUnits': 2.0, 'Table': {'WriteCapacityUnits': 2.0, 'CapacityUnits': 2.0}}]
        query {'TableName': 'Sessions', 'CapacityUnits': 1.0}

        """, r.stderr)
    }

    func testFerryTableTagsTimeToLiveAndSweepForCron() throws {
        let r = try sh("""
        export FERRY_TEST_NOW=1800000000
        ferry-table create-table --table-name Sessions --attribute-definitions AttributeName=id,AttributeType=S \\
            --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST --tags Key=team,Value=web > /dev/null
        arn=$(ferry-table describe-table --table-name Sessions | python3 -c 'import sys,json; print(json.load(sys.stdin)["Table"]["TableArn"])')
        echo "$arn"
        ferry-table tag-resource --resource-arn "$arn" --tags Key=owner,Value=ada
        ferry-table untag-resource --resource-arn "$arn" --tag-keys team
        ferry-table list-tags-of-resource --resource-arn "$arn" | tr -d ' \\n'; echo
        ferry-table update-time-to-live --table-name Sessions --time-to-live-specification Enabled=true,AttributeName=expires | tr -d ' \\n'; echo
        ferry-table describe-time-to-live --table-name Sessions | tr -d ' \\n'; echo
        ferry-table put-item --table-name Sessions --item '{"id":{"S":"old"},"expires":{"N":"1799999000"}}'
        ferry-table put-item --table-name Sessions --item '{"id":{"S":"new"},"expires":{"N":"1800009000"}}'
        ferry-table sweep-ttl
        ferry-table sweep-ttl --table-name Sessions
        ferry-table scan --table-name Sessions | grep -c '"S": "new"'
        ferry-table sweep-ttl --table-name Nope; echo "exit $?"
        """)
        XCTAssertEqual(r.stdout, """
        arn:aws:dynamodb:us-east-1:000000000000:table/Sessions
        {"Tags":[{"Key":"owner","Value":"ada"}]}
        {"TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}}
        {"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"expires"}}
        table 'Sessions': 1 expired items deleted (2 scanned)
        table 'Sessions': 0 expired items deleted (1 scanned)
        1
        exit 1

        """, r.stderr)
        XCTAssertTrue(r.stderr.contains("ferry-table: error: An error occurred (ResourceNotFoundException) when calling the sweep-ttl operation: Requested resource not found: Table: Nope not found"), r.stderr)
    }
}
