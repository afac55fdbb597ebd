import FerryIO
import FerryValues

/// CSV as DynamoDB's import from S3 reads it (docs/extract-formats.md): a header line
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

/// Reads CSV records one at a time from a line reader.
final class CSVReader {
    struct Row {
        var fields: [String]
        /// The record's first line.
        var line: Int
        /// The record as read (for the rejects file).
        var text: [UInt8]
    }

    private let lines: LineReader
    private let delimiter: UInt8

    init(_ lines: LineReader, delimiter: UInt8) {
        self.lines = lines
        self.delimiter = delimiter
    }

    /// The next record; throws `ExtractError.badRecord` for one that cannot be split
    /// (an unterminated quote), after which reading goes on.
    func next() throws -> Row? {
        guard let first = try lines.next() else { return nil }
        var text = Array(first)
        let firstLine = lines.lineNumber
        while true {
            switch split(text) {
            case let .fields(fields):
                return Row(fields: fields, line: firstLine, text: text)
            case .openQuote:
                let before = lines.lineNumber
                guard let more = try lines.next() else {
                    throw ExtractError.badRecord(line: firstLine, reason: "a quoted field is not closed before the end of the object", text: text)
                }
                // Blank lines inside a quoted field are part of it.
                text.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: lines.lineNumber - before))
                text.append(contentsOf: more)
            case let .malformed(reason):
                throw ExtractError.badRecord(line: firstLine, reason: reason, text: text)
            }
        }
    }

    enum Split {
        case fields([String])
        case openQuote
        case malformed(String)
    }

    func split(_ text: [UInt8]) -> Split {
        var fields: [String] = []
        var field: [UInt8] = []
        var i = 0
        let n = text.count
        while true {
            field.removeAll(keepingCapacity: true)
            if i < n && text[i] == UInt8(ascii: "\"") {
                i += 1
                while true {
                    guard i < n else { return .openQuote }
                    if text[i] == UInt8(ascii: "\"") {
                        if i + 1 < n && text[i + 1] == UInt8(ascii: "\"") {
                            field.append(UInt8(ascii: "\""))
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    field.append(text[i])
                    i += 1
                }
                if i < n && text[i] != delimiter {
                    return .malformed("field \(fields.count + 1): text after a closing quote")
                }
            } else {
                while i < n && text[i] != delimiter {
                    if text[i] == UInt8(ascii: "\"") { return .malformed("field \(fields.count + 1): a quote inside an unquoted field") }
                    field.append(text[i])
                    i += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            if i >= n { return .fields(fields) }
            i += 1   // the delimiter
        }
    }
}

extension CSVOptions {
    /// The item for one row under `header`: empty fields are left out (an empty value
    /// cannot be a key and DynamoDB's import skips them), other fields typed by `types`.
    func item(_ row: CSVReader.Row, header: [String]) throws -> Item {
        guard row.fields.count == header.count else {
            throw ExtractError.badRecord(line: row.line, reason: "the row has \(row.fields.count) fields, the header has \(header.count)", text: row.text)
        }
        var item = Item()
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
            item[name] = value
        }
        return item
    }
}
