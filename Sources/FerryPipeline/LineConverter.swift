import FerryIO
import FerryValues

/// The input formats ferry-extract reads (docs/extract-formats.md).
public enum RecordFormat: String, Sendable, CaseIterable {
    case auto, jsonl
    case dynamodbJSON = "dynamodb-json"
    case csv, datapipeline
    case awsExport = "aws-export"
}

/// How one line-oriented object is read, once its format is known.
enum LineFormat: Sendable, Equatable {
    /// Plain or typed JSON items, one per line (jsonl, dynamodb-json, a full export's data).
    case json(ItemSpelling)
    /// Data Pipeline's export: lower-camel type keys, or the older \u0003/\u0002 form.
    case dataPipeline
    /// An incremental export's lines: `Keys`, `NewImage`, `OldImage`.
    case exportIncremental
}

/// What one converted line became.
enum ConvertedLine {
    /// A record was written (an item, or a `ferry:delete` line).
    case record
    /// A control line passed through unchanged.
    case control
    /// Nothing to write (an input barrier, which this run's barriers replace).
    case dropped
}

/// Turns one input line into one output line, typed (or plain). One per thread.
final class LineConverter {
    let format: LineFormat
    let plain: Bool
    private let decoder: ItemDecoder
    private let typedDecoder = ItemDecoder(spelling: .typed)
    private let scratch = ByteBuffer(capacity: 4096)
    /// Plain lines written typed without building the item (nil: not this format).
    private let transcoder: PlainItemTranscoder?

    init(format: LineFormat, plain: Bool) {
        self.format = format
        self.plain = plain
        if case let .json(spelling) = format { decoder = ItemDecoder(spelling: spelling) } else { decoder = ItemDecoder(spelling: .typed) }
        if case let .json(spelling) = format, spelling != .typed, !plain { transcoder = PlainItemTranscoder() } else { transcoder = nil }
    }

    func convert(_ line: UnsafeRawBufferPointer, into out: ByteBuffer) throws -> ConvertedLine {
        switch format {
        case .json:
            if let transcoder, transcoder.transcode(line, into: out) {
                out.append(UInt8(ascii: "\n"))
                return .record
            }
            switch try decoder.decodeRecord(line) {
            case let .item(item):
                try write(item, into: out)
                return .record
            case let .control(name, _):
                if name == Barrier.controlName { return .dropped }
                out.append(line)
                out.append(UInt8(ascii: "\n"))
                return name == DeleteRecord.controlName ? .record : .control
            }
        case .dataPipeline:
            let json = try DataPipelineLine.typedJSON(line)
            scratch.removeAll()
            json.write(into: scratch)
            try write(try typedDecoder.decodeItem(scratch.bytes), into: out)
            return .record
        case .exportIncremental:
            // Full-export lines ({"Item":…}) may sit beside incremental ones.
            if line.count > 8, line.starts(with: #"{"Item":"#.utf8) {
                try write(try typedDecoder.decodeItem(line), into: out)
                return .record
            }
            let json = try JSONValue.parse(line)
            if let image = json["NewImage"] {
                try write(try decodeTypedMap(image), into: out)
            } else if let keys = json["Keys"] {
                let key = try decodeTypedMap(keys)
                DeleteRecord.write(key: key, into: out)
            } else {
                throw ExtractError.badLine("an incremental export line needs \"NewImage\" or \"Keys\"")
            }
            return .record
        }
    }

    private func decodeTypedMap(_ json: JSONValue) throws -> Item {
        scratch.removeAll()
        json.write(into: scratch)
        return try typedDecoder.decodeItem(scratch.bytes)
    }

    func write(_ item: Item, into out: ByteBuffer) throws {
        _ = try ItemRules.checkSize(item)
        if plain { ItemEncoder.writePlain(item, into: out) } else { ItemEncoder.writeTyped(item, into: out) }
        out.append(UInt8(ascii: "\n"))
    }
}

/// A delete in the stream: `{"ferry:delete":{"Keys":{"pk":{"S":"a"}}}}`, made from an
/// incremental export's line without a NewImage; ferry-load deletes the item.
public enum DeleteRecord {
    public static let controlName = "ferry:delete"

    public static func write(key: Item, into out: ByteBuffer) {
        out.append("{\"ferry:delete\":{\"Keys\":")
        ItemEncoder.writeTypedMap(key, into: out)
        out.append("}}\n")
    }

    /// The key of a `ferry:delete` line's body.
    public static func key(from body: JSONValue) throws -> Item {
        guard let keys = body["Keys"], case .object = keys else {
            throw ExtractError.badLine("a ferry:delete line needs a \"Keys\" object")
        }
        let out = ByteBuffer(capacity: 256)
        keys.write(into: out)
        return try ItemDecoder(spelling: .typed).decodeItem(out.bytes)
    }
}

/// Data Pipeline's DynamoDB export lines (the legacy "DynamoDB export" template):
///
/// - JSON with lower-camel type keys: `{"name":{"s":"Ada"},"age":{"n":"36"}}`, with
///   `s n b sS nS bS m l bOOL nULL`;
/// - the older form: `name\u0003{"s":"Ada"}\u0002age\u0003{"n":"36"}` (attribute
///   name, ETX, value; attributes separated by STX).
enum DataPipelineLine {
    static let typeNames: [String: String] = [
        "s": "S", "n": "N", "b": "B", "sS": "SS", "nS": "NS", "bS": "BS",
        "m": "M", "l": "L", "bOOL": "BOOL", "nULL": "NULL",
    ]

    /// The line as a typed DynamoDB JSON map.
    static func typedJSON(_ line: UnsafeRawBufferPointer) throws -> JSONValue {
        var members: [JSONMember] = []
        if line.contains(0x03) {
            for field in line.split(separator: 0x02, omittingEmptySubsequences: true) {
                guard let etx = field.firstIndex(of: 0x03) else {
                    throw ExtractError.badLine("a Data Pipeline field without the \\u0003 separator")
                }
                let name = String(decoding: UnsafeRawBufferPointer(rebasing: field[field.startIndex..<etx]), as: UTF8.self)
                let value = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: field[(etx + 1)...]))
                members.append(JSONMember(name, try typed(value, path: name)))
            }
        } else {
            guard case let .object(fields) = try JSONValue.parse(line) else {
                throw ExtractError.badLine("a Data Pipeline line must be a JSON object")
            }
            for field in fields { members.append(JSONMember(field.key, try typed(field.value, path: field.key))) }
        }
        return .object(members)
    }

    /// One value with its type keys spelled as DynamoDB spells them.
    static func typed(_ value: JSONValue, path: String) throws -> JSONValue {
        guard case let .object(members) = value, members.count == 1, let type = typeNames[members[0].key] else {
            throw ExtractError.badLine("attribute \(path): expected one of the type keys s, n, b, sS, nS, bS, m, l, bOOL, nULL")
        }
        let inner = members[0].value
        switch type {
        case "M":
            guard case let .object(fields) = inner else { throw ExtractError.badLine("attribute \(path): m must hold an object") }
            return .object([JSONMember("M", .object(try fields.map { JSONMember($0.key, try typed($0.value, path: path + "." + $0.key)) }))])
        case "L":
            guard case let .array(elements) = inner else { throw ExtractError.badLine("attribute \(path): l must hold an array") }
            return .object([JSONMember("L", .array(try elements.enumerated().map { try typed($1, path: "\(path)[\($0)]") }))])
        default:
            return .object([JSONMember(type, inner)])
        }
    }
}
