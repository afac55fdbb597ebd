// ferry-table: DynamoDB tables on the local filesystem, shaped like `aws dynamodb`.
#if canImport(Glibc)
import Glibc
#endif
import FerryAWS
import FerryCLI
import FerryRemote
import FerryIO
import FerryTable
import FerryTableService
import FerryValues

typealias P = AWSParameter

let tableName = P("--table-name", "TableName", .string, "The table.")
let names = P("--expression-attribute-names", "ExpressionAttributeNames", .stringMap, "Substitutions for #names (JSON or Name=Value shorthand).")
let values = P("--expression-attribute-values", "ExpressionAttributeValues", .attributeMap, "Substitutions for :values, as typed JSON.")
let condition = P("--condition-expression", "ConditionExpression", .string, "A condition the item must meet for the write to happen.")
let returnValues = P("--return-values", "ReturnValues", .string, "NONE, ALL_OLD (and for update-item UPDATED_OLD, ALL_NEW, UPDATED_NEW).")
let projection = P("--projection-expression", "ProjectionExpression", .string, "The attributes to return.")
let key = P("--key", "Key", .attributeMap, "The item's primary key, as typed JSON.")
let consistentRead = P("--consistent-read", "ConsistentRead", .boolean, "Accepted for compatibility: every read is consistent.")
let collectionMetrics = P("--return-item-collection-metrics", "ReturnItemCollectionMetrics", .string, "SIZE: the item collection's size, for tables with local indexes.")
let onFailure = P("--return-values-on-condition-check-failure", "ReturnValuesOnConditionCheckFailure", .string, "ALL_OLD: a failed condition's error carries the item (NONE, the default: it does not).")
let returnCapacity = P("--return-consumed-capacity", "ReturnConsumedCapacity", .string, "TOTAL or INDEXES: the capacity units DynamoDB would count (Ferry throttles nothing).")
let attributeDefinitions = P("--attribute-definitions", "AttributeDefinitions", .list, "AttributeName=a,AttributeType=S|N|B ... (or JSON).")
let billing = P("--billing-mode", "BillingMode", .string, "PROVISIONED (default) or PAY_PER_REQUEST.")
let throughput = P("--provisioned-throughput", "ProvisionedThroughput", .structure, "ReadCapacityUnits=n,WriteCapacityUnits=n (stored and described).")
let deletionProtection = P("--deletion-protection-enabled", "DeletionProtectionEnabled", .boolean, "Refuse delete-table while set.")
let indexName = P("--index-name", "IndexName", .string, "Read a secondary index instead of the table.")
let filter = P("--filter-expression", "FilterExpression", .string, "Drop items that do not match (after reading).")
let select = P("--select", "Select", .string, "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES or COUNT.")
let limit = P("--limit", "Limit", .integer, "Items to evaluate in one page (turns automatic paging off, as in the aws CLI).")
let startKey = P("--exclusive-start-key", "ExclusiveStartKey", .attributeMap, "Continue after this key (a LastEvaluatedKey).")
let tags = P("--tags", "Tags", .list, "Key=k,Value=v ... (or JSON): at most 50.")
let streamSpecification = P("--stream-specification", "StreamSpecification", .structure, "StreamEnabled=true,StreamViewType=NEW_IMAGE (stored and described; Ferry records no stream yet).", booleans: ["StreamEnabled"])
let sseSpecification = P("--sse-specification", "SSESpecification", .structure, "Enabled=true,SSEType=KMS[,KMSMasterKeyId=k] (stored and described; Ferry encrypts nothing itself).", booleans: ["Enabled"])
let tableClass = P("--table-class", "TableClass", .string, "STANDARD or STANDARD_INFREQUENT_ACCESS (stored and described).")
let onDemandThroughput = P("--on-demand-throughput", "OnDemandThroughput", .structure, "MaxReadRequestUnits=n,MaxWriteRequestUnits=n (stored and described).")
let resourceArn = P("--resource-arn", "ResourceArn", .string, "The table's ARN (DescribeTable's TableArn).")
let requestItems = P("--request-items", "RequestItems", .attributeMap, "The batch, as JSON (file://path works).")
// The legacy (non-expression) members, on the commands where the aws CLI has them (docs/legacy-parameters.md).
let attributesToGet = P("--attributes-to-get", "AttributesToGet", .stringList, "Legacy: the attributes to return (use --projection-expression).")
let expected = P("--expected", "Expected", .attributeMap, "Legacy: conditions on the current item, as JSON (use --condition-expression).")
let conditionalOperator = P("--conditional-operator", "ConditionalOperator", .string, "Legacy: AND (the default) or OR, joining --expected or the filter's conditions.")
let keyConditions = P("--key-conditions", "KeyConditions", .attributeMap, "Legacy: the key conditions, as JSON (use --key-condition-expression).")
let queryFilter = P("--query-filter", "QueryFilter", .attributeMap, "Legacy: conditions on non-key attributes, as JSON (use --filter-expression).")
let scanFilter = P("--scan-filter", "ScanFilter", .attributeMap, "Legacy: conditions on attributes, as JSON (use --filter-expression).")
let attributeUpdates = P("--attribute-updates", "AttributeUpdates", .attributeMap, "Legacy: PUT, ADD and DELETE actions, as JSON (use --update-expression).")

/// Options every subcommand takes besides its parameters.
let common: [OptionSpec] = [
    AWSRequestBuilder.cliInputJSON, .data,
    OptionSpec("--sync", value: "<policy>", help: "always (fsync every commit, the default) or batch (fsync per MiB of log and at exit)."),
    OptionSpec("--output", value: "<format>", help: "json (the only format)."),
] + OptionSpec.remoteOptions + [
    OptionSpec("--no-cli-pager", help: "Accepted and ignored (output is never paged)."),
]
let paging: [OptionSpec] = [
    OptionSpec("--page-size", value: "<n>", help: "Items per page while paging automatically."),
    OptionSpec("--no-paginate", help: "Return the first page only."),
]

func command(_ name: String, _ operation: String, _ summary: String, _ parameters: [AWSParameter],
             extra: [OptionSpec] = [], examples: [String] = []) -> CommandGroup.Subcommand {
    let spec = CommandSpec(name: "ferry-table \(name)", summary: summary,
                           usage: "ferry-table \(name) " + parameters.map { "[\($0.option) <value>]" }.joined(separator: " "),
                           options: parameters.flatMap(\.optionSpecs) + extra + common, examples: examples,
                           notes: ["The request and the response are DynamoDB's \(operation) (docs/ferry-table.md)."])
    return .init(spec) { args in
        let request = try AWSRequestBuilder.build(args, parameters)
        return try run(operation, request, args)
    }
}

func run(_ operation: String, _ request: JSONValue, _ args: ParsedArguments) throws -> ExitCode {
    if let output = args.value("--output"), output != "json" {
        throw UsageError.invalidValue(option: "--output", value: output, expected: "json")
    }
    // Reads never create the data folder: a mistyped one is an error, not an empty store.
    let readOnly: Set<String> = ["DescribeTable", "ListTables", "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ListTagsOfResource",
                                  "DescribeTimeToLive", "DescribeLimits", "DescribeEndpoints"]
    if let settings = try args.remoteSettings(.dynamodb) {
        if args.value("--sync") != nil { throw UsageError.other("--sync applies to the data folder, not to \(settings.endpointURL ?? "an endpoint")") }
        let remote = RemoteDynamoDB(client: try AWSSettingsError.usageIfOption { try AWSClient(settings: settings) })
        return try reportingErrors(operation) { try call(remote, operation, request, args) }
    }
    ResourceNames.configure(region: args.value("--region"), account: nil)
    let catalog = try TableCatalog(dataFolder: DataFolder.resolve(args), create: !readOnly.contains(operation))
    if let policy = args.value("--sync") {
        guard let p = WriteAheadLog.SyncPolicy(rawValue: policy) else {
            throw UsageError.invalidValue(option: "--sync", value: policy, expected: "always or batch")
        }
        catalog.syncPolicy = p
    }
    let service = DynamoDBService(catalog: catalog, program: "ferry-table")
    return try reportingErrors(operation) { try call(service, operation, request, args) }
}

func call(_ api: any DynamoDBAPI, _ operation: String, _ request: JSONValue, _ args: ParsedArguments) throws -> ExitCode {
    let pageSize = try args.value("--page-size").map { _ in try args.int("--page-size", default: 0, range: 1...Int.max) }
    let response = try AWSCLIOutput.call(api, operation, request, paginate: !args.flag("--no-paginate"), pageSize: pageSize)
    try Console.writeStdout(AWSCLIOutput.text(response))
    return .ok
}

/// Runs `body`, printing DynamoDB's errors as the aws CLI does and a held table's lock
/// as who holds it; both exit 1. Other errors (usage, I/O) go to the caller.
func reportingErrors(_ operation: String, _ body: () throws -> ExitCode) throws -> ExitCode {
    do {
        return try body()
    } catch let error as DynamoDBError {
        Console(tool: "ferry-table").error("An error occurred (\(error.kind.rawValue)) when calling the \(operation) operation: \(error.message)")
        return .failure
    } catch let error as TableLock.LockError {
        Console(tool: "ferry-table").note("\(error)")
        return .failure
    }
}

let group = CommandGroup(
    name: "ferry-table",
    summary: "DynamoDB tables on the local filesystem, shaped like `aws dynamodb` (see docs/ferry-table.md).",
    subcommands: [
        command("create-table", "CreateTable", "Create a table (and its secondary indexes).",
                [tableName, attributeDefinitions, P("--key-schema", "KeySchema", .list, "AttributeName=a,KeyType=HASH [AttributeName=b,KeyType=RANGE]."),
                 P("--local-secondary-indexes", "LocalSecondaryIndexes", .list, "Local secondary indexes (JSON or shorthand)."),
                 P("--global-secondary-indexes", "GlobalSecondaryIndexes", .list, "Global secondary indexes (JSON or shorthand)."),
                 billing, throughput, deletionProtection, tableClass, tags, streamSpecification, sseSpecification, onDemandThroughput],
                examples: ["ferry-table create-table --table-name Music --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE --provisioned-throughput ReadCapacityUnits=10,WriteCapacityUnits=5"]),
        command("describe-table", "DescribeTable", "Describe a table: keys, indexes, throughput, item count and size.", [tableName]),
        command("list-tables", "ListTables", "List table names.",
                [P("--exclusive-start-table-name", "ExclusiveStartTableName", .string, "List names after this one."), limit], extra: paging),
        command("update-table", "UpdateTable", "Change throughput or billing, or create (with backfill) or delete a global secondary index.",
                [tableName, attributeDefinitions, billing, throughput,
                 P("--global-secondary-index-updates", "GlobalSecondaryIndexUpdates", .list, "[{\"Create\":{...}}] or [{\"Delete\":{\"IndexName\":...}}]."),
                 deletionProtection, streamSpecification, sseSpecification, tableClass, onDemandThroughput]),
        command("delete-table", "DeleteTable", "Delete a table and its data.", [tableName]),
        command("put-item", "PutItem", "Create or replace an item.",
                [tableName, P("--item", "Item", .attributeMap, "The item, as typed JSON."), condition, names, values, returnValues, returnCapacity, collectionMetrics, onFailure,
                 expected, conditionalOperator],
                examples: ["ferry-table put-item --table-name Music --item '{\"Artist\":{\"S\":\"No One You Know\"},\"SongTitle\":{\"S\":\"Call Me Today\"}}'"]),
        command("get-item", "GetItem", "Read one item by its key.", [tableName, key, projection, names, consistentRead, returnCapacity, attributesToGet]),
        command("update-item", "UpdateItem", "Change an item's attributes (creating it if absent).",
                [tableName, key, P("--update-expression", "UpdateExpression", .string, "SET, REMOVE, ADD and DELETE clauses."),
                 condition, names, values, returnValues, returnCapacity, collectionMetrics, onFailure, attributeUpdates, expected, conditionalOperator]),
        command("delete-item", "DeleteItem", "Delete one item by its key.",
                [tableName, key, condition, names, values, returnValues, returnCapacity, collectionMetrics, onFailure, expected, conditionalOperator]),
        command("batch-write-item", "BatchWriteItem", "Put or delete up to 25 items in one commit.", [requestItems, returnCapacity, collectionMetrics]),
        command("batch-get-item", "BatchGetItem", "Read up to 100 items by key.", [requestItems, returnCapacity]),
        command("query", "Query", "Read the items of one partition key, in sort key order.",
                [tableName, indexName, P("--key-condition-expression", "KeyConditionExpression", .string, "pk = :v [AND sort condition]."),
                 filter, projection, names, values, select, limit,
                 P("--scan-index-forward", "ScanIndexForward", .boolean, "Ascending sort key order (the default); --no-scan-index-forward for descending."),
                 startKey, consistentRead, returnCapacity, attributesToGet, keyConditions, queryFilter, conditionalOperator], extra: paging),
        command("scan", "Scan", "Read every item of a table or index.",
                [tableName, indexName, filter, projection, names, values, select, limit, startKey,
                 P("--segment", "Segment", .integer, "This reader's segment (0-based) of a parallel scan."),
                 P("--total-segments", "TotalSegments", .integer, "How many segments the parallel scan has."),
                 consistentRead, returnCapacity, attributesToGet, scanFilter, conditionalOperator], extra: paging),
        command("transact-write-items", "TransactWriteItems", "Put, update, delete and condition-check up to 100 items in one or more tables, all or nothing.",
                [P("--transact-items", "TransactItems", .list, "The actions, as JSON: [{\"Put\":{...}}, {\"Update\":{...}}, {\"Delete\":{...}}, {\"ConditionCheck\":{...}}] (file://path works)."),
                 P("--client-request-token", "ClientRequestToken", .string, "Makes a retried request idempotent for 10 minutes."),
                 returnCapacity, collectionMetrics],
                examples: ["ferry-table transact-write-items --transact-items file://transfer.json"]),
        command("transact-get-items", "TransactGetItems", "Read up to 100 items from one or more tables as of one moment.",
                [P("--transact-items", "TransactItems", .list, "The reads, as JSON: [{\"Get\":{\"TableName\":...,\"Key\":{...}}}] (file://path works)."),
                 returnCapacity]),
        command("tag-resource", "TagResource", "Add or replace tags of a table.", [resourceArn, tags],
                examples: ["ferry-table tag-resource --resource-arn arn:aws:dynamodb:us-east-1:000000000000:table/Music --tags Key=team,Value=data"]),
        command("untag-resource", "UntagResource", "Remove tags from a table.",
                [resourceArn, P("--tag-keys", "TagKeys", .stringList, "The tag keys to remove.")]),
        command("list-tags-of-resource", "ListTagsOfResource", "List a table's tags.",
                [resourceArn, P("--next-token", "NextToken", .string, "Accepted (every answer is one page).")]),
        command("update-time-to-live", "UpdateTimeToLive", "Turn time to live on or off: items whose Number attribute (epoch seconds) has passed are deleted.",
                [tableName, P("--time-to-live-specification", "TimeToLiveSpecification", .structure, "Enabled=true,AttributeName=expiresAt.", booleans: ["Enabled"])],
                examples: ["ferry-table update-time-to-live --table-name Sessions --time-to-live-specification Enabled=true,AttributeName=expiresAt"]),
        command("describe-time-to-live", "DescribeTimeToLive", "Say whether time to live is on, and on which attribute.", [tableName]),
        .init(CommandSpec(name: "ferry-table sweep-ttl", summary: "Delete the items whose time to live has passed, now (Ferry's own command, for cron when no ferry-serve runs).",
                          usage: "ferry-table sweep-ttl [--table-name <name>] [--data <dir>]",
                          options: [OptionSpec("--table-name", value: "<name>", help: "This table only (default: every table with time to live on)."), .data],
                          notes: ["Prints one line per table: deleted and scanned item counts. ferry-serve sweeps by itself (--ttl-interval)."])) { args in
            let catalog = try TableCatalog(dataFolder: DataFolder.resolve(args), create: false)
            let service = DynamoDBService(catalog: catalog, program: "ferry-table sweep-ttl")
            return try reportingErrors("sweep-ttl") {
                for result in try service.sweepExpiredItems(args.value("--table-name").map { [$0] }) {
                    try Console.writeStdout("table '\(result.table)': \(result.deleted) expired items deleted (\(result.scanned) scanned)\n")
                }
                return .ok
            }
        },
        command("describe-limits", "DescribeLimits", "DynamoDB's default capacity quotas (Ferry enforces none of them).", []),
        command("describe-endpoints", "DescribeEndpoints", "Where requests go: here, the data folder (ferry-serve answers its own address).", []),
        .init(CommandSpec(name: "ferry-table wait", summary: "Wait until a table exists (table-exists) or is gone (table-not-exists), as aws dynamodb wait does.",
                          usage: "ferry-table wait table-exists|table-not-exists --table-name <name> [--delay <s>] [--max-attempts <n>] [--data <dir>]",
                          options: [OptionSpec("--table-name", value: "<name>", help: "The table."),
                                    OptionSpec("--delay", value: "<seconds>", help: "Seconds between checks (the aws CLI's 20)."),
                                    OptionSpec("--max-attempts", value: "<n>", help: "Checks before giving up (the aws CLI's 25)."), .data],
                          notes: ["Exits 0 once the table is ACTIVE (or gone); 1 with the aws CLI's message after the last attempt."])) { args in
            guard args.positionals.count == 1, let waiter = ["table-exists": "TableExists", "table-not-exists": "TableNotExists"][args.positionals[0]] else {
                throw UsageError.other("ferry-table wait needs one waiter: table-exists or table-not-exists")
            }
            let name = try args.required("--table-name")
            let delay = try args.int("--delay", default: 20, range: 0...3600)
            let attempts = try args.int("--max-attempts", default: 25, range: 1...10_000)
            for attempt in 1...attempts {
                // A fresh catalog each time: another process creates or deletes the table.
                let exists = (try? TableCatalog(dataFolder: DataFolder.resolve(args), create: false).description(of: name)) != nil
                if exists == (waiter == "TableExists") { return .ok }
                if attempt < attempts { sleep(UInt32(delay)) }
            }
            Console(tool: "ferry-table").error("Waiter \(waiter) failed: Max attempts exceeded")
            return .failure
        },
        .init(CommandSpec(name: "ferry-table verify", summary: "Check every checksum of a table's files (Ferry's own command).",
                          usage: "ferry-table verify --table-name <name> [--data <dir>]",
                          options: [OptionSpec("--table-name", value: "<name>", help: "The table."), .data])) { args in
            let name = try args.required("--table-name")
            let catalog = try TableCatalog(dataFolder: DataFolder.resolve(args), create: false)
            return try reportingErrors("verify") {
                try Console.writeStdout(try catalog.verify(name) + "\n")
                return .ok
            }
        },
    ],
    notes: ["Values: JSON, file://path, or the aws CLI shorthand (AttributeName=Artist,KeyType=HASH).",
            "Tables live in <data>/tables (--data, $FERRY_DATA, else ./ferry-data)."])

CommandLineTool.main(group)
