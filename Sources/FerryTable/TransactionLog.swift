#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryValues

/// The intents of cross-table transactions: `<data>/transactions/<id>-<pid>.txn`, one
/// per transaction between its decision and its last table's commit (docs/transactions.md,
/// docs/transaction-format.md). Each table keeps its own write-ahead log, so one commit
/// cannot cover two tables; the intent, written durably before any table's share, is the
/// transaction's commit point: once it exists, every share is applied (now, or by the
/// recovery of the next process that opens the data folder), each exactly once, checked
/// by a marker record committed in the share itself.
///
/// Thread-safe: every method may be called from any thread.
public final class TransactionLog: @unchecked Sendable {
    /// `<data>/transactions`.
    public let path: String

    public init(path: String) { self.path = path }

    /// One table's part of a transaction: the change batch its commit carries (items,
    /// index entries, count deltas, the marker), as its write-ahead log would.
    public struct Share: Sendable, Equatable {
        public var table: String
        /// The table's TableId, so a share is never applied to another table of the name.
        public var tableId: String
        public var changes: [TableStore.Change]
        public var delta: StoreStats

        public init(table: String, tableId: String, changes: [TableStore.Change], delta: StoreStats) {
            self.table = table
            self.tableId = tableId
            self.changes = changes
            self.delta = delta
        }

        public static func == (a: Share, b: Share) -> Bool {
            a.table == b.table && a.tableId == b.tableId && a.delta == b.delta && a.changes.count == b.changes.count
                && zip(a.changes, b.changes).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        }
    }

    public struct Intent: Sendable, Equatable {
        /// 32 lower-case hex digits.
        public var id: String
        public var pid: Int32
        public var shares: [Share]
        public var fileName: String { "\(id)-\(pid).txn" }
    }

    /// The metadata record a share commits in its table: present means applied.
    public static func markerName(_ id: String) -> String { "transaction/" + id }

    public static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let v = g.next() as UInt64
            let hex = String(v, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    // MARK: Files

    private func folder(create: Bool) throws -> Directory? {
        if create { return try Directory.createFollowingLinks(path) }
        return try Directory.open(path, followLinks: true)
    }

    /// Writes `intent` durably (synced, renamed into place, directory synced). The
    /// caller holds the exclusive lock until the intent is removed.
    func write(_ intent: Intent) throws {
        guard let dir = try folder(create: true) else { throw IOError.noDataFolder(path: path) }
        let bytes = TransactionIntentFormat.encode(intent)
        try dir.writeAtomically(intent.fileName) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    /// Removes a finished intent (every share applied). Not synced: an intent that
    /// comes back after a crash finds every marker and is removed again; its markers
    /// stay until a later cross-table transaction on the table, whose intent's write
    /// syncs the directory (and so this removal) before it deletes them.
    func remove(_ intent: Intent) throws {
        _ = try folder(create: false)?.removeFile(intent.fileName)
    }

    /// The ids of every intent on disk, finished or not (their markers must stay).
    func pendingIDs() throws -> Set<String> {
        guard let dir = try folder(create: false) else { return [] }
        var out = Set<String>()
        for entry in try dir.entries() where entry.name.hasSuffix(".txn") {
            if let id = entry.name.split(separator: "-").first { out.insert(String(id)) }
        }
        return out
    }

    /// Every intent on disk, for a recovery holding the exclusive lock: each owner holds
    /// that lock from writing its intent to removing it (and the kernel drops it when
    /// the owner dies), so under it no intent is in progress, whatever its pid says.
    /// A file that cannot be read, or whose name does not match its content, throws.
    func recoverable() throws -> [Intent] {
        guard let dir = try folder(create: false) else { return [] }
        var out: [Intent] = []
        for entry in try dir.entries() where entry.kind == .file && entry.name.hasSuffix(".txn") {
            guard let source = try dir.openForReading(entry.name) else { continue }
            let bytes = try source.readAll(limit: TransactionIntentFormat.maxFileBytes)
            let intent = try TransactionIntentFormat.decode(bytes, path: dir.child(entry.name))
            guard intent.fileName == entry.name else {
                throw WALError.corrupt(path: dir.child(entry.name), offset: 12,
                                       reason: "the file is named for another transaction than the one it holds (\(intent.fileName))")
            }
            out.append(intent)
        }
        return out.sorted { $0.id < $1.id }
    }

    /// True when an intent file is there at all (the cheap check before a recovery).
    func hasIntents() -> Bool {
        guard let dir = try? folder(create: false), let entries = try? dir.entries() else { return false }
        return entries.contains { $0.name.hasSuffix(".txn") }
    }

    // MARK: The cross-process lock

    /// `flock` on `<data>/transactions/LOCK`: cross-table commits and recoveries hold it
    /// exclusively from the intent's write to its removal; TransactGetItems holds it
    /// shared while it takes its snapshots, so it never sees half of a transaction. A
    /// fresh descriptor per use, so threads of one process exclude each other too.
    public func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        guard let dir = try folder(create: true) else { throw IOError.noDataFolder(path: path) }
        let file = dir.child("LOCK")
        let fd = Syscall.open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw IOError.openFailed(path: file, errno: -fd) }
        defer { close(fd) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw IOError.failed(operation: "flock", path: file, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// The shared lock for readers. Where the folder cannot be made (a data folder this
    /// reader may not write), no cross-table transaction has ever run (each makes it
    /// first), so there is nothing to exclude and the body runs without the lock.
    public func withSharedLockIfPresent<T>(_ body: () throws -> T) throws -> T {
        guard (try? folder(create: true)) != nil else { return try body() }
        return try withLock(exclusive: false, body)
    }
}

/// The byte layout of an intent file (docs/transaction-format.md): magic, length,
/// payload, CRC-32 of everything before it.
enum TransactionIntentFormat {
    static let magic = Array("FERRYTX1".utf8)
    /// A transaction is at most 4 MB of items; with index entries a share stays under the
    /// log's record limit, which bounds each share.
    static let maxFileBytes = 1 << 30

    static func encode(_ intent: TransactionLog.Intent) -> [UInt8] {
        let payload = ByteBuffer(capacity: 1024)
        func text(_ s: String) {
            let bytes = Array(s.utf8)
            SortedRunFormat.appendVarint(bytes.count, to: payload)
            payload.append(bytes)
        }
        text(intent.id)
        SortedRunFormat.appendVarint(Int(intent.pid), to: payload)
        SortedRunFormat.appendVarint(intent.shares.count, to: payload)
        for share in intent.shares {
            text(share.table)
            text(share.tableId)
            let batch = ChangeBatch.encode(share.changes, delta: share.delta)
            SortedRunFormat.appendVarint(batch.count, to: payload)
            payload.append(batch)
        }
        var out = magic
        let length = UInt32(payload.count)
        out += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
        out += payload.array
        var crc = CRC32()
        out.withUnsafeBytes { crc.update($0) }
        let c = crc.value
        out += [UInt8(c & 0xFF), UInt8((c >> 8) & 0xFF), UInt8((c >> 16) & 0xFF), UInt8(c >> 24)]
        return out
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> TransactionLog.Intent {
        func fail(_ offset: Int, _ reason: String) -> Error { WALError.corrupt(path: path, offset: offset, reason: reason) }
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw fail(0, "not a Ferry transaction intent (no FERRYTX1 magic)") }
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        let length = u32(8)
        guard bytes.count == 12 + length + 4 else { throw fail(8, "the length field says \(length) payload bytes; the file has \(max(0, bytes.count - 16))") }
        var crc = CRC32()
        bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<(12 + length)])) }
        guard Int(crc.value) == u32(12 + length) else { throw fail(12 + length, "the CRC-32 does not match") }
        return try bytes.withUnsafeBytes { all in
            let raw = UnsafeRawBufferPointer(rebasing: all[12..<(12 + length)])
            var p = 0
            func varint() throws -> Int {
                guard let v = SortedRunFormat.readVarint(raw, &p, end: raw.count) else { throw fail(12 + p, "a number cannot be read") }
                return v
            }
            func text() throws -> String {
                let n = try varint()
                guard n <= raw.count - p else { throw fail(12 + p, "a name runs past the end") }
                let s = Array(raw[p..<(p + n)])
                p += n
                guard UTF8Text.firstInvalidByte(s) == nil else { throw fail(12 + p - n, "a name is not UTF-8") }
                return String(decoding: s, as: UTF8.self)
            }
            let id = try text()
            guard id.utf8.count == 32, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
                throw fail(12, "the transaction id is not 32 hex digits")
            }
            let pid = try varint()
            let count = try varint()
            guard count >= 2, count <= 100 else { throw fail(12 + p, "\(count) tables, not 2 to 100") }
            var shares: [TransactionLog.Share] = []
            for _ in 0..<count {
                let table = try text()
                let tableId = try text()
                let n = try varint()
                guard n <= raw.count - p else { throw fail(12 + p, "a change batch runs past the end") }
                let (changes, delta) = try ChangeBatch.decode(Array(raw[p..<(p + n)]), path: path)
                p += n
                shares.append(TransactionLog.Share(table: table, tableId: tableId, changes: changes, delta: delta))
            }
            guard p == raw.count else { throw fail(12 + p, "\(raw.count - p) bytes after the last share") }
            return TransactionLog.Intent(id: id, pid: Int32(truncatingIfNeeded: pid), shares: shares)
        }
    }
}
