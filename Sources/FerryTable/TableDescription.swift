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

    public var arn: String { "arn:aws:dynamodb:ferry:000000000000:table/\(name)" }
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
                .object([JSONMember("AttributeName", .string(a.name)), JSONMember("KeyType", .string(i == 0 ? "HASH" : "RANGE"))])
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
            JSONMember("AttributeDefinitions", .array(attributeDefinitions.map {
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
        members.append(JSONMember("DeletionProtectionEnabled", .bool(deletionProtection)))
        return .object(members)
    }

    /// Seconds since the epoch with milliseconds, as DynamoDB's JSON carries times.
    static func timeText(_ t: Double) -> String {
        let ms = Int((t * 1000).rounded())
        let frac = ms % 1000
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - String(frac).count) + String(frac)
    }

    /// Reads the stored form back (the shape `json(counts: nil)` writes).
    public init(json: JSONValue, path: String) throws {
        func fail(_ what: String) -> Error { TableFileError.invalid(path: path, reason: what) }
        func keySchema(_ v: JSONValue?) throws -> KeySchema {
            guard let list = v?.arrayValue, !list.isEmpty else { throw fail("KeySchema") }
            var attributes: [KeyAttribute] = []
            for entry in list {
                guard let name = entry["AttributeName"]?.stringValue else { throw fail("KeySchema") }
                attributes.append(KeyAttribute(name: name, type: .s))
            }
            return KeySchema(partition: attributes[0], sort: attributes.count > 1 ? attributes[1] : nil)
        }
        guard let name = json["TableName"]?.stringValue else { throw fail("TableName") }
        var definitions: [KeyAttribute] = []
        for d in json["AttributeDefinitions"]?.arrayValue ?? [] {
            guard let n = d["AttributeName"]?.stringValue, let t = d["AttributeType"]?.stringValue.flatMap(KeyType.init(rawValue:)) else {
                throw fail("AttributeDefinitions")
            }
            definitions.append(KeyAttribute(name: n, type: t))
        }
        func typed(_ k: KeySchema) throws -> KeySchema {
            func type(_ a: KeyAttribute) throws -> KeyAttribute {
                guard let d = definitions.first(where: { $0.name == a.name }) else { throw fail("no definition for \(a.name)") }
                return d
            }
            return KeySchema(partition: try type(k.partition), sort: try k.sort.map(type))
        }
        func throughput(_ v: JSONValue?) -> Throughput {
            var t = Throughput(read: Int(v?["ReadCapacityUnits"]?.numberText ?? "0") ?? 0,
                               write: Int(v?["WriteCapacityUnits"]?.numberText ?? "0") ?? 0)
            t.decreasesToday = Int(v?["NumberOfDecreasesToday"]?.numberText ?? "0") ?? 0
            t.lastIncrease = v?["LastIncreaseDateTime"]?.numberText.flatMap(Double.init)
            t.lastDecrease = v?["LastDecreaseDateTime"]?.numberText.flatMap(Double.init)
            return t
        }
        var indexes: [Index] = []
        for (key, global) in [("LocalSecondaryIndexes", false), ("GlobalSecondaryIndexes", true)] {
            for entry in json[key]?.arrayValue ?? [] {
                guard let indexName = entry["IndexName"]?.stringValue,
                      let kind = entry["Projection"]?["ProjectionType"]?.stringValue.flatMap(Projection.Kind.init(rawValue:)),
                      let keyspace = entry["FerryKeyspace"]?.numberText.flatMap(UInt8.init) else { throw fail(key) }
                let nonKey = entry["Projection"]?["NonKeyAttributes"]?.arrayValue?.compactMap(\.stringValue) ?? []
                indexes.append(Index(name: indexName, isGlobal: global, keySchema: try typed(keySchema(entry["KeySchema"])),
                                     projection: Projection(kind: kind, nonKeyAttributes: nonKey),
                                     throughput: global ? throughput(entry["ProvisionedThroughput"]) : nil, keyspace: keyspace))
            }
        }
        let billing = json["BillingModeSummary"]?["BillingMode"]?.stringValue.flatMap(BillingMode.init(rawValue:)) ?? .provisioned
        self.init(name: name, keySchema: try typed(keySchema(json["KeySchema"])), attributeDefinitions: definitions,
                  billingMode: billing, throughput: throughput(json["ProvisionedThroughput"]), indexes: indexes,
                  created: json["CreationDateTime"]?.numberText.flatMap(Double.init) ?? 0,
                  tableId: json["TableId"]?.stringValue ?? "")
        payPerRequestSince = json["BillingModeSummary"]?["LastUpdateToPayPerRequestDateTime"]?.numberText.flatMap(Double.init)
        deletionProtection = json["DeletionProtectionEnabled"]?.boolValue ?? false
    }

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
