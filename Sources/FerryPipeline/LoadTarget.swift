import FerryTable
import FerryValues

/// Where ferry-load's groups commit: a table in the data folder (`LocalLoadTarget`) or
/// a DynamoDB endpoint (FerryRemote's `RemoteLoadTarget`). The loader's parsing, order,
/// positions and rejects are the same for both; only preparing and committing differ.
/// Implementations are thread-safe: `prepare` runs on the loader's worker threads.
public protocol LoadTarget: AnyObject, Sendable {
    var name: String { get }
    var schema: KeySchema { get }
    /// Whether groups of puts and deletes may commit as sorted runs (`--bulk`).
    var commitsRuns: Bool { get }
    /// Whether the checkpoint rides in each commit with the data it covers (then the
    /// target's copy is the truth and a damaged file is rewritten from it); false when
    /// the checkpoint file is the only copy (idempotent remote loads).
    var keepsCheckpoint: Bool { get }

    /// Checks and encodes one record's write; reads nothing.
    func prepare(_ operation: WriteOperation, forBulk: Bool) throws -> LoadWrite
    /// A canonical typed item map stored as it is (bulk puts), or nil for the long way.
    func prepareCanonicalPut(_ map: UnsafeRawBufferPointer, scanner: CanonicalTypedItem, require: ((Item) -> Bool)?) -> LoadWrite?
    /// The checkpoint fields committed under `prefix` (name without the prefix, value).
    func checkpointFields(prefix: String) throws -> [(name: String, value: [UInt8])]
    /// Commits `writes` in order with the checkpoint's fields (names without the
    /// prefix; nil value: delete); one outcome per write. `asRun`: as one sorted run
    /// (only when `commitsRuns`).
    func commit(_ writes: [Result<LoadWrite, Error>], checkpoint: LoadCheckpointFields?, asRun: Bool) throws -> [WriteOutcome]
}

/// A checkpoint's fields for one commit: `prefix` names the checkpoint (its file's path),
/// each field a part of its position.
public struct LoadCheckpointFields: Sendable {
    public var prefix: String
    public var fields: [(name: String, value: [UInt8]?)]
}

/// One record's write, prepared by its target.
public enum LoadWrite: Sendable {
    case local(Table.PreparedWrite)
    case encoded(EncodedWrite)

    /// The write's key in storage order (a backup's tally orders by it).
    public var key: [UInt8] {
        switch self {
        case let .local(write): return write.key
        case let .encoded(write): return write.key
        }
    }
}

/// A write encoded as the request fragment its target sends (a BatchWriteItem entry, an
/// UpdateItem or a transaction's action); the target that made it reads it.
public struct EncodedWrite: Sendable {
    public enum Kind: Sendable { case put, delete, merge, update }
    public var kind: Kind
    /// The key in storage order (`KeySchema.encodeKey`): repeated keys compare equal.
    public var key: [UInt8]
    /// The fragment's JSON bytes.
    public var body: [UInt8]
    /// The item's size by DynamoDB's rules (puts; 0 otherwise), for write units.
    public var size: Int

    public init(kind: Kind, key: [UInt8], body: [UInt8], size: Int) {
        self.kind = kind
        self.key = key
        self.body = body
        self.size = size
    }
}

/// A table in the data folder: the checkpoint is table metadata committed in the same
/// log record or run as the group. As thread-safe as `Table`'s writes (one loader).
public final class LocalLoadTarget: LoadTarget, @unchecked Sendable {
    public let table: Table
    public init(_ table: Table) { self.table = table }

    public var name: String { table.name }
    public var schema: KeySchema { table.schema }
    public var commitsRuns: Bool { true }
    public var keepsCheckpoint: Bool { true }

    public func prepare(_ operation: WriteOperation, forBulk: Bool) throws -> LoadWrite {
        .local(try table.prepare(operation, forBulk: forBulk))
    }

    public func prepareCanonicalPut(_ map: UnsafeRawBufferPointer, scanner: CanonicalTypedItem, require: ((Item) -> Bool)?) -> LoadWrite? {
        table.prepareCanonicalPut(map, scanner: scanner, require: require).map { .local($0) }
    }

    public func checkpointFields(prefix: String) throws -> [(name: String, value: [UInt8])] {
        try table.metadata(prefix: prefix).map { (String($0.name.dropFirst(prefix.count)), $0.value) }
    }

    public func commit(_ writes: [Result<LoadWrite, Error>], checkpoint: LoadCheckpointFields?, asRun: Bool) throws -> [WriteOutcome] {
        let metadata = checkpoint.map { c in c.fields.map { (c.prefix + $0.name, $0.value) } } ?? []
        let prepared = writes.map { result in
            result.flatMap { write -> Result<Table.PreparedWrite, Error> in
                guard case let .local(w) = write else { return .failure(LoadTargetError.foreignWrite) }
                return .success(w)
            }
        }
        return asRun ? try table.writeBulk(prepared: prepared, metadata: metadata)
                     : try table.write(prepared: prepared, metadata: metadata)
    }
}

enum LoadTargetError: Error, CustomStringConvertible {
    case foreignWrite
    var description: String { "a write prepared by another target" }
}

extension KeySchema {
    /// Only the key attributes of `item`.
    func keyOf(_ item: Item) -> Item {
        var out = Item()
        for attribute in attributes { if let v = item[attribute.name] { out[attribute.name] = v } }
        return out
    }
}
