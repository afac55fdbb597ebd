import Foundation
import FerryIO
import FerryValues

/// The tables of a data folder: `<data>/tables/<TableName>/` each (docs/table-storage.md).
/// Creating and deleting are atomic renames of a whole folder, so a table is either
/// there with its description or not there at all.
public final class TableCatalog: @unchecked Sendable {
    public let path: String
    /// `<data>/tables`; nil only for a read-only catalog of a data folder without tables.
    private let existingFolder: Directory?
    /// Intents of cross-table transactions, `<data>/transactions` (docs/transactions.md).
    public let transactions: TransactionLog
    public var syncPolicy: WriteAheadLog.SyncPolicy = .always
    public var flushThreshold = 64 << 20

    /// Working folders (a table being created, restored, deleted or replaced) start with
    /// this, which no table name can: listings skip them. Their names are
    /// `~<kind>-<pid>-<random>` and hold no table name (a table name may be 255 bytes,
    /// the most a file name can be); the table.json inside says which table it is.
    static let workPrefix = "~"

    /// Opens the tables of `dataFolder`. With `create` (commands that write) the data
    /// folder and its `tables` folder are made when missing; without it (commands that
    /// only read) a missing data folder is an error, so a mistyped `--data` or
    /// `FERRY_DATA` is reported instead of read as an empty store, and nothing is made.
    public init(dataFolder: String, create: Bool = true) throws {
        if create {
            let data = try Directory.createFollowingLinks(dataFolder)
            existingFolder = try data.subdirectory("tables", create: true)!
        } else {
            guard let data = try Directory.open(dataFolder, followLinks: true) else {
                throw IOError.noDataFolder(path: dataFolder)
            }
            existingFolder = try data.subdirectory("tables")
        }
        path = existingFolder?.path ?? dataFolder + "/tables"
        transactions = TransactionLog(path: (dataFolder.hasSuffix("/") ? String(dataFolder.dropLast()) : dataFolder) + "/transactions")
        // Test-only: small memtables, so a small load flushes and compacts (the fault suite).
        if let raw = getenv("FERRY_TEST_FLUSH_BYTES"), let bytes = Int(String(cString: raw)), bytes > 0 { flushThreshold = bytes }
        recoverWork()
        // A transaction cut short by a crash is finished before anything reads the tables.
        if existingFolder != nil, transactions.hasIntents() { try recoverTransactions(opened: nil) }
    }

    /// The tables folder, for changes (a catalog that may write always has one).
    var folder: Directory {
        get throws {
            guard let existingFolder else { throw IOError.noDataFolder(path: path) }
            return existingFolder
        }
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
        guard let existingFolder else { return [] }
        return try existingFolder.entries().filter { $0.kind == .directory && (try? Self.validateName($0.name)) != nil }
            .map(\.name).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private func tableFolder(_ name: String) throws -> Directory {
        try Self.validateName(name)
        guard let sub = try existingFolder?.subdirectory(name), try TableDescription.read(sub) != nil else {
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
        let folder = try self.folder
        if try folder.subdirectory(description.name) != nil {
            throw DynamoDBError(.resourceInUse, "Table already exists: \(description.name)")
        }
        let work = Self.workName("creating")
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

    /// `~<kind>-<pid>-<random>`: the pid tells a later command whether its maker is alive.
    static func workName(_ kind: String) -> String {
        "\(workPrefix)\(kind)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    // MARK: Tables built out of sight (restores)

    /// Creates `description`'s table in a work folder no listing shows, opened for
    /// writing: it becomes a table only when `publish` renames it into place, so a
    /// restore that fails or is killed leaves no table.
    public func createHidden(_ description: TableDescription, program: String) throws -> (work: String, table: Table) {
        try Self.validate(description)
        let folder = try self.folder
        recoverWork()
        let work = Self.workName("restoring")
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
    /// `replace` swapped out under its lock (no writer may hold it) and removed after.
    ///
    /// Every intermediate state recovers to the old table or the new one, whole
    /// (docs/table-storage.md, "Replacing a table"): the swap is one renameat2
    /// RENAME_EXCHANGE where the file system has it; elsewhere the old table is first
    /// renamed to `~replaced-…`, which `recoverWork` renames back if the new one never
    /// took its name. Once the new table has the name, nothing after (a directory sync,
    /// removing the old table) fails the publish: the caller must not discard `work`,
    /// which may hold the old table by then.
    public func publish(_ work: String, as name: String, replace: Bool, program: String) throws {
        let folder = try self.folder
        guard let existing = try folder.subdirectory(name) else {
            do { try folder.rename(work, to: name) } catch let IOError.failed(_, _, code) where code == EEXIST || code == ENOTEMPTY {
                throw DynamoDBError(.resourceInUse, "Table already exists: \(name)")
            }
            try? folder.sync()
            return
        }
        guard replace else { throw DynamoDBError(.resourceInUse, "Table already exists: \(name)") }
        let lock: TableLock
        do { lock = try TableLock(table: name, folder: existing.path, program: program) } catch let e as TableLock.LockError {
            throw DynamoDBError(.resourceInUse, "Attempt to change a resource which is still in use: \(e)")
        }
        defer { lock.release() }
        if try folder.exchange(work, name) {
            try? folder.sync()
            removeTable(work)    // now the old table
            return
        }
        // Without the exchange, the name is free for a moment: the old table says which
        // table replaces it, so recovery removes it only if exactly that one took the name.
        guard let newDescription = try folder.subdirectory(work).flatMap({ try TableDescription.read($0) }) else {
            throw DynamoDBError.tableNotFound(name)
        }
        try existing.writeAtomically(Self.replacedByName) { sink in
            try Array((newDescription.tableId + "\n").utf8).withUnsafeBytes { try sink.write($0) }
        }
        let retired = Self.workName("replaced")
        try folder.rename(name, to: retired)
        do {
            try folder.sync()
            try folder.rename(work, to: name)
        } catch {
            // Put the old table back (a table created meanwhile keeps the name; then
            // recovery leaves the old one for a person, never removes it).
            if (try? folder.rename(retired, to: name)) != nil { try? folder.sync() }
            throw error
        }
        try? folder.sync()
        removeTable(retired)
    }

    /// The file a table moved aside by a replace holds: the TableId of the table that
    /// replaces it.
    static let replacedByName = "REPLACED-BY"

    /// Removes a table's folder, its table.json first (and synced), so a folder without
    /// one is known to be on its way out.
    func removeTable(_ name: String) {
        guard let folder = existingFolder else { return }
        if let sub = try? folder.subdirectory(name) {
            _ = try? sub.removeFile(TableDescription.fileName)
            try? sub.sync()
        }
        try? folder.removeTree(name)
    }

    /// Removes a hidden table that will not be published.
    public func discard(_ work: String) {
        try? existingFolder?.removeTree(work)
    }

    /// Finishes what processes that died left in work folders (kill -9 in a create,
    /// restore, delete or replace), once their pid is gone: a replaced table whose name
    /// is free again is renamed back (the replace never finished), and removed only when
    /// the table that replaced it has the name; every other work folder is removed.
    /// Runs whenever a catalog opens.
    func recoverWork() {
        guard let folder = existingFolder, let entries = try? folder.entries() else { return }
        let work = entries.filter { $0.kind == .directory && $0.name.hasPrefix(Self.workPrefix) }.map(\.name)
        func dead(_ name: String) -> Bool {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
        let replaced = Set(work.filter { $0.hasPrefix("~replaced-") || isOldStyleReplaced($0, among: work) })
        // Replaced tables first, so the name they give back is not taken meanwhile.
        for name in replaced where dead(name) {
            guard let sub = try? folder.subdirectory(name) else { continue }
            let read: TableDescription?
            do { read = try TableDescription.read(sub) } catch { continue }   // damaged: leave it for a person
            guard let description = read else {
                // Its table.json is gone: its removal had begun, which starts only once
                // the new table has the name.
                try? folder.removeTree(name)
                continue
            }
            guard let taken = try? folder.status(description.name) != nil else { continue }
            if !taken {
                if (try? folder.rename(name, to: description.name)) != nil { try? folder.sync() }
                continue
            }
            // The name is taken: by the table that replaced this one (the swap was done)
            // or by another (a create in the moment the name was free): then keep it.
            let successor = try? sub.openForReading(Self.replacedByName).map { String(decoding: try $0.readAll(limit: 4096), as: UTF8.self) }
            let holder = try? folder.subdirectory(description.name).flatMap { try TableDescription.read($0) }
            if let successor, let holder, successor.trimmingCharacters(in: .whitespacesAndNewlines) == holder.tableId {
                removeTable(name)
            }
        }
        for name in work where dead(name) && !replaced.contains(name) {
            try? folder.removeTree(name)
        }
    }

    /// Ferry before 2026-12 moved a replaced table aside as `~deleting-<name>-<pid>-<n>`,
    /// like a deleted one; beside a `~restoring-<name>-…` folder and with `<name>` gone,
    /// it is a replace that was cut short.
    private func isOldStyleReplaced(_ name: String, among work: [String]) -> Bool {
        guard name.hasPrefix("~deleting-") else { return false }
        let parts = name.split(separator: "-")
        guard parts.count >= 4 else { return false }
        let table = parts[1..<(parts.count - 2)].joined(separator: "-")
        return work.contains { $0.hasPrefix("~restoring-\(table)-") }
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
        let table = try openWriter(name, program: program)
        if transactions.hasIntents() {
            do { try recoverTransactions(opened: table, program: program) } catch {
                try? table.close()
                throw error
            }
        }
        return table
    }

    /// `openForWriting` without the transaction recovery (which itself opens writers).
    func openWriter(_ name: String, program: String) throws -> Table {
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
        let folder = try self.folder
        let lock: TableLock
        do { lock = try TableLock(table: name, folder: sub.path, program: program) } catch let e as TableLock.LockError {
            throw DynamoDBError(.resourceInUse, "Attempt to change a resource which is still in use: \(e)")
        }
        guard let d = try TableDescription.read(sub) else { throw DynamoDBError.tableNotFound(name) }
        if d.deletionProtection {
            throw DynamoDBError.validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
        }
        let stats = try TableStore.readSnapshot(folder: sub.path).stats
        let work = Self.workName("deleting")
        try folder.rename(name, to: work)
        try folder.sync()
        lock.release()
        try folder.removeTree(work)
        return (d, stats)
    }
}

extension TableCatalog {
    /// Finishes the transactions whose intent is still there and whose owner is gone (or
    /// is this process and gave up on it): each share whose marker its table lacks is
    /// committed, then the intent is removed (docs/transactions.md, "Recovery"). Runs
    /// when a catalog opens and when a table is opened for writing; `opened` is that
    /// table (its lock held by the caller). A share of a table another process holds
    /// is left, with its intent, to that process, which recovered it when it opened
    /// the table (a table cannot be held across its owner's transaction).
    func recoverTransactions(opened: Table?, program: String = "ferry") throws {
        try transactions.withLock(exclusive: true) {
            for intent in try transactions.recoverable() {
                var finished = true
                for share in intent.shares {
                    if let opened, opened.name == share.table {
                        try apply(share, of: intent, to: opened)
                        continue
                    }
                    // A table deleted since, or replaced by another of the name, has
                    // nothing left to apply to.
                    guard let sub = try existingFolder?.subdirectory(share.table), let d = try TableDescription.read(sub),
                          d.tableId == share.tableId else { continue }
                    let table: Table
                    do { table = try openWriter(share.table, program: program) } catch is TableLock.LockError {
                        finished = false
                        continue
                    }
                    do {
                        try apply(share, of: intent, to: table)
                        try table.close()
                    } catch {
                        try? table.close()
                        throw error
                    }
                }
                if finished { try transactions.remove(intent) }
            }
        }
    }

    private func apply(_ share: TransactionLog.Share, of intent: TransactionLog.Intent, to table: Table) throws {
        guard table.description.tableId == share.tableId else { return }
        if try table.metadataValue(TransactionLog.markerName(intent.id)) != nil { return }
        try table.withWriteLock { try table.commitLocked(changes: share.changes, delta: share.delta) }
    }

    /// Checks every checksum of a table's runs and logs without taking its lock;
    /// returns a one-line report. Damage throws with the file and byte offset.
    public func verify(_ name: String) throws -> String {
        let sub = try tableFolder(name)
        let report = try TableStore.verify(folder: sub.path)
        return "table '\(name)': \(report.runs) sorted runs (\(report.entries) entries), \(report.logs) logs (\(report.commits) commits): every checksum matches"
    }
}
