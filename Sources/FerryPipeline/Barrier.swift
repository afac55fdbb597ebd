import FerryIO
import FerryValues

/// A position in one source object, written into the stream by ferry-extract
/// (docs/stream-format.md) and committed with the records before it by ferry-load:
///
/// `{"ferry:barrier":{"source":"s3://b/k.gz","etag":"…","line":120000,"records":10000,"complete":false}}`
///
/// `line` is the last line of the object consumed; `records` counts the records taken
/// from the object up to there. Barriers fall every N records counted from the start of
/// the object, so a resumed run puts them at the same places as the first run did.
public struct Barrier: Sendable, Equatable {
    public var source: String
    public var etag: String
    public var line: Int
    public var records: Int
    public var complete: Bool

    public init(source: String, etag: String, line: Int, records: Int, complete: Bool) {
        self.source = source
        self.etag = etag
        self.line = line
        self.records = records
        self.complete = complete
    }

    public static let controlName = "ferry:barrier"

    /// The barrier's members as an object, `{"source":…,"complete":…}`.
    public func writeBody(into out: ByteBuffer) {
        out.append("{\"source\":")
        JSONWriter.writeString(source, into: out)
        out.append(",\"etag\":")
        JSONWriter.writeString(etag, into: out)
        out.append(",\"line\":")
        out.append(decimal: line)
        out.append(",\"records\":")
        out.append(decimal: records)
        out.append(complete ? ",\"complete\":true}" : ",\"complete\":false}")
    }

    /// The stream line, with its `\n`.
    public func writeLine(into out: ByteBuffer) {
        out.append("{\"ferry:barrier\":")
        writeBody(into: out)
        out.append("}\n")
    }

    /// Reads the members written by `writeBody`; `records` may be absent (barriers from
    /// other tools), then it is 0.
    public init(body: JSONValue) throws {
        guard let source = body["source"]?.stringValue, !source.isEmpty else { throw StreamFormatError.badBarrier("no \"source\" string") }
        guard let lineText = body["line"]?.numberText, let line = Int(lineText), line >= 0, line <= JSONFields.maxCount else {
            throw StreamFormatError.badBarrier("no \"line\" count")
        }
        // Every member present is checked: a checkpoint is read back from these, and a
        // mistyped one must not quietly mean 0 or false.
        var records = 0
        if let value = body["records"] {
            guard let text = value.numberText, let n = Int(text), n >= 0, n <= JSONFields.maxCount else { throw StreamFormatError.badBarrier("\"records\" is not a count") }
            records = n
        }
        var complete = false
        if let value = body["complete"] {
            guard let flag = value.boolValue else { throw StreamFormatError.badBarrier("\"complete\" is not true or false") }
            complete = flag
        }
        var etag = ""
        if let value = body["etag"] {
            guard let text = value.stringValue else { throw StreamFormatError.badBarrier("\"etag\" is not a string") }
            etag = text
        }
        self.source = source
        self.etag = etag
        self.line = line
        self.records = records
        self.complete = complete
    }
}

public enum StreamFormatError: Error, CustomStringConvertible, Equatable {
    case badBarrier(String)
    case badCheckpoint(path: String, reason: String)
    /// A `ferry:checkpoint` file with a member that cannot be read.
    case damagedCheckpoint(path: String, reason: String)
    case badInput(String)

    public var description: String {
        switch self {
        case let .badBarrier(reason): return "invalid ferry:barrier line: \(reason)"
        case let .badCheckpoint(path, reason): return "\(path): not a Ferry checkpoint file: \(reason)"
        case let .damagedCheckpoint(path, reason):
            return "\(path): damaged checkpoint file: \(reason) (ferry-load --checkpoint \(path) rewrites it from the table's own copy)"
        case let .badInput(reason): return reason
        }
    }
}
