import Foundation
import FerryExpressions
import FerryIO
import FerryValues

/// Encoded key bytes as a dictionary key, hashed in one call (Array's own hashing feeds
/// the hasher a byte at a time).
struct ByteKey: Hashable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    static func == (a: ByteKey, b: ByteKey) -> Bool { a.bytes == b.bytes }
}

/// One write against a table, as PutItem, DeleteItem, UpdateItem and the loader make them.
public enum WriteOperation: Sendable {
    case put(Item, condition: ConditionExpression?)
    case delete(key: Item, condition: ConditionExpression?)
    case update(key: Item, update: UpdateExpression?, condition: ConditionExpression?)
    /// The item's attributes set on the stored item (created when absent): an UpdateItem
    /// with `SET a = :a` for each attribute present (ferry-load --mode update).
    case merge(Item, condition: ConditionExpression?)
    /// A transaction's ConditionCheck: `condition` must hold for the item at `key`;
    /// nothing is written.
    case conditionCheck(key: Item, condition: ConditionExpression)
}

/// What happened to one write of a batch.
public enum WriteOutcome: Sendable {
    /// Applied: the item before and after (nil: absent).
    case applied(old: Item?, new: Item?)
    /// Its condition was false; nothing changed.
    case conditionFailed(old: Item?)
    /// Refused (validation); nothing changed.
    case rejected(Error)
}

/// One request's writes for `Table.write(groups:)`: atomic (all or nothing, as
/// BatchWriteItem) or each on its own (the loader's groups).
public struct WriteGroup: Sendable {
    public var operations: [Result<Table.PreparedWrite, Error>]
    public var atomic: Bool
    public init(_ operations: [Result<Table.PreparedWrite, Error>], atomic: Bool) {
        self.operations = operations
        self.atomic = atomic
    }

    /// About how many bytes the group adds to a log record (items as encoded; updates
    /// and deletes by key), before index entries: what group commit budgets by.
    public var estimatedBytes: Int {
        operations.reduce(0) { total, op in
            guard case let .success(p) = op else { return total }
            return total + (p.encoded?.count ?? p.size) + p.key.count + 16
        }
    }
}

/// A table with DynamoDB's semantics over a `TableStore` (docs/table-storage.md): items
/// keyed by the key schema, secondary indexes maintained in the same commit as the item,
/// conditions, return values, and query and scan pages. Opened for writing (holds the
/// table's lock) or for reading (a snapshot; no lock, so it works beside a writer in
/// another process).
public final class Table: @unchecked Sendable {
    public private(set) var description: TableDescription {
        didSet { writePlan = WritePlan(description) }
    }
    /// What writes read of the description, built once per description: one retain per
    /// item instead of a copy of the description's dozen fields.
    private(set) var writePlan: WritePlan
    let folder: Directory
    let store: TableStore?
    private let readView: StoreSnapshot?
    /// Held by every commit of this table (and by a transaction across its tables).
    let writeLock = NSLock()
    private let decoder = ItemDecoder(spelling: .typed)

    init(description: TableDescription, folder: Directory, store: TableStore) {
        self.description = description
        self.folder = folder
        self.store = store
        readView = nil
        writePlan = WritePlan(description)
    }

    init(description: TableDescription, folder: Directory, snapshot: StoreSnapshot) {
        self.description = description
        self.folder = folder
        store = nil
        readView = snapshot
        writePlan = WritePlan(description)
    }

    public var name: String { description.name }
    public var schema: KeySchema { writePlan.schema }

    /// A consistent view for reads.
    public func snapshot() -> StoreSnapshot { store?.snapshot() ?? readView! }

    public var stats: StoreStats { store?.currentStats ?? readView!.stats }

    public func close() throws { try store?.close() }

    /// Writes the memtable to a sorted run now and waits for background work.
    public func flush() throws {
        try store?.flush()
        try store?.waitForBackground()
    }

    func writer() throws -> TableStore {
        guard let store else { throw DynamoDBError(.internalServerError, "table '\(name)' was opened for reading") }
        return store
    }

    // MARK: Values on disk

    static func encodeItem(_ item: Item) -> [UInt8] {
        let out = ByteBuffer(capacity: 256)
        ItemEncoder.writeTypedMap(item, into: out)
        return out.array
    }

    func decodeStored(_ bytes: [UInt8], decoder: ItemDecoder) throws -> Item {
        do { return try bytes.withUnsafeBytes { try decoder.decodeItem($0) } } catch {
            throw TableFileError.invalid(path: folder.path, reason: "a stored item cannot be read: \(error)")
        }
    }

    // MARK: Keys

    /// Checks `key` holds exactly the table's key attributes with the right types.
    public func validateKey(_ key: Item) throws {
        guard key.count == schema.attributes.count else { throw DynamoDBError.keyMismatch }
        for attribute in schema.attributes {
            guard let value = key[attribute.name] else { throw DynamoDBError.keyMismatch }
            guard value.typeName == attribute.type.rawValue else { throw DynamoDBError.keyMismatch }
        }
        do { try schema.validateKey(of: key) } catch let error as ItemError { throw DynamoDBError.validation(error.message) }
    }

    func tableKey(_ item: Item) -> [UInt8]? { ItemKeys.key(ItemKeys.tableKeyspace, schema, of: item) }

    /// Only the key attributes of `item`.
    public func keyOf(_ item: Item, index: TableDescription.Index? = nil) -> Item {
        var out = Item()
        var names = schema.attributes.map(\.name)
        if let index { names = index.keySchema.attributes.map(\.name) + names.filter { n in !index.keySchema.attributes.contains { $0.name == n } } }
        for name in names { if let v = item[name] { out[name] = v } }
        return out
    }

    // MARK: Reads

    public func getItem(_ key: Item, in snapshot: StoreSnapshot? = nil) throws -> Item? {
        try validateKey(key)
        guard let k = tableKey(key) else { throw DynamoDBError.keyMismatch }
        guard let bytes = try (snapshot ?? self.snapshot()).get(k) else { return nil }
        return try decodeStored(bytes, decoder: ItemDecoder.forThisThread)
    }

    // MARK: Writes

    /// Validates and applies `operations` in order as one commit: each sees the ones
    /// before it; one fsync for all. Failed conditions and refused items are reported in
    /// the outcomes and change nothing; the rest commit together.
    public func write(_ operations: [WriteOperation]) throws -> [WriteOutcome] {
        try write(prepared: prepareAll(operations))
    }

    /// `prepare` of every operation, on every core when there are enough of them to pay
    /// for the threads (checking and encoding is half a large batch's time); in order.
    func prepareAll(_ operations: [WriteOperation]) -> [Result<PreparedWrite, Error>] {
        let threads = min(ProcessInfo.processInfo.activeProcessorCount, operations.count / Self.operationsPerPrepareThread)
        guard threads > 1 else { return operations.map { operation in Result { try prepare(operation) } } }
        let parts = UnsafeMutableBufferPointer<[Result<PreparedWrite, Error>]>.allocate(capacity: threads)
        parts.initialize(repeating: [])
        defer { parts.deinitialize(); parts.deallocate() }
        let shared = PreparedParts(parts)
        DispatchQueue.concurrentPerform(iterations: threads) { part in
            let range = (operations.count * part / threads)..<(operations.count * (part + 1) / threads)
            shared.parts[part] = operations[range].map { operation in Result { try prepare(operation) } }
        }
        return Array(parts.joined())
    }

    /// Below this many operations a thread, one thread prepares the batch.
    static let operationsPerPrepareThread = 256

    /// The slices `prepareAll`'s threads fill: each slot written by one thread, read after
    /// `concurrentPerform` returns (its join orders the writes before the reads).
    private struct PreparedParts: @unchecked Sendable {
        let parts: UnsafeMutableBufferPointer<[Result<PreparedWrite, Error>]>
        init(_ parts: UnsafeMutableBufferPointer<[Result<PreparedWrite, Error>]>) { self.parts = parts }
    }

    /// As `write(_:)` for operations already checked by `prepare` (on any thread), plus
    /// `metadata` records (name, value; nil deletes) committed atomically with them: the
    /// loader's checkpoint rides in the same commit as the items it covers.
    public func write(prepared: [Result<PreparedWrite, Error>], metadata: [(name: String, value: [UInt8]?)] = []) throws -> [WriteOutcome] {
        try write(groups: [WriteGroup(prepared, atomic: false)], metadata: metadata)[0]
    }

    /// Several requests' writes in one commit (group commit: one log record, one fsync).
    /// Each group sees the groups before it; an atomic group whose operation fails leaves
    /// none of its writes applied (BatchWriteItem), and every outcome of it reports the
    /// failure. A failed commit throws: then nothing of any group is applied.
    public func write(groups: [WriteGroup], metadata: [(name: String, value: [UInt8]?)] = []) throws -> [[WriteOutcome]] {
        let store = try writer()
        writeLock.lock()
        defer { writeLock.unlock() }
        var staged = try stage(groups, in: store)
        for (name, value) in metadata { staged.changes.append((ItemKeys.metadataKey(name), value)) }
        try store.commit(staged.changes, delta: staged.delta)
        return staged.outcomes
    }

    /// Writes worked out against the current items but not committed: what
    /// `write(groups:)` commits, and a transaction's share of this table.
    public struct StagedWrites: Sendable {
        public var outcomes: [[WriteOutcome]] = []
        var changes: [TableStore.Change] = []
        var delta = StoreStats()
        /// True when every outcome applied (a transaction's share may commit).
        public var allApplied: Bool {
            outcomes.allSatisfy { $0.allSatisfy { if case .applied = $0 { return true }; return false } }
        }
    }

    /// Runs `body` holding this table's write lock: no commit of this table happens
    /// meanwhile, so what `stageLocked` reads stays current until `commitLocked`.
    /// Transactions take the locks of their tables in name order (docs/transactions.md).
    public func withWriteLock<T>(_ body: () throws -> T) throws -> T {
        _ = try writer()
        writeLock.lock()
        defer { writeLock.unlock() }
        return try body()
    }

    /// `stage` for a caller inside `withWriteLock`.
    public func stageLocked(_ groups: [WriteGroup]) throws -> StagedWrites { try stage(groups, in: try writer()) }

    /// Commits staged writes plus metadata records, inside `withWriteLock`.
    public func commitLocked(_ staged: StagedWrites, metadata: [(name: String, value: [UInt8]?)] = []) throws {
        var changes = staged.changes
        for (name, value) in metadata { changes.append((ItemKeys.metadataKey(name), value)) }
        try writer().commit(changes, delta: staged.delta)
    }

    /// Commits a change batch recorded earlier (a transaction's share, replayed from its
    /// intent), inside `withWriteLock`.
    func commitLocked(changes: [TableStore.Change], delta: StoreStats) throws {
        try writer().commit(changes, delta: delta)
    }

    /// The groups' outcomes and changes against the current items; caller holds `writeLock`.
    private func stage(_ groups: [WriteGroup], in store: TableStore) throws -> StagedWrites {
        // The snapshot must be gone before the commit, or the memtable's copy-on-write
        // would copy every chunk the commit touches: it lives only in this call.
        let snapshot = store.snapshot()
        var pending: [ByteKey: Item?] = [:]
        pending.reserveCapacity(groups.reduce(0) { $0 + $1.operations.count })
        var staged = StagedWrites()
        staged.outcomes.reserveCapacity(groups.count)
        func current(_ key: [UInt8]) throws -> Item? {
            if !pending.isEmpty, let p = pending[ByteKey(key)] { return p }
            guard let bytes = try snapshot.get(key) else { return nil }
            return try decodeStored(bytes, decoder: decoder)
        }
        for group in groups {
            // What to put back if an atomic group fails part way.
            let changesBefore = staged.changes.count
            let deltaBefore = staged.delta
            var undo: [(ByteKey, Item??)] = []
            var outcomes: [WriteOutcome] = []
            outcomes.reserveCapacity(group.operations.count)
            var failure: WriteOutcome? = nil
            for result in group.operations {
                let (outcome, isStaged) = apply(result, current: current, changes: &staged.changes, delta: &staged.delta)
                switch outcome {
                case let .applied(_, new):
                    if isStaged, case .success(let p) = result {
                        let k = ByteKey(p.key)
                        if group.atomic { undo.append((k, pending[k])) }
                        pending[k] = .some(new)
                    }
                case .conditionFailed, .rejected:
                    if failure == nil { failure = outcome }
                }
                outcomes.append(outcome)
                if group.atomic, failure != nil { break }
            }
            if group.atomic, let failure {
                staged.changes.removeSubrange(changesBefore...)
                staged.delta = deltaBefore
                for (k, previous) in undo.reversed() { pending[k] = previous }
                let error: Error
                if case let .rejected(e) = failure { error = e } else { error = DynamoDBError.conditionFailed }
                let failed = outcomes.count - 1
                outcomes = group.operations.indices.map { $0 == failed ? failure : .rejected(error) }
            }
            staged.outcomes.append(outcomes)
        }
        return staged
    }

    /// One operation against the current items: stages its changes (staged: true) or
    /// says why not.
    private func apply(_ result: Result<PreparedWrite, Error>, current: ([UInt8]) throws -> Item?,
                       changes: inout [TableStore.Change], delta: inout StoreStats) -> (WriteOutcome, staged: Bool) {
        do {
            var prepared = try result.get()
            if prepared.lean, let encoded = prepared.encoded {
                prepared.item = try decodeStored(encoded, decoder: decoder)
            }
            let old = try current(prepared.key)
            if let condition = prepared.condition, try !condition.evaluate(old ?? Item()) {
                return (.conditionFailed(old: old), false)
            }
            var new = prepared.item
            var newSize = prepared.size
            var encoded = prepared.encoded
            switch prepared.kind {
            case .put, .delete:
                break
            case .check:
                return (.applied(old: old, new: old), false)
            case let .update(update):
                // An update of nothing but REMOVE and DELETE actions leaves a missing
                // item missing, as DynamoDB does (it has nothing to remove).
                if old == nil, let update, !update.createsItem { return (.applied(old: nil, new: nil), false) }
                var base = old ?? prepared.keyItem
                if let update {
                    do { try update.apply(updating: &base) } catch let e as ExpressionError { throw DynamoDBError.validation(e.description) }
                }
                if ItemRules.size(of: base) > ItemRules.maxItemSize {
                    throw DynamoDBError.validation("Item size to update has exceeded the maximum allowed size")
                }
                do { newSize = try ItemRules.validate(base) } catch let e as ItemError { throw DynamoDBError.validation(e.message) }
                new = base
                encoded = nil
            case let .merge(attributes):
                var base = old ?? Item()
                for (name, value) in attributes.entries { base[name] = value }
                if old != nil {
                    if ItemRules.size(of: base) > ItemRules.maxItemSize {
                        throw DynamoDBError.validation("Item size to update has exceeded the maximum allowed size")
                    }
                    do { newSize = try ItemRules.validate(base) } catch let e as ItemError { throw DynamoDBError.validation(e.message) }
                    encoded = nil
                }
                new = base
            }
            if let new { try checkIndexKeys(new) }
            if old == nil && new == nil { return (.applied(old: nil, new: nil), false) }
            stage(key: prepared.key, old: old, new: new, newSize: newSize, encoded: encoded, into: &changes, delta: &delta)
            return (.applied(old: old, new: new), true)
        } catch {
            return (.rejected(error), false)
        }
    }

    /// The metadata record `name`, nil when absent.
    public func metadataValue(_ name: String) throws -> [UInt8]? {
        try snapshot().get(ItemKeys.metadataKey(name))
    }

    /// Metadata records whose names start with `prefix`, in name order.
    public func metadata(prefix: String) throws -> [(name: String, value: [UInt8])] {
        let lower = ItemKeys.metadataKey(prefix)
        var out: [(name: String, value: [UInt8])] = []
        try snapshot().scan(lower: lower, upper: nil) { key, value in
            guard key.starts(with: lower) else { return false }
            out.append((String(decoding: key.dropFirst(), as: UTF8.self), value))
            return true
        }
        return out
    }

    /// A write checked against the schema, before the current item is read: made by
    /// `prepare` on any thread, applied by `write(prepared:)` in order.
    /// Its fields live in one object, copied on write: a bulk group moves a million of
    /// these between arrays, and a copy then costs one retain, not one per field.
    public struct PreparedWrite: Sendable {
        enum Kind: Sendable {
            case put, delete
            /// A transaction's ConditionCheck: the condition, nothing written.
            case check
            case update(UpdateExpression?)
            case merge(Item)
        }
        /// The fields. Mutated only while uniquely referenced (`mutable`), so sharing
        /// one between threads is safe.
        private final class Fields: @unchecked Sendable {
            var kind: Kind
            var key: [UInt8]
            var item: Item?
            var size: Int
            var encoded: [UInt8]?
            var condition: ConditionExpression?
            var keyItem: Item
            var indexEntries: [(keyspace: UInt8, key: [UInt8], value: [UInt8], size: Int)]
            var lean: Bool

            init(kind: Kind, key: [UInt8], item: Item?, size: Int, encoded: [UInt8]?, condition: ConditionExpression?,
                 keyItem: Item, indexEntries: [(keyspace: UInt8, key: [UInt8], value: [UInt8], size: Int)], lean: Bool) {
                self.kind = kind
                self.key = key
                self.item = item
                self.size = size
                self.encoded = encoded
                self.condition = condition
                self.keyItem = keyItem
                self.indexEntries = indexEntries
                self.lean = lean
            }

            func copy() -> Fields {
                Fields(kind: kind, key: key, item: item, size: size, encoded: encoded, condition: condition,
                       keyItem: keyItem, indexEntries: indexEntries, lean: lean)
            }
        }
        private var fields: Fields

        init(kind: Kind, key: [UInt8], item: Item? = nil, size: Int = 0, encoded: [UInt8]? = nil,
             condition: ConditionExpression?, keyItem: Item = Item(),
             indexEntries: [(keyspace: UInt8, key: [UInt8], value: [UInt8], size: Int)] = [], lean: Bool = false) {
            fields = Fields(kind: kind, key: key, item: item, size: size, encoded: encoded, condition: condition,
                            keyItem: keyItem, indexEntries: indexEntries, lean: lean)
        }

        private var mutable: Fields {
            mutating get {
                if !isKnownUniquelyReferenced(&fields) { fields = fields.copy() }
                return fields
            }
        }

        var kind: Kind { get { fields.kind } set { mutable.kind = newValue } }
        public internal(set) var key: [UInt8] { get { fields.key } set { mutable.key = newValue } }
        /// A put's (or a new merged item's) item, size and stored bytes, computed once.
        var item: Item? { get { fields.item } set { mutable.item = newValue } }
        var size: Int { get { fields.size } set { mutable.size = newValue } }
        var encoded: [UInt8]? { get { fields.encoded } set { mutable.encoded = newValue } }
        var condition: ConditionExpression? { get { fields.condition } set { mutable.condition = newValue } }
        /// An update's key-only item, its starting point when the item is absent.
        var keyItem: Item { get { fields.keyItem } set { mutable.keyItem = newValue } }
        /// A put prepared for a bulk commit (`prepare(_:forBulk:)`): no item kept, only
        /// its stored bytes and, per index, the entry it makes.
        var indexEntries: [(keyspace: UInt8, key: [UInt8], value: [UInt8], size: Int)] {
            get { fields.indexEntries } set { mutable.indexEntries = newValue }
        }
        var lean: Bool { get { fields.lean } set { mutable.lean = newValue } }
    }

    /// Checks `operation` against the schema and DynamoDB's item rules and encodes what
    /// it can; reads nothing, so loader threads call it in parallel.
    public func prepare(_ operation: WriteOperation) throws -> PreparedWrite {
        try prepare(operation, forBulk: false)
    }

    /// `forBulk`: a put keeps its stored bytes and index entries instead of its item
    /// (a bulk group holds many of them at once); `writeBulk` and `write` both take it.
    public func prepare(_ operation: WriteOperation, forBulk: Bool) throws -> PreparedWrite {
        switch operation {
        case let .put(item, condition), let .merge(item, condition):
            let size: Int
            do {
                try schema.validateKey(of: item)
                size = try ItemRules.validate(item)
            } catch let e as ItemError { throw DynamoDBError.validation(e.message) }
            guard let key = tableKey(item) else { throw DynamoDBError.keyMismatch }
            if case .put = operation { try checkIndexKeys(item) }
            if case .merge = operation {
                return PreparedWrite(kind: .merge(item), key: key, item: item, size: size, encoded: Self.encodeItem(item), condition: condition)
            }
            if forBulk {
                var lean = PreparedWrite(kind: .put, key: key, size: size, encoded: Self.encodeItem(item), condition: condition)
                lean.lean = true
                lean.indexEntries = indexEntries(of: item)
                return lean
            }
            return PreparedWrite(kind: .put, key: key, item: item, size: size, encoded: Self.encodeItem(item), condition: condition)
        case let .conditionCheck(keyItem, condition):
            try validateKey(keyItem)
            guard let key = tableKey(keyItem) else { throw DynamoDBError.keyMismatch }
            return PreparedWrite(kind: .check, key: key, condition: condition)
        case let .delete(keyItem, condition):
            try validateKey(keyItem)
            guard let key = tableKey(keyItem) else { throw DynamoDBError.keyMismatch }
            return PreparedWrite(kind: .delete, key: key, condition: condition)
        case let .update(keyItem, update, condition):
            try validateKey(keyItem)
            if let update {
                for name in update.changedAttributes where schema.attributes.contains(where: { $0.name == name }) {
                    throw DynamoDBError.invalidParameter("Cannot update attribute \(name). This attribute is part of the key")
                }
            }
            guard let key = tableKey(keyItem) else { throw DynamoDBError.keyMismatch }
            // Without an update expression, UpdateItem still makes sure the item exists.
            return PreparedWrite(kind: .update(update), key: key, condition: condition, keyItem: keyItem)
        }
    }

    private func checkIndexKeys(_ item: Item) throws { try TableDescription.checkIndexKeys(of: item, writePlan.allIndexes) }


    /// The changes and count deltas that take the item at `key` from `old` to `new`,
    /// its index entries included.
    func stage(key: [UInt8], old: Item?, new: Item?, newSize: Int, encoded: [UInt8]?,
                       into changes: inout [TableStore.Change], delta: inout StoreStats) {
        let oldSize = old.map { ItemRules.size(of: $0) } ?? 0
        if let new {
            changes.append((key, encoded ?? Self.encodeItem(new)))
            delta.add(ItemKeys.tableKeyspace, items: old == nil ? 1 : 0, bytes: newSize - oldSize)
        } else {
            changes.append((key, nil))
            delta.add(ItemKeys.tableKeyspace, items: -1, bytes: -oldSize)
        }
        for index in writePlan.allIndexes {
            stageIndex(index, old: old, new: new, into: &changes, delta: &delta)
        }
    }

    private func stageIndex(_ index: TableDescription.Index, old: Item?, new: Item?,
                            into changes: inout [TableStore.Change], delta: inout StoreStats) {
        // An old item the index could not hold (written before it, with an empty or
        // oversized key value) has no entry to remove.
        let oldKey = old.flatMap { TableDescription.indexKeyAcceptable($0, index) ? ItemKeys.key(index.keyspace, index.keySchema, of: $0, then: schema) : nil }
        let newKey = new.flatMap { ItemKeys.key(index.keyspace, index.keySchema, of: $0, then: schema) }
        let oldProjected = oldKey != nil ? old.map { project($0, for: index) } : nil
        if let oldKey, oldKey != newKey {
            changes.append((oldKey, nil))
            delta.add(index.keyspace, items: -1, bytes: -(oldProjected.map { ItemRules.size(of: $0) } ?? 0))
        }
        if let newKey, let new {
            let projected = project(new, for: index)
            let size = ItemRules.size(of: projected)
            if oldKey == newKey {
                delta.add(index.keyspace, items: 0, bytes: size - (oldProjected.map { ItemRules.size(of: $0) } ?? 0))
            } else {
                delta.add(index.keyspace, items: 1, bytes: size)
            }
            changes.append((newKey, Self.encodeItem(projected)))
        }
    }

    /// The entry each index holds for a new item (none where the item lacks its keys).
    func indexEntries(of item: Item) -> [(keyspace: UInt8, key: [UInt8], value: [UInt8], size: Int)] {
        writePlan.allIndexes.compactMap { index in
            guard let key = ItemKeys.key(index.keyspace, index.keySchema, of: item, then: schema) else { return nil }
            let projected = project(item, for: index)
            return (index.keyspace, key, Self.encodeItem(projected), ItemRules.size(of: projected))
        }
    }

    /// The attributes an index keeps of an item.
    func project(_ item: Item, for index: TableDescription.Index) -> Item {
        guard let keep = WritePlan.kept(by: index, schema: schema) else { return item }
        var out = Item()
        for (name, value) in item.entries where keep.contains(name) { out[name] = value }
        return out
    }

    /// One write; throws `ConditionalCheckFailedException` or the validation error.
    @discardableResult
    public func writeOne(_ operation: WriteOperation) throws -> (old: Item?, new: Item?) {
        switch try write([operation])[0] {
        case let .applied(old, new): return (old, new)
        case .conditionFailed: throw DynamoDBError.conditionFailed
        case let .rejected(error): throw error
        }
    }

    // MARK: Index builds and drops

    /// Indexes `index`'s entries for every item (GSI backfill), in commits of 1000, then
    /// records it in the description: the description is the commit point, so a crash
    /// midway leaves entries in a key space no index owns, purged at the next open.
    public func createIndex(_ index: TableDescription.Index, description newDescription: TableDescription) throws {
        let store = try writer()
        writeLock.lock()
        defer { writeLock.unlock() }
        let snapshot = store.snapshot()
        var changes: [TableStore.Change] = []
        var delta = StoreStats()
        let reader = ItemDecoder(spelling: .typed)
        try snapshot.scan(lower: [ItemKeys.tableKeyspace], upper: [ItemKeys.tableKeyspace + 1]) { _, value in
            let item = try decodeStored(value, decoder: reader)
            // Items written before the index whose key values it could not hold (empty,
            // too long) stay out of it, as DynamoDB's backfill leaves them.
            guard newDescription.indexKeyAcceptable(item, index) else { return true }
            stageIndex(index, old: nil, new: item, into: &changes, delta: &delta)
            if changes.count >= 1000 {
                try store.commit(changes, delta: delta)
                changes.removeAll(keepingCapacity: true)
                delta = StoreStats()
            }
            return true
        }
        try store.commit(changes, delta: delta)
        try newDescription.write(folder)
        description = newDescription
    }

    /// UpdateTable without a new index: replaces the description (throughput, billing, a
    /// dropped index), then purges entries of key spaces no index owns.
    public func replace(description newDescription: TableDescription) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        try newDescription.write(folder)
        description = newDescription
        try purgeOrphanKeyspaces()
    }

    /// Deletes the entries of key spaces no index owns (a dropped index, or a build cut
    /// short). Caller holds `writeLock`.
    func purgeOrphanKeyspaces() throws {
        guard let store else { return }
        let owned = Set(description.indexes.map(\.keyspace)).union([ItemKeys.tableKeyspace])
        for (keyspace, count) in store.currentStats.counts where !owned.contains(keyspace) {
            var changes: [TableStore.Change] = []
            try store.snapshot().scan(lower: [keyspace], upper: keyspace == 255 ? nil : [keyspace + 1]) { key, _ in
                changes.append((key, nil))
                if changes.count >= 1000 {
                    try store.commit(changes)
                    changes.removeAll(keepingCapacity: true)
                }
                return true
            }
            changes.append(([keyspace], nil))   // carries the final count delta
            var delta = StoreStats()
            delta.add(keyspace, items: -count.items, bytes: -count.bytes)
            try store.commit(changes, delta: delta)
        }
    }

    func openWriterCleanup() throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        try purgeOrphanKeyspaces()
    }
}
