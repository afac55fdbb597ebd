import Foundation
import FerryExpressions
import FerryIO
import FerryTable
import FerryValues

/// DynamoDB's JSON API over a data folder's tables: request JSON in, response JSON out,
/// with DynamoDB's parameter shapes, validation and error names (docs/ferry-table.md).
/// `ferry-table` maps the aws CLI's options onto these requests; `ferry-serve` sends
/// it the requests it receives.
///
/// Thread-safe with `TableAccess.held` (requests from many threads: item requests run
/// concurrently, table changes one at a time with no item request in flight);
/// `.perRequest` is for one thread (a command-line process).
public final class DynamoDBService: @unchecked Sendable {
    public let catalog: TableCatalog
    public let program: String
    public let access: TableAccess
    let handles: TableHandles
    /// Item requests share it; CreateTable, UpdateTable and DeleteTable take it alone.
    let tableChanges = ReadWriteLock()

    public static let operations = ["CreateTable", "DescribeTable", "ListTables", "UpdateTable", "DeleteTable",
                                    "PutItem", "GetItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                                    "BatchGetItem", "Query", "Scan", "TransactWriteItems", "TransactGetItems",
                                    "TagResource", "UntagResource", "ListTagsOfResource", "UpdateTimeToLive", "DescribeTimeToLive"]

    public init(catalog: TableCatalog, program: String, access: TableAccess = .perRequest) {
        self.catalog = catalog
        self.program = program
        self.access = access
        handles = TableHandles(catalog: catalog, program: program, access: access)
    }

    public func call(_ operation: String, _ request: JSONValue) throws -> JSONValue {
        let r = try RequestReader(request, operation: operation)
        try RequestMembers.check(operation, request)
        switch operation {
        case "CreateTable": return try tableChanges.exclusive { try createTable(r) }
        case "UpdateTable": return try tableChanges.exclusive { try updateTable(r) }
        case "DeleteTable": return try tableChanges.exclusive { try deleteTable(r) }
        case "TagResource": return try tableChanges.exclusive { try tagResource(r) }
        case "UntagResource": return try tableChanges.exclusive { try untagResource(r) }
        case "UpdateTimeToLive": return try tableChanges.exclusive { try updateTimeToLive(r) }
        default: break
        }
        return try tableChanges.shared {
            switch operation {
            case "DescribeTable": return try describeTable(r)
            case "ListTables": return try listTables(r)
            case "PutItem": return try putItem(r)
            case "GetItem": return try getItem(r)
            case "UpdateItem": return try updateItem(r)
            case "DeleteItem": return try deleteItem(r)
            case "BatchWriteItem": return try batchWriteItem(r)
            case "BatchGetItem": return try batchGetItem(r)
            case "Query": return try read(r, query: true)
            case "Scan": return try read(r, query: false)
            case "TransactWriteItems": return try transactWriteItems(r)
            case "TransactGetItems": return try transactGetItems(r)
            case "ListTagsOfResource": return try listTagsOfResource(r)
            case "DescribeTimeToLive": return try describeTimeToLive(r)
            case "DescribeLimits": return Self.limits
            case "DescribeEndpoints":
                var data = catalog.path.hasSuffix("/tables") ? String(catalog.path.dropLast("/tables".count)) : catalog.path
                if !data.hasPrefix("/") { data = FileManager.default.currentDirectoryPath + "/" + data }
                return Self.endpoints(address: "file://" + data)
            default: throw DynamoDBError(.validation, "Unknown operation \(operation)")
            }
        }
    }

    /// DescribeLimits: DynamoDB's default account and table quotas (Ferry enforces none
    /// of them; clients size their requests by them).
    static let limits = JSONValue.object([
        JSONMember("AccountMaxReadCapacityUnits", .number("80000")),
        JSONMember("AccountMaxWriteCapacityUnits", .number("80000")),
        JSONMember("TableMaxReadCapacityUnits", .number("40000")),
        JSONMember("TableMaxWriteCapacityUnits", .number("40000")),
    ])

    /// DescribeEndpoints' answer for `address` (a server's host:port; the command line's
    /// data folder as a file:// URL, since it has no endpoint).
    public static func endpoints(address: String) -> JSONValue {
        .object([JSONMember("Endpoints", .array([.object([
            JSONMember("Address", .string(address)), JSONMember("CachePeriodInMinutes", .number("1440")),
        ])]))])
    }

    /// The member checks `call` makes, for an operation answered elsewhere
    /// (DescribeEndpoints, which needs the server's address).
    public static func checkMembers(_ operation: String, _ request: JSONValue) throws {
        _ = try RequestReader(request, operation: operation)
        try RequestMembers.check(operation, request)
    }

    /// A server holds every table's writer from the start; returns those it could not.
    public func holdTables() -> [(String, Error)] { tableChanges.exclusive { handles.holdAll() } }

    /// Write commits made by held writers and the requests they carried.
    public var commitStats: (commits: Int, requests: Int) { handles.commitStats() }

    /// Closes the held writers (waits for requests in flight); returns the failures.
    public func close() -> [(String, Error)] { tableChanges.exclusive { handles.closeAll() } }

    func reader(_ name: String) throws -> Table { try handles.reader(name) }

    func withWriter<T>(_ name: String, _ body: (Table) throws -> T) throws -> T {
        try handles.withWriter(name, body)
    }

    /// One item write, committed (with concurrent ones, when held). A failed condition
    /// carries the item when the request asked (ReturnValuesOnConditionCheckFailure).
    private func writeOne(_ name: String, _ operation: WriteOperation, oldOnFailure: Bool = false) throws -> (old: Item?, new: Item?) {
        let outcomes = try handles.commit(name, atomic: true) { table in [Result { try table.prepare(operation) }] }
        switch outcomes.first {
        case let .applied(old, new)?: return (old, new)
        case let .conditionFailed(old)?:
            guard oldOnFailure, let old else { throw DynamoDBError.conditionFailed }
            throw DynamoDBError(.conditionalCheckFailed, DynamoDBError.conditionFailed.message, details: [JSONMember("Item", itemJSON(old))])
        case let .rejected(error)?: throw error
        case nil: throw DynamoDBError(.internalServerError, "no outcome for a write")
        }
    }

    private func counts(_ table: Table) -> [UInt8: StoreCount] { table.stats.counts }

    // MARK: Tables

    func createTable(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        let definitions = try attributeDefinitions(r["AttributeDefinitions"], field: "attributeDefinitions") ?? []
        guard let keyJSON = r["KeySchema"] else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
        }
        func typed(_ k: ([String], [String])) throws -> KeySchema {
            func attribute(_ n: String) -> KeyAttribute { definitions.first { $0.name == n } ?? KeyAttribute(name: n, type: .s) }
            guard let keys = KeySchema(partitions: k.0.map(attribute), sorts: k.1.map(attribute)) else {
                throw DynamoDBError.validation("Invalid KeySchema: too many key attributes")
            }
            return keys
        }
        let keys = try typed(try keySchema(keyJSON, field: "keySchema"))
        let billing = try billingMode(r)
        let throughput = try provisioned(r["ProvisionedThroughput"], billing: billing, field: "")
        var indexes: [TableDescription.Index] = []
        var next: UInt8 = 1
        for (member, global) in [("LocalSecondaryIndexes", false), ("GlobalSecondaryIndexes", true)] {
            guard let list = r[member] else { continue }
            guard let entries = list.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
            if entries.isEmpty { throw DynamoDBError.invalidParameter("List of \(member) is empty") }
            // DynamoDB's per-table limits, checked before the key spaces (a byte each) are
            // numbered: 255 entries would overflow them.
            if !global, entries.count > 5 {
                throw DynamoDBError(.limitExceeded, "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5")
            }
            if global, entries.count > 20 {
                throw DynamoDBError(.limitExceeded, "One or more parameter values were invalid: Number of GlobalSecondaryIndexes exceeds per-table limit of 20")
            }
            for entry in entries {
                try RequestMembers.checkIndex(entry, operation: r.operation)
                let e = try RequestReader(entry, operation: r.operation)
                let indexName = try e.requiredString("IndexName", field: "indexName")
                guard let k = e["KeySchema"] else { throw DynamoDBError.validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null") }
                let t: TableDescription.Throughput? = global ? try provisioned(e["ProvisionedThroughput"], billing: billing, field: "for index \(indexName)") : nil
                indexes.append(TableDescription.Index(name: indexName, isGlobal: global, keySchema: try typed(try keySchema(k, field: "keySchema", multi: global)),
                                                      projection: try projection(e["Projection"]), throughput: t, keyspace: next))
                next += 1
            }
        }
        var d = TableDescription(name: name, keySchema: keys, attributeDefinitions: definitions, billingMode: billing,
                                 throughput: throughput ?? .init(read: 0, write: 0), indexes: indexes,
                                 created: Date().timeIntervalSince1970, tableId: UUID().uuidString.lowercased())
        if let protection = try r.bool("DeletionProtectionEnabled") { d.deletionProtection = protection }
        _ = try applyOptions(r, to: &d, creating: true)
        d.tags = try tags(r["Tags"], field: "tags")
        if d.tags.count > Self.maxTags {
            throw DynamoDBError.validation("Number of Tags exceed the current limit for the provided ResourceArn")
        }
        try catalog.create(d)
        return .object([JSONMember("TableDescription", d.json(counts: [:]))])
    }

    func describeTable(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        let table = try reader(name)
        return .object([JSONMember("Table", table.description.json(counts: counts(table)))])
    }

    func listTables(_ r: RequestReader) throws -> JSONValue {
        let limit = try r.int("Limit") ?? 100
        guard (1...100).contains(limit) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value \(limit < 1 ? "greater than or equal to 1" : "less than or equal to 100")")
        }
        var names = try catalog.names()
        if let start = try r.string("ExclusiveStartTableName") {
            names = names.filter { Array(start.utf8).lexicographicallyPrecedes(Array($0.utf8)) }
        }
        var members = [JSONMember("TableNames", .array(names.prefix(limit).map { .string($0) }))]
        if names.count > limit { members.append(JSONMember("LastEvaluatedTableName", .string(names[limit - 1]))) }
        return .object(members)
    }

    func deleteTable(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        handles.forget(name)
        let (d, stats) = try catalog.delete(name, program: program)
        return .object([JSONMember("TableDescription", d.json(counts: stats.counts, status: "DELETING"))])
    }

    func updateTable(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        let newDefinitions = try attributeDefinitions(r["AttributeDefinitions"], field: "attributeDefinitions") ?? []
        return try withWriter(name) { table in
            var d = table.description
            var changed = false
            let billing = try r.string("BillingMode").map { s -> TableDescription.BillingMode in
                guard let m = TableDescription.BillingMode(rawValue: s) else {
                    throw DynamoDBError.validation("1 validation error detected: Value '\(s)' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
                }
                return m
            }
            if let billing, billing != d.billingMode {
                d.billingMode = billing
                if billing == .payPerRequest { d.payPerRequestSince = Date().timeIntervalSince1970 }
                changed = true
            }
            if let t = r["ProvisionedThroughput"] {
                guard d.billingMode == .provisioned else {
                    throw DynamoDBError.validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
                }
                let new = try provisioned(t, billing: .provisioned, field: "")!
                if !changed && new.read == d.throughput.read && new.write == d.throughput.write {
                    throw DynamoDBError.validation("The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: \(d.throughput.read). Requested ReadCapacityUnits: \(new.read). Current WriteCapacityUnits provisioned for the table: \(d.throughput.write). Requested WriteCapacityUnits: \(new.write). Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.")
                }
                d.throughput = Self.adjusted(d.throughput, to: new)
                changed = true
            }
            if let deletion = try r.bool("DeletionProtectionEnabled") {
                d.deletionProtection = deletion
                changed = true
            }
            if try applyOptions(r, to: &d, creating: false) { changed = true }
            var creates: [TableDescription.Index] = []
            if let updates = r["GlobalSecondaryIndexUpdates"] {
                guard let list = updates.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
                for entry in list {
                    let e = try RequestReader(entry, operation: r.operation)
                    if let create = e["Create"] {
                        try RequestMembers.checkIndex(create, operation: r.operation)
                        let c = try RequestReader(create, operation: r.operation)
                        let indexName = try c.requiredString("IndexName", field: "indexName")
                        try TableCatalog.validateName(indexName, field: "indexName")
                        if d.index(named: indexName) != nil {
                            throw DynamoDBError.invalidParameter("Index already exists: \(indexName)")
                        }
                        guard let k = c["KeySchema"] else { throw DynamoDBError.validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null") }
                        let (p, s) = try keySchema(k, field: "keySchema", multi: true)
                        var definitions = d.attributeDefinitions
                        func attribute(_ n: String) throws -> KeyAttribute {
                            if let found = newDefinitions.first(where: { $0.name == n }) ?? definitions.first(where: { $0.name == n }) { return found }
                            throw DynamoDBError.invalidParameter("Some index key attributes are not defined in AttributeDefinitions. Keys: [\(n)], AttributeDefinitions: [\(newDefinitions.map(\.name).joined(separator: ", "))]")
                        }
                        guard let keys = KeySchema(partitions: try p.map(attribute), sorts: try s.map(attribute)) else {
                            throw DynamoDBError.validation("Invalid KeySchema: too many key attributes")
                        }
                        for a in keys.attributes {
                            if let existing = definitions.first(where: { $0.name == a.name }) {
                                if existing.type != a.type { throw DynamoDBError.invalidParameter("Attribute \(a.name) is defined twice with different types") }
                            } else {
                                definitions.append(a)
                            }
                        }
                        d.attributeDefinitions = definitions
                        guard let keyspace = d.freeKeyspace(avoiding: Set(table.stats.counts.keys)) else {
                            throw DynamoDBError(.limitExceeded, "Too many indexes on table \(name)")
                        }
                        let index = TableDescription.Index(name: indexName, isGlobal: true, keySchema: keys, projection: try projection(c["Projection"]),
                                                           throughput: try provisioned(c["ProvisionedThroughput"], billing: d.billingMode, field: "for index \(indexName)"),
                                                           keyspace: keyspace)
                        d.indexes.append(index)
                        creates.append(index)
                    } else if let delete = e["Delete"] {
                        let indexName = try RequestReader(delete, operation: r.operation).requiredString("IndexName", field: "indexName")
                        guard let i = d.indexes.firstIndex(where: { $0.name == indexName && $0.isGlobal }) else {
                            throw DynamoDBError(.resourceNotFound, "Requested resource not found: GlobalSecondaryIndex: \(indexName) not found")
                        }
                        d.indexes.remove(at: i)
                    } else if let update = e["Update"] {
                        let u = try RequestReader(update, operation: r.operation)
                        let indexName = try u.requiredString("IndexName", field: "indexName")
                        guard let i = d.indexes.firstIndex(where: { $0.name == indexName && $0.isGlobal }) else {
                            throw DynamoDBError(.resourceNotFound, "Requested resource not found: GlobalSecondaryIndex: \(indexName) not found")
                        }
                        if let t = try provisioned(u["ProvisionedThroughput"], billing: d.billingMode, field: "for index \(indexName)") {
                            d.indexes[i].throughput = Self.adjusted(d.indexes[i].throughput ?? t, to: t)
                        }
                    } else {
                        throw DynamoDBError.validation("One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, Update or Delete must be specified")
                    }
                    changed = true
                }
            }
            if creates.count > 1 {
                throw DynamoDBError(.limitExceeded, "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
            }
            guard changed else {
                throw DynamoDBError.validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
            }
            // Definitions follow the keys in use: a dropped index takes its own with it.
            let used = Set(d.keySchema.attributes.map(\.name)).union(d.indexes.flatMap { $0.keySchema.attributes.map(\.name) })
            d.attributeDefinitions.removeAll { !used.contains($0.name) }
            try TableCatalog.validate(d)
            if let index = creates.first {
                try table.createIndex(index, description: d)
            } else {
                try table.replace(description: d)
            }
            return .object([JSONMember("TableDescription", table.description.json(counts: counts(table)))])
        }
    }

    static func adjusted(_ old: TableDescription.Throughput, to new: TableDescription.Throughput) -> TableDescription.Throughput {
        var t = old
        let now = Date().timeIntervalSince1970
        if new.read > old.read || new.write > old.write { t.lastIncrease = now }
        if new.read < old.read || new.write < old.write {
            t.lastDecrease = now
            t.decreasesToday += 1
        }
        t.read = new.read
        t.write = new.write
        return t
    }

    // MARK: Request pieces

    func attributeDefinitions(_ v: JSONValue?, field: String) throws -> [KeyAttribute]? {
        guard let v else { return nil }
        guard let list = v.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        return try list.map { entry in
            let e = try RequestReader(entry, operation: "")
            let name = try e.requiredString("AttributeName", field: "\(field).member.attributeName")
            try Self.checkKeyAttributeName(name, field: "\(field).member.attributeName")
            let typeText = try e.requiredString("AttributeType", field: "\(field).member.attributeType")
            guard let type = KeyType(rawValue: typeText) else {
                throw DynamoDBError.validation("1 validation error detected: Value '\(typeText)' at '\(field).1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
            }
            return KeyAttribute(name: name, type: type)
        }
    }

    /// Key attribute names are 1 to 255 bytes (DynamoDB's KeySchemaAttributeName).
    static func checkKeyAttributeName(_ name: String, field: String) throws {
        let count = name.utf8.count
        guard (1...255).contains(count) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must have length \(count < 1 ? "greater than or equal to 1" : "less than or equal to 255")")
        }
    }

    /// (HASH names, RANGE names): one HASH and at most one RANGE, or for a global index
    /// (`multi`) up to four of each, every HASH before every RANGE (multi-attribute keys).
    func keySchema(_ v: JSONValue, field: String, multi: Bool = false) throws -> ([String], [String]) {
        guard let list = v.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        let most = multi ? 2 * KeySchema.maxAttributesPerKey : 2
        guard (1...most).contains(list.count) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(list.count)' at '\(field)' failed to satisfy constraint: Member must have length \(list.isEmpty ? "greater than or equal to 1" : "less than or equal to \(most)")")
        }
        var hash: [String] = [], range: [String] = []
        for entry in list {
            let e = try RequestReader(entry, operation: "")
            let name = try e.requiredString("AttributeName", field: "\(field).member.attributeName")
            try Self.checkKeyAttributeName(name, field: "\(field).member.attributeName")
            let type = try e.requiredString("KeyType", field: "\(field).member.keyType")
            switch type {
            case "HASH":
                if !multi, !hash.isEmpty { throw DynamoDBError.validation("Invalid KeySchema: Too many hash keys") }
                if !range.isEmpty { throw DynamoDBError.invalidParameter("All HASH key attributes must precede RANGE key attributes in the KeySchema") }
                hash.append(name)
            case "RANGE":
                if !multi, !range.isEmpty { throw DynamoDBError.validation("Invalid KeySchema: Too many range keys") }
                range.append(name)
            default:
                throw DynamoDBError.validation("1 validation error detected: Value '\(type)' at '\(field).1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]")
            }
        }
        guard !hash.isEmpty, list.first?["KeyType"]?.stringValue == "HASH" else {
            throw DynamoDBError.validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
        }
        if hash.count > KeySchema.maxAttributesPerKey {
            throw DynamoDBError.invalidParameter("The KeySchema exceeds the maximum allowed number of HASH key attributes")
        }
        if range.count > KeySchema.maxAttributesPerKey {
            throw DynamoDBError.invalidParameter("The KeySchema exceeds the maximum allowed number of RANGE key attributes")
        }
        if !multi, let h = hash.first, range.first == h {
            throw DynamoDBError.validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
        }
        if Set(hash + range).count != hash.count + range.count {
            throw DynamoDBError.validation("The KeySchema contains multiple key attributes with the same name")
        }
        return (hash, range)
    }

    func projection(_ v: JSONValue?) throws -> TableDescription.Projection {
        guard let v else { return .init(kind: .all) }
        let p = try RequestReader(v, operation: "")
        let typeText = try p.string("ProjectionType") ?? "ALL"
        guard let kind = TableDescription.Projection.Kind(rawValue: typeText) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(typeText)' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
        }
        let nonKey = p["NonKeyAttributes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return .init(kind: kind, nonKeyAttributes: nonKey)
    }

    func billingMode(_ r: RequestReader) throws -> TableDescription.BillingMode {
        guard let text = try r.string("BillingMode") else { return .provisioned }
        guard let mode = TableDescription.BillingMode(rawValue: text) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(text)' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
        }
        return mode
    }

    func provisioned(_ v: JSONValue?, billing: TableDescription.BillingMode, field: String) throws -> TableDescription.Throughput? {
        guard let v else {
            if billing == .provisioned {
                throw DynamoDBError.invalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
            }
            return nil
        }
        if billing == .payPerRequest {
            throw DynamoDBError.validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
        }
        let p = try RequestReader(v, operation: "")
        guard let read = try p.int("ReadCapacityUnits"), let write = try p.int("WriteCapacityUnits") else {
            throw DynamoDBError.invalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
        }
        guard read >= 1, write >= 1 else {
            throw DynamoDBError.validation("One or more parameter values were invalid: Provisioned throughput \(field.isEmpty ? "" : field + " ")must be at least 1")
        }
        return .init(read: read, write: write)
    }

    // MARK: Items

    /// ReturnValuesOnConditionCheckFailure: true for ALL_OLD.
    func oldOnFailure(_ r: RequestReader) throws -> Bool {
        let value = try r.string("ReturnValuesOnConditionCheckFailure") ?? "NONE"
        guard ["NONE", "ALL_OLD"].contains(value) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(value)' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]")
        }
        return value == "ALL_OLD"
    }

    func returnValues(_ r: RequestReader, allowed: [String]) throws -> String {
        let value = try r.string("ReturnValues") ?? "NONE"
        guard allowed.contains(value) else { throw DynamoDBError.validation("Return values set to invalid value") }
        return value
    }

    func condition(_ r: RequestReader, _ context: ExpressionContext, _ used: inout (Set<String>, Set<String>)) throws -> ConditionExpression? {
        guard let text = try r.expressionText("ConditionExpression") else { return nil }
        let c = try validating { try ConditionExpression(text, context: context, kind: .condition) }
        used.0.formUnion(c.usedNames)
        used.1.formUnion(c.usedValues)
        return c
    }

    func checkPlaceholders(_ context: ExpressionContext, _ used: (Set<String>, Set<String>)) throws {
        try validating { try PlaceholderUse.check(context: context, usedNames: used.0, usedValues: used.1) }
    }

    func putItem(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        guard let item = try r.item("Item") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
        }
        let reporting = try reporting(r)
        let returns = try returnValues(r, allowed: ["NONE", "ALL_OLD"])
        let onFailure = try oldOnFailure(r)
        let context = try r.expressionContext()
        let legacy = try LegacyParameters(r)
        var used: (Set<String>, Set<String>) = ([], [])
        let c = try condition(r, context, &used) ?? legacy.condition
        try checkPlaceholders(context, used)
        let (old, new) = try validating { try writeOne(name, .put(item, condition: c), oldOnFailure: onFailure) }
        return try finishedWrite(returns == "ALL_OLD" ? old : nil, table: name, reporting, old: old, new: new, key: item)
    }

    /// A single write's answer: its Attributes, ConsumedCapacity, ItemCollectionMetrics.
    func finishedWrite(_ attributes: Item?, table name: String, _ reporting: Reporting, old: Item?, new: Item?, key: Item) throws -> JSONValue {
        var response = JSONValue.object(attributes.map { [JSONMember("Attributes", itemJSON($0))] } ?? [])
        guard reporting.capacity != nil || reporting.collections else { return response }
        let table = try reader(name)
        response = Self.withCapacity(response, reporting, [(name, table.writeCapacity(old: old, new: new))], list: false)
        if reporting.collections, let metrics = try collectionMetrics(table, key: key), var members = response.objectValue {
            members.append(JSONMember("ItemCollectionMetrics", metrics))
            response = .object(members)
        }
        return response
    }

    func deleteItem(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        guard let key = try r.item("Key") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
        }
        let reporting = try reporting(r)
        let returns = try returnValues(r, allowed: ["NONE", "ALL_OLD"])
        let onFailure = try oldOnFailure(r)
        let context = try r.expressionContext()
        let legacy = try LegacyParameters(r)
        var used: (Set<String>, Set<String>) = ([], [])
        let c = try condition(r, context, &used) ?? legacy.condition
        try checkPlaceholders(context, used)
        let (old, new) = try validating { try writeOne(name, .delete(key: key, condition: c), oldOnFailure: onFailure) }
        return try finishedWrite(returns == "ALL_OLD" ? old : nil, table: name, reporting, old: old, new: new, key: key)
    }

    func updateItem(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        guard let key = try r.item("Key") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
        }
        let reporting = try reporting(r)
        let returns = try returnValues(r, allowed: ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
        let onFailure = try oldOnFailure(r)
        let context = try r.expressionContext()
        let legacy = try LegacyParameters(r)
        var used: (Set<String>, Set<String>) = ([], [])
        var update: UpdateExpression? = legacy.update
        if let text = try r.expressionText("UpdateExpression") {
            let u = try validating { try UpdateExpression(text, context: context) }
            used.0.formUnion(u.usedNames)
            used.1.formUnion(u.usedValues)
            update = u
        }
        let c = try condition(r, context, &used) ?? legacy.condition
        try checkPlaceholders(context, used)
        let (old, new) = try legacy.reportingTypeMismatch { try validating { try writeOne(name, .update(key: key, update: update, condition: c), oldOnFailure: onFailure) } }
        func only(_ item: Item?) -> Item? {
            guard let item, let update else { return nil }
            var out = Item()
            for n in update.changedAttributes { if let v = item[n], out[n] == nil { out[n] = v } }
            return out.isEmpty ? nil : out
        }
        let attributes: Item?
        switch returns {
        case "ALL_OLD": attributes = old
        case "ALL_NEW": attributes = new
        case "UPDATED_OLD": attributes = only(old)
        case "UPDATED_NEW": attributes = only(new)
        default: attributes = nil
        }
        return try finishedWrite(attributes, table: name, reporting, old: old, new: new, key: key)
    }

    func getItem(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        guard let key = try r.item("Key") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
        }
        let reporting = try reporting(r)
        let consistent = try r.bool("ConsistentRead") ?? false
        let context = try r.expressionContext()
        var projection = try LegacyParameters(r).projection
        if let text = try r.expressionText("ProjectionExpression") {
            projection = try validating { try ProjectionExpression(text, context: context) }
        }
        try checkPlaceholders(context, (projection?.usedNames ?? [], []))
        let table = try reader(name)
        let item = try table.getItem(key)
        let response = JSONValue.object(item.map { [JSONMember("Item", itemJSON(projection?.apply(to: $0) ?? $0))] } ?? [])
        // The whole item is read (and counted) whatever the projection keeps.
        let units = ConsumedUnits(table: ConsumedUnits.readUnits(bytes: item.map { ItemRules.size(of: $0) } ?? 0, consistent: consistent))
        return Self.withCapacity(response, reporting, [(name, units)], list: false)
    }

    func batchWriteItem(_ r: RequestReader) throws -> JSONValue {
        guard let requests = r["RequestItems"]?.objectValue, !requests.isEmpty else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        }
        let reporting = try reporting(r)
        let total = requests.reduce(0) { $0 + ($1.value.arrayValue?.count ?? 0) }
        if total > 25 {
            throw DynamoDBError.validation("Too many items requested for the BatchWriteItem call")
        }
        // Validate everything first: DynamoDB applies a batch only if every request is valid.
        var perTable: [(String, [Result<Table.PreparedWrite, Error>])] = []
        for member in requests {
            try TableCatalog.validateName(member.key)
            guard let list = member.value.arrayValue, !list.isEmpty else {
                throw DynamoDBError.validation("1 validation error detected: Value at 'requestItems.\(member.key).member' failed to satisfy constraint: Member must have length greater than or equal to 1")
            }
            let table = try reader(member.key)
            var operations: [Result<Table.PreparedWrite, Error>] = []
            var keys: Set<[UInt8]> = []
            keys.reserveCapacity(list.count)
            for entry in list {
                let e = try RequestReader(entry, operation: r.operation)
                try RequestMembers.checkWriteRequest(entry)
                let prepared: Table.PreparedWrite
                if let put = e["PutRequest"] {
                    guard let item = try RequestReader(put, operation: r.operation).item("Item") else {
                        throw DynamoDBError.validation("1 validation error detected: Value null at 'requestItems.\(member.key).member.putRequest.item' failed to satisfy constraint: Member must not be null")
                    }
                    prepared = try validating { try table.prepare(.put(item, condition: nil)) }
                } else if let delete = e["DeleteRequest"] {
                    guard let key = try RequestReader(delete, operation: r.operation).item("Key") else {
                        throw DynamoDBError.validation("1 validation error detected: Value null at 'requestItems.\(member.key).member.deleteRequest.key' failed to satisfy constraint: Member must not be null")
                    }
                    prepared = try validating { try table.prepare(.delete(key: key, condition: nil)) }
                } else {
                    throw DynamoDBError.validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
                }
                if !keys.insert(prepared.key).inserted { throw DynamoDBError.validation("Provided list of item keys contains duplicates") }
                operations.append(.success(prepared))
            }
            perTable.append((member.key, operations))
        }
        // Every table's writer first, so a table another process holds refuses the whole
        // request before any share is committed; then each share all or nothing.
        for (name, _) in perTable { try handles.ensureWritable(name) }
        var consumed: [(String, ConsumedUnits)] = []
        var collections: [JSONMember] = []
        for (name, operations) in perTable {
            let outcomes = try handles.commit(name, atomic: true) { _ in operations }
            for outcome in outcomes { if case let .rejected(error) = outcome { throw error } }
            guard reporting.capacity != nil || reporting.collections else { continue }
            let table = try reader(name)
            var units = ConsumedUnits()
            var metrics: [JSONValue] = []
            for outcome in outcomes {
                guard case let .applied(old, new) = outcome else { continue }
                units = units + table.writeCapacity(old: old, new: new)
                if reporting.collections, let key = new ?? old, let m = try collectionMetrics(table, key: key) { metrics.append(m) }
            }
            consumed.append((name, units))
            if !metrics.isEmpty { collections.append(JSONMember(name, .array(metrics))) }
        }
        var members = [JSONMember("UnprocessedItems", .object([]))]
        if reporting.collections { members.append(JSONMember("ItemCollectionMetrics", .object(collections))) }
        return Self.withCapacity(.object(members), reporting, consumed, list: true)
    }

    func batchGetItem(_ r: RequestReader) throws -> JSONValue {
        guard let requests = r["RequestItems"]?.objectValue, !requests.isEmpty else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        }
        let reporting = try reporting(r)
        var total = 0
        var responses: [JSONMember] = []
        var consumed: [(String, ConsumedUnits)] = []
        for member in requests {
            try TableCatalog.validateName(member.key)
            let e = try RequestReader(member.value, operation: r.operation)
            try RequestMembers.checkKeysAndAttributes(member.value, table: member.key)
            guard let keys = e["Keys"]?.arrayValue, !keys.isEmpty else {
                throw DynamoDBError.validation("1 validation error detected: Value at 'requestItems.\(member.key).member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1")
            }
            total += keys.count
            if total > 100 { throw DynamoDBError.validation("Too many items requested for the BatchGetItem call") }
            let context = try e.expressionContext()
            var projection = try LegacyParameters(e, batchTable: member.key).projection
            if let text = try e.string("ProjectionExpression") {
                projection = try validating { try ProjectionExpression(text, context: context) }
            }
            try checkPlaceholders(context, (projection?.usedNames ?? [], []))
            let table = try reader(member.key)
            let consistent = try e.bool("ConsistentRead") ?? false
            var units = ConsumedUnits()
            var seen: Set<[UInt8]> = []
            var items: [JSONValue] = []
            for keyJSON in keys {
                let key = try RequestReader.item(from: keyJSON)
                try table.validateKey(key)
                let encoded = ByteBuffer(capacity: 64)
                table.schema.encodeKey(of: key, into: encoded)
                if !seen.insert(encoded.array).inserted { throw DynamoDBError.validation("Provided list of item keys contains duplicates") }
                let item = try table.getItem(key)
                if let item { items.append(itemJSON(projection?.apply(to: item) ?? item)) }
                units.table += ConsumedUnits.readUnits(bytes: item.map { ItemRules.size(of: $0) } ?? 0, consistent: consistent)
            }
            responses.append(JSONMember(member.key, .array(items)))
            consumed.append((member.key, units))
        }
        return Self.withCapacity(.object([JSONMember("Responses", .object(responses)), JSONMember("UnprocessedKeys", .object([]))]),
                                 reporting, consumed, list: true)
    }

    // MARK: Query and Scan

    func read(_ r: RequestReader, query: Bool) throws -> JSONValue {
        let name = try r.tableName()
        let reporting = try reporting(r)
        let context = try r.expressionContext()
        let legacy = try LegacyParameters(r)
        var request = ReadRequest()
        request.countsBytesRead = reporting.capacity != nil
        var used: (Set<String>, Set<String>) = ([], [])
        request.indexName = try r.string("IndexName")
        if query {
            if let k = try legacy.keyCondition(keys: { try legacyKeys(name, index: request.indexName) }) {
                request.keyCondition = k
            } else {
                guard let text = try r.expressionText("KeyConditionExpression") else {
                    throw DynamoDBError.validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
                }
                let k = try validating { try KeyConditionExpression(text, context: context) }
                used.0.formUnion(k.usedNames)
                used.1.formUnion(k.usedValues)
                request.keyCondition = k
            }
            request.forward = try r.bool("ScanIndexForward") ?? true
        }
        if let text = try r.expressionText("FilterExpression") {
            let f = try validating { try ConditionExpression(text, context: context, kind: .filter) }
            used.0.formUnion(f.usedNames)
            used.1.formUnion(f.usedValues)
            request.filter = f
        }
        if request.filter == nil { request.filter = try legacy.filter(query: query, keys: { try legacyKeys(name, index: request.indexName) }) }
        if let text = try r.expressionText("ProjectionExpression") {
            let p = try validating { try ProjectionExpression(text, context: context) }
            used.0.formUnion(p.usedNames)
            request.projection = p
        }
        if request.projection == nil { request.projection = legacy.projection }
        try checkPlaceholders(context, used)
        if let selectText = try r.string("Select") {
            guard let s = ReadRequest.Select(rawValue: selectText) else {
                throw DynamoDBError.validation("1 validation error detected: Value '\(selectText)' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]")
            }
            request.select = s
        }
        if let limit = try r.int("Limit") {
            guard limit >= 1 else {
                throw DynamoDBError.validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
            }
            request.limit = limit
        }
        request.exclusiveStartKey = try r.item("ExclusiveStartKey")
        if !query {
            let segment = try r.int("Segment"), total = try r.int("TotalSegments")
            switch (segment, total) {
            case (nil, nil): break
            case (.some, nil):
                throw DynamoDBError.validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
            case (nil, .some):
                throw DynamoDBError.validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
            case let (s?, t?):
                guard (1...1_000_000).contains(t) else {
                    throw DynamoDBError.validation("1 validation error detected: Value '\(t)' at 'totalSegments' failed to satisfy constraint: Member must have value \(t < 1 ? "greater than or equal to 1" : "less than or equal to 1000000")")
                }
                guard s >= 0 else {
                    throw DynamoDBError.validation("1 validation error detected: Value '\(s)' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0")
                }
                guard s < t else {
                    throw DynamoDBError.validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \(s) is not less than TotalSegments: \(t)")
                }
                request.segment = (s, t)
            }
        }
        let consistent = try r.bool("ConsistentRead") ?? false
        let table = try reader(name)
        if consistent, let indexName = request.indexName, table.description.index(named: indexName)?.isGlobal == true {
            throw DynamoDBError.validation("Consistent reads are not supported on global secondary indexes")
        }
        let page = try validating { try table.read(request) }
        var members: [JSONMember] = []
        if request.select != .count { members.append(JSONMember("Items", .array(page.encodedItems.map { .encoded($0) }))) }
        members.append(JSONMember("Count", .number(String(page.count))))
        members.append(JSONMember("ScannedCount", .number(String(page.scannedCount))))
        if let last = page.lastEvaluatedKey { members.append(JSONMember("LastEvaluatedKey", itemJSON(last))) }
        // Everything read counts, summed and then rounded to 4 KB units once; an index's
        // reads are the index's.
        let read = ConsumedUnits.readUnits(bytes: page.bytesRead, consistent: consistent)
        var units = ConsumedUnits(table: read)
        if let indexName = request.indexName, let index = table.description.index(named: indexName) {
            units = ConsumedUnits()
            units.indexes[indexName] = (index.isGlobal, read)
        }
        return Self.withCapacity(.object(members), reporting, [(name, units)], list: false)
    }
}
