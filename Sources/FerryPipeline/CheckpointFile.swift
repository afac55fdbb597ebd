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
    /// The last committed barrier of each source.
    public var sources: [String: Barrier]

    public init(table: String, lines: Int = 0, sources: [String: Barrier] = [:]) {
        self.table = table
        self.lines = lines
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
        out.append(",\"sources\":[")
        for (i, name) in sources.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            out.append(i == 0 ? "\n" : ",\n")
            sources[name]!.writeBody(into: out)
        }
        out.append(sources.isEmpty ? "]}}\n" : "\n]}}\n")
        return out.array
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> CheckpointState {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch {
            throw StreamFormatError.badCheckpoint(path: path, reason: "\(error)")
        }
        guard let body = json["ferry:checkpoint"] else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "no \"ferry:checkpoint\" object")
        }
        guard let version = body["version"]?.numberText, version == String(Self.version) else {
            throw StreamFormatError.badCheckpoint(path: path, reason: "unknown version \(body["version"]?.jsonText ?? "(none)")")
        }
        var state = CheckpointState(table: body["table"]?.stringValue ?? "",
                                    lines: body["lines"]?.numberText.flatMap { Int($0) } ?? 0)
        for entry in body["sources"]?.arrayValue ?? [] {
            do {
                let barrier = try Barrier(body: entry)
                state.sources[barrier.source] = barrier
            } catch {
                throw StreamFormatError.badCheckpoint(path: path, reason: "\(error)")
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
        let (folderPath, name) = splitPath(path)
        guard let folder = try Directory.open(folderPath, followLinks: true) else {
            throw IOError.openFailed(path: folderPath, errno: ENOENT)
        }
        let bytes = encode()
        try folder.writeAtomically(name) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }
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
