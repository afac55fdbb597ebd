import FerryIO
import FerryTable
import FerryValues

/// ReturnConsumedCapacity and ReturnItemCollectionMetrics (docs/ferry-serve.md,
/// "Consumed capacity"): what a request would consume in DynamoDB, by DynamoDB's rules
/// (`ConsumedUnits`), in its response shapes.
extension DynamoDBService {
    /// What a request asked to be told.
    struct Reporting {
        /// "TOTAL" or "INDEXES"; nil for NONE.
        var capacity: String?
        /// ReturnItemCollectionMetrics SIZE.
        var collections: Bool
    }

    /// Both members checked together, as DynamoDB reports both when both are wrong.
    func reporting(_ r: RequestReader) throws -> Reporting {
        var problems: [String] = []
        let capacity = try r.string("ReturnConsumedCapacity") ?? "NONE"
        if !["INDEXES", "TOTAL", "NONE"].contains(capacity) {
            problems.append("Value '\(capacity)' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
        }
        let metrics = try r.string("ReturnItemCollectionMetrics") ?? "NONE"
        if !["SIZE", "NONE"].contains(metrics) {
            problems.append("Value '\(metrics)' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]")
        }
        if !problems.isEmpty {
            throw DynamoDBError.validation("\(problems.count) validation error\(problems.count == 1 ? "" : "s") detected: " + problems.joined(separator: "; "))
        }
        return Reporting(capacity: capacity == "NONE" ? nil : capacity, collections: metrics == "SIZE")
    }

    /// One table's ConsumedCapacity. `split` names the transactions' extra member
    /// (ReadCapacityUnits or WriteCapacityUnits).
    static func consumedJSON(_ table: String, _ units: ConsumedUnits, mode: String, split: String? = nil) -> JSONValue {
        func arm(_ value: Double) -> JSONValue {
            var members = [JSONMember("CapacityUnits", .number(String(value)))]
            if let split { members.append(JSONMember(split, .number(String(value)))) }
            return .object(members)
        }
        var members = [JSONMember("TableName", .string(table)), JSONMember("CapacityUnits", .number(String(units.total)))]
        if let split { members.append(JSONMember(split, .number(String(units.total)))) }
        guard mode == "INDEXES" else { return .object(members) }
        // A read of an index alone shows only the index, as DynamoDB does.
        if units.table > 0 || units.indexes.isEmpty { members.append(JSONMember("Table", arm(units.table))) }
        for global in [true, false] {
            let arms = units.indexes.filter { $0.value.global == global }.sorted { $0.key < $1.key }
            if arms.isEmpty { continue }
            members.append(JSONMember(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes",
                                      .object(arms.map { JSONMember($0.key, arm($0.value.units)) })))
        }
        return .object(members)
    }

    /// Appends ConsumedCapacity (one table's, or a list for batches and transactions).
    static func withCapacity(_ response: JSONValue, _ reporting: Reporting, _ perTable: [(String, ConsumedUnits)],
                             list: Bool, split: String? = nil) -> JSONValue {
        guard let mode = reporting.capacity, var members = response.objectValue else { return response }
        let entries = perTable.map { consumedJSON($0.0, $0.1, mode: mode, split: split) }
        members.append(JSONMember("ConsumedCapacity", list ? .array(entries) : (entries.first ?? .null)))
        return .object(members)
    }

    /// ItemCollectionMetrics for a write to `key`'s partition, when the table has a local
    /// index (only such tables have item collections DynamoDB limits).
    func collectionMetrics(_ table: Table, key item: Item) throws -> JSONValue? {
        guard !table.description.localIndexes.isEmpty, let value = item[table.schema.partition.name] else { return nil }
        let gigabytes = Double(try table.collectionBytes(partition: value)) / Double(1 << 30)
        let low = gigabytes.rounded(.down)
        return .object([
            JSONMember("ItemCollectionKey", itemJSON(Item([(table.schema.partition.name, value)]))),
            JSONMember("SizeEstimateRangeGB", .array([.number(String(low)), .number(String(low + 1))])),
        ])
    }
}
