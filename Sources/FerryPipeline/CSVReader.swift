import FerryIO
import FerryValues

/// CSV as DynamoDB's import from S3 reads it (docs/ferry-extract.md): a header line
/// (or names given with `--header`), one delimiter of `, ; : | tab space`, fields in
/// double quotes where needed with `""` for a quote, quoted fields may span lines.
/// Values are strings unless `--types` names another type for the column.
public struct CSVOptions: Sendable {
    public var delimiter: UInt8
    /// Column names given on the command line; nil: the first line of each object.
    public var header: [String]?
    /// Column types other than S: N, B (base64), BOOL, NULL.
    public var types: [String: String]

    public init(delimiter: UInt8 = UInt8(ascii: ","), header: [String]? = nil, types: [String: String] = [:]) {
        self.delimiter = delimiter
        self.header = header
        self.types = types
    }

    /// The delimiters DynamoDB's import accepts, by the names the option takes.
    public static func delimiter(named name: String) -> UInt8? {
        switch name {
        case ",", "comma": return UInt8(ascii: ",")
        case ";", "semicolon": return UInt8(ascii: ";")
        case ":", "colon": return UInt8(ascii: ":")
        case "|", "pipe": return UInt8(ascii: "|")
        case "tab", "\t", "\\t": return 0x09
        case "space", " ": return 0x20
        default: return nil
        }
    }

    public static let columnTypes: Set<String> = ["S", "N", "B", "BOOL", "NULL"]

    /// Parses `--types price:N,active:BOOL`.
    public static func parseTypes(_ text: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, !pieces[0].isEmpty, columnTypes.contains(pieces[1].uppercased()) else {
                throw ExtractError.badOption("--types: '\(part)' is not name:TYPE with TYPE one of S, N, B, BOOL, NULL")
            }
            out[pieces[0]] = pieces[1].uppercased()
        }
        return out
    }
}

/// Reads CSV records from a byte stream in one pass (RFC 4180, read as Python's `csv`
/// module reads it with `strict=True`; the differential test holds the two together):
///
/// - records end at `\n`, `\r\n` or a lone `\r` outside quotes;
/// - a field that starts with `"` is quoted: every byte up to the closing `"` is data
///   (delimiters, line ends, `\r\n` and blank lines included), `""` is one `"`, and only
///   a delimiter or a line end may follow the closing quote;
/// - a `"` inside an unquoted field is an ordinary character;
/// - lines that are empty, or hold only spaces and tabs outside quotes, are skipped
///   (Python returns them as rows; Ferry counts them as blank lines, as in JSON lines);
/// - a record over `maxRecordBytes` (16 MiB, the JSON lines limit) is rejected and
///   reading goes on after it, without holding more than the limit in memory;
/// - fields must be UTF-8: a record with a byte that is not is rejected naming the line
///   and column (`--encoding latin1|cp1252` converts such input before it gets here).
///
/// Time is linear in the input: each byte is looked at once. Not thread-safe.
final class CSVReader {
    struct Row {
        var fields: [String]
        /// The record's first line.
        var line: Int
        /// The record as read (for the rejects file); empty for one over the limit.
        var text: [UInt8]
    }

    private let source: ByteSource
    private let delimiter: UInt8
    let maxRecordBytes: Int
    private let buffer: UnsafeMutableRawBufferPointer
    private var position = 0
    private var end = 0
    private var atEnd = false
    /// The line the next record starts on (1-based).
    private var nextLine = 1
    /// Set when the last byte of a buffer was a `\r` ending a record: a `\n` first in
    /// the next buffer belongs to it.
    private var pendingCR = false
    /// Set when a quoted field's `\r` was a buffer's last byte.
    private var quotedCR = false

    // The record being read. Byte buffers held by `let` (appends are copies into their
    // storage, with no exclusivity checks per call); the loop itself runs on locals.
    private let raw = ByteBuffer(capacity: 4096)
    private let fieldBytes = ByteBuffer(capacity: 4096)
    private var fieldEnds: [Int] = []
    private var fieldsSeen = 0
    private var overlong = false
    private var tooManyFields = false

    init(source: ByteSource, delimiter: UInt8, maxRecordBytes: Int = LineReader.defaultMaxLineLength, bufferSize: Int = 1 << 20) {
        self.source = source
        self.delimiter = delimiter
        self.maxRecordBytes = maxRecordBytes
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    private func fill() throws -> Bool {
        guard !atEnd else { return false }
        let n = try source.read(into: buffer)
        position = 0
        end = n
        if n == 0 { atEnd = true }
        return n > 0
    }

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    /// The next record; throws `ExtractError.badRecord` for one that cannot be read (an
    /// unterminated quote, text after a closing quote, invalid UTF-8, over the limit),
    /// after which reading goes on with the next record. Nil at the end.
    func next() throws -> Row? {
        while true {
            raw.removeAll()
            fieldBytes.removeAll()
            fieldEnds.removeAll(keepingCapacity: true)
            fieldsSeen = 0
            overlong = false
            tooManyFields = false
            let firstLine = nextLine
            var failure: String? = nil
            guard try readRecord(&failure) else { return nil }
            if let failure {
                throw ExtractError.badRecord(line: firstLine, reason: failure, text: overlong ? [] : raw.array)
            }
            if tooManyFields {
                throw ExtractError.badRecord(line: firstLine, reason: "the record has more than \(Self.maxFields) fields", text: [])
            }
            if overlong {
                throw ExtractError.badRecord(line: firstLine, reason: "the record is longer than the limit of \(maxRecordBytes) bytes", text: [])
            }
            // Blank: nothing, or one unquoted field of spaces and tabs.
            if fieldEnds.count == 1, raw.bytes.first != UInt8(ascii: "\""), fieldBytes.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let text = raw.array
            if let bad = UTF8Text.firstInvalidByte(text) {
                let (line, column) = Self.position(of: bad, in: text, from: firstLine)
                throw ExtractError.badRecord(line: firstLine, reason: "line \(line), column \(column): byte 0x\(String(text[bad], radix: 16, uppercase: true)) is not UTF-8 (pass --encoding latin1 or cp1252 if the file is not UTF-8)", text: text)
            }
            var fields: [String] = []
            fields.reserveCapacity(fieldEnds.count)
            let bytes = fieldBytes.bytes
            var start = 0
            for stop in fieldEnds {
                fields.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self))
                start = stop
            }
            return Row(fields: fields, line: firstLine, text: text)
        }
    }

    /// Reads bytes up to the end of one record into `raw`, `fieldBytes` and `fieldEnds`.
    /// False at the end of the input with nothing read.
    private func readRecord(_ failure: inout String?) throws -> Bool {
        var state = State.fieldStart
        var sawAnything = false
        let quote = UInt8(ascii: "\"")
        let delimiter = self.delimiter
        let base = UnsafeRawPointer(buffer.baseAddress!)
        // The hot state lives in locals; `save()` writes it back before anything that
        // reads it through `self` (fill, the end of the record).
        var pos = position, lim = end, line = nextLine, qCR = quotedCR
        func save() { position = pos; end = lim; nextLine = line; quotedCR = qCR }
        while true {
            if pos >= lim {
                save()
                guard try fill() else {
                    // End of input.
                    if !sawAnything { return false }
                    if state == .quoted {
                        failure = failure ?? "a quoted field is not closed before the end of the object"
                    } else {
                        endField()
                    }
                    return true
                }
                pos = position; lim = end
                if pendingCR {
                    pendingCR = false
                    if base.load(as: UInt8.self) == 0x0A { pos = 1; continue }
                }
            }
            switch state {
            case .fieldStart:
                if base.load(fromByteOffset: pos, as: UInt8.self) == quote {
                    sawAnything = true
                    keep(base + pos, 1)
                    pos += 1
                    state = .quoted
                    continue
                }
                state = .unquoted
                fallthrough
            case .unquoted:
                // A run of ordinary bytes, copied at once.
                var i = pos
                while i < lim {
                    let b = base.load(fromByteOffset: i, as: UInt8.self)
                    if b == delimiter || b == 0x0A || b == 0x0D { break }
                    i += 1
                }
                if i > pos {
                    sawAnything = true
                    keep(base + pos, i - pos)
                    keepField(base + pos, i - pos)
                }
                pos = i
                if i == lim { continue }
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                sawAnything = true
                pos = i + 1
                endField()
                if b == delimiter {
                    keep(base + i, 1)
                    state = .fieldStart
                    continue
                }
                line += 1
                save()
                endLine(b)   // the line end is not part of the record's text
                return true
            case .quoted:
                var i = pos
                // Lines inside the field count too: `\n`, and a `\r` not before a `\n`
                // (decided in the next buffer when it is a buffer's last byte).
                if qCR {
                    qCR = false
                    if base.load(fromByteOffset: i, as: UInt8.self) != 0x0A { line += 1 }
                }
                while i < lim {
                    let b = base.load(fromByteOffset: i, as: UInt8.self)
                    if b == quote { break }
                    if b == 0x0A {
                        line += 1
                    } else if b == 0x0D {
                        if i + 1 >= lim { qCR = true } else if base.load(fromByteOffset: i + 1, as: UInt8.self) != 0x0A { line += 1 }
                    }
                    i += 1
                }
                if i > pos {
                    keep(base + pos, i - pos)
                    keepField(base + pos, i - pos)
                }
                pos = i
                if i == lim { continue }
                keep(base + i, 1)
                pos = i + 1
                state = .quoteInQuoted
            case .quoteInQuoted:
                let b = base.load(fromByteOffset: pos, as: UInt8.self)
                if b == quote {
                    keep(base + pos, 1)
                    keepField(base + pos, 1)
                    pos += 1
                    state = .quoted
                    continue
                }
                if b == delimiter {
                    endField()
                    keep(base + pos, 1)
                    pos += 1
                    state = .fieldStart
                    continue
                }
                if b == 0x0A || b == 0x0D {
                    endField()
                    pos += 1
                    line += 1
                    save()
                    endLine(b)
                    return true
                }
                // Text after the closing quote: the record is bad; read on to its end.
                failure = failure ?? "field \(fieldsSeen + 1): text after a closing quote"
                state = .unquoted
            }
        }
    }

    /// After a record's line end `b` (counted by the caller): a `\n` after a `\r` goes
    /// with it, now or first in the next buffer.
    private func endLine(_ b: UInt8) {
        guard b == 0x0D else { return }
        if position < end {
            if buffer[position] == 0x0A { position += 1 }
        } else {
            pendingCR = true
        }
    }

    /// Ends a field. Past `maxFields` the record is refused like an over-long one (a
    /// record of 16 MiB of commas would be 16 million strings), and nothing more is held.
    @inline(__always)
    private func endField() {
        fieldsSeen += 1
        guard !overlong else { return }
        if fieldsSeen > Self.maxFields {
            overlong = true
            tooManyFields = true
            raw.removeAll()
            fieldBytes.removeAll()
            fieldEnds.removeAll()
            return
        }
        fieldEnds.append(fieldBytes.count)
    }

    /// No DynamoDB item of 400 KB can have more attributes than this.
    static let maxFields = 400_000

    @inline(__always)
    private func keep(_ start: UnsafeRawPointer, _ count: Int) {
        guard !overlong else { return }
        if raw.count + count > maxRecordBytes {
            overlong = true
            raw.removeAll()
            fieldBytes.removeAll()
            return
        }
        raw.append(UnsafeRawBufferPointer(start: start, count: count))
    }

    @inline(__always)
    private func keepField(_ start: UnsafeRawPointer, _ count: Int) {
        guard !overlong else { return }
        fieldBytes.append(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// The line and column (1-based, in bytes) of `offset` in a record from `firstLine`.
    private static func position(of offset: Int, in raw: [UInt8], from firstLine: Int) -> (Int, Int) {
        var line = firstLine
        var lineStart = 0
        var i = 0
        while i < offset {
            let b = raw[i]
            if b == 0x0A || (b == 0x0D && (i + 1 >= raw.count || raw[i + 1] != 0x0A)) {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        return (line, offset - lineStart + 1)
    }
}

extension CSVOptions {
    /// The item for one row under `header`: empty fields are left out (an empty value
    /// cannot be a key and DynamoDB's import skips them), other fields typed by `types`.
    /// `header` names are unique (checked when the header is read).
    func item(_ row: CSVReader.Row, header: [String]) throws -> Item {
        guard row.fields.count == header.count else {
            throw ExtractError.badRecord(line: row.line, reason: "the row has \(row.fields.count) fields, the header has \(header.count)", text: row.text)
        }
        var entries: [(name: String, value: AttributeValue)] = []
        entries.reserveCapacity(header.count)
        for (name, text) in zip(header, row.fields) where !text.isEmpty {
            let value: AttributeValue
            switch types[name] ?? "S" {
            case "N":
                do { value = .n(try DynamoNumber(text)) } catch {
                    throw ExtractError.badRecord(line: row.line, reason: "column \(name): '\(text)' is not a number", text: row.text)
                }
            case "B":
                guard let bytes = Base64.decode(text) else {
                    throw ExtractError.badRecord(line: row.line, reason: "column \(name): '\(text)' is not base64", text: row.text)
                }
                value = .b(bytes)
            case "BOOL":
                switch text.lowercased() {
                case "true": value = .bool(true)
                case "false": value = .bool(false)
                default: throw ExtractError.badRecord(line: row.line, reason: "column \(name): '\(text)' is not true or false", text: row.text)
                }
            case "NULL": value = .null
            default: value = .s(text)
            }
            entries.append((name, value))
        }
        return Item(uniqueEntries: entries)
    }

    /// Checks a header row: names present and unique (a set, so 40,000 columns cost no
    /// more than 40,000 lookups).
    static func checkHeader(_ row: CSVReader.Row) throws {
        var seen: [String: Int] = [:]
        for (i, name) in row.fields.enumerated() {
            if name.isEmpty {
                throw ExtractError.badRecord(line: row.line, reason: "the header's column \(i + 1) has no name", text: row.text)
            }
            if let first = seen[name] {
                throw ExtractError.badRecord(line: row.line, reason: "the header names column '\(name)' twice (columns \(first + 1) and \(i + 1))", text: row.text)
            }
            seen[name] = i
        }
    }
}
