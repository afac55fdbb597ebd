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

    func testBoto3KeyConditionsMultiAttributeKeysAndLimits() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/keys-and-limits.py")
        XCTAssertEqual(r.stdout, """
        key schema [('cup', 'HASH'), ('tier', 'HASH'), ('stage', 'RANGE'), ('game', 'RANGE')]
        multi ['m1', 'm2']
        value first ['m0', 'm1', 'm2']
        skip ValidationException Query key condition not supported: RANGE key attribute game needs an equality condition on stage before it
        five hash ValidationException One or more parameter values were invalid: The KeySchema exceeds the maximum allowed number of HASH key attributes
        filter on key ValidationException Filter Expression can only contain non-primary key attributes: Primary key attribute: id
        long name ValidationException One or more parameter values were invalid: An attribute name is 65536 bytes, over DynamoDB's limit of 65535
        ghost False
        255 1
        deleted DELETING 1

        """, r.stderr)
    }

    func testFerryTableMultiAttributeKeysAndKeyConditionOrders() throws {
        let r = try sh("""
        ferry-table create-table --table-name Matches --billing-mode PAY_PER_REQUEST \
            --attribute-definitions AttributeName=id,AttributeType=S AttributeName=cup,AttributeType=S AttributeName=tier,AttributeType=S AttributeName=game,AttributeType=N \
            --key-schema AttributeName=id,KeyType=HASH \
            --global-secondary-indexes '[{"IndexName":"byMatch","Projection":{"ProjectionType":"KEYS_ONLY"},"KeySchema":[{"AttributeName":"cup","KeyType":"HASH"},{"AttributeName":"tier","KeyType":"HASH"},{"AttributeName":"game","KeyType":"RANGE"}]}]' > /dev/null
        for g in 3 1 2; do ferry-table put-item --table-name Matches --item "$(printf '{"id":{"S":"m%s"},"cup":{"S":"w"},"tier":{"S":"eu"},"game":{"N":"%s"}}' $g $g)"; done
        ferry-table query --table-name Matches --index-name byMatch --key-condition-expression ':t = tier AND game <= :g AND cup = :c' \
            --expression-attribute-values '{":c":{"S":"w"},":t":{"S":"eu"},":g":{"N":"2"}}' --projection-expression id | grep -o '"m[0-9]"' | tr '\n' ' '; echo
        ferry-table query --table-name Matches --key-condition-expression 'id = :i' --filter-expression 'id > :i' --expression-attribute-values '{":i":{"S":"m1"}}'
        ferry-table update-item --table-name Matches --key '{"id":{"S":"ghost"}}' --update-expression 'REMOVE tier'
        ferry-table scan --table-name Matches --select COUNT | grep '"Count"'
        """, expect: nil)
        XCTAssertEqual(r.stdout, "\"m1\" \"m2\" \n    \"Count\": 3,\n", r.stderr)
        XCTAssertTrue(r.stderr.contains("An error occurred (ValidationException) when calling the Query operation: Filter Expression can only contain non-primary key attributes: Primary key attribute: id"), r.stderr)
    }

    func testBadNewOptionsAreUsageErrorsNamingTheValue() throws {
        let account = try sh("ferry-serve --port 0 --account-id 12", expect: 2)
        XCTAssertTrue(account.stderr.hasPrefix("ferry-serve: error: invalid value '12' for '--account-id': expected 12 digits\nUSAGE: ferry-serve "), account.stderr)
        let interval = try sh("ferry-serve --port 0 --ttl-interval 0", expect: 2)
        XCTAssertTrue(interval.stderr.hasPrefix("ferry-serve: error: invalid value '0' for '--ttl-interval': expected seconds from 0.05 to 86400\nUSAGE: ferry-serve "), interval.stderr)
        XCTAssertEqual(account.stdout + interval.stdout, "")
        let waiter = try sh("ferry-table wait table-gone --table-name Music", expect: 2)
        XCTAssertTrue(waiter.stderr.hasPrefix("ferry-table: error: ferry-table wait needs one waiter: table-exists or table-not-exists\nUSAGE: ferry-table wait "), waiter.stderr)
        try sh("ferry-table create-table --table-name Music --attribute-definitions AttributeName=a,AttributeType=S --key-schema AttributeName=a,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null")
        try sh("ferry-table wait table-exists --table-name Music")
        let gone = try sh("ferry-table wait table-not-exists --table-name Music --delay 0 --max-attempts 2", expect: 1)
        XCTAssertEqual(gone.stderr, "ferry-table: error: Waiter TableNotExists failed: Max attempts exceeded\n")
    }
}
