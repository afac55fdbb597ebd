import Foundation
import FerryIO
import FerryTable
import FerryValues

/// A table backup (docs/backup-format.md): one NDJSON stream, usually gzip,
///
/// ```
/// {"ferry:backup":{"version":1,"snapshotTime":"…","table":{…DescribeTable's Table…}}}
/// {"Item":{…}}                                   one typed line per item
/// {"ferry:end":{"items":N,"crc32":"89abcdef"}}   CRC-32 of the item lines, each with its \n
/// ```
/// The trailer is the completeness mark: a stream without it, or whose count or CRC
/// differ, is not a backup.
public enum TableBackup {
    public static let version = 1
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
        try out.flush()
        var crc = CRC32()
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
        public var description: TableDescription
        public var snapshotTime: String
    }

    public static func header(_ line: UnsafeRawBufferPointer, source: String) throws -> Header {
        let json: JSONValue
        do { json = try JSONValue.parse(line) } catch { throw BackupError.notABackup(source, reason: "line 1 is not JSON: \(error)") }
        guard let body = json[headerName] else { throw BackupError.notABackup(source, reason: "line 1 is not a ferry:backup header") }
        guard body["version"]?.numberText == String(version) else {
            throw BackupError.notABackup(source, reason: "backup format version \(body["version"]?.jsonText ?? "(none)") is not \(version)")
        }
        guard let table = body["table"] else { throw BackupError.notABackup(source, reason: "the header has no table") }
        return Header(description: try TableDescription(json: table, path: "\(source): header"),
                      snapshotTime: body["snapshotTime"]?.stringValue ?? "")
    }

    /// Checks a trailer against what was read.
    public static func checkTrailer(_ body: JSONValue?, items: Int, crc: UInt32, source: String) throws {
        guard let body else { throw BackupError.truncated(source, items: items) }
        let expectedItems = body["items"]?.numberText.flatMap { Int($0) } ?? -1
        if expectedItems != items { throw BackupError.countMismatch(source, trailer: expectedItems, read: items) }
        let expectedCRC = body["crc32"]?.stringValue ?? ""
        if expectedCRC != String(format: "%08x", crc) { throw BackupError.checksumMismatch(source, trailer: expectedCRC, read: String(format: "%08x", crc)) }
    }
}

public enum BackupError: Error, CustomStringConvertible {
    case notABackup(String, reason: String)
    case truncated(String, items: Int)
    case countMismatch(String, trailer: Int, read: Int)
    case checksumMismatch(String, trailer: String, read: String)
    case badItem(String, line: Int, reason: String)
    case afterTrailer(String, line: Int)

    public var description: String {
        switch self {
        case let .notABackup(source, reason): return "\(source): not a Ferry backup: \(reason)"
        case let .truncated(source, items): return "\(source): truncated: no ferry:end trailer after \(items) items"
        case let .countMismatch(source, trailer, read): return "\(source): the trailer says \(trailer) items, the backup holds \(read)"
        case let .checksumMismatch(source, trailer, read): return "\(source): CRC-32 of the item lines is \(read), the trailer says \(trailer)"
        case let .badItem(source, line, reason): return "\(source):\(line): \(reason)"
        case let .afterTrailer(source, line): return "\(source):\(line): data after the ferry:end trailer"
        }
    }
}

/// Reads a backup stream's first line, then serves the rest of the stream.
public final class HeaderSplitSource: ByteSource {
    public let name: String
    private let upstream: ByteSource
    private var pending: [UInt8]
    private var position = 0
    public let firstLine: [UInt8]
    public var bytesConsumed: Int { upstream.bytesConsumed }

    public init(_ upstream: ByteSource, maxLine: Int = 16 << 20) throws {
        self.upstream = upstream
        name = upstream.name
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                firstLine = Array(buffer[..<newline])
                pending = Array(buffer[(newline + 1)...])
                return
            }
            if buffer.count > maxLine { throw BackupError.notABackup(upstream.name, reason: "line 1 is longer than \(maxLine) bytes") }
            let n = try chunk.withUnsafeMutableBytes { try upstream.read(into: $0) }
            if n == 0 {
                firstLine = buffer
                pending = []
                return
            }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if position < pending.count {
            let n = min(buffer.count, pending.count - position)
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
            position += n
            return n
        }
        return try upstream.read(into: buffer)
    }
}

/// What `ferry-backup --verify` found.
public struct BackupReport: Sendable {
    public var table = ""
    public var snapshotTime = ""
    public var items = 0
    public var bytes = 0
}

extension TableBackup {
    /// Reads a whole backup (gzip CRCs are checked by the decoder as it goes), checks
    /// every item against the schema and DynamoDB's rules, and the trailer.
    public static func verify(_ source: ByteSource, threads: Int) throws -> BackupReport {
        let split = try HeaderSplitSource(InputDecoding.open(source))
        let header = try split.firstLine.withUnsafeBytes { try TableBackup.header($0, source: source.name) }
        var report = BackupReport(table: header.description.name, snapshotTime: header.snapshotTime)
        let schema = header.description.keySchema
        var crc = CRC32()
        var trailer: JSONValue? = nil
        var trailerLine = 0
        let name = source.name
        struct Checked: Sendable {
            var crc = CRC32()
            var items = 0
            var bytes = 0
            var failure: BackupError? = nil
            var trailer: (JSONValue, Int)? = nil
        }
        try ParallelLineProcessor.run(
            source: split, threads: threads,
            makeWorker: {
                let decoder = ItemDecoder(spelling: .typed)
                return { block -> Checked in
                    var out = Checked()
                    if let line = block.overlongLine {
                        out.failure = .badItem(name, line: line + 1, reason: "line is longer than the limit")
                        return out
                    }
                    block.forEachLine { line, number in
                        guard out.failure == nil else { return }
                        do {
                            switch try decoder.decodeRecord(line) {
                            case let .item(item):
                                guard out.trailer == nil else { out.failure = .afterTrailer(name, line: number + 1); return }
                                try schema.validateKey(of: item)
                                _ = try ItemRules.validate(item)
                                out.crc.update(line)
                                withUnsafeBytes(of: UInt8(0x0A)) { out.crc.update($0) }
                                out.items += 1
                                out.bytes += line.count + 1
                            case let .control(controlName, body):
                                if controlName == TableBackup.trailerName, out.trailer == nil { out.trailer = (body[controlName] ?? .null, number + 1) }
                                else { out.failure = .badItem(name, line: number + 1, reason: "unexpected \(controlName) line") }
                            }
                        } catch {
                            out.failure = .badItem(name, line: number + 1, reason: rejectReason(error))
                        }
                    }
                    return out
                }
            },
            consume: { (checked: Checked) in
                if let failure = checked.failure { throw failure }
                if checked.items > 0 {
                    if trailer != nil { throw BackupError.afterTrailer(name, line: trailerLine + 1) }
                    crc.combine(checked.crc, length: checked.bytes)
                }
                report.items += checked.items
                report.bytes += checked.bytes
                if let (body, line) = checked.trailer {
                    if trailer != nil { throw BackupError.afterTrailer(name, line: line) }
                    trailer = body
                    trailerLine = line
                }
            })
        try checkTrailer(trailer, items: report.items, crc: crc.value, source: name)
        return report
    }
}
