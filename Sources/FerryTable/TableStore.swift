#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryValues

/// The storage engine of one table (docs/table-storage.md): encoded keys to opaque
/// values, durable through a write-ahead log, with a memtable in front of sorted runs.
///
/// Writes go through `commit` (one WAL record, then the memtable); reads merge the
/// memtable and the runs, newest first, so a tombstone hides older values. A memtable
/// past `flushThreshold` bytes becomes a new sorted run, recorded in `MANIFEST`
/// (replaced atomically), and the log starts afresh. Opening reads the manifest, opens
/// its runs and replays the log. One process writes (TableLock); calls on one store are
/// serialised by the caller.
public final class TableStore {
    public let folder: Directory
    public let name: String
    private let lock: TableLock
    private var log: WriteAheadLog
    private var logNumber: Int
    private var runs: [(number: Int, run: SortedRun)] = []   // oldest first
    private var memtable: [[UInt8]: [UInt8]?] = [:]
    private var memtableBytes = 0
    private var nextRunNumber: Int
    public let flushThreshold: Int

    /// One change: a value, or nil to delete the key.
    public typealias Change = (key: [UInt8], value: [UInt8]?)

    public init(folder path: String, name: String, program: String, sync: WriteAheadLog.SyncPolicy = .always,
                flushThreshold: Int = 64 << 20) throws {
        folder = try Directory.create(path)
        self.name = name
        self.flushThreshold = flushThreshold
        lock = try TableLock(table: name, folder: path, program: program)
        let manifest = try Manifest.read(folder)
        logNumber = manifest.logNumber
        nextRunNumber = (manifest.runs.max() ?? 0) + 1
        for number in manifest.runs {
            runs.append((number, try SortedRun(path: folder.child(Self.runName(number)))))
        }
        let (log, recovered) = try WriteAheadLog.open(path: folder.child(Self.logName(logNumber)), policy: sync)
        self.log = log
        for record in recovered.records {
            for change in try ChangeBatch.decode(record, path: log.path) { insert(change) }
        }
    }

    static func logName(_ n: Int) -> String { "log-\(n).wal" }
    static func runName(_ n: Int) -> String { "run-\(n).run" }

    // MARK: Writes

    /// Makes `changes` durable as one commit (all or nothing), then visible.
    public func commit(_ changes: [Change]) throws {
        guard !changes.isEmpty else { return }
        try log.commit(ChangeBatch.encode(changes))
        for change in changes { insert(change) }
        if memtableBytes >= flushThreshold { try flush() }
    }

    private func insert(_ change: Change) {
        if let old = memtable[change.key] { memtableBytes -= change.key.count + (old?.count ?? 0) }
        memtable[change.key] = .some(change.value)
        memtableBytes += change.key.count + (change.value?.count ?? 0) + 32
    }

    /// Writes the memtable as a new sorted run, records it in the manifest, and starts a
    /// new log. A crash at any point leaves either the old state (log replayed) or the new.
    public func flush() throws {
        guard !memtable.isEmpty else { return }
        let number = nextRunNumber
        let writer = try SortedRunWriter(folder: folder, name: Self.runName(number))
        for key in memtable.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            try writer.add(RunEntry(key: key, value: memtable[key]!))
        }
        try writer.finish()
        let run = try SortedRun(path: folder.child(Self.runName(number)))
        let newLogNumber = logNumber + 1
        let (newLog, _) = try WriteAheadLog.open(path: folder.child(Self.logName(newLogNumber)), policy: log.policy)
        // The manifest switch is the commit point of a flush.
        try Manifest(logNumber: newLogNumber, runs: runs.map(\.number) + [number]).write(folder)
        try log.close()
        try folder.removeFile(Self.logName(logNumber))
        log = newLog
        logNumber = newLogNumber
        runs.append((number, run))
        nextRunNumber += 1
        memtable.removeAll(keepingCapacity: true)
        memtableBytes = 0
    }

    // MARK: Reads

    /// The value of `key`, or nil when absent or deleted.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        if let pending = memtable[key] { return pending }
        for (_, run) in runs.reversed() {
            if let entry = try run.get(key) { return entry.value }
        }
        return nil
    }

    /// Calls `body` with each live key and value from `start` on, in key order, until it
    /// returns false. Merges the memtable and every run, newest wins.
    public func scan(from start: [UInt8] = [], _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        // Gather per source, then merge. (Sources are sorted; a k-way merge keeps it linear.)
        var sources: [[RunEntry]] = []
        sources.append(memtable.keys.filter { !$0.lexicographicallyPrecedes(start) }
            .sorted { $0.lexicographicallyPrecedes($1) }
            .map { RunEntry(key: $0, value: memtable[$0]!) })
        for (_, run) in runs.reversed() {
            var entries: [RunEntry] = []
            try run.scan(from: start) { entries.append($0); return true }
            sources.append(entries)
        }
        var positions = Array(repeating: 0, count: sources.count)
        while true {
            var smallest: [UInt8]? = nil
            var winner = -1
            for (s, entries) in sources.enumerated() where positions[s] < entries.count {
                let key = entries[positions[s]].key
                if smallest == nil || key.lexicographicallyPrecedes(smallest!) {
                    smallest = key
                    winner = s
                }
            }
            guard let key = smallest else { return }
            let value = sources[winner][positions[winner]].value
            // Skip this key in every source; the first (newest) source that has it wins.
            for s in sources.indices where positions[s] < sources[s].count && sources[s][positions[s]].key == key {
                positions[s] += 1
            }
            if let value, try !body(key, value) { return }
        }
    }

    /// Checks every checksum of every run and the log (`ferry-table verify`).
    public func verify() throws {
        for (_, run) in runs { try run.verify() }
        _ = try WALReader.read(path: log.path)
    }

    public var runCount: Int { runs.count }
}

/// The list of live runs and the current log, replaced atomically (docs/table-storage.md).
struct Manifest {
    var logNumber: Int
    var runs: [Int]

    static func read(_ folder: Directory) throws -> Manifest {
        guard let source = try folder.openForReading("MANIFEST") else { return Manifest(logNumber: 1, runs: []) }
        let value = try JSONValue.parse(try source.readAll(limit: 1 << 20))
        guard value["version"]?.numberText == "1",
              let log = value["log"]?.numberText.flatMap({ Int($0) }),
              let runs = value["runs"]?.arrayValue?.compactMap({ $0.numberText.flatMap { Int($0) } }) else {
            throw SortedRunError.incomplete(path: folder.child("MANIFEST"), reason: "not a version 1 manifest")
        }
        return Manifest(logNumber: log, runs: runs)
    }

    func write(_ folder: Directory) throws {
        let text = JSONValue.object([
            JSONMember("version", .number("1")),
            JSONMember("log", .number(String(logNumber))),
            JSONMember("runs", .array(runs.map { .number(String($0)) })),
        ]).jsonText + "\n"
        try folder.writeAtomically("MANIFEST") { sink in try Array(text.utf8).withUnsafeBytes { try sink.write($0) } }
    }
}

/// A commit's payload: its changes (docs/table-storage.md).
enum ChangeBatch {
    static func encode(_ changes: [TableStore.Change]) -> [UInt8] {
        let out = ByteBuffer(capacity: 256)
        SortedRunFormat.appendVarint(changes.count, to: out)
        for change in changes {
            out.append(change.value == nil ? SortedRunFormat.tombstone : SortedRunFormat.put)
            SortedRunFormat.appendVarint(change.key.count, to: out)
            out.append(change.key)
            if let value = change.value {
                SortedRunFormat.appendVarint(value.count, to: out)
                out.append(value)
            }
        }
        return out.array
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> [TableStore.Change] {
        try bytes.withUnsafeBytes { raw in
            var p = 0
            func fail() -> Error { WALError.corrupt(path: path, offset: p, reason: "a commit whose changes cannot be read") }
            guard let count = SortedRunFormat.readVarint(raw, &p, end: raw.count) else { throw fail() }
            var out: [TableStore.Change] = []
            for _ in 0..<count {
                guard p < raw.count else { throw fail() }
                let flag = raw[p]
                p += 1
                guard let keyLength = SortedRunFormat.readVarint(raw, &p, end: raw.count), p + keyLength <= raw.count else { throw fail() }
                let key = Array(raw[p..<(p + keyLength)])
                p += keyLength
                if flag == SortedRunFormat.tombstone {
                    out.append((key, nil))
                } else {
                    guard let valueLength = SortedRunFormat.readVarint(raw, &p, end: raw.count), p + valueLength <= raw.count else { throw fail() }
                    out.append((key, Array(raw[p..<(p + valueLength)])))
                    p += valueLength
                }
            }
            return out
        }
    }
}
