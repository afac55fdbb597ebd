#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import FerryExpressions
import FerryIO
import FerryTable
import FerryValues

/// Writes a table (or an index) from one snapshot as NDJSON or CSV (docs/ferry-export.md).
/// Scan segments run on their own threads; output keeps scan order (segment 0 first).
/// Without a filter or projection, typed lines are the stored bytes copied through.
public final class TableExporter: @unchecked Sendable {   // immutable after init; the snapshot is shared read-only
    public enum Format: String, Sendable { case typed, plain, csv }

    public struct Options: Sendable {
        public var indexName: String? = nil
        public var filter: ConditionExpression? = nil
        public var projection: ProjectionExpression? = nil
        public var format = Format.typed
        /// CSV columns; nil: the key attributes, then every other name, sorted.
        public var columns: [String]? = nil
        public var segments = 1
        public init() {}
    }

    public let table: Table
    public let snapshot: StoreSnapshot
    public let options: Options

    public init(table: Table, options: Options) {
        self.table = table
        self.snapshot = table.snapshot()
        self.options = options
    }

    /// True when lines are the stored maps copied through.
    private var copiesStoredBytes: Bool { options.format == .typed && options.filter == nil && options.projection == nil }

    /// Writes segment `segment` of `total` as lines into `out`; returns the item count and
    /// the sum of the items' DynamoDB sizes.
    public func writeSegment(_ segment: Int, of total: Int, into out: OutputWriter, columns: [String] = [],
                             cancel: SegmentCancellation? = nil) throws -> (items: Int, bytes: Int) {
        var count = 0, size = 0
        let decoder = ItemDecoder(spelling: .typed)
        let buffer = out.buffer
        try table.forEachStored(indexName: options.indexName, segment: segment, of: total, in: snapshot) { stored in
            if let cancel, cancel.isCancelled { throw SegmentCancellation.Stopped() }
            if copiesStoredBytes {
                buffer.append("{\"Item\":")
                buffer.append(stored)
                buffer.append("}\n")
                count += 1
                size += stored.count
                try out.recordEnded()
                return
            }
            var item = try decoder.decodeItem(stored)
            if let filter = options.filter, try !filter.evaluate(item) { return }
            if let projection = options.projection { item = projection.apply(to: item) }
            switch options.format {
            case .typed: ItemEncoder.writeTyped(item, into: buffer)
            case .plain: ItemEncoder.writePlain(item, into: buffer)
            case .csv: CSVWriter.writeRow(item, columns: columns, into: buffer)
            }
            buffer.append(UInt8(ascii: "\n"))
            count += 1
            size += ItemRules.size(of: item)
            try out.recordEnded()
        }
        return (count, size)
    }

    /// The CSV header: every attribute name the exported items have (one pass over the
    /// snapshot), key attributes first, the rest in UTF-8 order.
    public func csvColumns() throws -> [String] {
        if let columns = options.columns { return columns }
        var names: Set<String> = []
        let decoder = ItemDecoder(spelling: .typed)
        try table.forEachStored(indexName: options.indexName, in: snapshot) { stored in
            var item = try decoder.decodeItem(stored)
            if let filter = options.filter, try !filter.evaluate(item) { return }
            if let projection = options.projection { item = projection.apply(to: item) }
            for name in item.names { names.insert(name) }
        }
        var keys = table.schema.attributes.map(\.name)
        if let name = options.indexName, let index = table.description.index(named: name) {
            keys = index.keySchema.attributes.map(\.name) + keys.filter { k in !index.keySchema.attributes.contains { $0.name == k } }
        }
        keys = keys.filter { names.contains($0) }
        return keys + names.subtracting(keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Writes everything to `sink` in scan order; returns the item count. With several
    /// segments, segment 0 is written straight to `sink` while the others are scanned on
    /// their own threads into temporary files, appended in order after it. When `sink`
    /// fails (a closed pipe: `ferry-export | head`), every segment stops at once.
    @discardableResult
    public func export(to sink: ByteSink) throws -> Int {
        let out = OutputWriter(sink: sink)
        var columns: [String] = []
        if options.format == .csv {
            columns = try csvColumns()
            CSVWriter.writeHeader(columns, into: out.buffer)
        }
        let total = max(1, options.segments)
        if total == 1 {
            let (count, _) = try writeSegment(0, of: 1, into: out, columns: columns)
            try out.flush()
            return count
        }
        let fixedColumns = columns
        let rest = SegmentRunner(segments: Array(1..<total)) { segment, file, cancel in
            let writer = OutputWriter(sink: file)
            let r = try self.writeSegment(segment, of: total, into: writer, columns: fixedColumns, cancel: cancel)
            try writer.flush()
            return r
        }
        defer { rest.stop() }
        var count = try writeSegment(0, of: total, into: out, columns: columns).items
        try out.flush()
        for segment in 1..<total {
            let (path, r) = try rest.result(of: segment)
            let source = try FileSource(path: path)
            try source.forEachChunk { try sink.write($0) }
            count += r.items
        }
        return count
    }

    /// Runs `body` for each segment on its own thread with a temporary file; returns the
    /// files (in segment order) and what each body returned. On any error every file is
    /// removed and the first error thrown.
    func runSegments(_ total: Int, _ body: @escaping @Sendable (Int, FileSink) throws -> (items: Int, bytes: Int)) throws -> [(String, (items: Int, bytes: Int))] {
        let runner = SegmentRunner(segments: Array(0..<total)) { segment, file, _ in try body(segment, file) }
        do {
            let out = try (0..<total).map { try runner.result(of: $0) }
            runner.release()
            return out
        } catch {
            runner.stop()
            throw error
        }
    }
}

/// A flag segment scans check between items, set when their output is no longer wanted.
/// Thread-safe.
public final class SegmentCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
    public func cancel() { flag.store(true, ordering: .relaxed) }
    struct Stopped: Error {}
}

/// Scans segments on their own threads into temporary files (mode 0600, in $TMPDIR) and
/// hands each result out in turn. `stop()` cancels what still runs, waits for it and
/// removes every file; `release()` leaves the files to the caller. Not thread-safe
/// itself (one caller); its threads report through a lock.
final class SegmentRunner: @unchecked Sendable {
    private let paths: [Int: String]
    private let results: SegmentResults
    private let group = DispatchGroup()
    let cancellation = SegmentCancellation()
    private var released = false

    init(segments: [Int], _ body: @escaping @Sendable (Int, FileSink, SegmentCancellation) throws -> (items: Int, bytes: Int)) {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var paths: [Int: String] = [:]
        for segment in segments { paths[segment] = "\(folder)/.ferry-export-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(segment)" }
        self.paths = paths
        results = SegmentResults(count: (segments.max() ?? 0) + 1)
        let cancel = cancellation
        for segment in segments {
            guard let path = paths[segment] else { continue }
            group.enter()
            let results = self.results, group = self.group
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let sink = try FileSink(path: path, mode: 0o600)
                    let r = try body(segment, sink, cancel)
                    try sink.finish()
                    results.set(segment, .success(r))
                } catch {
                    results.set(segment, .failure(error))
                }
            }
        }
    }

    /// Waits for `segment`: its file and result, or its error.
    func result(of segment: Int) throws -> (String, (items: Int, bytes: Int)) {
        guard let path = paths[segment] else { throw ExtractError.badOption("segment \(segment) was not started") }
        switch results.wait(segment) {
        case let .success(r): return (path, r)
        case let .failure(error): throw error
        }
    }

    /// The files are the caller's now (and removed by it).
    func release() {
        group.wait()
        released = true
    }

    func stop() {
        guard !released else { return }
        released = true
        cancellation.cancel()
        group.wait()
        paths.values.forEach { Syscall.unlink($0) }
    }
}

/// Per-segment results written by worker threads; `wait` blocks until one is there.
final class SegmentResults: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [Result<(items: Int, bytes: Int), Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<(items: Int, bytes: Int), Error>) {
        condition.lock()
        values[i] = value
        condition.broadcast()
        condition.unlock()
    }
    func wait(_ i: Int) -> Result<(items: Int, bytes: Int), Error> {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value = values[i] { return value }
            condition.wait()
        }
    }
}

/// CSV as DynamoDB's import reads it (docs/ferry-extract.md): strings, numbers and
/// booleans as their text, binaries as base64, NULL empty, other types as their typed
/// JSON; fields quoted when they hold a comma, quote or line break.
enum CSVWriter {
    static func writeHeader(_ columns: [String], into out: ByteBuffer) {
        for (i, name) in columns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeField(name, into: out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    static func writeRow(_ item: Item, columns: [String], into out: ByteBuffer) {
        for (i, name) in columns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let value = item[name] else { continue }
            switch value {
            case let .s(s): writeField(s, into: out)
            case let .n(n): out.append(n.description)
            case let .bool(b): out.append(b ? "true" : "false")
            case let .b(bytes): out.append(Base64.encode(bytes))
            case .null: break
            default:
                let json = ByteBuffer(capacity: 64)
                ItemEncoder.writeTypedValue(value, into: json)
                writeField(String(decoding: json.bytes, as: UTF8.self), into: out)
            }
        }
    }

    static func writeField(_ text: String, into out: ByteBuffer) {
        let needsQuotes = text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { out.append(text); return }
        out.append(UInt8(ascii: "\""))
        out.append(text.replacingOccurrences(of: "\"", with: "\"\""))
        out.append(UInt8(ascii: "\""))
    }
}
