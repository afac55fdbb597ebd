import Foundation
import FerryIO
import FerryValues

/// What a table is: name, keys, attribute definitions, indexes, billing, as DynamoDB
/// describes it. Stored as `<table>/table.json` in the shape of DescribeTable's `Table`
/// (docs/table-description.md), replaced atomically; item counts are live, not stored.
public struct TableDescription: Sendable, Equatable {
    public enum BillingMode: String, Sendable { case provisioned = "PROVISIONED", payPerRequest = "PAY_PER_REQUEST" }

    public struct Throughput: Sendable, Equatable {
        public var read: Int
        public var write: Int
        public var lastIncrease: Double? = nil
        public var lastDecrease: Double? = nil
        public var decreasesToday = 0
        public init(read: Int, write: Int) {
            self.read = read
            self.write = write
        }
    }

    public struct Projection: Sendable, Equatable {
        public enum Kind: String, Sendable { case all = "ALL", keysOnly = "KEYS_ONLY", include = "INCLUDE" }
        public var kind: Kind
        public var nonKeyAttributes: [String]
        public init(kind: Kind, nonKeyAttributes: [String] = []) {
            self.kind = kind
            self.nonKeyAttributes = nonKeyAttributes
        }
    }

    public struct Index: Sendable, Equatable {
        public var name: String
        public var isGlobal: Bool
        public var keySchema: KeySchema
        public var projection: Projection
        public var throughput: Throughput?
        /// The first byte of this index's entries in the table's key space (1...254):
        /// stable for the index's life, never reused while its entries may remain.
        public var keyspace: UInt8
        public init(name: String, isGlobal: Bool, keySchema: KeySchema, projection: Projection, throughput: Throughput?, keyspace: UInt8) {
            self.name = name
            self.isGlobal = isGlobal
            self.keySchema = keySchema
            self.projection = projection
            self.throughput = throughput
            self.keyspace = keyspace
        }
    }

    /// A resource tag (TagResource, CreateTable's Tags).
    public struct Tag: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// StreamSpecification as asked (Ferry records no stream yet: docs/ferry-serve.md).
    public struct StreamSettings: Sendable, Equatable {
        public var viewType: String
        public init(viewType: String) { self.viewType = viewType }
    }

    /// SSESpecification as asked, for a KMS key (the default AWS-owned key has no
    /// description, as in DynamoDB). Ferry itself encrypts nothing.
    public struct EncryptionSettings: Sendable, Equatable {
        public var kmsKeyArn: String
        public init(kmsKeyArn: String) { self.kmsKeyArn = kmsKeyArn }
    }

    /// Time to live: the Number attribute whose epoch seconds say when an item expires.
    public struct TimeToLive: Sendable, Equatable {
        public var attributeName: String
        public init(attributeName: String) { self.attributeName = attributeName }
    }

    public var name: String
    public var keySchema: KeySchema
    public var attributeDefinitions: [KeyAttribute]
    public var billingMode: BillingMode
    public var throughput: Throughput
    public var payPerRequestSince: Double?
    public var indexes: [Index]
    public var created: Double
    public var tableId: String
    public var deletionProtection = false
    public var tags: [Tag] = []
    public var stream: StreamSettings? = nil
    public var encryption: EncryptionSettings? = nil
    /// STANDARD_INFREQUENT_ACCESS, or STANDARD once changed (nil: never set, STANDARD).
    public var tableClass: (name: String, updated: Double)? = nil
    public var onDemand: (maxRead: Int, maxWrite: Int)? = nil
    /// Enabled time to live; nil when disabled.
    public var timeToLive: TimeToLive? = nil

    public static func == (a: TableDescription, b: TableDescription) -> Bool {
        a.name == b.name && a.keySchema == b.keySchema && a.attributeDefinitions == b.attributeDefinitions
            && a.billingMode == b.billingMode && a.throughput == b.throughput && a.payPerRequestSince == b.payPerRequestSince
            && a.indexes == b.indexes && a.created == b.created && a.tableId == b.tableId && a.deletionProtection == b.deletionProtection
            && a.tags == b.tags && a.stream == b.stream && a.encryption == b.encryption
            && a.tableClass?.name == b.tableClass?.name && a.tableClass?.updated == b.tableClass?.updated
            && a.onDemand?.maxRead == b.onDemand?.maxRead && a.onDemand?.maxWrite == b.onDemand?.maxWrite
            && a.timeToLive == b.timeToLive
    }

    public init(name: String, keySchema: KeySchema, attributeDefinitions: [KeyAttribute], billingMode: BillingMode,
                throughput: Throughput, indexes: [Index], created: Double, tableId: String) {
        self.name = name
        self.keySchema = keySchema
        self.attributeDefinitions = attributeDefinitions
        self.billingMode = billingMode
        self.throughput = throughput
        self.indexes = indexes
        self.created = created
        self.tableId = tableId
        if billingMode == .payPerRequest { payPerRequestSince = created }
    }

    public var arn: String { ResourceNames.tableArn(name) }
    public func index(named name: String) -> Index? { indexes.first { $0.name == name } }
    public var globalIndexes: [Index] { indexes.filter(\.isGlobal) }
    public var localIndexes: [Index] { indexes.filter { !$0.isGlobal } }

    /// The next free index key space (1...254; 255 holds the loader's checkpoints); nil
    /// when all are taken.
    public func freeKeyspace(avoiding retired: Set<UInt8> = []) -> UInt8? {
        let used = Set(indexes.map(\.keyspace)).union(retired)
        return (1...254).lazy.map { UInt8($0) }.first { !used.contains($0) }
    }

    // MARK: JSON (DescribeTable's shape)

    /// `counts` gives ItemCount and sizes per key space (0: the table); nil leaves them
    /// out (the stored file).
    public func json(counts: [UInt8: StoreCount]?, status: String = "ACTIVE") -> JSONValue {
        func keySchemaJSON(_ k: KeySchema) -> JSONValue {
            .array(k.attributes.enumerated().map { i, a in
                .object([JSONMember("AttributeName", .string(a.name)),
                         JSONMember("KeyType", .string(i < k.partitionAttributes.count ? "HASH" : "RANGE"))])
            })
        }
        func throughputJSON(_ t: Throughput) -> JSONValue {
            var members: [JSONMember] = []
            if let d = t.lastIncrease { members.append(JSONMember("LastIncreaseDateTime", .number(Self.timeText(d)))) }
            if let d = t.lastDecrease { members.append(JSONMember("LastDecreaseDateTime", .number(Self.timeText(d)))) }
            members += [JSONMember("NumberOfDecreasesToday", .number(String(t.decreasesToday))),
                        JSONMember("ReadCapacityUnits", .number(String(t.read))),
                        JSONMember("WriteCapacityUnits", .number(String(t.write)))]
            return .object(members)
        }
        func projectionJSON(_ p: Projection) -> JSONValue {
            var members = [JSONMember("ProjectionType", .string(p.kind.rawValue))]
            if p.kind == .include { members.append(JSONMember("NonKeyAttributes", .array(p.nonKeyAttributes.map { .string($0) }))) }
            return .object(members)
        }
        var members: [JSONMember] = [
            // DynamoDB describes the definitions sorted by name, whatever order they came in.
            JSONMember("AttributeDefinitions", .array(attributeDefinitions.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }.map {
                .object([JSONMember("AttributeName", .string($0.name)), JSONMember("AttributeType", .string($0.type.rawValue))])
            })),
            JSONMember("TableName", .string(name)),
            JSONMember("KeySchema", keySchemaJSON(keySchema)),
            JSONMember("TableStatus", .string(status)),
            JSONMember("CreationDateTime", .number(Self.timeText(created))),
            JSONMember("ProvisionedThroughput", throughputJSON(billingMode == .provisioned ? throughput : Throughput(read: 0, write: 0))),
        ]
        if let counts {
            members.append(JSONMember("TableSizeBytes", .number(String(counts[0]?.bytes ?? 0))))
            members.append(JSONMember("ItemCount", .number(String(counts[0]?.items ?? 0))))
        }
        members.append(JSONMember("TableArn", .string(arn)))
        members.append(JSONMember("TableId", .string(tableId)))
        if billingMode == .payPerRequest {
            members.append(JSONMember("BillingModeSummary", .object([
                JSONMember("BillingMode", .string(billingMode.rawValue)),
                JSONMember("LastUpdateToPayPerRequestDateTime", .number(Self.timeText(payPerRequestSince ?? created))),
            ])))
        }
        for global in [false, true] {
            let list = indexes.filter { $0.isGlobal == global }
            guard !list.isEmpty else { continue }
            members.append(JSONMember(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes", .array(list.map { index in
                var m = [JSONMember("IndexName", .string(index.name)),
                         JSONMember("KeySchema", keySchemaJSON(index.keySchema)),
                         JSONMember("Projection", projectionJSON(index.projection))]
                if global {
                    m.append(JSONMember("IndexStatus", .string("ACTIVE")))
                    m.append(JSONMember("ProvisionedThroughput", throughputJSON(billingMode == .provisioned ? (index.throughput ?? Throughput(read: 0, write: 0)) : Throughput(read: 0, write: 0))))
                }
                if let counts {
                    m.append(JSONMember("IndexSizeBytes", .number(String(counts[index.keyspace]?.bytes ?? 0))))
                    m.append(JSONMember("ItemCount", .number(String(counts[index.keyspace]?.items ?? 0))))
                } else {
                    m.append(JSONMember("FerryKeyspace", .number(String(index.keyspace))))
                }
                m.append(JSONMember("IndexArn", .string("\(arn)/index/\(index.name)")))
                return .object(m)
            })))
        }
        if let stream {
            members.append(JSONMember("StreamSpecification", .object([
                JSONMember("StreamEnabled", .bool(true)), JSONMember("StreamViewType", .string(stream.viewType)),
            ])))
        }
        if let encryption {
            members.append(JSONMember("SSEDescription", .object([
                JSONMember("Status", .string("ENABLED")), JSONMember("SSEType", .string("KMS")),
                JSONMember("KMSMasterKeyArn", .string(encryption.kmsKeyArn)),
            ])))
        }
        if let tableClass {
            members.append(JSONMember("TableClassSummary", .object([
                JSONMember("TableClass", .string(tableClass.name)), JSONMember("LastUpdateDateTime", .number(Self.timeText(tableClass.updated))),
            ])))
        }
        if let onDemand {
            members.append(JSONMember("OnDemandThroughput", .object([
                JSONMember("MaxReadRequestUnits", .number(String(onDemand.maxRead))), JSONMember("MaxWriteRequestUnits", .number(String(onDemand.maxWrite))),
            ])))
        }
        members.append(JSONMember("DeletionProtectionEnabled", .bool(deletionProtection)))
        if counts == nil {
            // Ferry's own members of the stored form: DescribeTable shows neither.
            if !tags.isEmpty {
                members.append(JSONMember("FerryTags", .array(tags.map {
                    .object([JSONMember("Key", .string($0.key)), JSONMember("Value", .string($0.value))])
                })))
            }
            if let timeToLive { members.append(JSONMember("FerryTimeToLive", .object([JSONMember("AttributeName", .string(timeToLive.attributeName))]))) }
        }
        return .object(members)
    }

    /// Seconds since the epoch with milliseconds, as DynamoDB's JSON carries times.
    static func timeText(_ t: Double) -> String {
        // Read times are at most 1e11 s; anything else saturates rather than traps.
        let scaled = (t * 1000).rounded()
        let ms = scaled.isFinite ? Int(max(0, min(scaled, 1e14))) : 0
        let frac = ms % 1000
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - String(frac).count) + String(frac)
    }

    /// Reads the stored form back (the shape `json(counts: nil)` writes), strictly: every
    /// member must have its type and a valid value, and no unknown member may be there,
    /// so a damaged or tampered file is refused naming the member (`fields` prefixes
    /// their paths, e.g. `table` in a backup header). Then CreateTable's checks.
    public init(json: JSONValue, path: String, fields prefix: String = "") throws {
        do {
            try self.init(strict: json, prefix: prefix)
        } catch let error as JSONFieldError {
            throw TableFileError.invalid(path: path, reason: "\(error)")
        } catch let error as DynamoDBError {
            throw TableFileError.invalid(path: path, reason: prefix.isEmpty ? error.message : "\(prefix): \(error.message)")
        }
    }

    private init(strict json: JSONValue, prefix: String) throws {
        var top = try JSONFields(json, path: prefix)
        /// (HASH names, RANGE names): one and at most one for a table or local index; up
        /// to four each, HASH first, for a global index (`multi`).
        func keySchema(_ list: [JSONValue], _ path: String, multi: Bool = false) throws -> ([String], [String]) {
            let most = multi ? 2 * KeySchema.maxAttributesPerKey : 2
            guard (1...most).contains(list.count) else { throw JSONFieldError(path: path, problem: "has \(list.count) keys, not 1 to \(most)") }
            var hash: [String] = [], range: [String] = []
            for (i, entry) in list.enumerated() {
                var f = try JSONFields(entry, path: "\(path)[\(i)]")
                let name = try f.string("AttributeName")
                if name.isEmpty { throw f.error("AttributeName", "is empty") }
                let type = try f.choice("KeyType", ["HASH", "RANGE"])
                if type == "HASH" {
                    if !range.isEmpty || (!multi && !hash.isEmpty) { throw f.error("KeyType", "is HASH where RANGE must be") }
                    hash.append(name)
                } else {
                    if hash.isEmpty || (!multi && !range.isEmpty) { throw f.error("KeyType", "is RANGE where HASH must be") }
                    range.append(name)
                }
                if (hash + range).dropLast().contains(name) { throw f.error("AttributeName", "is \(name), already in the key") }
                try f.finish()
            }
            guard hash.count <= KeySchema.maxAttributesPerKey, range.count <= KeySchema.maxAttributesPerKey else {
                throw JSONFieldError(path: path, problem: "has more than \(KeySchema.maxAttributesPerKey) HASH or RANGE keys")
            }
            return (hash, range)
        }
        func throughput(_ value: JSONValue?, _ path: String) throws -> Throughput {
            var f = try JSONFields(value, path: path)
            var t = Throughput(read: try f.int("ReadCapacityUnits"), write: try f.int("WriteCapacityUnits"))
            t.decreasesToday = try f.optionalInt("NumberOfDecreasesToday") ?? 0
            t.lastIncrease = try f.optionalSeconds("LastIncreaseDateTime")
            t.lastDecrease = try f.optionalSeconds("LastDecreaseDateTime")
            try f.finish()
            return t
        }
        let name = try top.string("TableName")
        try checkName(name, top.child("TableName"), field: "tableName")
        let definitionList = try top.array("AttributeDefinitions")
        var definitions: [KeyAttribute] = []
        for (i, entry) in definitionList.enumerated() {
            var f = try JSONFields(entry, path: top.child("AttributeDefinitions") + "[\(i)]")
            let attribute = try f.string("AttributeName")
            let type = try f.choice("AttributeType", ["S", "N", "B"])
            try f.finish()
            definitions.append(KeyAttribute(name: attribute, type: KeyType(rawValue: type) ?? .s))
        }
        func typed(_ names: ([String], [String]), _ path: String) throws -> KeySchema {
            let attributes = try (names.0 + names.1).enumerated().map { i, n -> KeyAttribute in
                guard let d = definitions.first(where: { $0.name == n }) else {
                    throw JSONFieldError(path: "\(path)[\(i)].AttributeName", problem: "is \(n), which AttributeDefinitions does not define")
                }
                return d
            }
            guard let keys = KeySchema(partitions: Array(attributes.prefix(names.0.count)), sorts: Array(attributes.dropFirst(names.0.count))) else {
                throw JSONFieldError(path: path, problem: "is not a key schema")
            }
            return keys
        }
        /// A table or index name DynamoDB allows, checked where it is read (the path named).
        func checkName(_ name: String, _ path: String, field: String) throws {
            do { try TableCatalog.validateName(name, field: field) } catch let error as DynamoDBError {
                throw JSONFieldError(path: path, problem: "is '\(name)': \(error.message)")
            }
        }
        let tableKeys = try typed(try keySchema(try top.array("KeySchema"), top.child("KeySchema")), top.child("KeySchema"))
        _ = try top.optionalString("TableStatus")
        let created = try top.optionalSeconds("CreationDateTime") ?? 0
        let provisioned = try throughput(top.value("ProvisionedThroughput"), top.child("ProvisionedThroughput"))
        _ = try top.optionalString("TableArn")      // derived from the name; never read back
        let tableId = try top.optionalString("TableId") ?? ""
        var billing = BillingMode.provisioned
        var payPerRequestSince: Double? = nil
        if let summary = top.value("BillingModeSummary") {
            var f = try JSONFields(summary, path: top.child("BillingModeSummary"))
            billing = BillingMode(rawValue: try f.choice("BillingMode", ["PROVISIONED", "PAY_PER_REQUEST"])) ?? .provisioned
            payPerRequestSince = try f.optionalSeconds("LastUpdateToPayPerRequestDateTime")
            try f.finish()
        }
        var indexes: [Index] = []
        var keyspaces: Set<UInt8> = []
        for (key, global) in [("LocalSecondaryIndexes", false), ("GlobalSecondaryIndexes", true)] {
            guard let list = try top.optionalArray(key) else { continue }
            if list.isEmpty { throw top.error(key, "is an empty list") }
            for (i, entry) in list.enumerated() {
                var f = try JSONFields(entry, path: top.child(key) + "[\(i)]")
                let indexName = try f.string("IndexName")
                try checkName(indexName, f.child("IndexName"), field: "indexName")
                let keys = try typed(try keySchema(try f.array("KeySchema"), f.child("KeySchema"), multi: global), f.child("KeySchema"))
                var p = try JSONFields(f.value("Projection"), path: f.child("Projection"))
                let kind = Projection.Kind(rawValue: try p.choice("ProjectionType", ["ALL", "KEYS_ONLY", "INCLUDE"])) ?? .all
                var nonKey: [String] = []
                if let names = try p.optionalArray("NonKeyAttributes") {
                    nonKey = try names.enumerated().map { j, v in
                        guard let text = v.stringValue, !text.isEmpty else { throw p.error("NonKeyAttributes[\(j)]", "is not a name") }
                        return text
                    }
                }
                try p.finish()
                var indexThroughput: Throughput? = nil
                if global {
                    _ = try f.optionalString("IndexStatus")
                    indexThroughput = try throughput(f.value("ProvisionedThroughput"), f.child("ProvisionedThroughput"))
                }
                // 0 is the table's own key space and 255 the loader's records.
                let keyspace = UInt8(try f.int("FerryKeyspace", in: 1...254))
                if !keyspaces.insert(keyspace).inserted { throw f.error("FerryKeyspace", "is \(keyspace), which another index has") }
                _ = try f.optionalString("IndexArn")
                try f.finish()
                indexes.append(Index(name: indexName, isGlobal: global, keySchema: keys,
                                     projection: Projection(kind: kind, nonKeyAttributes: nonKey),
                                     throughput: indexThroughput, keyspace: keyspace))
            }
        }
        let protection = try top.optionalBool("DeletionProtectionEnabled") ?? false
        var stream: StreamSettings? = nil
        if let spec = top.value("StreamSpecification") {
            var f = try JSONFields(spec, path: top.child("StreamSpecification"))
            _ = try f.bool("StreamEnabled")
            stream = StreamSettings(viewType: try f.choice("StreamViewType", Self.streamViewTypes))
            try f.finish()
        }
        var encryption: EncryptionSettings? = nil
        if let sse = top.value("SSEDescription") {
            var f = try JSONFields(sse, path: top.child("SSEDescription"))
            _ = try f.choice("Status", ["ENABLED"])
            _ = try f.choice("SSEType", ["KMS"])
            encryption = EncryptionSettings(kmsKeyArn: try f.string("KMSMasterKeyArn"))
            try f.finish()
        }
        var tableClass: (name: String, updated: Double)? = nil
        if let summary = top.value("TableClassSummary") {
            var f = try JSONFields(summary, path: top.child("TableClassSummary"))
            tableClass = (try f.choice("TableClass", Self.tableClasses), try f.optionalSeconds("LastUpdateDateTime") ?? created)
            try f.finish()
        }
        var onDemand: (maxRead: Int, maxWrite: Int)? = nil
        if let limits = top.value("OnDemandThroughput") {
            var f = try JSONFields(limits, path: top.child("OnDemandThroughput"))
            onDemand = (try f.int("MaxReadRequestUnits", in: -1...JSONFields.maxCount), try f.int("MaxWriteRequestUnits", in: -1...JSONFields.maxCount))
            try f.finish()
        }
        var tags: [Tag] = []
        for (i, entry) in (try top.optionalArray("FerryTags") ?? []).enumerated() {
            var f = try JSONFields(entry, path: top.child("FerryTags") + "[\(i)]")
            tags.append(Tag(key: try f.string("Key"), value: try f.string("Value")))
            try f.finish()
        }
        var timeToLive: TimeToLive? = nil
        if let ttl = top.value("FerryTimeToLive") {
            var f = try JSONFields(ttl, path: top.child("FerryTimeToLive"))
            let attribute = try f.string("AttributeName")
            if attribute.isEmpty { throw f.error("AttributeName", "is empty") }
            timeToLive = TimeToLive(attributeName: attribute)
            try f.finish()
        }
        try top.finish()
        self.init(name: name, keySchema: tableKeys, attributeDefinitions: definitions, billingMode: billing,
                  throughput: provisioned, indexes: indexes, created: created, tableId: tableId)
        self.payPerRequestSince = payPerRequestSince
        deletionProtection = protection
        self.stream = stream
        self.encryption = encryption
        self.tableClass = tableClass
        self.onDemand = onDemand
        self.tags = tags
        self.timeToLive = timeToLive
        try TableCatalog.validate(self)
    }

    /// An item whose index key attribute has the wrong type, an empty string or binary,
    /// or a value over the key size limits, is refused, as DynamoDB does.
    public func checkIndexKeys(of item: Item) throws { try Self.checkIndexKeys(of: item, indexes) }

    /// The same, for the indexes alone (a write plan holds them without the description).
    static func checkIndexKeys(of item: Item, _ indexes: [Index]) throws {
        for index in indexes { try checkIndexKey(of: item, index) }
    }

    static func checkIndexKey(of item: Item, _ index: Index) throws {
        var sortBytes = 0
        for (position, attribute) in index.keySchema.attributes.enumerated() {
            guard let value = item[attribute.name] else { continue }
            if value.typeName != attribute.type.rawValue {
                throw DynamoDBError.invalidParameter("Type mismatch for Index Key \(attribute.name) Expected: \(attribute.type.rawValue) Actual: \(value.typeName) IndexName: \(index.name)")
            }
            let size: Int
            switch value {
            case let .s(s):
                if s.isEmpty { throw emptyIndexKey(index, attribute) }
                size = s.utf8.count
            case let .b(b):
                if b.isEmpty { throw emptyIndexKey(index, attribute) }
                size = b.count
            case let .n(n): size = n.storageSize
            default: size = 0
            }
            if position < index.keySchema.partitionAttributes.count {
                if size > KeySchema.maxPartitionKeyBytes {
                    throw DynamoDBError.invalidParameter("Size of hashkey has exceeded the maximum size limit of2048 bytes")
                }
            } else {
                // Every sort attribute of a multi-attribute key counts toward the one limit.
                sortBytes += size
                if sortBytes > KeySchema.maxSortKeyBytes {
                    throw DynamoDBError.invalidParameter("Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
                }
            }
        }
    }

    /// True when `item` may have an entry in `index` (a GSI backfill skips the others,
    /// as DynamoDB's does).
    public func indexKeyAcceptable(_ item: Item, _ index: Index) -> Bool { Self.indexKeyAcceptable(item, index) }

    static func indexKeyAcceptable(_ item: Item, _ index: Index) -> Bool {
        (try? Self.checkIndexKey(of: item, index)) != nil
    }

    private static func emptyIndexKey(_ index: Index, _ attribute: KeyAttribute) -> DynamoDBError {
        DynamoDBError.validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: \(index.name), IndexKey: \(attribute.name)")
    }

    public static let streamViewTypes = ["OLD_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES", "NEW_IMAGE"]
    public static let tableClasses = ["STANDARD", "STANDARD_INFREQUENT_ACCESS"]

    static let fileName = "table.json"

    public static func read(_ folder: Directory) throws -> TableDescription? {
        guard let source = try folder.openForReading(fileName) else { return nil }
        let path = folder.child(fileName)
        let json: JSONValue
        do { json = try JSONValue.parse(try source.readAll(limit: 16 << 20)) } catch {
            throw TableFileError.invalid(path: path, reason: "\(error)")
        }
        return try TableDescription(json: json, path: path)
    }

    public func write(_ folder: Directory) throws {
        let text = json(counts: nil).prettyText(indent: 2) + "\n"
        try folder.writeAtomically(Self.fileName) { sink in try Array(text.utf8).withUnsafeBytes { try sink.write($0) } }
    }
}

public enum TableFileError: Error, CustomStringConvertible, Equatable {
    case invalid(path: String, reason: String)
    public var description: String {
        switch self {
        case let .invalid(path, reason): return "\(path): not a valid table description: \(reason)"
        }
    }
}
