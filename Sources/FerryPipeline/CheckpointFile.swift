import Foundation
import FerryIO
import FerryValues

/// How far a load has got (docs/checkpoint-format.md): for each source object, the last
/// barrier committed; for a stream without barriers, the count of its lines committed.
/// ferry-load keeps the true copy inside the table, committed with the items, and
/// rewrites the checkpoint file from it; ferry-extract --resume reads the file.
public struct CheckpointState: Sendable, Equatable {
    public var table: String
    /// Non-blank input lines committed, for streams without barriers.
    public var lines: Int
    /// What those lines were counted on; nil before the first commit (and in files
    /// written before Ferry kept it).
    public var input: InputIdentity?
    /// The last committed barrier of each source.
    public var sources: [String: Barrier]

    public init(table: String, lines: Int = 0, input: InputIdentity? = nil, sources: [String: Barrier] = [:]) {
        self.table = table
        self.lines = lines
        self.input = input
        self.sources = sources
    }

    public static let version = 1

    /// The file's bytes: a one-key object, one source per line, sources in name order.
    public func encode() -> [UInt8] {
        let out = ByteBuffer(capacity: 256 + sources.count * 128)
        out.append("{\"ferry:checkpoint\":{\"version\":")
        out.append(decimal: Self.version)
        out.append(",\"table\":")
        JSONWriter.writeString(table, into: out)
        out.append(",\"lines\":")
        out.append(decimal: lines)
        if let input {
            out.append(",\"input\":")
            input.writeBody(into: out)
        }
        out.append(",\"sources\":[")
        for (i, name) in sources.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            out.append(i == 0 ? "\n" : ",\n")
            sources[name]!.writeBody(into: out)
        }
        out.append(sources.isEmpty ? "]}}\n" : "\n]}}\n")
        return out.array
    }

    /// What a file at a checkpoint's path is.
    public enum FileState: Sendable {
        case missing
        /// Not a Ferry checkpoint at all (another file, a mistyped path): never overwritten.
        case foreign(reason: String)
        /// A `ferry:checkpoint` object with a member that cannot be read: the table holds
        /// the true copy, so ferry-load rewrites it (unless it names another table).
        case damaged(table: String?, reason: String)
        case valid(CheckpointState)
    }

    public static func inspect(path: String) throws -> FileState {
        let bytes: [UInt8]
        do { bytes = try FileSource(path: path).readAll(limit: 1 << 30) } catch IOError.openFailed(_, let errno) where errno == ENOENT {
            return .missing
        }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch { return .foreign(reason: "\(error)") }
        guard let body = json["ferry:checkpoint"] else { return .foreign(reason: "no \"ferry:checkpoint\" object") }
        do { return .valid(try decode(bytes, path: path)) } catch let StreamFormatError.damagedCheckpoint(_, reason) {
            return .damaged(table: body["table"]?.stringValue, reason: reason)
        } catch let StreamFormatError.badCheckpoint(_, reason) {
            return .foreign(reason: reason)
        }
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> CheckpointState {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch {
            throw StreamFormatError.badCheckpoint(path: path, reason: "\(error)")
        }
        guard let body = json["ferry:checkpoint"] else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "no \"ferry:checkpoint\" object")
        }
        guard case .object = body else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "\"ferry:checkpoint\" is not an object")
        }
        // Another version is another Ferry's file: read by neither, overwritten by neither.
        guard let version = body["version"]?.numberText, version == String(Self.version) else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "unknown version \(body["version"]?.jsonText ?? "(none)")")
        }
        do { return try decodeBody(body, path: path) } catch let StreamFormatError.badCheckpoint(_, reason) {
            throw StreamFormatError.damagedCheckpoint(path: path, reason: reason)
        }
    }

    private static func decodeBody(_ body: JSONValue, path: String) throws -> CheckpointState {
        guard let table = body["table"]?.stringValue else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "no \"table\" string")
        }
        guard let linesText = body["lines"]?.numberText, let lines = Int(linesText), lines >= 0, lines <= JSONFields.maxCount else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "\"lines\" is not a count")
        }
        var state = CheckpointState(table: table, lines: lines)
        if let input = body["input"] {
            do { state.input = try InputIdentity(body: input) } catch {
                throw StreamFormatError.badCheckpoint(path: path, reason: "\(error)")
            }
        }
        guard let sources = body["sources"]?.arrayValue else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "\"sources\" is not a list")
        }
        for (i, entry) in sources.enumerated() {
            do {
                let barrier = try Barrier(body: entry)
                if state.sources[barrier.source] != nil {
                    throw StreamFormatError.badCheckpoint(path: path, reason: "sources[\(i)]: source \(barrier.source) is listed twice")
                }
                state.sources[barrier.source] = barrier
            } catch let error as StreamFormatError {
                if case .badCheckpoint = error { throw error }
                throw StreamFormatError.badCheckpoint(path: path, reason: "sources[\(i)]: \(error)")
            }
        }
        return state
    }

    /// Reads `path`; nil when there is no such file (a first run).
    public static func read(path: String) throws -> CheckpointState? {
        let source: FileSource
        do { source = try FileSource(path: path) } catch IOError.openFailed(_, let errno) where errno == ENOENT {
            return nil
        }
        return try decode(try source.readAll(limit: 1 << 30), path: path)
    }

    /// Replaces `path` atomically: temporary file, fsync, rename, fsync of the folder.
    public func write(path: String) throws {
        try Directory.writeAtomically(path: path, encode())
    }
}

/// What a line count of a stream without barriers was counted on: the inputs' names, the
/// byte offset where the last committed line's text ends, and a CRC-32 of the stream's
/// first bytes. A rerun whose input differs in any of them is refused instead of skipping
/// lines of another input (docs/checkpoint-format.md).
public struct InputIdentity: Sendable, Equatable {
    /// The inputs as given ("-" for stdin), joined by spaces.
    public var name: String
    /// Stream offset just past the text of the last committed line.
    public var bytes: Int
    /// How many of the stream's first bytes `headCRC` covers: min(64 KiB, bytes).
    public var headBytes: Int
    public var headCRC: UInt32

    public static let headLimit = 64 * 1024

    public init(name: String, bytes: Int, headBytes: Int, headCRC: UInt32) {
        self.name = name
        self.bytes = bytes
        self.headBytes = headBytes
        self.headCRC = headCRC
    }

    public func writeBody(into out: ByteBuffer) {
        out.append("{\"name\":")
        JSONWriter.writeString(name, into: out)
        out.append(",\"bytes\":")
        out.append(decimal: bytes)
        out.append(",\"headBytes\":")
        out.append(decimal: headBytes)
        out.append(",\"headCrc32\":\"")
        out.append(hex32(headCRC))
        out.append("\"}")
    }

    public init(body: JSONValue) throws {
        guard let name = body["name"]?.stringValue else { throw StreamFormatError.badInput("input: no \"name\" string") }
        guard let bytes = body["bytes"]?.numberText.flatMap({ Int($0) }), bytes >= 0, bytes <= JSONFields.maxCount else {
            throw StreamFormatError.badInput("input: \"bytes\" is not a count")
        }
        guard let head = body["headBytes"]?.numberText.flatMap({ Int($0) }), head >= 0, head <= min(bytes, Self.headLimit) else {
            throw StreamFormatError.badInput("input: \"headBytes\" is not a count of at most min(bytes, 65536)")
        }
        guard let text = body["headCrc32"]?.stringValue, text.utf8.count == 8, let crc = UInt32(text, radix: 16) else {
            throw StreamFormatError.badInput("input: \"headCrc32\" is not 8 hex digits")
        }
        self.init(name: name, bytes: bytes, headBytes: head, headCRC: crc)
    }
}

/// Eight lowercase hex digits.
func hex32(_ value: UInt32) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: 8)
    for i in 0..<8 { out[i] = digits[Int((value >> (28 - 4 * UInt32(i))) & 0xF)] }
    return String(decoding: out, as: UTF8.self)
}

/// The folder and file name of a path ("." when there is no folder part).
func splitPath(_ path: String) -> (folder: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
}

/// The absolute, normalised spelling of a path, used to name a checkpoint inside the
/// table so that the same file given as `cp.json` or `./cp.json` is the same bookmark.
public func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}
