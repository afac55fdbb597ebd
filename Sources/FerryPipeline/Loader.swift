#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryExpressions
import FerryIO
import FerryTable
import FerryValues

/// ferry-load's engine (docs/ferry-load.md): parses, checks and encodes records on
/// worker threads, commits them in stream order in groups, and — with a checkpoint —
/// commits each group together with the position it reaches, inside the table, so a
/// rerun after a crash neither loses nor repeats a record.
///
/// Positions: with barriers (ferry-extract's stream) the last barrier of each source;
/// without, the count of non-blank input lines. Records after a stream's last barrier
/// are never committed (they have no position); a rerun loads them.
public final class Loader {
    public enum Mode: String, Sendable, CaseIterable { case put, update, delete }
    /// `auto`: a group of puts and deletes of 1 MiB or more commits as a sorted run;
    /// `always`: every such group does; `never`: every group goes through the log.
    public enum BulkMode: String, Sendable, CaseIterable { case auto, always, never }
    /// The smallest group `auto` commits as a run: below it, the log's one fsync is cheaper
    /// than a run's file, manifest and their fsyncs.
    public static let bulkMinimumBytes = 1 << 20

    public struct Options: Sendable {
        public var mode: Mode = .put
        /// `--update EXPR`: an UpdateExpression per record; `:name` not in `values` binds
        /// to the record's attribute `name`.
        public var update: String? = nil
        public var condition: String? = nil
        /// `--values` and `--names` (ETL mode: reserved words are plain names).
        public var context = ExpressionContext(mode: .etl)
        public var threads = 1
        public var checkpointPath: String? = nil
        /// A commit holds at least this many records, unless the input ends first (nil:
        /// 10,000 through the log, `bulkGroupBytes` of input as a run).
        public var groupRecords: Int? = nil
        /// `--bulk`: whether groups commit as sorted runs (docs/table-storage.md).
        public var bulk: BulkMode = .auto
        /// A bulk group holds at least this many input bytes, unless the input ends first.
        public var bulkGroupBytes = 32 << 20
        /// Fault injection for tests: die by SIGKILL right after this many commits, before
        /// the checkpoint file is rewritten.
        public var killAfterCommits: Int? = nil
        /// `--changed reload`: load an object again from its start when its ETag differs
        /// from the committed one, even under `--update` or `--condition`, whose writes
        /// are not idempotent (its unchanged records apply twice).
        public var reloadChanged = false
        public init() {}

        /// Whether writing a record twice can differ from writing it once.
        var isIdempotent: Bool { update == nil && condition == nil }
        /// Whether the load's groups can commit as runs: puts and deletes, no conditions.
        var usesBulk: Bool { bulk != .never && isIdempotent && mode != .update }
    }

    public struct Summary: Sendable {
        public var read = 0
        public var loaded = 0
        public var rejected = 0
        public var conditionFailed = 0
        /// Records a previous run had committed (replayed by a resumed extract or a rerun).
        public var skipped = 0
        /// Records after the stream's last barrier, not committed.
        public var uncommitted = 0
        /// Control lines (barriers, a backup's header and trailer): not records. Every
        /// input line is a record (read = loaded + rejected + skipped + uncommitted) or
        /// one of these.
        public var controls = 0
        public var bytes = 0
        public var seconds = 0.0
        public var commits = 0
    }

    public private(set) var summary = Summary()
    public private(set) var state: CheckpointState
    /// Why the checkpoint file was damaged, when it was rewritten from the table at start.
    public private(set) var repairedCheckpoint: String? = nil
    private let target: any LoadTarget
    private let options: Options
    private let rejects: RejectWriter
    private let onProgress: (Int, Int) -> Void
    private let checkpointName: String?
    private let builder: OperationBuilder
    private let started = Date()

    // The group being built.
    /// One record waiting in the group: its write and where it came from (for rejects).
    private struct Pending {
        var write: Result<LoadWrite, Error>
        var line: Int
        var record: ArraySlice<UInt8>
        var source: String
    }
    private var pending: [Pending] = []
    /// Input bytes of the records in `pending`.
    private var pendingBytes = 0
    /// Where the records of the current barrier segment start in the group.
    private var segmentStart = 0
    /// Barriers reached by the group, by source.
    private var reached: [String: Barrier] = [:]
    /// The last barrier seen in this stream, by source (to spot a restart inside a group).
    private var lastSeen: [String: Barrier] = [:]
    private var sawBarrier = false
    /// Non-blank lines read so far over all inputs.
    private var lineCount = 0
    /// Stream bytes before the block being consumed, over all inputs.
    private var streamOffset = 0
    /// The stream's first bytes (up to `InputIdentity.headLimit`), for the input identity.
    private var head: [UInt8] = []
    /// The inputs' names so far, as the identity names them.
    private var inputNames: [String] = []
    /// Where the last line of the group ends in the stream, and how many inputs had been
    /// opened then (for the identity).
    private var groupEndOffset = 0
    private var groupInputs = 0
    /// Set when a commit failed or happened without its checkpoint file: nothing more
    /// may be committed in this run (finish() then commits nothing).
    private var stopped = false
    /// A backup stream (docs/backup-format.md): each line held to the rules
    /// `ferry-backup --verify` applies, and the whole to its trailer.
    private var backupRules: BackupLineRules?
    private var backupTally: BackupTally?

    /// The stream is a backup with this (checked) header: its first line is the header,
    /// every other line an item or the trailer, as `--verify` requires; any other line
    /// stops the load. Call before `run`.
    public func expectBackup(_ header: TableBackup.Header, source: String) {
        backupRules = BackupLineRules(header: header)
        backupTally = BackupTally(header: header, source: source)
    }

    public convenience init(table: Table, options: Options, rejects: RejectWriter,
                            onProgress: @escaping (_ records: Int, _ bytes: Int) -> Void = { _, _ in }) throws {
        try self.init(target: LocalLoadTarget(table), options: options, rejects: rejects, onProgress: onProgress)
    }

    public init(target: any LoadTarget, options: Options, rejects: RejectWriter,
                onProgress: @escaping (_ records: Int, _ bytes: Int) -> Void = { _, _ in }) throws {
        self.target = target
        self.options = options
        self.rejects = rejects
        self.onProgress = onProgress
        builder = try OperationBuilder(options: options, target: target)
        checkpointName = options.checkpointPath.map { "checkpoint\u{0}" + absolutePath($0) + "\u{0}" }
        state = CheckpointState(table: target.name)
        if let checkpointName, let path = options.checkpointPath {
            // The file is about to be rewritten: never over a file that is not a Ferry
            // checkpoint (a mistyped path) or that is another table's bookmark. A damaged
            // one is rewritten when the target holds the true copy.
            var fromFile: CheckpointState? = nil
            switch try CheckpointState.inspect(path: path) {
            case .missing: break
            case let .foreign(reason): throw StreamFormatError.badCheckpoint(path: path, reason: reason)
            case let .valid(existing) where existing.table != target.name:
                throw LoadError.checkpointOfAnotherTable(path: path, owner: existing.table, table: target.name)
            case let .valid(existing): fromFile = existing
            case let .damaged(owner?, _) where owner != target.name:
                throw LoadError.checkpointOfAnotherTable(path: path, owner: owner, table: target.name)
            case let .damaged(_, reason):
                guard target.keepsCheckpoint else { throw LoadError.damagedCheckpointOnly(path: path, reason: reason) }
                repairedCheckpoint = reason
            }
            if target.keepsCheckpoint {
                state = try Self.readState(target: target, name: checkpointName)
                // The table's copy is the truth: repair a file a crash left one commit behind.
                try state.write(path: path)
            } else if let fromFile {
                state = fromFile
            }
        }
    }

    // MARK: The table's copy of the checkpoint

    static func readState(target: any LoadTarget, name: String) throws -> CheckpointState {
        var state = CheckpointState(table: target.name)
        for (field, value) in try target.checkpointFields(prefix: name) {
            if field == "lines" {
                state.lines = Int(String(decoding: value, as: UTF8.self)) ?? 0
            } else if field == "input" {
                state.input = try InputIdentity(body: try JSONValue.parse(value))
            } else if field.hasPrefix("s:") {
                let barrier = try Barrier(body: try JSONValue.parse(value))
                state.sources[barrier.source] = barrier
            }
        }
        return state
    }

    private func metadata() -> LoadCheckpointFields? {
        guard let checkpointName else { return nil }
        var out: [(name: String, value: [UInt8]?)] = []
        for (source, barrier) in reached {
            let body = ByteBuffer(capacity: 256)
            barrier.writeBody(into: body)
            out.append(("s:" + source, body.array))
        }
        if !sawBarrier {
            out.append(("lines", Array(String(lineCount).utf8)))
            let body = ByteBuffer(capacity: 256)
            currentIdentity().writeBody(into: body)
            out.append(("input", body.array))
        }
        return LoadCheckpointFields(prefix: checkpointName, fields: out)
    }

    // MARK: Reading

    /// One parsed line, made on a worker thread.
    enum Entry: Sendable {
        case write(Result<LoadWrite, Error>, line: Int, range: Range<Int>)
        /// A backup's item line, with its storage-order key for the tally.
        case backupItem(Result<LoadWrite, Error>, key: [UInt8], line: Int, range: Range<Int>)
        /// A line that stops the load (a backup line breaking the backup's rules).
        case fatal(Error)

        /// Where the line is in its block (nil for a fatal line).
        var range: Range<Int>? {
            switch self {
            case let .write(_, _, range), let .backupItem(_, _, _, range), let .barrier(_, _, range), let .control(_, _, range): return range
            case .fatal: return nil
            }
        }
        case barrier(Barrier, line: Int, range: Range<Int>)
        case control(name: String, line: Int, range: Range<Int>)
    }

    /// `{"Item":{`: how a typed line starts.
    static let typedItemPrefix: [UInt8] = Array(#"{"Item":{"#.utf8)

    struct ParsedBlock: Sendable {
        var entries: [Entry] = []
        var bytes: [UInt8] = []
        var firstLine = 0
    }

    /// Loads every record of `source`; call `finish` after the last input.
    public func run(_ source: ByteSource) throws {
        let table = self.target
        let builder = self.builder
        let name = source.name
        let rules = backupRules
        inputNames.append(name)
        do {
            try runBlocks(source, name: name, table: table, builder: builder, rules: rules)
        } catch {
            // A bulk commit may be running: it finishes (or fails) before the run does.
            try? waitForCommit()
            throw error
        }
    }

    private func runBlocks(_ source: ByteSource, name: String, table: any LoadTarget, builder: OperationBuilder, rules: BackupLineRules?) throws {
        try ParallelLineProcessor.run(
            // A bulk commit takes the committing thread for a while: the workers parse
            // the next 24 MiB meanwhile.
            source: source, threads: options.threads, lookahead: options.usesBulk ? 24 : nil,
            makeWorker: {
                let decoder = ItemDecoder(spelling: rules == nil ? .auto : .typed)
                let canonical = builder.storesCanonicalPuts ? CanonicalTypedItem() : nil
                return { block in
                    rules.map { Self.parseBackup(block, rules: $0, decoder: decoder, canonical: canonical, builder: builder, table: table, source: name) }
                        ?? Self.parse(block, decoder: decoder, canonical: canonical, builder: builder, table: table)
                }
            },
            consume: { (block: ParsedBlock) in
                try consume(block, source: name)
                onProgress(block.entries.count, block.bytes.count)
            })
    }

    static func parse(_ block: LineBlock, decoder: ItemDecoder, canonical: CanonicalTypedItem? = nil,
                      builder: OperationBuilder, table: any LoadTarget) -> ParsedBlock {
        var result = ParsedBlock()
        result.bytes = Array(block.bytes)
        result.firstLine = block.firstLine
        if let line = block.overlongLine {
            result.entries.append(.write(.failure(LoadError.lineTooLong(LineReader.defaultMaxLineLength)), line: line, range: 0..<0))
            return result
        }
        let base = block.bytes.baseAddress
        block.forEachLine { line, number in
            let range = (base.map { line.baseAddress! - $0 } ?? 0)..<((base.map { line.baseAddress! - $0 } ?? 0) + line.count)
            // A typed line as Ferry writes it is stored as it is (bulk puts only).
            if let canonical, line.count > 10, Self.typedItemPrefix.elementsEqual(line.prefix(9)),
               line[line.count - 2] == UInt8(ascii: "}"), line[line.count - 1] == UInt8(ascii: "}"),
               let write = table.prepareCanonicalPut(UnsafeRawBufferPointer(rebasing: line[8..<(line.count - 1)]), scanner: canonical, require: nil) {
                result.entries.append(.write(.success(write), line: number, range: range))
                return
            }
            do {
                switch try decoder.decodeRecord(line) {
                case let .item(item):
                    result.entries.append(.write(Result { try builder.prepared(for: item) }, line: number, range: range))
                case let .control(name, line):
                    let body = line[name] ?? .null
                    switch name {
                    case Barrier.controlName:
                        result.entries.append(.barrier(try Barrier(body: body), line: number, range: range))
                    case DeleteRecord.controlName:
                        let key = try DeleteRecord.key(from: body)
                        result.entries.append(.write(Result { try table.prepare(.delete(key: key, condition: try builder.condition(for: key)), forBulk: false) }, line: number, range: range))
                    case TableBackup.trailerName:
                        result.entries.append(.control(name: name, line: number, range: range))
                    case TableBackup.headerName:
                        result.entries.append(.write(.failure(LoadError.headerInsideStream), line: number, range: range))
                    default:
                        // ferry:reject, ferry:checkpoint: lines of Ferry's own files, not
                        // records; counted as rejects so no input line goes unaccounted.
                        result.entries.append(.write(.failure(LoadError.notARecord(name)), line: number, range: range))
                    }
                }
            } catch {
                result.entries.append(.write(.failure(error), line: number, range: range))
            }
        }
        return result
    }

    /// A backup's lines: line 1 is its header (checked before the load began), the
    /// others items or the trailer under `BackupLineRules`; a line breaking them stops
    /// the load.
    static func parseBackup(_ block: LineBlock, rules: BackupLineRules, decoder: ItemDecoder, canonical: CanonicalTypedItem? = nil,
                            builder: OperationBuilder, table: any LoadTarget, source: String) -> ParsedBlock {
        var result = ParsedBlock()
        result.bytes = Array(block.bytes)
        result.firstLine = block.firstLine
        if let line = block.overlongLine {
            result.entries.append(.fatal(BackupError.badItem(source, line: line, reason: "line is longer than the limit of \(LineReader.defaultMaxLineLength) bytes")))
            return result
        }
        let base = block.bytes.baseAddress
        block.forEachLine { line, number in
            let start = base.map { line.baseAddress! - $0 } ?? 0
            let range = start..<(start + line.count)
            if number == 1 {
                result.entries.append(.control(name: TableBackup.headerName, line: number, range: range))
                return
            }
            // An item line as ferry-backup writes it: stored as it is, once the backup's
            // key rules hold for it too (and its key is the one the tally orders by).
            if let canonical, rules.schema == table.schema, line.count > 10, Self.typedItemPrefix.elementsEqual(line.prefix(9)),
               line[line.count - 2] == UInt8(ascii: "}"), line[line.count - 1] == UInt8(ascii: "}"),
               let write = table.prepareCanonicalPut(UnsafeRawBufferPointer(rebasing: line[8..<(line.count - 1)]), scanner: canonical,
                                                     require: { rules.acceptsKey($0) }) {
                result.entries.append(.backupItem(.success(write), key: write.key, line: number, range: range))
                return
            }
            do {
                switch try rules.check(line, decoder: decoder) {
                case let .item(item, key):
                    result.entries.append(.backupItem(Result { try builder.prepared(for: item) }, key: key, line: number, range: range))
                case .trailer:
                    result.entries.append(.control(name: TableBackup.trailerName, line: number, range: range))
                }
            } catch {
                result.entries.append(.fatal(BackupError.badItem(source, line: number, reason: rejectReason(error))))
            }
        }
        return result
    }

    // MARK: Committing, in stream order

    private func consume(_ block: ParsedBlock, source: String) throws {
        summary.bytes += block.bytes.count
        if head.count < InputIdentity.headLimit {
            let before = head.count
            head.append(contentsOf: block.bytes.prefix(InputIdentity.headLimit - head.count))
            // Another input shows in its first bytes: refuse before skipping anything.
            if checkpointName != nil, !sawBarrier, state.sources.isEmpty, state.lines > 0, let expected = state.input,
               before < expected.headBytes, head.count >= expected.headBytes {
                var crc = CRC32()
                head.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[..<expected.headBytes])) }
                if crc.value != expected.headCRC {
                    stopped = true
                    var actual = expected
                    actual.headCRC = crc.value
                    actual.name = inputNames.joined(separator: " ")
                    throw LoadError.inputChanged(expected: expected, actual: actual, lines: state.lines)
                }
            }
        }
        defer { streamOffset += block.bytes.count }
        for entry in block.entries {
            lineCount += 1
            switch entry {
            case let .fatal(error):
                stopped = true
                throw error
            case let .backupItem(result, key, line, range):
                do { try block.bytes[range].withUnsafeBytes { try backupTally?.addItem($0, key: key, number: line) } } catch {
                    stopped = true
                    throw error
                }
                try accept(result, line: line, range: range, in: block, source: source)
            case let .write(result, line, range):
                try accept(result, line: line, range: range, in: block, source: source)
            case let .barrier(barrier, line, range):
                summary.controls += 1
                if lineCount == state.lines { try checkInputIfCounted(endingAt: streamOffset + range.upperBound) }
                if !sawBarrier && !pending.isEmpty {
                    // Records before a stream's first barrier cannot be placed: commit them
                    // by line count first, as a plain stream would be.
                    try commit()
                }
                sawBarrier = true
                try reachBarrier(barrier, at: source, line: line, record: block.bytes[range])
            case let .control(name, line, range):
                summary.controls += 1
                if lineCount == state.lines { try checkInputIfCounted(endingAt: streamOffset + range.upperBound) }
                // A backup's trailer is checked at the end.
                if name == TableBackup.trailerName, backupTally != nil {
                    let body = (try? JSONValue.parse(Array(block.bytes[range])))?[name] ?? .null
                    do { try backupTally?.addTrailer(body, number: line) } catch {
                        stopped = true
                        throw error
                    }
                }
            }
            // The line count covers every line consumed, records and control lines alike;
            // the identity names where the last one ends and the inputs so far.
            if let range = entry.range {
                groupEndOffset = streamOffset + range.upperBound
                groupInputs = inputNames.count
            }
            if !sawBarrier && groupFull { try commit() }
        }
    }

    /// A record: skipped when an earlier run of the same input committed it (a stream
    /// without barriers, counted by lines), else added to the group.
    private func accept(_ result: Result<LoadWrite, Error>, line: Int, range: Range<Int>, in block: ParsedBlock, source: String) throws {
        summary.read += 1
        if lineCount == state.lines { try checkInputIfCounted(endingAt: streamOffset + range.upperBound) }
        if !sawBarrier && state.sources.isEmpty && lineCount <= state.lines {
            summary.skipped += 1     // committed by an earlier run of the same input
            return
        }
        pending.append(Pending(write: result, line: line, record: block.bytes[range], source: source))
        pendingBytes += range.count + 1
    }

    /// Whether the group is big enough to commit: by records through the log, by bytes
    /// as a run (a run's fixed cost wants large groups).
    private var groupFull: Bool {
        if let records = options.groupRecords { return pending.count >= records }
        return options.usesBulk ? pendingBytes >= options.bulkGroupBytes : pending.count >= 10_000
    }

    /// At the committed line count's last line (whatever kind of line it is).
    private func checkInputIfCounted(endingAt offset: Int) throws {
        guard !sawBarrier, state.sources.isEmpty, state.lines > 0 else { return }
        try checkInput(endingAt: offset)
    }

    /// The identity of the stream up to the end of the group's last line.
    private func currentIdentity() -> InputIdentity {
        let headBytes = min(InputIdentity.headLimit, groupEndOffset, head.count)
        var crc = CRC32()
        head.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[..<headBytes])) }
        // The inputs up to the one holding that line: later ones (empty, blank) are not
        // part of what was counted, so a rerun is the same input whatever follows.
        let names = inputNames.prefix(max(1, groupInputs)).joined(separator: " ")
        return InputIdentity(name: names, bytes: groupEndOffset, headBytes: headBytes, headCRC: crc.value)
    }

    /// At the committed line count's last line: the input must be the one it was counted
    /// on (same names, that line ending at the same offset, the same first bytes), or the
    /// count would skip lines of another input.
    private func checkInput(endingAt offset: Int) throws {
        guard let expected = state.input else { return }   // a checkpoint from before identities
        groupEndOffset = offset
        groupInputs = inputNames.count
        let actual = currentIdentity()
        if actual != expected {
            stopped = true
            throw LoadError.inputChanged(expected: expected, actual: actual, lines: state.lines)
        }
    }

    private func reachBarrier(_ barrier: Barrier, at input: String, line: Int, record: ArraySlice<UInt8>) throws {
        let segment = pending.count - segmentStart
        let previous = lastSeen[barrier.source]
        lastSeen[barrier.source] = barrier
        let done = state.sources[barrier.source]
        if checkpointName != nil && previous == nil {
            try checkStart(of: barrier, segment: segment, committed: done)
        }
        if let done, done.etag == barrier.etag {
            // Committed already: a complete object, a later line, or this line (unless
            // this barrier is the object's end and the committed one was not).
            if done.complete || done.line > barrier.line || (done.line == barrier.line && !barrier.complete) {
                summary.skipped += segment
                dropSegment()
                return
            }
            if let previous, previous.etag == barrier.etag, previous.line < done.line {
                stopped = true
                throw LoadError.restartInsideGroup(source: barrier.source, from: previous.line, to: barrier.line, committed: done.line)
            }
        }
        reached[barrier.source] = barrier
        segmentStart = pending.count
        if groupFull { try commit() }
    }

    /// A source's first barrier in this stream says where the stream starts in it. A
    /// start after the table's committed position would skip records that were never
    /// loaded (a checkpoint file ahead of the table: restored, edited, or another run's),
    /// and a changed object under a non-idempotent load would apply its unchanged
    /// records twice: both are refused.
    private func checkStart(of barrier: Barrier, segment: Int, committed done: Barrier?) throws {
        var committedLine = 0, committedRecords = 0
        if let done, done.etag == barrier.etag {
            if done.complete { return }
            committedLine = done.line
            committedRecords = done.records
        } else if let done, !options.isIdempotent, !options.reloadChanged {
            stopped = true
            throw LoadError.changedObject(source: barrier.source, committedETag: done.etag, committedLine: done.line, etag: barrier.etag)
        }
        // With no records of it before this barrier, the barrier is where the stream
        // starts; otherwise count back from its record count (when it has one).
        let ahead = segment == 0 ? barrier.line > committedLine
                                 : barrier.records > 0 && barrier.records - segment > committedRecords
        if ahead {
            stopped = true
            throw LoadError.streamAhead(source: barrier.source, startsAfter: segment == 0 ? barrier.line : nil,
                                        committedLine: committedLine, complete: barrier.complete && segment == 0)
        }
    }

    private func dropSegment() {
        pending.removeSubrange(segmentStart...)
        pendingBytes = pending.reduce(0) { $0 + $1.record.count + 1 }
    }

    /// Commits the group (up to the last barrier, in a barrier stream) and its position,
    /// then rewrites the checkpoint file.
    private func commit() throws {
        if sawBarrier {
            // Records after the last barrier wait for their barrier.
            if segmentStart == 0 && reached.isEmpty { return }
            let held = Array(pending[segmentStart...])
            dropSegment()
            try commitGroup()
            pending = held
            pendingBytes = held.reduce(0) { $0 + $1.record.count + 1 }
            segmentStart = 0
        } else {
            if pending.isEmpty && lineCount <= state.lines { return }
            try commitGroup()
        }
    }

    /// A bulk commit running on its own thread while the next group is read: its
    /// group, for the outcomes, and the checkpoint it makes true.
    private struct InFlight {
        let group: [Pending]
        let state: CheckpointState
        let done: DispatchSemaphore
        let result: ResultBox
    }
    private final class ResultBox: @unchecked Sendable {
        var outcomes: Result<[WriteOutcome], Error> = .success([])
    }
    private var inFlight: InFlight? = nil

    /// Commits the group and its position. A bulk group commits on a thread of its own
    /// while the stream goes on (its run takes a while to write and sync); the next
    /// commit, `finish` or a failed run waits for it first, so commits stay in order and
    /// the checkpoint file is rewritten only for what the table holds.
    private func commitGroup() throws {
        try waitForCommit()
        let writes = pending.map(\.write)
        let records = metadata()
        let asRun = options.usesBulk && target.commitsRuns && (options.bulk == .always || pendingBytes >= Self.bulkMinimumBytes)
        for (source, barrier) in reached { state.sources[source] = barrier }
        if !sawBarrier {
            state.lines = max(state.lines, lineCount)
            if checkpointName != nil { state.input = currentIdentity() }
        }
        reached.removeAll()
        let group = pending
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
        if asRun {
            let flight = InFlight(group: group, state: state, done: DispatchSemaphore(value: 0), result: ResultBox())
            let job = UncheckedBox((target, writes, records, flight.result, flight.done))
            let thread = Thread {
                let (target, writes, records, result, done) = job.value
                result.outcomes = Result { try target.commit(writes, checkpoint: records, asRun: true) }
                done.signal()
            }
            thread.name = "ferry-load-commit"
            thread.start()
            inFlight = flight
            return
        }
        let outcomes: [WriteOutcome]
        do {
            outcomes = try target.commit(writes, checkpoint: records, asRun: false)
        } catch {
            // The engine refuses further commits after a failed log write; so does this.
            stopped = true
            throw error
        }
        try committed(group, outcomes: outcomes, state: state)
    }

    /// Waits for the bulk commit in flight, if any, and accounts for it.
    private func waitForCommit() throws {
        guard let flight = inFlight else { return }
        inFlight = nil
        flight.done.wait()
        let outcomes: [WriteOutcome]
        do { outcomes = try flight.result.outcomes.get() } catch {
            stopped = true
            throw error
        }
        try committed(flight.group, outcomes: outcomes, state: flight.state)
    }

    /// After a group's commit: its counts and rejects, then the checkpoint file.
    private func committed(_ group: [Pending], outcomes: [WriteOutcome], state: CheckpointState) throws {
        summary.commits += 1
        // From here the group is committed: whatever fails below, it must not be
        // committed again by this run.
        do {
            for (i, outcome) in outcomes.enumerated() {
                switch outcome {
                case .applied:
                    summary.loaded += 1
                case .conditionFailed:
                    summary.conditionFailed += 1
                    summary.rejected += 1
                    try reject(group[i], "The conditional request failed")
                case let .rejected(error):
                    summary.rejected += 1
                    try reject(group[i], rejectReason(error))
                }
            }
            // Every reject of a committed group is reported before --max-errors stops the run.
            try rejects.checkLimit()
            if let limit = options.killAfterCommits, summary.commits >= limit { kill(getpid(), SIGKILL) }
            if let path = options.checkpointPath {
                do { try state.write(path: path) } catch {
                    throw LoadError.checkpointFileNotWritten(path: path, reason: "\(error)")
                }
            }
        } catch {
            stopped = true
            throw error
        }
    }

    private func reject(_ entry: Pending, _ reason: String) throws {
        try entry.record.withUnsafeBytes { try rejects.reject(source: entry.source, line: entry.line, reason: reason, record: $0, checkingLimit: false) }
    }

    /// After the input failed (a damaged gzip, a read error): records read since the
    /// last commit are not committed (a damage found late may lie behind them); a rerun
    /// reads them again.
    public func abandonPending() {
        stopped = true
    }

    /// Commits what is left, unless the run stopped on a failed commit or a refused
    /// stream. In a barrier stream, records after the last barrier stay uncommitted
    /// (counted in `summary.uncommitted`).
    public func finish() throws -> Summary {
        defer {
            summary.uncommitted = stopped ? 0 : pending.count
            summary.seconds = Date().timeIntervalSince(started)
        }
        if !stopped && checkpointName != nil && !sawBarrier && state.sources.isEmpty && state.lines > lineCount {
            // The stream ended before the committed count: it is not the input it counted.
            stopped = true
            try waitForCommit()
            throw LoadError.inputShorter(expected: state.input, lines: state.lines, read: lineCount)
        }
        do {
            if !stopped { try commit() }
        } catch {
            try? waitForCommit()
            throw error
        }
        try waitForCommit()
        return summary
    }

    /// For a backup stream: throws unless the trailer was read and matches the lines.
    public func checkBackupTrailer() throws {
        try backupTally?.finish()
    }

    /// Item lines of a backup stream (0 for other streams).
    public var backupItems: Int { backupTally?.items ?? 0 }
}

public enum LoadError: Error, CustomStringConvertible {
    case lineTooLong(Int)
    case restartInsideGroup(source: String, from: Int, to: Int, committed: Int)
    case missingAttribute(String)
    case checkpointOfAnotherTable(path: String, owner: String, table: String)
    case checkpointFileNotWritten(path: String, reason: String)
    case streamAhead(source: String, startsAfter: Int?, committedLine: Int, complete: Bool)
    case changedObject(source: String, committedETag: String, committedLine: Int, etag: String)
    case inputChanged(expected: InputIdentity, actual: InputIdentity, lines: Int)
    case inputShorter(expected: InputIdentity?, lines: Int, read: Int)
    case notARecord(String)
    case headerInsideStream
    case damagedCheckpointOnly(path: String, reason: String)

    public var description: String {
        switch self {
        case let .lineTooLong(limit): return "line is longer than the limit of \(limit) bytes"
        case let .restartInsideGroup(source, from, to, committed):
            return "\(source): the stream's group of lines \(from + 1)-\(to) overlaps the committed position \(committed) (was --barrier-every changed?); rerun: the checkpoint file is now up to date"
        case let .missingAttribute(name): return "the record has no attribute '\(name)' for :\(name)"
        case let .checkpointOfAnotherTable(path, owner, table):
            return "\(path): this checkpoint file belongs to table '\(owner)', not '\(table)'; give each load its own file"
        case let .checkpointFileNotWritten(path, reason):
            return "\(path): the checkpoint file could not be rewritten (\(reason)); the last group is committed in the table with its position, so rerunning the same command resumes exactly once (it repairs the file first)"
        case let .streamAhead(source, startsAfter, committedLine, complete):
            let starts = complete ? "the stream skips it as loaded completely"
                : startsAfter.map { "the stream starts after its line \($0)" } ?? "the stream starts inside it"
            return "\(source): \(starts), but the table has it committed only through line \(committedLine) (was the table restored, or the checkpoint file edited or taken from another table?); nothing was skipped: the checkpoint file now matches the table, so rerunning the same command loads what is missing"
        case let .changedObject(source, committedETag, committedLine, etag):
            return "\(source): changed since it was loaded (ETag \(committedETag) committed through line \(committedLine), now \(etag)); loading it again under --update or --condition would apply its unchanged records twice: pass --changed reload to load it anyway, or give the new data a new name"
        case let .inputChanged(expected, actual, lines):
            var differs: [String] = []
            if expected.name != actual.name { differs.append("its name is '\(actual.name)', not '\(expected.name)'") }
            if expected.bytes != actual.bytes { differs.append("line \(lines) ends at byte \(actual.bytes), not \(expected.bytes)") }
            if expected.headBytes != actual.headBytes || expected.headCRC != actual.headCRC { differs.append("its first \(expected.headBytes) bytes differ") }
            return "the checkpoint's \(lines) committed lines were counted on other input (\(differs.joined(separator: "; "))); nothing was loaded: to load this input from its first line, use a new --checkpoint file"
        case let .damagedCheckpointOnly(path, reason):
            return "\(path): damaged checkpoint file (\(reason)), and the remote table keeps no copy of a put load's checkpoint; move it aside to load from the start (puts are idempotent: records loaded before are written again, not doubled)"
        case .headerInsideStream:
            return "a ferry:backup header is only valid as the first line of a backup loaded alone"
        case let .notARecord(name):
            return name == "ferry:reject" ? "a ferry:reject line is not a record: fix the line in its \"record\" member and load that"
                : "a \(name) line is not a record"
        case let .inputShorter(expected, lines, read):
            let name = expected.map { " ('\($0.name)')" } ?? ""
            return "the input has \(read) lines, but the checkpoint committed \(lines) lines of its input\(name): it is other input; nothing was loaded: to load it from its first line, use a new --checkpoint file"
        }
    }
}

/// Makes each record's write from the options: put, merge, delete, or a per-record
/// update whose `:name` placeholders bind to the record's attributes. Thread-safe.
final class OperationBuilder: Sendable {
    let mode: Loader.Mode
    let context: ExpressionContext
    let updateText: String?
    let conditionText: String?
    /// Compiled once when they use no record attribute.
    let fixedUpdate: UpdateExpression?
    let fixedCondition: ConditionExpression?
    /// Placeholders bound per record.
    let updateBindings: [String]
    let conditionBindings: [String]
    let table: any LoadTarget
    /// Puts are prepared for bulk commits.
    let lean: Bool

    init(options: Loader.Options, target table: any LoadTarget) throws {
        mode = options.mode
        lean = options.usesBulk && table.commitsRuns
        self.table = table
        context = options.context
        updateText = options.update
        conditionText = options.condition
        let context = self.context
        let updateBindings = options.update.map { Self.placeholders($0).filter { options.context.values[$0] == nil } } ?? []
        let conditionBindings = options.condition.map { Self.placeholders($0).filter { options.context.values[$0] == nil } } ?? []
        self.updateBindings = updateBindings
        self.conditionBindings = conditionBindings
        fixedUpdate = try options.update.flatMap { updateBindings.isEmpty ? try UpdateExpression($0, context: context) : nil }
        fixedCondition = try options.condition.flatMap { conditionBindings.isEmpty ? try ConditionExpression($0, context: context) : nil }
        // Expressions bound per record are still checked before the first record, so a
        // syntax error or an undefined #name is a usage error, not a reject on every line.
        if let text = options.update, !updateBindings.isEmpty {
            try Self.probe(updateBindings, context) { _ = try UpdateExpression(text, context: $0) }
        }
        if let text = options.condition, !conditionBindings.isEmpty {
            try Self.probe(conditionBindings, context) { _ = try ConditionExpression(text, context: $0) }
        }
    }

    /// Compiles with each binding set to sample values of several types: an expression
    /// that fails with all of them is wrong whatever the records hold.
    private static func probe(_ bindings: [String], _ context: ExpressionContext, _ compile: (ExpressionContext) throws -> Void) throws {
        var first: Error?
        for sample: AttributeValue in [.n(DynamoNumber(1)), .ss(["x"]), .s("x"), .l([]), .m(AttributeMap())] {
            var probe = context
            for name in bindings { probe.values[name] = sample }
            do { try compile(probe); return } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    /// The `:name` tokens of an expression.
    static func placeholders(_ text: String) -> [String] {
        var out: [String] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: ":") {
                var j = i + 1
                while j < bytes.count, bytes[j] == UInt8(ascii: "_") || (bytes[j] >= 0x30 && bytes[j] <= 0x39) || ((bytes[j] | 0x20) >= 0x61 && (bytes[j] | 0x20) <= 0x7A) { j += 1 }
                if j > i + 1 { out.append(String(decoding: bytes[i..<j], as: UTF8.self)) }
                i = j
            } else {
                i += 1
            }
        }
        return Array(Set(out)).sorted()
    }

    private func bound(_ names: [String], _ item: Item) throws -> ExpressionContext {
        var context = self.context
        for name in names {
            guard let value = item[String(name.dropFirst())] else { throw LoadError.missingAttribute(String(name.dropFirst())) }
            context.values[name] = value
        }
        return context
    }

    func condition(for item: Item) throws -> ConditionExpression? {
        if let fixedCondition { return fixedCondition }
        guard let conditionText else { return nil }
        return try ConditionExpression(conditionText, context: try bound(conditionBindings, item))
    }

    /// Plain puts into bulk groups: a canonical typed line can be stored as it is.
    var storesCanonicalPuts: Bool { lean && mode == .put && updateText == nil && conditionText == nil }

    /// The record's write, checked and encoded (for a bulk load, without its item).
    func prepared(for item: Item) throws -> LoadWrite {
        try table.prepare(try operation(for: item), forBulk: lean)
    }

    func operation(for item: Item) throws -> WriteOperation {
        let condition = try condition(for: item)
        if let updateText {
            let update = try fixedUpdate ?? UpdateExpression(updateText, context: try bound(updateBindings, item))
            return .update(key: table.schema.keyOf(item), update: update, condition: condition)
        }
        switch mode {
        case .put: return .put(item, condition: condition)
        case .update: return .merge(item, condition: condition)
        case .delete: return .delete(key: table.schema.keyOf(item), condition: condition)
        }
    }
}
