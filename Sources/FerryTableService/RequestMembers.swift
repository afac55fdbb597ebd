import FerryTable
import FerryValues

/// Which request members each operation takes (DynamoDB API 2012-08-10, as botocore's
/// model lists them) and which of them Ferry implements. A member Ferry does not
/// implement is refused by name rather than ignored, since ignoring a condition or a
/// filter would write or return what the caller ruled out (docs/ferry-serve.md,
/// "Request members").
enum RequestMembers {
    /// How Ferry treats a member it knows.
    enum Rule {
        /// Implemented.
        case implemented
        /// Accepted only with these values (JSON text), which ask for nothing Ferry lacks.
        case only([String])
        /// Not implemented; the text says what to use instead (may be empty).
        case refused(String)
    }

    static let returnConsumedCapacity = Rule.implemented
    static let returnItemCollectionMetrics = Rule.implemented
    /// The legacy (non-expression) members: implemented by translation into expressions
    /// (LegacyParameters, docs/legacy-parameters.md).
    static let legacy = Rule.implemented
    static let notLocal = Rule.refused("")

    static let rules: [String: [String: Rule]] = [
        "CreateTable": [
            "AttributeDefinitions": .implemented, "TableName": .implemented, "KeySchema": .implemented,
            "LocalSecondaryIndexes": .implemented, "GlobalSecondaryIndexes": .implemented, "BillingMode": .implemented,
            "ProvisionedThroughput": .implemented, "DeletionProtectionEnabled": .implemented,
            "StreamSpecification": .implemented, "SSESpecification": .implemented, "TableClass": .implemented,
            "Tags": .implemented, "OnDemandThroughput": .implemented, "WarmThroughput": notLocal, "ResourcePolicy": notLocal,
            "GlobalTableSourceArn": notLocal, "GlobalTableSettingsReplicationMode": notLocal,
        ],
        "DescribeTable": ["TableName": .implemented],
        "ListTables": ["ExclusiveStartTableName": .implemented, "Limit": .implemented],
        "UpdateTable": [
            "AttributeDefinitions": .implemented, "TableName": .implemented, "BillingMode": .implemented,
            "ProvisionedThroughput": .implemented, "GlobalSecondaryIndexUpdates": .implemented,
            "DeletionProtectionEnabled": .implemented,
            "StreamSpecification": .implemented, "SSESpecification": .implemented, "TableClass": .implemented,
            "ReplicaUpdates": notLocal, "MultiRegionConsistency": notLocal, "GlobalTableWitnessUpdates": notLocal,
            "OnDemandThroughput": .implemented, "WarmThroughput": notLocal, "GlobalTableSettingsReplicationMode": notLocal,
        ],
        "DeleteTable": ["TableName": .implemented],
        "PutItem": [
            "TableName": .implemented, "Item": .implemented, "ReturnValues": .implemented,
            "ConditionExpression": .implemented, "ExpressionAttributeNames": .implemented, "ExpressionAttributeValues": .implemented,
            "Expected": legacy, "ConditionalOperator": legacy,
            "ReturnConsumedCapacity": returnConsumedCapacity, "ReturnItemCollectionMetrics": returnItemCollectionMetrics,
            "ReturnValuesOnConditionCheckFailure": .implemented,
        ],
        "GetItem": [
            "TableName": .implemented, "Key": .implemented, "ProjectionExpression": .implemented,
            "ExpressionAttributeNames": .implemented, "ConsistentRead": .implemented,
            "AttributesToGet": legacy, "ReturnConsumedCapacity": returnConsumedCapacity,
        ],
        "UpdateItem": [
            "TableName": .implemented, "Key": .implemented, "ReturnValues": .implemented, "UpdateExpression": .implemented,
            "ConditionExpression": .implemented, "ExpressionAttributeNames": .implemented, "ExpressionAttributeValues": .implemented,
            "AttributeUpdates": legacy, "Expected": legacy, "ConditionalOperator": legacy,
            "ReturnConsumedCapacity": returnConsumedCapacity, "ReturnItemCollectionMetrics": returnItemCollectionMetrics,
            "ReturnValuesOnConditionCheckFailure": .implemented,
        ],
        "DeleteItem": [
            "TableName": .implemented, "Key": .implemented, "ReturnValues": .implemented,
            "ConditionExpression": .implemented, "ExpressionAttributeNames": .implemented, "ExpressionAttributeValues": .implemented,
            "Expected": legacy, "ConditionalOperator": legacy,
            "ReturnConsumedCapacity": returnConsumedCapacity, "ReturnItemCollectionMetrics": returnItemCollectionMetrics,
            "ReturnValuesOnConditionCheckFailure": .implemented,
        ],
        "BatchWriteItem": [
            "RequestItems": .implemented,
            "ReturnConsumedCapacity": returnConsumedCapacity, "ReturnItemCollectionMetrics": returnItemCollectionMetrics,
        ],
        "BatchGetItem": ["RequestItems": .implemented, "ReturnConsumedCapacity": returnConsumedCapacity],
        "Query": [
            "TableName": .implemented, "IndexName": .implemented, "Select": .implemented, "Limit": .implemented,
            "ConsistentRead": .implemented, "ScanIndexForward": .implemented, "ExclusiveStartKey": .implemented,
            "ProjectionExpression": .implemented, "FilterExpression": .implemented, "KeyConditionExpression": .implemented,
            "ExpressionAttributeNames": .implemented, "ExpressionAttributeValues": .implemented,
            "AttributesToGet": legacy, "KeyConditions": legacy, "QueryFilter": legacy, "ConditionalOperator": legacy,
            "ReturnConsumedCapacity": returnConsumedCapacity,
        ],
        "Scan": [
            "TableName": .implemented, "IndexName": .implemented, "Limit": .implemented, "Select": .implemented,
            "ExclusiveStartKey": .implemented, "TotalSegments": .implemented, "Segment": .implemented,
            "ProjectionExpression": .implemented, "FilterExpression": .implemented, "ExpressionAttributeNames": .implemented,
            "ExpressionAttributeValues": .implemented, "ConsistentRead": .implemented,
            "AttributesToGet": legacy, "ScanFilter": legacy, "ConditionalOperator": legacy,
            "ReturnConsumedCapacity": returnConsumedCapacity,
        ],
        "TransactWriteItems": [
            "TransactItems": .implemented, "ClientRequestToken": .implemented,
            "ReturnConsumedCapacity": returnConsumedCapacity, "ReturnItemCollectionMetrics": returnItemCollectionMetrics,
        ],
        "TransactGetItems": ["TransactItems": .implemented, "ReturnConsumedCapacity": returnConsumedCapacity],
        "TagResource": ["ResourceArn": .implemented, "Tags": .implemented],
        "UntagResource": ["ResourceArn": .implemented, "TagKeys": .implemented],
        "ListTagsOfResource": ["ResourceArn": .implemented, "NextToken": .implemented],
        "UpdateTimeToLive": ["TableName": .implemented, "TimeToLiveSpecification": .implemented],
        "DescribeTimeToLive": ["TableName": .implemented],
        "DescribeEndpoints": [:],
        "DescribeLimits": [:],
    ]

    /// Refuses a member `operation` does not take, or takes with a meaning Ferry lacks.
    /// DynamoDB ignores members it does not know; Ferry refuses them (a misspelt
    /// `ConditionExpresion` ignored would write what the caller ruled out). SDKs refuse
    /// unknown members before sending, so only hand-made requests meet this.
    static func check(_ operation: String, _ request: JSONValue) throws {
        guard let rules = rules[operation], let members = request.objectValue else { return }
        try checkExpressionMixing(operation, members)
        try checkMembers(members, rules, within: operation)
    }

    /// Legacy (non-expression) members beside expression members: DynamoDB's own refusal,
    /// with both lists in its fixed order (Expected before ConditionalOperator, as
    /// DynamoDB answers: "{Expected, ConditionalOperator}", "{AttributeUpdates, Expected,
    /// ConditionalOperator}").
    static let legacyMembers = ["AttributesToGet", "AttributeUpdates", "Expected", "ScanFilter", "QueryFilter", "ConditionalOperator", "KeyConditions"]
    static let expressionMembers = ["ProjectionExpression", "UpdateExpression", "FilterExpression", "ConditionExpression", "KeyConditionExpression"]

    static func checkExpressionMixing(_ operation: String, _ members: [JSONMember]) throws {
        // The common request has no legacy member: one pass, no sets.
        var anyLegacy = false, anyExpression = false
        for m in members {
            if case .null = m.value { continue }
            if legacyMembers.contains(m.key) { anyLegacy = true } else if expressionMembers.contains(m.key) { anyExpression = true }
        }
        guard anyLegacy && anyExpression else { return }
        var present = Set<String>()
        for m in members { if case .null = m.value {} else { present.insert(m.key) } }
        let expressions = expressionMembers.filter(present.contains)
        var legacy = legacyMembers.filter(present.contains)
        // Query's KeyConditions counts only beside a KeyConditionExpression.
        if operation == "Query", !present.contains("KeyConditionExpression") { legacy.removeAll { $0 == "KeyConditions" } }
        guard !legacy.isEmpty else { return }
        throw DynamoDBError.validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {\(legacy.joined(separator: ", "))} Expression parameters: {\(expressions.joined(separator: ", "))}")
    }

    // MARK: Members of nested structures

    /// Refuses members outside `rules`, or whose rule refuses them, naming `within` (the
    /// operation, or the structure inside it). One loop for the request and its parts.
    private static func checkMembers(_ members: [JSONMember], _ rules: [String: Rule], within: String) throws {
        for member in members {
            if case .null = member.value { continue }
            switch rules[member.key] {
            case nil:
                throw DynamoDBError.validation("Unknown request member \(member.key) for \(within) (Ferry refuses members DynamoDB's API does not define)")
            case .implemented?:
                continue
            case let .only(values)?:
                if values.contains(member.value.jsonText) { continue }
                throw DynamoDBError.validation("Ferry does not implement \(member.key) \(member.value.jsonText) in \(within); it accepts only \(values.joined(separator: " or "))")
            case let .refused(instead)?:
                throw DynamoDBError.validation("Ferry does not implement \(member.key) in \(within)" + (instead.isEmpty ? "" : "; \(instead)"))
            }
        }
    }

    static func checkNested(_ object: JSONValue, _ rules: [String: Rule], within: String) throws {
        guard let members = object.objectValue else { return }
        try checkMembers(members, rules, within: within)
    }

    static let indexRules: [String: Rule] = [
        "IndexName": .implemented, "KeySchema": .implemented, "Projection": .implemented,
        "ProvisionedThroughput": .implemented, "OnDemandThroughput": notLocal, "WarmThroughput": notLocal,
    ]

    /// A secondary index of CreateTable, or UpdateTable's GlobalSecondaryIndexUpdates Create.
    static func checkIndex(_ entry: JSONValue, operation: String) throws {
        try checkNested(entry, indexRules, within: "a secondary index of \(operation)")
    }

    /// One of BatchWriteItem's requests: exactly one of PutRequest and DeleteRequest.
    static func checkWriteRequest(_ entry: JSONValue) throws {
        try checkNested(entry, ["PutRequest": .implemented, "DeleteRequest": .implemented], within: "a BatchWriteItem WriteRequest")
        if entry["PutRequest"] != nil && entry["DeleteRequest"] != nil {
            throw DynamoDBError.validation("A BatchWriteItem WriteRequest must have exactly one of PutRequest and DeleteRequest")
        }
    }

    /// One entry of TransactWriteItems' TransactItems.
    static func checkTransactWriteItem(_ entry: JSONValue) throws {
        try checkNested(entry, ["ConditionCheck": .implemented, "Put": .implemented, "Delete": .implemented, "Update": .implemented],
                        within: "a TransactWriteItem")
    }

    /// One entry of TransactGetItems' TransactItems.
    static func checkTransactGetItem(_ entry: JSONValue) throws {
        try checkNested(entry, ["Get": .implemented], within: "a TransactGetItem")
    }

    static let transactActionRules: [String: [String: Rule]] = {
        let expression: [String: Rule] = [
            "TableName": .implemented, "ConditionExpression": .implemented, "ExpressionAttributeNames": .implemented,
            "ExpressionAttributeValues": .implemented, "ReturnValuesOnConditionCheckFailure": .implemented,
        ]
        return [
            "Put": expression.merging(["Item": .implemented]) { a, _ in a },
            "Delete": expression.merging(["Key": .implemented]) { a, _ in a },
            "ConditionCheck": expression.merging(["Key": .implemented]) { a, _ in a },
            "Update": expression.merging(["Key": .implemented, "UpdateExpression": .implemented]) { a, _ in a },
            "Get": ["TableName": .implemented, "Key": .implemented, "ProjectionExpression": .implemented, "ExpressionAttributeNames": .implemented],
        ]
    }()

    /// The Put, Update, Delete, ConditionCheck or Get inside a transaction's entry.
    static func checkTransactAction(_ body: JSONValue, _ kind: String) throws {
        try checkNested(body, transactActionRules[kind] ?? [:], within: "a transaction's \(kind)")
    }

    static func checkTimeToLiveSpecification(_ spec: JSONValue) throws {
        try checkNested(spec, ["Enabled": .implemented, "AttributeName": .implemented], within: "TimeToLiveSpecification")
    }

    /// One table's KeysAndAttributes of BatchGetItem.
    static func checkKeysAndAttributes(_ entry: JSONValue, table: String) throws {
        if let members = entry.objectValue { try checkExpressionMixing("BatchGetItem", members) }
        try checkNested(entry, [
            "Keys": .implemented, "ProjectionExpression": .implemented, "ExpressionAttributeNames": .implemented,
            "ConsistentRead": .implemented, "AttributesToGet": legacy,
        ], within: "BatchGetItem's RequestItems.\(table)")
    }
}
