import Foundation
import FerryIO
import FerryTable
import FerryValues

/// A table backup (docs/backup-format.md): one NDJSON stream, usually gzip,
///
/// ```
/// {"ferry:backup":{"version":2,"snapshotTime":"…","table":{…DescribeTable's Table…}}}
/// {"Item":{…}}                                   one typed line per item, in key order
/// {"ferry:end":{"items":N,"crc32":"89abcdef"}}   CRC-32 of every line before it
/// ```
/// The trailer is the completeness mark: a stream without it, or whose count or CRC
/// differ, is not a backup. Version 2's CRC covers the header line too and its items
/// are in strictly increasing storage order (so no key is there twice); version 1
/// (CRC of the item lines only, any order) is still read.
public enum TableBackup {
    public static let version = 2
    public static let readableVersions = 1...2
    public static let headerName = "ferry:backup"
    public static let trailerName = "ferry:end"

    /// Writes `table`'s current snapshot; returns the item count.
    @discardableResult
    public static func write(_ table: Table, into sink: ByteSink, snapshotTime: Date = Date()) throws -> Int {
        let snapshot = table.snapshot()
        let out = OutputWriter(sink: sink)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let header = JSONValue.object([JSONMember(headerName, .object([
            JSONMember("version", .number(String(version))),
            JSONMember("snapshotTime", .string(formatter.string(from: snapshotTime))),
            JSONMember("table", table.description.json(counts: nil)),
        ]))])
        header.write(into: out.buffer)
        out.buffer.append(UInt8(ascii: "\n"))
        var crc = CRC32()
        crc.update(out.buffer.bytes)
        try out.flush()
        var count = 0
        try table.forEachStored(in: snapshot) { stored in
            let start = out.buffer.count
            out.buffer.append("{\"Item\":")
            out.buffer.append(stored)
            out.buffer.append("}\n")
            crc.update(UnsafeRawBufferPointer(rebasing: out.buffer.bytes[start...]))
            count += 1
            try out.recordEnded()
        }
        out.buffer.append("{\"ferry:end\":{\"items\":")
        out.buffer.append(decimal: count)
        out.buffer.append(",\"crc32\":\"")
        out.buffer.append(String(format: "%08x", crc.value))
        out.buffer.append("\"}}\n")
        try out.flush()
        return count
    }

    /// The header's members.
    public struct Header: Sendable {
        public var version: Int
        public var description: TableDescription
        public var snapshotTime: String
        /// The header line with its `\n`: version 2's CRC starts with it.
        public var line: [UInt8]
    }

    /// Reads and checks the header line: every member typed and valid (the table
    /// description as strictly as table.json), nothing unknown.
    public static func header(_ line: UnsafeRawBufferPointer, source: String) throws -> Header {
        let json: JSONValue
        do { json = try JSONValue.parse(line) } catch { throw BackupError.notABackup(source, reason: "line 1 is not JSON: \(error)") }
        guard case let .object(members) = json, members.first?.key == headerName else {
            throw BackupError.notABackup(source, reason: "line 1 is not a ferry:backup header")
        }
        do {
            guard members.count == 1 else { throw JSONFieldError(path: members[1].key, problem: "is not a member this format has") }
            guard case .object = members[0].value else { throw JSONFieldError(path: headerName, problem: "is not an object") }
            var body = try JSONFields(members[0].value, path: "")
            let version = try body.int("version", in: 0...Int.max)
            guard readableVersions.contains(version) else {
                throw BackupError.notABackup(source, reason: "backup format version \(version) is not one this Ferry reads (\(readableVersions.lowerBound)-\(readableVersions.upperBound))")
            }
            let time = try body.string("snapshotTime")
            guard isTimestamp(time) else { throw body.error("snapshotTime", "is '\(time)', not a UTC time as 2026-11-23T03:00:00.000Z") }
            guard let table = body.value("table") else { throw body.error("table", "is missing") }
            let description: TableDescription
            do { description = try TableDescription(json: table, path: "header", fields: "table") } catch let TableFileError.invalid(_, reason) {
                throw BackupError.badHeader(source, reason: reason)
            }
            try body.finish()
            return Header(version: version, description: description, snapshotTime: time, line: Array(line) + [0x0A])
        } catch let error as JSONFieldError {
            throw BackupError.badHeader(source, reason: "\(error)")
        }
    }

    /// `2026-11-23T03:00:00.000Z` (fraction optional), as ferry-backup writes it.
    static func isTimestamp(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if formatter.date(from: text) != nil { return true }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text) != nil
    }
}

/// The rules each line of a backup after its header is held to: one code path for
/// `ferry-backup --verify`, `ferry-restore` and a backup fed to `ferry-load`, so what
/// one accepts the others do. Thread-safe (immutable); each thread brings its decoder.
public struct BackupLineRules: Sendable {
    public let header: TableBackup.Header
    let schema: KeySchema

    public init(header: TableBackup.Header) {
        self.header = header
        schema = header.description.keySchema
    }

    public enum Line: Sendable {
        /// An item, with its storage-order key (version 2 checks the order).
        case item(Item, key: [UInt8])
        case trailer(JSONValue)
    }

    /// Checks one line: `{"Item":{…}}` in typed JSON, valid under the table's key schema
    /// and DynamoDB's item rules, or the `ferry:end` trailer. Anything else (a plain
    /// JSON item, a `ferry:delete`, a barrier, another header) is refused.
    public func check(_ line: UnsafeRawBufferPointer, decoder: ItemDecoder) throws -> Line {
        guard line.starts(with: Self.itemPrefix) else {
            let json = try JSONValue.parse(line)   // a JSON error names its column
            guard case let .object(members) = json, let name = members.first?.key, StreamControl.names.contains(name) else {
                throw BackupLineError("neither an item line ({\"Item\":{…}} in typed JSON) nor the ferry:end trailer")
            }
            if members.count > 1 {
                throw BackupLineError("a \(name) line holds \"\(members[1].key)\" beside its \"\(name)\" member")
            }
            guard name == TableBackup.trailerName else { throw BackupLineError("a \(name) line cannot be in a backup") }
            return .trailer(members[0].value)
        }
        let item: Item
        switch try decoder.decodeRecord(line) {
        case let .item(decoded): item = decoded
        case .control: throw BackupLineError("not a backup line")
        }
        try schema.validateKey(of: item)
        try header.description.checkIndexKeys(of: item)
        _ = try ItemRules.validate(item)
        guard let key = StorageOrder.key(of: item, schema: schema) else { throw BackupLineError("the item has no valid key") }
        return .item(item, key: key)
    }

    static let itemPrefix = Array(#"{"Item":{"#.utf8)

    /// Whether an item with these key attributes keeps the backup's own key rules (the
    /// rest of `check` for a line the canonical fast path took).
    public func acceptsKey(_ keyItem: Item) -> Bool {
        (try? schema.validateKey(of: keyItem)) != nil && (try? header.description.checkIndexKeys(of: keyItem)) != nil
    }
}

/// A backup line's fault.
public struct BackupLineError: Error, CustomStringConvertible {
    public let description: String
    init(_ text: String) { description = text }
}

/// What a backup's lines add up to, taken in stream order: the count, the CRC, the key
/// order (version 2) and where the trailer is. Not thread-safe.
public struct BackupTally: Sendable {
    public let header: TableBackup.Header
    public let source: String
    public private(set) var items = 0
    public private(set) var crc = CRC32()
    private var lastKey: [UInt8]? = nil
    /// False once a version 1 stream is seen out of order.
    private var ordered = true
    private var trailer: (body: JSONValue, line: Int)? = nil

    public init(header: TableBackup.Header, source: String) {
        self.header = header
        self.source = source
        if header.version >= 2 { header.line.withUnsafeBytes { crc.update($0) } }
    }

    /// One item line (its bytes without `\n`), line `number` of the stream.
    public mutating func addItem(_ line: UnsafeRawBufferPointer, key: [UInt8], number: Int) throws {
        if trailer != nil { throw BackupError.afterTrailer(source, line: number) }
        try checkOrder(key, number: number)
        crc.update(line)
        withUnsafeBytes(of: UInt8(0x0A)) { crc.update($0) }
        items += 1
    }

    /// A run of item lines checked elsewhere (parallel verify): their CRC over `bytes`
    /// bytes, count, and first and last keys.
    public mutating func addItems(crc blockCRC: CRC32, bytes: Int, count: Int, firstKey: [UInt8]?, lastKey blockLast: [UInt8]?,
                                  firstLine: Int, unordered: Bool = false) throws {
        guard count > 0 else { return }
        if trailer != nil { throw BackupError.afterTrailer(source, line: firstLine) }
        if let firstKey { try checkOrder(firstKey, number: firstLine) }
        if unordered { ordered = false }
        if let blockLast { lastKey = blockLast }
        crc.combine(blockCRC, length: bytes)
        items += count
    }

    private mutating func checkOrder(_ key: [UInt8], number: Int) throws {
        guard ordered else { return }
        if let lastKey, let fault = Self.orderFault(lastKey, key, version: header.version) {
            if fault.isEmpty { ordered = false } else { throw BackupError.badItem(source, line: number, reason: fault) }
        }
        lastKey = key
    }

    /// Key order: version 2 is in strictly increasing storage order; version 1 need not be
    /// (a hand-written one), but while it is, a key given twice shows as two equal
    /// neighbours, as Ferry's own version 1 backups were ordered too. Nil: in order;
    /// empty: a version 1 stream that is not ordered (no more order checks); else the fault.
    public static func orderFault(_ previous: [UInt8], _ key: [UInt8], version: Int) -> String? {
        if previous.lexicographicallyPrecedes(key) { return nil }
        if previous == key { return "the item's key is on an earlier line too" }
        return version >= 2 ? "the item is out of key order" : ""
    }

    public mutating func addTrailer(_ body: JSONValue, number: Int) throws {
        if trailer != nil { throw BackupError.afterTrailer(source, line: number) }
        trailer = (body, number)
    }

    /// Throws unless the trailer was read and holds this count and CRC, and nothing else.
    public func finish() throws {
        guard let trailer else { throw BackupError.truncated(source, items: items) }
        let crcText = String(format: "%08x", crc.value)
        do {
            var fields = try JSONFields(trailer.body, path: "")
            let expectedItems = try fields.int("items")
            let expectedCRC = try fields.string("crc32")
            try fields.finish()
            if expectedItems != items { throw BackupError.countMismatch(source, trailer: expectedItems, read: items) }
            if expectedCRC != crcText {
                let covers = header.version >= 2 ? "the header and item lines" : "the item lines"
                throw BackupError.checksumMismatch(source, trailer: expectedCRC, read: crcText, covers: covers)
            }
        } catch let error as JSONFieldError {
            throw BackupError.badItem(source, line: trailer.line, reason: "ferry:end trailer: \(error)")
        }
    }
}

public enum BackupError: Error, CustomStringConvertible {
    case notABackup(String, reason: String)
    case badHeader(String, reason: String)
    case truncated(String, items: Int)
    case countMismatch(String, trailer: Int, read: Int)
    case checksumMismatch(String, trailer: String, read: String, covers: String)
    case badItem(String, line: Int, reason: String)
    case afterTrailer(String, line: Int)
    case duplicateKeys(String, lines: Int, distinct: Int)

    public var description: String {
        switch self {
        case let .notABackup(source, reason): return "\(source): not a Ferry backup: \(reason)"
        case let .badHeader(source, reason): return "\(source):1: backup header: \(reason)"
        case let .truncated(source, items): return "\(source): truncated: no ferry:end trailer after \(items) items"
        case let .countMismatch(source, trailer, read): return "\(source): the trailer says \(trailer) items, the backup holds \(read)"
        case let .checksumMismatch(source, trailer, read, covers): return "\(source): CRC-32 of \(covers) is \(read), the trailer says \(trailer)"
        case let .badItem(source, line, reason): return "\(source):\(line): \(reason)"
        case let .afterTrailer(source, line): return "\(source):\(line): data after the ferry:end trailer"
        case let .duplicateKeys(source, lines, distinct):
            return "\(source): \(lines) item lines hold only \(distinct) distinct keys (a key is there twice)"
        }
    }
}

/// What `ferry-backup --verify` found.
public struct BackupReport: Sendable {
    public var table = ""
    public var snapshotTime = ""
    public var version = 0
    public var items = 0
    public var bytes = 0
}

extension TableBackup {
    /// Reads a whole backup (gzip CRCs are checked by the decoder as it goes) and holds
    /// every line to `BackupLineRules` and the whole to `BackupTally`, as a restore does.
    public static func verify(_ source: ByteSource, threads: Int) throws -> BackupReport {
        let stream = PeekingSource(try InputDecoding.open(source))
        let header = try stream.firstLine().withUnsafeBytes { try TableBackup.header($0, source: source.name) }
        let rules = BackupLineRules(header: header)
        var tally = BackupTally(header: header, source: source.name)
        var report = BackupReport(table: header.description.name, snapshotTime: header.snapshotTime, version: header.version)
        let name = source.name
        let version = header.version
        struct Checked: Sendable {
            var crc = CRC32()
            var items = 0
            var bytes = 0
            var firstKey: [UInt8]? = nil
            var lastKey: [UInt8]? = nil
            var firstLine = 0
            var unordered = false
            var failure: BackupError? = nil
            var trailer: (JSONValue, Int)? = nil
        }
        try ParallelLineProcessor.run(
            source: stream, threads: threads,
            makeWorker: {
                let decoder = ItemDecoder(spelling: .typed)
                return { block -> Checked in
                    var out = Checked()
                    if let line = block.overlongLine {
                        out.failure = .badItem(name, line: line, reason: "line is longer than the limit of \(LineReader.defaultMaxLineLength) bytes")
                        return out
                    }
                    block.forEachLine { line, number in
                        guard out.failure == nil, number > 1 else { return }
                        do {
                            switch try rules.check(line, decoder: decoder) {
                            case let .item(_, key):
                                if out.trailer != nil { out.failure = .afterTrailer(name, line: number); return }
                                if !out.unordered, let last = out.lastKey, let fault = BackupTally.orderFault(last, key, version: version) {
                                    if fault.isEmpty { out.unordered = true } else {
                                        out.failure = .badItem(name, line: number, reason: fault)
                                        return
                                    }
                                }
                                if out.firstKey == nil { out.firstKey = key; out.firstLine = number }
                                out.lastKey = key
                                out.crc.update(line)
                                withUnsafeBytes(of: UInt8(0x0A)) { out.crc.update($0) }
                                out.items += 1
                                out.bytes += line.count + 1
                            case let .trailer(body):
                                if out.trailer == nil { out.trailer = (body, number) } else { out.failure = .afterTrailer(name, line: number) }
                            }
                        } catch {
                            out.failure = .badItem(name, line: number, reason: rejectReason(error))
                        }
                    }
                    return out
                }
            },
            consume: { (checked: Checked) in
                if let failure = checked.failure {
                    // An item a block found bad may follow a trailer of an earlier block.
                    try tally.addItems(crc: checked.crc, bytes: checked.bytes, count: checked.items, firstKey: checked.firstKey,
                                       lastKey: checked.lastKey, firstLine: checked.firstLine, unordered: checked.unordered)
                    throw failure
                }
                try tally.addItems(crc: checked.crc, bytes: checked.bytes, count: checked.items, firstKey: checked.firstKey,
                                   lastKey: checked.lastKey, firstLine: checked.firstLine, unordered: checked.unordered)
                report.bytes += checked.bytes
                if let (body, line) = checked.trailer { try tally.addTrailer(body, number: line) }
            })
        try tally.finish()
        report.items = tally.items
        return report
    }
}
