#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryIO
import FerryValues

/// Item count and stored bytes of one key space (the table, or one index).
public struct StoreCount: Sendable, Equatable {
    public var items: Int
    public var bytes: Int
    public init(items: Int = 0, bytes: Int = 0) {
        self.items = items
        self.bytes = bytes
    }
}

/// Counts per key space (the first byte of a key: 0 the table, 1...255 its indexes),
/// kept exactly through every commit: each commit carries its deltas.
public struct StoreStats: Sendable, Equatable {
    public var counts: [UInt8: StoreCount] = [:]
    public init() {}
    /// Counts of key space 0 only.
    public init(items: Int, bytes: Int) { counts[0] = StoreCount(items: items, bytes: bytes) }
    public var items: Int { counts[0]?.items ?? 0 }
    public var bytes: Int { counts[0]?.bytes ?? 0 }

    public mutating func add(_ keyspace: UInt8, items: Int, bytes: Int) {
        guard items != 0 || bytes != 0 else { return }
        var c = counts[keyspace] ?? StoreCount()
        c.items += items
        c.bytes += bytes
        counts[keyspace] = c.items == 0 && c.bytes == 0 ? nil : c
    }

    static func + (a: StoreStats, b: StoreStats) -> StoreStats {
        var out = a
        for (k, c) in b.counts { out.add(k, items: c.items, bytes: c.bytes) }
        return out
    }
}

/// The storage engine of one table (docs/table-storage.md): encoded keys to opaque
/// values, durable through a write-ahead log, with a sorted memtable in front of
/// immutable sorted runs (an LSM).
///
/// `commit` writes one WAL record (group commit: all of a batch's changes in one record
/// and one fsync), then applies it to the memtable. A memtable past `flushThreshold`
/// bytes is frozen and a background thread writes it as a run, records it in `MANIFEST`
/// (replaced atomically: the commit point) and merges runs of a similar size
/// (compaction). Reads go through snapshots: a copy of the memtable (copy-on-write, so
/// free) plus the runs of that moment, so a scan never sees half of a later commit.
/// Thread-safe: commits are serialised; snapshots may be taken from any thread.
public final class TableStore: @unchecked Sendable {
    let engine: StoreEngine
    public typealias Change = (key: [UInt8], value: [UInt8]?)

    public init(folder path: String, name: String, program: String, sync: WriteAheadLog.SyncPolicy = .always,
                flushThreshold: Int = 64 << 20) throws {
        engine = try StoreEngine(folder: path, name: name, program: program, sync: sync, flushThreshold: flushThreshold)
    }

    /// The background thread holds the engine, not this handle, so dropping the last
    /// handle closes the table (flushing a large memtable, releasing the lock).
    deinit { try? engine.close() }

    public var path: String { engine.path }
    public var name: String { engine.name }
    public var flushThreshold: Int { engine.flushThreshold }
    public var policy: WriteAheadLog.SyncPolicy { engine.policy }

    /// Makes `changes` durable as one commit (all or nothing), then visible, and adds
    /// `delta` to the table's counts. Changes to one key apply in order.
    public func commit(_ changes: [Change], delta: StoreStats = StoreStats()) throws { try engine.commit(changes, delta: delta) }
    /// A bulk commit: `entries` (strictly increasing keys) as one new run, no log record.
    public func commitRun(_ entries: [Change], delta: StoreStats = StoreStats()) throws { try engine.commitRun(entries, delta: delta) }
    /// Refuses every later commit in this process (until the table is reopened).
    public func stopWrites(_ reason: Error) { engine.stopWrites(reason) }
    /// Makes every commit so far durable (for the `batch` policy).
    public func sync() throws { try engine.sync() }
    /// Flushes the memtable to a run now and waits until it is written.
    public func flush() throws { try engine.flush() }
    /// Waits until no flush is pending and no compaction is due.
    public func waitForBackground() throws { try engine.waitForBackground() }
    /// Stops background work after what is pending, closes the log, releases the lock.
    public func close() throws { try engine.close() }
    /// A consistent view of the table as of now: later commits are not visible in it.
    public func snapshot() -> StoreSnapshot { engine.snapshot() }
    public var currentStats: StoreStats { engine.currentStats }
    /// The value of `key`, or nil when absent or deleted.
    public func get(_ key: [UInt8]) throws -> [UInt8]? { try engine.snapshot().get(key) }
    /// Checks every checksum of every run and log (`ferry-table verify`).
    public func verify() throws { try engine.verify() }
    public var runCount: Int { engine.runCount }

    public static func readSnapshot(folder path: String) throws -> StoreSnapshot { try StoreEngine.readSnapshot(folder: path) }

    /// Reads every block of every run and every log record, checking each checksum,
    /// without the lock (a writer may be running). Damage throws with file and offset.
    public static func verify(folder path: String) throws -> (runs: Int, entries: Int, logs: Int, commits: Int) {
        try StoreEngine.withCurrentManifest(path) { folder, manifest in
            var entries = 0
            for number in manifest.runs {
                let run = try SortedRun(path: folder.child(StoreEngine.runName(number)))
                try run.verify()
                entries += run.count
            }
            var commits = 0
            let logs = try StoreEngine.logNumbers(in: folder).filter { $0 >= manifest.logNumber }
            for number in logs {
                commits += try WALReader.read(path: folder.child(StoreEngine.logName(number))).records.count
            }
            return (manifest.runs.count, entries, logs.count, commits)
        }
    }
}

/// The engine behind a `TableStore` handle; its background thread keeps it alive until
/// `close`.
final class StoreEngine: @unchecked Sendable {
    public let path: String
    public let name: String
    let folder: Directory
    public let flushThreshold: Int
    public let policy: WriteAheadLog.SyncPolicy
    private let lock: TableLock

    // Guarded by `writing` (the writer side: the log).
    private let writing = NSLock()
    private var log: WriteAheadLog
    private var logNumber: Int
    private var unsyncedBytes = 0
    private var closed = false
    /// Set when a write to the log failed (a short write, a failed fsync): the log's tail
    /// and what reached the disk are then unknown, so no further commit may follow it in
    /// this process; reopening the table recovers the log (a torn tail is cut off).
    private var writeFailure: Error? = nil

    // Guarded by `state`.
    private let state = NSCondition()
    private var memtable = Memtable()
    private var frozen: [(memtable: Memtable, lastLog: Int, stats: StoreStats)] = []   // oldest first
    private var runs: [(number: Int, run: SortedRun)] = []   // oldest first
    private var stats: StoreStats
    private var backgroundError: Error? = nil
    private var stopping = false
    private var backgroundDone = false

    // Guarded by `manifestLock` (taken before `state` when both are held): the
    // background thread's flushes and compactions and the writer's bulk commits each
    // write the manifest, and each must name every run the others added.
    private let manifestLock = NSLock()
    private var manifestLog: Int
    private var nextRunNumber: Int
    /// Runs to merge once this many of a size tier are adjacent.
    public static let compactionFanIn = 4

    init(folder path: String, name: String, program: String, sync: WriteAheadLog.SyncPolicy,
         flushThreshold: Int) throws {
        folder = try Directory.create(path)
        self.path = path
        self.name = name
        self.flushThreshold = flushThreshold
        policy = sync
        lock = try TableLock(table: name, folder: path, program: program)
        let manifest = try Manifest.read(folder)
        manifestLog = manifest.logNumber
        nextRunNumber = (manifest.runs.max() ?? 0) + 1
        for number in manifest.runs {
            runs.append((number, try SortedRun(path: folder.child(Self.runName(number)))))
        }
        stats = manifest.stats
        lastManifestStats = manifest.stats
        // Replay every log from the manifest's on, in order; the newest stays open.
        let logs = try Self.logNumbers(in: folder).filter { $0 >= manifest.logNumber }
        var last = manifest.logNumber
        for number in logs where number != logs.last {
            for record in try WALReader.read(path: folder.child(Self.logName(number))).records {
                try Self.apply(record, path: folder.child(Self.logName(number)), to: &memtable, stats: &stats)
            }
            last = number
        }
        last = logs.last ?? last
        let (log, recovered) = try WriteAheadLog.open(path: folder.child(Self.logName(last)), policy: sync)
        for record in recovered.records {
            try Self.apply(record, path: log.path, to: &memtable, stats: &stats)
        }
        self.log = log
        logNumber = last
        try removeLeftovers(manifest: manifest, liveLogsFrom: manifest.logNumber)
        let thread = Thread { self.backgroundLoop() }
        thread.name = "ferry-flush"
        thread.start()
        state.lock()
        state.signal()   // a compaction may be due from an earlier run
        state.unlock()
    }

    static func logName(_ n: Int) -> String { "log-\(n).wal" }
    static func runName(_ n: Int) -> String { "run-\(n).run" }

    static func logNumbers(in folder: Directory) throws -> [Int] {
        try folder.entries().compactMap { entry -> Int? in
            guard entry.name.hasPrefix("log-"), entry.name.hasSuffix(".wal") else { return nil }
            return Int(entry.name.dropFirst(4).dropLast(4))
        }.sorted()
    }

    /// Runs no manifest names (a flush or compaction cut short), older logs and temporary
    /// files: a crash's leftovers.
    private func removeLeftovers(manifest: Manifest, liveLogsFrom: Int) throws {
        let live = Set(manifest.runs)
        for entry in try folder.entries() where entry.kind == .file {
            let name = entry.name
            if name.hasPrefix("run-"), name.hasSuffix(".run"), let n = Int(name.dropFirst(4).dropLast(4)), !live.contains(n) {
                _ = try folder.removeFile(name)
                nextRunNumber = max(nextRunNumber, n + 1)
            } else if name.hasPrefix("log-"), name.hasSuffix(".wal"), let n = Int(name.dropFirst(4).dropLast(4)), n < liveLogsFrom {
                _ = try folder.removeFile(name)
            } else if name.hasPrefix(".ferry-tmp-") {
                _ = try folder.removeFile(name)
            }
        }
    }

    static func apply(_ record: [UInt8], path: String, to memtable: inout Memtable, stats: inout StoreStats) throws {
        let (changes, delta) = try ChangeBatch.decode(record, path: path)
        for change in changes { memtable.set(change.key, change.value) }
        stats = stats + delta
    }

    // MARK: Writes

    /// Makes `changes` durable as one commit (all or nothing), then visible, and adds
    /// `delta` to the table's counts. Changes to one key apply in order.
    public func commit(_ changes: [TableStore.Change], delta: StoreStats = StoreStats()) throws {
        guard !changes.isEmpty else { return }
        writing.lock()
        defer { writing.unlock() }
        guard !closed else { throw TableStoreError.closed(name: name) }
        if let writeFailure { throw TableStoreError.writesStopped(name: name, underlying: "\(writeFailure)") }
        if let error = currentBackgroundError() { throw error }
        let payload = ChangeBatch.encode(changes, delta: delta)
        // Too big for one log record: refused before anything is written, so the store
        // goes on taking commits (a failed write below stops it).
        guard payload.count <= WALFormat.maxPayload else {
            throw DynamoDBError.validation("The commit of \(payload.count) bytes (items and their index entries) is over the log's \(WALFormat.maxPayload)-byte record limit; write fewer or smaller items at once")
        }
        do {
            try log.commit(payload)
            if policy == .batch {
                unsyncedBytes += payload.count
                if unsyncedBytes >= 1 << 20 { try syncLog() }
            }
        } catch {
            // The record may be on disk in part, or whole but not durable: its outcome is
            // unknown until the log is recovered, and a retry could apply it twice.
            writeFailure = error
            throw error
        }
        state.lock()
        for change in changes { memtable.set(change.key, change.value) }
        stats = stats + delta
        // The log is bounded too: rewrites of the same keys grow it without growing the
        // memtable, and the whole log is replayed at the next open.
        let full = memtable.bytes >= flushThreshold || log.length >= 2 * flushThreshold
        state.unlock()
        // This commit is durable and visible; a failed rotation stops the next ones.
        if full {
            do { try rotate() } catch { writeFailure = error }
        }
    }

    private func syncLog() throws {
        try log.sync()
        unsyncedBytes = 0
    }

    /// Refuses every later commit in this process, for `reason` (a transaction across
    /// tables that could not finish: its other tables must take no write before the
    /// recovery of its intent at the next open).
    public func stopWrites(_ reason: Error) {
        writing.lock()
        defer { writing.unlock() }
        if writeFailure == nil { writeFailure = reason }
    }

    /// Makes every commit so far durable (for the `batch` policy).
    public func sync() throws {
        writing.lock()
        defer { writing.unlock() }
        if let writeFailure { throw TableStoreError.writesStopped(name: name, underlying: "\(writeFailure)") }
        guard !closed else { return }
        do { try syncLog() } catch {
            writeFailure = error
            throw error
        }
    }

    /// A bulk commit (docs/table-storage.md): `entries`, in strictly increasing key order
    /// (nil value: a tombstone), become one new sorted run, and the manifest that names
    /// it with the counts plus `delta` is the commit point. No log record: the run is
    /// written once. The memtable is flushed first, so the run is newer than every
    /// commit before it; readers see the table before the manifest switch or after it.
    /// A run that cannot be written (a full disk) commits nothing and leaves the store
    /// taking commits; a failed manifest switch stops writes, as a failed log write does.
    public func commitRun(_ entries: [TableStore.Change], delta: StoreStats) throws {
        guard !entries.isEmpty else { return }
        writing.lock()
        defer { writing.unlock() }
        guard !closed else { throw TableStoreError.closed(name: name) }
        if let writeFailure { throw TableStoreError.writesStopped(name: name, underlying: "\(writeFailure)") }
        try drainMemtable()
        let number = allocateRunNumber()
        let writer = try SortedRunWriter(folder: folder, name: Self.runName(number), expectedKeys: entries.count)
        do {
            for entry in entries { try writer.add(RunEntry(key: entry.key, value: entry.value)) }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        let run: SortedRun
        do { run = try SortedRun(path: folder.child(Self.runName(number))) } catch {
            _ = try? folder.removeFile(Self.runName(number))
            throw error
        }
        manifestLock.lock()
        defer { manifestLock.unlock() }
        state.lock()
        let numbers = runs.map(\.number) + [number]
        let counts = stats + delta
        state.unlock()
        do {
            // The log has no record since the memtable was drained: replay starts at it.
            try Manifest(logNumber: logNumber, runs: numbers, stats: counts).write(folder)
        } catch {
            // Renamed into place or not: unknown until the table is reopened.
            writeFailure = error
            throw error
        }
        state.lock()
        runs.append((number, run))
        stats = counts
        state.broadcast()   // a compaction may be due
        state.unlock()
        for old in manifestLog..<max(manifestLog, logNumber) { _ = try? folder.removeFile(Self.logName(old)) }
        manifestLog = logNumber
        lastManifestStats = counts
    }

    /// Empties the memtable into runs and waits until no frozen memtable is left, so the
    /// current log holds no record. Caller holds `writing`.
    private func drainMemtable() throws {
        state.lock()
        let empty = memtable.isEmpty
        state.unlock()
        if !empty {
            do { try rotate() } catch {
                writeFailure = error
                throw error
            }
        }
        state.lock()
        defer { state.unlock() }
        while !frozen.isEmpty && backgroundError == nil { state.wait() }
        if let backgroundError { throw backgroundError }
    }

    private func currentBackgroundError() -> Error? {
        state.lock()
        defer { state.unlock() }
        return backgroundError
    }

    /// Freezes the memtable for the background flush and starts a new log. Waits while
    /// two frozen memtables are already pending, so memory stays bounded. Caller holds `writing`.
    private func rotate() throws {
        try syncLog()
        let newNumber = logNumber + 1
        let (newLog, _) = try WriteAheadLog.open(path: folder.child(Self.logName(newNumber)), policy: policy)
        try folder.sync()
        state.lock()
        frozen.append((memtable, logNumber, stats))
        memtable = Memtable()
        state.broadcast()
        while frozen.count > 2 && backgroundError == nil { state.wait() }
        let failure = backgroundError
        state.unlock()
        try log.close()
        log = newLog
        logNumber = newNumber
        if let failure { throw failure }
    }

    /// Flushes the memtable to a run now and waits until it is written (tests, and
    /// tools that want a compact table).
    public func flush() throws {
        writing.lock()
        defer { writing.unlock() }
        guard !closed else { return }
        state.lock()
        let empty = memtable.isEmpty
        state.unlock()
        if let writeFailure { throw TableStoreError.writesStopped(name: name, underlying: "\(writeFailure)") }
        if !empty {
            do { try rotate() } catch {
                writeFailure = error
                throw error
            }
        }
        try waitForBackground()
    }

    /// Waits until no flush is pending and no compaction is due.
    public func waitForBackground() throws {
        state.lock()
        defer { state.unlock() }
        while (!frozen.isEmpty || compactionDue()) && backgroundError == nil && !backgroundDone { state.wait() }
        if let backgroundError { throw backgroundError }
    }

    /// Stops the background thread after its pending work, closes the log and releases
    /// the lock. A memtable over 4 MiB is flushed first, so the next open replays little.
    public func close() throws {
        writing.lock()
        defer { writing.unlock() }
        guard !closed else { return }
        state.lock()
        // A long log costs its replay at every open even when the memtable it built is
        // small (counters updated many times): flush then too.
        let big = memtable.bytes >= 4 << 20 || (log.length >= 4 << 20 && memtable.bytes > 0)
        state.unlock()
        var failure: Error? = nil
        if big && writeFailure == nil { do { try rotate() } catch { failure = error } }
        // With the `batch` policy the last commits may not be synced yet: a closed table
        // is durable (a restore publishes it right after).
        if failure == nil && writeFailure == nil && unsyncedBytes > 0 {
            do { try syncLog() } catch { failure = error }
        }
        state.lock()
        stopping = true
        state.broadcast()
        while !backgroundDone { state.wait() }
        if failure == nil { failure = backgroundError }
        state.unlock()
        closed = true
        do { try log.close() } catch { failure = failure ?? error }
        lock.release()
        if let failure { throw failure }
    }

    // MARK: Background flush and compaction

    private func backgroundLoop() {
        state.lock()
        while true {
            while frozen.isEmpty && !compactionDue() && !stopping && backgroundError == nil { state.wait() }
            if backgroundError != nil || (stopping && frozen.isEmpty) { break }
            let job = frozen.first
            state.unlock()
            do {
                if let job { try flushFrozen(job.memtable, lastLog: job.lastLog, stats: job.stats) } else { try compactOnce() }
                state.lock()
            } catch {
                state.lock()
                backgroundError = TableStoreError.background(name: name, underlying: "\(error)")
            }
            state.broadcast()
        }
        backgroundDone = true
        state.broadcast()
        state.unlock()
    }

    /// Writes a frozen memtable as a run; the manifest then names the run and the next
    /// log, which is the commit point; the logs it covered are deleted after.
    private func flushFrozen(_ table: Memtable, lastLog: Int, stats: StoreStats) throws {
        let number = allocateRunNumber()
        let writer = try SortedRunWriter(folder: folder, name: Self.runName(number), expectedKeys: table.count)
        do {
            try table.forEach { try writer.add(RunEntry(key: $0.key, value: $0.value)) }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        let run = try SortedRun(path: folder.child(Self.runName(number)))
        manifestLock.lock()
        defer { manifestLock.unlock() }
        state.lock()
        let numbers = runs.map(\.number) + [number]
        state.unlock()
        try Manifest(logNumber: lastLog + 1, runs: numbers, stats: stats).write(folder)
        state.lock()
        runs.append((number, run))
        frozen.removeFirst()
        state.unlock()
        for old in manifestLog...lastLog { _ = try folder.removeFile(Self.logName(old)) }
        manifestLog = lastLog + 1
        lastManifestStats = stats
    }
    /// The counts as of `manifestLog`, what a manifest that changes only runs records.
    private var lastManifestStats = StoreStats()

    private func allocateRunNumber() -> Int {
        manifestLock.lock()
        defer { manifestLock.unlock() }
        nextRunNumber += 1
        return nextRunNumber - 1
    }

    /// The size tier of a run: 0 up to 4x the flush threshold, then one tier per 4x.
    private func tier(_ run: SortedRun) -> Int {
        var limit = max(flushThreshold, 1 << 20) * 4
        var t = 0
        while run.fileSize > limit && t < 30 { limit *= 4; t += 1 }
        return t
    }

    /// The runs to merge next (`compactionRange`). Looking past the newest run matters: a
    /// load appends small runs faster than they merge, and the bigger runs their merges
    /// leave must still merge in turn, or a 16M-item load ends with 20 runs for every get
    /// and bloom check to visit. Any contiguous range may merge: its output takes its
    /// place. Caller holds `state`.
    private func compactionCandidates() -> Range<Int>? {
        Self.compactionRange(tiers: runs.map { tier($0.run) }, fanIn: Self.compactionFanIn)
    }

    /// The policy on its own, `tiers` from the oldest run to the newest: for the lowest
    /// tier t that has one, the newest stretch of adjacent runs of tier t or lower that
    /// holds at least `fanIn` runs of tier t (smaller runs among them join the merge, so
    /// none is left stranded between bigger ones).
    static func compactionRange(tiers: [Int], fanIn: Int) -> Range<Int>? {
        guard let top = tiers.max() else { return nil }
        for t in 0...top {
            var end = tiers.count
            while end > 0 {
                guard tiers[end - 1] <= t else { end -= 1; continue }
                var start = end - 1
                while start > 0 && tiers[start - 1] <= t { start -= 1 }
                if tiers[start..<end].reduce(0, { $0 + ($1 == t ? 1 : 0) }) >= fanIn { return start..<end }
                end = start
            }
        }
        return nil
    }

    private func compactionDue() -> Bool { compactionCandidates() != nil }

    private var isStopping: Bool {
        state.lock()
        defer { state.unlock() }
        return stopping
    }

    /// Flushes the frozen memtables waiting now, from inside a merge: a merge of big runs
    /// takes minutes, and writers must not wait for it (a logged commit blocks once two
    /// memtables wait, a bulk commit until the memtable drains). Safe mid-merge: a flush
    /// only appends a run after the merge's range.
    private func flushWaitingMemtables() throws {
        while true {
            state.lock()
            guard let job = frozen.first else { state.unlock(); return }
            state.unlock()
            try flushFrozen(job.memtable, lastLog: job.lastLog, stats: job.stats)
            state.lock()
            state.broadcast()
            state.unlock()
        }
    }

    /// Merges the runs `compactionCandidates` names into one, in their place. Tombstones
    /// are dropped when the merge includes the oldest run (nothing older can hold the key).
    private func compactOnce() throws {
        state.lock()
        guard let range = compactionCandidates() else { state.unlock(); return }
        let inputs = Array(runs[range])
        state.unlock()
        let number = allocateRunNumber()
        let writer = try SortedRunWriter(folder: folder, name: Self.runName(number), expectedKeys: inputs.reduce(0) { $0 + $1.run.count })
        do {
            let cursors: [EntryCursor] = inputs.reversed().map { RunCursor(run: $0.run, forward: true) }
            for case let cursor as RunCursor in cursors { try cursor.seek([]) }
            // Tombstones go only when nothing older than the merged runs can hold the key.
            let merged = try MergedCursor(sources: cursors, forward: true, lower: [], upper: nil, keepTombstones: range.lowerBound != 0)
            var entries = 0
            while let key = merged.key {
                try writer.add(key: key, value: merged.tombstone ? nil : merged.value)
                try merged.step()
                entries += 1
                // Closing does not wait for a merge: the next writer to open the table
                // merges the same runs again (nothing depends on this one).
                if entries & 0xFFF == 0 {
                    if isStopping {
                        writer.abandon()
                        return
                    }
                    try flushWaitingMemtables()
                }
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        let output = try SortedRun(path: folder.child(Self.runName(number)))
        manifestLock.lock()
        state.lock()
        // Runs are only ever appended meanwhile (flushes on this thread, bulk commits on
        // the writer's), so `range` still names the inputs; newer runs stay after them.
        let numbers = Array(runs[..<range.lowerBound].map(\.number)) + [number] + runs[range.upperBound...].map(\.number)
        state.unlock()
        do { try Manifest(logNumber: manifestLog, runs: numbers, stats: lastManifestStats).write(folder) } catch {
            manifestLock.unlock()
            throw error
        }
        state.lock()
        runs.replaceSubrange(range, with: [(number, output)])
        state.unlock()
        manifestLock.unlock()
        for input in inputs { _ = try folder.removeFile(Self.runName(input.number)) }
    }

    // MARK: Reads

    /// A consistent view of the table as of now: later commits are not visible in it.
    public func snapshot() -> StoreSnapshot {
        state.lock()
        defer { state.unlock() }
        return StoreSnapshot(memtables: [memtable] + frozen.reversed().map(\.memtable),
                             runs: runs.reversed().map(\.run), stats: stats)
    }

    public var currentStats: StoreStats {
        state.lock()
        defer { state.unlock() }
        return stats
    }

    func verify() throws {
        state.lock()
        let current = runs.map(\.run)
        state.unlock()
        for run in current { try run.verify() }
        for number in try Self.logNumbers(in: folder) where number >= manifestLog {
            _ = try WALReader.read(path: folder.child(Self.logName(number)))
        }
    }

    public var runCount: Int {
        state.lock()
        defer { state.unlock() }
        return runs.count
    }

    // MARK: Readers in other processes

    /// A snapshot of a table another process may be writing, read without its lock: the
    /// manifest, its runs, and every commit in the logs so far (an incomplete last
    /// record is a commit still being written, and is left out). A file the writer
    /// deletes between reading the manifest and opening it (a flush or compaction just
    /// finished) means a newer manifest exists: start again.
    static func readSnapshot(folder path: String) throws -> StoreSnapshot {
        try withCurrentManifest(path) { folder, manifest in
            let runs = try manifest.runs.map { try SortedRun(path: folder.child(runName($0))) }
            var memtable = Memtable()
            var stats = manifest.stats
            for number in try logNumbers(in: folder).filter({ $0 >= manifest.logNumber }) {
                let logPath = folder.child(logName(number))
                for record in try WALReader.read(path: logPath).records {
                    try apply(record, path: logPath, to: &memtable, stats: &stats)
                }
            }
            return StoreSnapshot(memtables: [memtable], runs: runs.reversed(), stats: stats)
        }
    }

    /// Runs `body` on the table's current manifest, without the lock, starting again
    /// when a file it names is gone (the writer switched manifests meanwhile).
    static func withCurrentManifest<T>(_ path: String, _ body: (Directory, Manifest) throws -> T) throws -> T {
        guard let folder = try Directory.open(path) else { throw IOError.openFailed(path: path, errno: ENOENT) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body(folder, try Manifest.read(folder))
            } catch IOError.openFailed(_, let code) where code == ENOENT && attempt < 20 {
                continue
            }
        }
    }
}

public enum TableStoreError: Error, CustomStringConvertible {
    case closed(name: String)
    case background(name: String, underlying: String)
    case writesStopped(name: String, underlying: String)

    public var description: String {
        switch self {
        case let .closed(name): return "table '\(name)' is closed"
        case let .writesStopped(name, underlying):
            return "table '\(name)': an earlier write to its log failed (\(underlying)); no more writes until the table is reopened"
        case let .background(name, underlying): return "table '\(name)': background flush failed, writes stopped: \(underlying)"
        }
    }
}

/// A point-in-time view of a table: memtables and runs, newest first. Immutable, so it
/// may be read from any thread, and long scans do not block the writer.
public struct StoreSnapshot: @unchecked Sendable {
    let memtables: [Memtable]
    let runs: [SortedRun]
    public let stats: StoreStats

    /// The value of `key`, or nil when absent or deleted.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        for table in memtables {
            if let found = table.lookup(key) { return found }
        }
        guard !runs.isEmpty else { return nil }
        let hash = key.withUnsafeBytes { SortedRunFormat.bloomHash($0) }   // once for every run's filter
        for run in runs {
            if let entry = try run.get(key, hash: hash) { return entry.value }
        }
        return nil
    }

    /// Calls `body` with each live key and value in [lower, upper), ascending or
    /// descending, until it returns false. Memory: one block per run.
    public func scan(lower: [UInt8] = [], upper: [UInt8]? = nil, forward: Bool = true,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try scanStored(lower: lower, upper: upper, forward: forward) { key, value in try body(Array(key), Array(value)) }
    }

    /// As `scan`, with the key and value as the stored bytes themselves (valid only
    /// during the call): nothing is copied or allocated per entry.
    public func scanStored(lower: [UInt8] = [], upper: [UInt8]? = nil, forward: Bool = true,
                           _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        let cursor = try makeCursor(lower: lower, upper: upper, forward: forward)
        while let key = cursor.key {
            if try !body(key, cursor.value) { return }
            try cursor.step()
        }
    }

    func makeCursor(lower: [UInt8], upper: [UInt8]?, forward: Bool) throws -> MergedCursor {
        var sources: [EntryCursor] = memtables.map { MemtableCursor($0, forward: forward, start: lower, end: upper) }
        for run in runs {
            let cursor = RunCursor(run: run, forward: forward)
            try cursor.seek(forward ? lower : (upper ?? []))
            sources.append(cursor)
        }
        return try MergedCursor(sources: sources, forward: forward, lower: lower, upper: upper)
    }
}

/// The list of live runs, the first log to replay and the counts as of that log,
/// replaced atomically (docs/table-storage.md).
struct Manifest {
    var logNumber: Int
    var runs: [Int]
    var stats: StoreStats

    static func read(_ folder: Directory) throws -> Manifest {
        guard let source = try folder.openForReading("MANIFEST") else { return Manifest(logNumber: 1, runs: [], stats: StoreStats()) }
        let value = try JSONValue.parse(try source.readAll(limit: 1 << 20))
        guard value["version"]?.numberText == "1",
              let log = value["log"]?.numberText.flatMap({ Int($0) }),
              let runs = value["runs"]?.arrayValue?.compactMap({ $0.numberText.flatMap { Int($0) } }) else {
            throw SortedRunError.incomplete(path: folder.child("MANIFEST"), reason: "not a version 1 manifest")
        }
        var stats = StoreStats()
        for entry in value["counts"]?.arrayValue ?? [] {
            let n = entry.arrayValue?.compactMap { $0.numberText.flatMap { Int($0) } } ?? []
            guard n.count == 3, (0...255).contains(n[0]) else {
                throw SortedRunError.incomplete(path: folder.child("MANIFEST"), reason: "bad counts")
            }
            stats.add(UInt8(n[0]), items: n[1], bytes: n[2])
        }
        return Manifest(logNumber: log, runs: runs, stats: stats)
    }

    func write(_ folder: Directory) throws {
        let text = JSONValue.object([
            JSONMember("version", .number("1")),
            JSONMember("log", .number(String(logNumber))),
            JSONMember("runs", .array(runs.map { .number(String($0)) })),
            JSONMember("counts", .array(stats.counts.keys.sorted().map { k in
                .array([.number(String(k)), .number(String(stats.counts[k]!.items)), .number(String(stats.counts[k]!.bytes))])
            })),
        ]).jsonText + "\n"
        try folder.writeAtomically("MANIFEST") { sink in try Array(text.utf8).withUnsafeBytes { try sink.write($0) } }
    }
}

/// A commit's payload: its count deltas and changes (docs/table-storage.md).
enum ChangeBatch {
    static func zigzag(_ v: Int) -> Int { (v << 1) ^ (v >> 63) }
    static func unzigzag(_ v: Int) -> Int { (v >> 1) ^ -(v & 1) }

    static func encode(_ changes: [TableStore.Change], delta: StoreStats) -> [UInt8] {
        var size = 16
        for change in changes { size += change.key.count + (change.value?.count ?? 0) + 8 }
        let out = ByteBuffer(capacity: size)
        SortedRunFormat.appendVarint(changes.count, to: out)
        SortedRunFormat.appendVarint(delta.counts.count, to: out)
        for (keyspace, count) in delta.counts {
            out.append(keyspace)
            SortedRunFormat.appendVarint(zigzag(count.items), to: out)
            SortedRunFormat.appendVarint(zigzag(count.bytes), to: out)
        }
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

    static func decode(_ bytes: [UInt8], path: String) throws -> ([TableStore.Change], StoreStats) {
        try bytes.withUnsafeBytes { raw in
            var p = 0
            func fail() -> Error { WALError.corrupt(path: path, offset: p, reason: "a commit whose changes cannot be read") }
            guard let count = SortedRunFormat.readVarint(raw, &p, end: raw.count),
                  let deltas = SortedRunFormat.readVarint(raw, &p, end: raw.count), deltas <= 256 else { throw fail() }
            var stats = StoreStats()
            for _ in 0..<deltas {
                guard p < raw.count else { throw fail() }
                let keyspace = raw[p]
                p += 1
                guard let items = SortedRunFormat.readVarint(raw, &p, end: raw.count),
                      let bytes = SortedRunFormat.readVarint(raw, &p, end: raw.count) else { throw fail() }
                stats.add(keyspace, items: unzigzag(items), bytes: unzigzag(bytes))
            }
            var out: [TableStore.Change] = []
            out.reserveCapacity(min(count, raw.count))
            for _ in 0..<count {
                guard p < raw.count else { throw fail() }
                let flag = raw[p]
                p += 1
                guard let keyLength = SortedRunFormat.readVarint(raw, &p, end: raw.count), keyLength <= raw.count - p else { throw fail() }
                let key = Array(raw[p..<(p + keyLength)])
                p += keyLength
                if flag == SortedRunFormat.tombstone {
                    out.append((key, nil))
                } else {
                    guard let valueLength = SortedRunFormat.readVarint(raw, &p, end: raw.count), valueLength <= raw.count - p else { throw fail() }
                    out.append((key, Array(raw[p..<(p + valueLength)])))
                    p += valueLength
                }
            }
            return (out, stats)
        }
    }
}
