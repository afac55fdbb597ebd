// ferry-export from a remote table: a parallel Scan (one thread per segment), a capacity
// limit fed by the service's ConsumedCapacity, and a checkpoint file that keeps each
// segment's LastEvaluatedKey and the output's committed length, so a killed export
// resumes where it stopped with every item once. docs/remote.md, "Exports".
#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryTableService
import FerryValues
import Foundation
import Synchronization

/// Exports one remote table. Not thread-safe itself (one `export` at a time); inside,
/// segment threads share the output and the checkpoint under one lock (rule 18, docs/concurrency.md).
public final class RemoteTableExporter: Sendable {
    public enum Format: String, Sendable { case typed, plain }

    public struct Options: Sendable {
        public var table: String
        public var segments = 4
        public var format = Format.typed
        public var indexName: String? = nil
        public var filter: String? = nil
        public var projection: String? = nil
        public var names: [String: String] = [:]
        public var values = AttributeMap()
        /// Read capacity units per second at most, over all segments (nil: as fast as allowed).
        public var maxRCU: Double? = nil
        public var consistentRead = false
        /// Items per Scan page (nil: DynamoDB's 1 MB pages).
        public var pageLimit: Int? = nil
        /// Fault injection for tests: die by SIGKILL once this many pages are in the
        /// output file, before their checkpoint is written.
        public var killAfterPages: Int? = nil
        public init(table: String) { self.table = table }
    }

    public struct Summary: Sendable, Equatable {
        public var items = 0
        public var pages = 0
        public var consumedRCU = 0.0
        /// Items a resumed run found already written by the run before.
        public var resumedItems = 0
        public var alreadyComplete = false
    }

    let api: any DynamoDBAPI
    let options: Options
    let limiter: CapacityLimiter?

    public init(api: any DynamoDBAPI, options: Options) {
        self.api = api
        self.options = options
        limiter = options.maxRCU.map { CapacityLimiter(unitsPerSecond: $0) }
    }

    /// The Scan request for one page of `segment`.
    func scanRequest(segment: Int, startKey: JSONValue?) -> JSONValue {
        var members = [JSONMember("TableName", .string(options.table))]
        if options.segments > 1 {
            members.append(JSONMember("Segment", .number(String(segment))))
            members.append(JSONMember("TotalSegments", .number(String(options.segments))))
        }
        if let index = options.indexName { members.append(JSONMember("IndexName", .string(index))) }
        if let filter = options.filter { members.append(JSONMember("FilterExpression", .string(filter))) }
        if let projection = options.projection { members.append(JSONMember("ProjectionExpression", .string(projection))) }
        if !options.names.isEmpty {
            members.append(JSONMember("ExpressionAttributeNames", .object(options.names.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })))
        }
        if options.values.count > 0, let values = Self.typedJSON(options.values) {
            members.append(JSONMember("ExpressionAttributeValues", values))
        }
        if let limit = options.pageLimit { members.append(JSONMember("Limit", .number(String(limit)))) }
        if options.consistentRead { members.append(JSONMember("ConsistentRead", .bool(true))) }
        members.append(JSONMember("ReturnConsumedCapacity", .string("TOTAL")))
        if let startKey { members.append(JSONMember("ExclusiveStartKey", startKey)) }
        return .object(members)
    }

    static func typedJSON(_ map: AttributeMap) -> JSONValue? {
        let out = ByteBuffer(capacity: 256)
        ItemEncoder.writeTypedMap(map, into: out)
        return try? JSONValue.parse(out.array)
    }

    /// Appends one page's items as lines to `out`.
    func writeLines(_ items: [JSONValue], into out: ByteBuffer) throws {
        let decoder = ItemDecoder(spelling: .typed)
        for item in items {
            switch options.format {
            case .typed:
                out.append("{\"Item\":")
                item.write(into: out)
                out.append("}\n")
            case .plain:
                let typed = ByteBuffer(capacity: 256)
                item.write(into: typed)
                let decoded = try typed.array.withUnsafeBytes { try decoder.decodeItem($0) }
                ItemEncoder.writePlain(decoded, into: out)
                out.append(UInt8(ascii: "\n"))
            }
        }
    }

    /// Exports to `sink` with no checkpoint: every segment from its start.
    public func export(to sink: ByteSink) throws -> Summary {
        let lock = NSLock()
        return try run(state: ExportCheckpoint(table: options.table, segments: options.segments, format: options.format.rawValue)) { bytes, _ in
            lock.lock()
            defer { lock.unlock() }
            try bytes.withUnsafeBytes { try sink.write($0) }
        }
    }

    /// Exports to the file at `path`, resumable through the checkpoint at `checkpointPath`:
    /// a checkpoint from a killed run makes this one truncate the file to the length
    /// it committed and go on from each segment's last key.
    public func export(toFile path: String, checkpointPath: String, endpoint: String) throws -> Summary {
        var state = try ExportCheckpoint.read(path: checkpointPath)
            ?? ExportCheckpoint(table: options.table, segments: options.segments, format: options.format.rawValue)
        try state.check(table: options.table, segments: options.segments, format: options.format.rawValue, path: checkpointPath)
        if state.complete {
            var summary = Summary()
            summary.alreadyComplete = true
            summary.resumedItems = state.items
            return summary
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RemoteExportError.output(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw RemoteExportError.output(path: path, reason: String(cString: strerror(errno))) }
        if Int(info.st_size) < state.outputBytes {
            throw RemoteExportError.outputShorterThanCheckpoint(path: path, size: Int(info.st_size), committed: state.outputBytes, checkpoint: checkpointPath)
        }
        // Bytes past the committed length are a killed run's page without its checkpoint.
        guard ftruncate(fd, off_t(state.outputBytes)) == 0, lseek(fd, 0, SEEK_END) >= 0 else {
            throw RemoteExportError.output(path: path, reason: String(cString: strerror(errno)))
        }
        let sink = FileSink(descriptor: fd, name: path)
        let lock = NSLock()
        let resumed = state.items
        var shared = state
        var pagesWritten = 0
        let killAfter = options.killAfterPages
        var summary = try run(state: state) { bytes, update in
            lock.lock()
            defer { lock.unlock() }
            try bytes.withUnsafeBytes { try sink.write($0) }
            guard fsync(fd) == 0 else { throw RemoteExportError.output(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
            pagesWritten += 1
            if let killAfter, pagesWritten >= killAfter { kill(getpid(), SIGKILL) }
            shared.outputBytes += bytes.count
            update(&shared)
            try shared.write(path: checkpointPath, endpoint: endpoint)
        }
        shared.complete = true
        try shared.write(path: checkpointPath, endpoint: endpoint)
        summary.resumedItems = resumed
        return summary
    }

    /// Runs every unfinished segment on its own thread. `commit` gets each page's bytes
    /// and a function that records the page in the checkpoint state.
    private func run(state: ExportCheckpoint,
                     commit: @escaping (_ bytes: [UInt8], _ update: (inout ExportCheckpoint) -> Void) throws -> Void) throws -> Summary {
        let shared = SegmentRun()
        let commit = PageCommit(commit)
        let group = DispatchGroup()
        for segment in 0..<options.segments where !state.segmentsDone[segment] {
            group.enter()
            let start = state.lastKeys[segment]
            let thread = Thread { [self] in
                defer { group.leave() }
                do {
                    try scanSegment(segment, from: start, shared: shared, commit: commit.body)
                } catch {
                    shared.fail(error)
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if let error = shared.failure { throw error }
        return shared.summary
    }

    private func scanSegment(_ segment: Int, from start: JSONValue?, shared: SegmentRun,
                             commit: (_ bytes: [UInt8], _ update: (inout ExportCheckpoint) -> Void) throws -> Void) throws {
        var startKey = start
        while true {
            if shared.failure != nil { return }   // another segment failed: stop soon
            limiter?.acquire()
            let page = try api.call("Scan", scanRequest(segment: segment, startKey: startKey))
            let consumed = page["ConsumedCapacity"]?["CapacityUnits"]?.numberText.flatMap(Double.init) ?? 0
            limiter?.charge(consumed)
            let items = page["Items"]?.arrayValue ?? []
            let out = ByteBuffer(capacity: 64 << 10)
            try writeLines(items, into: out)
            let next = page["LastEvaluatedKey"]
            let count = items.count
            try commit(out.array) { state in
                state.items += count
                state.lastKeys[segment] = next
                state.segmentsDone[segment] = next == nil
            }
            shared.add(items: count, consumed: consumed)
            guard let next else { return }
            startKey = next
        }
    }
}

/// The page-commit closure, handed to the segment threads; it takes its own lock.
private final class PageCommit: @unchecked Sendable {
    let body: (_ bytes: [UInt8], _ update: (inout ExportCheckpoint) -> Void) throws -> Void
    init(_ body: @escaping (_ bytes: [UInt8], _ update: (inout ExportCheckpoint) -> Void) throws -> Void) { self.body = body }
}

/// What the segment threads share: the first failure and the running totals, under a lock.
private final class SegmentRun: @unchecked Sendable {
    private let lock = NSLock()
    private var firstFailure: Error?
    private var totals = RemoteTableExporter.Summary()

    var failure: Error? { lock.lock(); defer { lock.unlock() }; return firstFailure }
    var summary: RemoteTableExporter.Summary { lock.lock(); defer { lock.unlock() }; return totals }

    func fail(_ error: Error) {
        lock.lock(); defer { lock.unlock() }
        if firstFailure == nil { firstFailure = error }
    }

    func add(items: Int, consumed: Double) {
        lock.lock(); defer { lock.unlock() }
        totals.items += items
        totals.pages += 1
        totals.consumedRCU += consumed
    }
}

public enum RemoteExportError: Error, CustomStringConvertible, Equatable {
    case output(path: String, reason: String)
    case outputShorterThanCheckpoint(path: String, size: Int, committed: Int, checkpoint: String)
    case checkpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case let .output(path, reason): return "\(path): \(reason)"
        case let .outputShorterThanCheckpoint(path, size, committed, checkpoint):
            return "\(path) has \(size) bytes but \(checkpoint) committed \(committed): the output was replaced or cut; nothing was written (use a new --checkpoint file to export from the start)"
        case let .checkpoint(path, reason): return "\(path): \(reason)"
        }
    }
}

/// The export checkpoint file (docs/checkpoint-format.md, "Export checkpoints").
struct ExportCheckpoint: Equatable {
    static let name = "ferry:export-checkpoint"
    var table: String
    var segments: Int
    var format: String
    var outputBytes = 0
    var items = 0
    var complete = false
    var lastKeys: [JSONValue?]
    var segmentsDone: [Bool]

    init(table: String, segments: Int, format: String) {
        self.table = table
        self.segments = segments
        self.format = format
        lastKeys = Array(repeating: nil, count: segments)
        segmentsDone = Array(repeating: false, count: segments)
    }

    func check(table: String, segments: Int, format: String, path: String) throws {
        func fail(_ what: String) -> RemoteExportError {
            .checkpoint(path: path, reason: "this checkpoint is of \(what); give the same options to resume, or a new --checkpoint file")
        }
        if self.table != table { throw fail("table '\(self.table)', not '\(table)'") }
        if self.segments != segments { throw fail("\(self.segments) segments, not \(segments)") }
        if self.format != format { throw fail("the \(self.format) format, not \(format)") }
    }

    static func read(path: String) throws -> ExportCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        func bad(_ why: String) -> RemoteExportError { .checkpoint(path: path, reason: "not an export checkpoint: \(why)") }
        let bytes: [UInt8]
        do { bytes = try FileSource(path: path).readAll(limit: 64 << 20) } catch { throw RemoteExportError.checkpoint(path: path, reason: "\(error)") }
        guard let json = try? JSONValue.parse(bytes), let body = json[name] else { throw bad("no \(name) object") }
        guard body["version"]?.numberText == "1" else { throw bad("version \(body["version"]?.numberText ?? "missing") (this Ferry reads 1)") }
        guard let table = body["table"]?.stringValue, let segments = body["segments"]?.numberText.flatMap(Int.init), segments >= 1,
              let format = body["format"]?.stringValue, let bytesText = body["outputBytes"]?.numberText, let outputBytes = Int(bytesText),
              let items = body["items"]?.numberText.flatMap(Int.init), let list = body["state"]?.arrayValue, list.count == segments else {
            throw bad("a field is missing or wrong")
        }
        var state = ExportCheckpoint(table: table, segments: segments, format: format)
        state.outputBytes = outputBytes
        state.items = items
        state.complete = body["complete"]?.boolValue ?? false
        for (i, entry) in list.enumerated() {
            guard let done = entry["done"]?.boolValue else { throw bad("segment \(i) has no done flag") }
            state.segmentsDone[i] = done
            if let key = entry["lastKey"], key != .null { state.lastKeys[i] = key }
        }
        return state
    }

    func write(path: String, endpoint: String) throws {
        let body = JSONValue.object([
            JSONMember("version", .number("1")),
            JSONMember("table", .string(table)),
            JSONMember("endpoint", .string(endpoint)),
            JSONMember("segments", .number(String(segments))),
            JSONMember("format", .string(format)),
            JSONMember("outputBytes", .number(String(outputBytes))),
            JSONMember("items", .number(String(items))),
            JSONMember("complete", .bool(complete)),
            JSONMember("state", .array((0..<segments).map { i in
                .object([JSONMember("segment", .number(String(i))), JSONMember("done", .bool(segmentsDone[i])),
                         JSONMember("lastKey", lastKeys[i] ?? .null)])
            })),
        ])
        let text = Array((JSONValue.object([JSONMember(Self.name, body)]).jsonText + "\n").utf8)
        do {
            try Directory.writeAtomically(path: path, text)
        } catch {
            throw RemoteExportError.checkpoint(path: path, reason: "cannot be written: \(error)")
        }
    }
}
