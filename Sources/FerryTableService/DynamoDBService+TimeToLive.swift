import FerryIO
import FerryTable
import FerryValues

/// UpdateTimeToLive, DescribeTimeToLive and the sweep that deletes expired items
/// (docs/ferry-serve.md, "Time to live").
extension DynamoDBService {
    func updateTimeToLive(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        guard let specJSON = r["TimeToLiveSpecification"] else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
        }
        let spec = try RequestReader(specJSON, operation: r.operation)
        try RequestMembers.checkTimeToLiveSpecification(specJSON)
        guard let attribute = try spec.string("AttributeName") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
        }
        guard let enabled = try spec.bool("Enabled") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
        }
        let length = attribute.utf8.count
        guard (1...255).contains(length) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(attribute)' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length \(length < 1 ? "greater than or equal to 1" : "less than or equal to 255")")
        }
        return try withWriter(name) { table in
            var d = table.description
            if let current = d.timeToLive, current.attributeName != attribute {
                throw DynamoDBError.validation("TimeToLive is active on a different AttributeName: current AttributeName is \(current.attributeName)")
            }
            if enabled {
                if d.timeToLive != nil { throw DynamoDBError.validation("TimeToLive is already enabled") }
                d.timeToLive = .init(attributeName: attribute)
            } else {
                if d.timeToLive == nil { throw DynamoDBError.validation("TimeToLive is already disabled") }
                d.timeToLive = nil
            }
            try table.replace(description: d)
            return .object([JSONMember("TimeToLiveSpecification", .object([
                JSONMember("Enabled", .bool(enabled)), JSONMember("AttributeName", .string(attribute)),
            ]))])
        }
    }

    func describeTimeToLive(_ r: RequestReader) throws -> JSONValue {
        let name = try r.tableName()
        var members = [JSONMember("TimeToLiveStatus", .string("DISABLED"))]
        if let ttl = try reader(name).description.timeToLive {
            members = [JSONMember("TimeToLiveStatus", .string("ENABLED")), JSONMember("AttributeName", .string(ttl.attributeName))]
        }
        return .object([JSONMember("TimeToLiveDescription", .object(members))])
    }

    /// What one sweep of one table did.
    public struct SweepResult: Sendable, Equatable {
        public var table: String
        public var scanned: Int
        public var deleted: Int
        public init(table: String, scanned: Int, deleted: Int) {
            self.table = table
            self.scanned = scanned
            self.deleted = deleted
        }
    }

    /// Deletes the items expired now (`WallClock`) from `tables` (every table with time
    /// to live enabled when nil), in commits of at most 1000, each delete conditional
    /// on the item being expired still. Thread-safe in held mode (item requests go on).
    public func sweepExpiredItems(_ tables: [String]? = nil) throws -> [SweepResult] {
        try tableChanges.shared {
            var results: [SweepResult?] = []
            for name in try tables ?? catalog.names() {
                do {
                    results.append(try sweep(name, named: tables != nil))
                } catch let e as DynamoDBError where e.kind == .resourceInUse && tables == nil {
                    // Another process holds it: that one sweeps it (or a later sweep does).
                    continue
                } catch is TableLock.LockError where tables == nil {
                    continue
                }
            }
            return results.compactMap { $0 }
        }
    }

    /// One table's sweep; nil for a table without time to live that was not named.
    private func sweep(_ name: String, named: Bool) throws -> SweepResult? {
        let table = try reader(name)
        guard let ttl = table.description.timeToLive else {
            return named ? SweepResult(table: name, scanned: 0, deleted: 0) : nil
        }
        let now = WallClock.now()
        let (scanned, keys) = try table.expiredKeys(now: now)
        var deleted = 0
        let condition = try TimeToLiveRule.stillExpired(attribute: ttl.attributeName, now: now)
        var start = 0
        while start < keys.count {
            let chunk = keys[start..<min(start + 1000, keys.count)]
            start += chunk.count
            let outcomes = try handles.commit(name, atomic: false) { writer in
                chunk.map { key in Result { try writer.prepare(.delete(key: key, condition: condition)) } }
            }
            for case let .applied(old?, _) in outcomes where old[ttl.attributeName] != nil { deleted += 1 }
        }
        return SweepResult(table: name, scanned: scanned, deleted: deleted)
    }
}
