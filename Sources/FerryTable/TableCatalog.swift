import Foundation
import FerryIO
import FerryValues

/// The tables of a data folder: `<data>/tables/<TableName>/` each (docs/table-storage.md).
/// Creating and deleting are atomic renames of a whole folder, so a table is either
/// there with its description or not there at all.
public final class TableCatalog: @unchecked Sendable {
    public let path: String
    let folder: Directory
    public var syncPolicy: WriteAheadLog.SyncPolicy = .always
    public var flushThreshold = 64 << 20

    /// Working folders (a table being created or deleted) start with this, which no
    /// table name can: listings skip them.
    static let workPrefix = "~"

    public init(dataFolder: String) throws {
        let data = try Directory.createFollowingLinks(dataFolder)
        folder = try data.subdirectory("tables", create: true)!
        path = folder.path
        removeStaleWork()
    }

    // MARK: Names

    /// DynamoDB's rule for table and index names.
    public static func validateName(_ name: String, field: String = "tableName") throws {
        let count = name.utf8.count
        if count < 3 {
            throw DynamoDBError.validation("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must have length greater than or equal to 3")
        }
        if count > 255 {
            throw DynamoDBError.validation("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must have length less than or equal to 255")
        }
        let allowed = name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2E || b == 0x2D
        }
        if !allowed {
            throw DynamoDBError.validation("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
    }

    /// Table names in order (ListTables orders them by their UTF-8 bytes).
    public func names() throws -> [String] {
        try folder.entries().filter { $0.kind == .directory && (try? Self.validateName($0.name)) != nil }
            .map(\.name).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private func tableFolder(_ name: String) throws -> Directory {
        try Self.validateName(name)
        guard let sub = try folder.subdirectory(name), try TableDescription.read(sub) != nil else {
            throw DynamoDBError.tableNotFound(name)
        }
        return sub
    }

    public func description(of name: String) throws -> TableDescription {
        let sub = try tableFolder(name)
        guard let d = try TableDescription.read(sub) else { throw DynamoDBError.tableNotFound(name) }
        return d
    }

    // MARK: Create

    /// Checks `description` as CreateTable does, then makes the table appear whole.
    @discardableResult
    public func create(_ description: TableDescription) throws -> TableDescription {
        try Self.validate(description)
        if try folder.subdirectory(description.name) != nil {
            throw DynamoDBError(.resourceInUse, "Table already exists: \(description.name)")
        }
        let work = "\(Self.workPrefix)creating-\(description.name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard let sub = try folder.subdirectory(work, create: true) else {
            throw IOError.openFailed(path: folder.child(work), errno: ENOENT)
        }
        do {
            try description.write(sub)
            try folder.rename(work, to: description.name)
            try folder.sync()
        } catch {
            try? folder.removeTree(work)
            if case IOError.failed(_, _, let code) = error, code == EEXIST || code == ENOTEMPTY {
                throw DynamoDBError(.resourceInUse, "Table already exists: \(description.name)")
            }
            throw error
        }
        return description
    }

    // MARK: Tables built out of sight (restores)

    /// Creates `description`'s table in a work folder no listing shows, opened for
    /// writing: it becomes a table only when `publish` renames it into place, so a
    /// restore that fails or is killed leaves no table.
    public func createHidden(_ description: TableDescription, program: String) throws -> (work: String, table: Table) {
        try Self.validate(description)
        removeStaleWork()
        let work = "\(Self.workPrefix)restoring-\(description.name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard let sub = try folder.subdirectory(work, create: true) else {
            throw IOError.openFailed(path: folder.child(work), errno: ENOENT)
        }
        do {
            try description.write(sub)
            let store = try TableStore(folder: sub.path, name: description.name, program: program, sync: syncPolicy, flushThreshold: flushThreshold)
            return (work, Table(description: description, folder: sub, store: store))
        } catch {
            try? folder.removeTree(work)
            throw error
        }
    }

    /// Renames a closed hidden table to `name`. An existing table is refused, or with
    /// `replace` moved aside under its lock (no writer may hold it) and removed after.
    public func publish(_ work: String, as name: String, replace: Bool, program: String) throws {
        var retired: String? = nil
        if let existing = try folder.subdirectory(name) {
            guard replace else { throw DynamoDBError(.resourceInUse, "Table already exists: \(name)") }
            let lock: TableLock
            do { lock = try TableLock(table: name, folder: existing.path, program: program) } catch let e as TableLock.LockError {
                throw DynamoDBError(.resourceInUse, "Attempt to change a resource which is still in use: \(e)")
            }
            let aside = "\(Self.workPrefix)deleting-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try folder.rename(name, to: aside)
            _ = lock
            retired = aside
        }
        try folder.rename(work, to: name)
        try folder.sync()
        if let retired { try? folder.removeTree(retired) }
    }

    /// Removes a hidden table that will not be published.
    public func discard(_ work: String) {
        try? folder.removeTree(work)
    }

    /// Work folders left by processes that died (kill -9 in a create, restore or
    /// delete): named `~<kind>-<table>-<pid>-<random>`, removed when the pid is gone.
    func removeStaleWork() {
        guard let entries = try? folder.entries() else { return }
        for (name, kind) in entries where kind == .directory && name.hasPrefix(Self.workPrefix) {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, let pid = Int32(parts[parts.count - 2]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? folder.removeTree(name) }
        }
    }

    /// CreateTable's checks on keys, attribute definitions and indexes, with DynamoDB's
    /// messages.
    public static func validate(_ d: TableDescription) throws {
        try validateName(d.name)
        var keyNames: [String] = d.keySchema.attributes.map(\.name)
        for index in d.indexes {
            try validateName(index.name, field: "indexName")
            for a in index.keySchema.attributes where !keyNames.contains(a.name) { keyNames.append(a.name) }
        }
        let defined = d.attributeDefinitions.map(\.name)
        if Set(defined).count != defined.count {
            throw DynamoDBError.invalidParameter("Duplicate AttributeName in AttributeDefinitions")
        }
        func list(_ names: [String]) -> String { "[" + names.joined(separator: ", ") + "]" }
        let missing = keyNames.filter { !defined.contains($0) }
        if d.indexes.isEmpty {
            if !missing.isEmpty { throw DynamoDBError.validation("Invalid KeySchema: Some index key attribute have no definition") }
            if defined.count != keyNames.count {
                throw DynamoDBError.invalidParameter("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
            }
        } else {
            if !missing.isEmpty {
                throw DynamoDBError.invalidParameter("Some index key attributes are not defined in AttributeDefinitions. Keys: \(list(missing)), AttributeDefinitions: \(list(defined))")
            }
            if defined.count != keyNames.count {
                throw DynamoDBError.invalidParameter("Some AttributeDefinitions are not used. AttributeDefinitions: \(list(defined)), keys used: \(list(keyNames))")
            }
        }
        var seen: Set<String> = []
        for index in d.indexes {
            if !seen.insert(index.name).inserted { throw DynamoDBError.invalidParameter("Duplicate index name: \(index.name)") }
            if !index.isGlobal {
                guard d.keySchema.sort != nil else {
                    throw DynamoDBError.invalidParameter("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
                }
                guard index.keySchema.partition.name == d.keySchema.partition.name else {
                    throw DynamoDBError.invalidParameter("Index KeySchema does not have the same leading hash key as table KeySchema for index: \(index.name). index hash key: \(index.keySchema.partition.name), table hash key: \(d.keySchema.partition.name)")
                }
                guard index.keySchema.sort != nil else {
                    throw DynamoDBError.invalidParameter("Index KeySchema for a LocalSecondaryIndex must have a range key: \(index.name)")
                }
            }
            if index.projection.kind == .include && index.projection.nonKeyAttributes.isEmpty {
                throw DynamoDBError.invalidParameter("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
            }
            if index.projection.kind != .include && !index.projection.nonKeyAttributes.isEmpty {
                throw DynamoDBError.invalidParameter("ProjectionType is \(index.projection.kind.rawValue), but NonKeyAttributes is specified")
            }
        }
        if d.localIndexes.count > 5 { throw DynamoDBError(.limitExceeded, "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5") }
        if d.globalIndexes.count > 20 { throw DynamoDBError(.limitExceeded, "One or more parameter values were invalid: Number of GlobalSecondaryIndexes exceeds per-table limit of 20") }
    }

    // MARK: Open

    /// Opens `name` for writing: takes its lock (one writer process per table).
    public func openForWriting(_ name: String, program: String) throws -> Table {
        let sub = try tableFolder(name)
        let store = try TableStore(folder: sub.path, name: name, program: program, sync: syncPolicy, flushThreshold: flushThreshold)
        guard let d = try TableDescription.read(sub) else { throw DynamoDBError.tableNotFound(name) }
        let table = Table(description: d, folder: sub, store: store)
        try table.openWriterCleanup()
        return table
    }

    /// Opens `name` for reading: a snapshot of its files, without the lock, so it works
    /// while another process writes.
    public func openForReading(_ name: String) throws -> Table {
        let sub = try tableFolder(name)
        guard let d = try TableDescription.read(sub) else { throw DynamoDBError.tableNotFound(name) }
        return Table(description: d, folder: sub, snapshot: try TableStore.readSnapshot(folder: sub.path))
    }

    // MARK: Delete

    /// Deletes a table no process is writing; returns its description and last counts.
    public func delete(_ name: String, program: String) throws -> (TableDescription, StoreStats) {
        let sub = try tableFolder(name)
        let lock: TableLock
        do { lock = try TableLock(table: name, folder: sub.path, program: program) } catch let e as TableLock.LockError {
            throw DynamoDBError(.resourceInUse, "Attempt to change a resource which is still in use: \(e)")
        }
        guard let d = try TableDescription.read(sub) else { throw DynamoDBError.tableNotFound(name) }
        if d.deletionProtection {
            throw DynamoDBError.validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
        }
        let stats = try TableStore.readSnapshot(folder: sub.path).stats
        let work = "\(Self.workPrefix)deleting-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try folder.rename(name, to: work)
        try folder.sync()
        lock.release()
        try folder.removeTree(work)
        return (d, stats)
    }
}

extension TableCatalog {
    /// Checks every checksum of a table's runs and logs without taking its lock;
    /// returns a one-line report. Damage throws with the file and byte offset.
    public func verify(_ name: String) throws -> String {
        let sub = try tableFolder(name)
        let report = try TableStore.verify(folder: sub.path)
        return "table '\(name)': \(report.runs) sorted runs (\(report.entries) entries), \(report.logs) logs (\(report.commits) commits): every checksum matches"
    }
}
