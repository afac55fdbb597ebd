#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryObjectStore

/// One object ferry-extract reads: an object of the store, a local file, or stdin.
public struct SourceObject: Sendable, Equatable {
    public enum Location: Sendable, Equatable {
        case object(bucket: String, key: String)
        case file(String)
        case standardInput
    }
    /// How barriers, checkpoints and messages name it: `s3://bucket/key`, the path, `-`.
    public var uri: String
    public var location: Location
    /// The store's ETag; for a file, its size and modification time (`<size>-<mtime ns>`);
    /// empty for stdin.
    public var etag: String
    public var size: Int?

    /// The last part of the key or path.
    public var baseName: String {
        guard let slash = uri.lastIndex(of: "/") else { return uri }
        return String(uri[uri.index(after: slash)...])
    }
}

/// Lists and opens the objects that `s3://bucket/prefix`, a path or `-` name, in key
/// order (S3's order: UTF-8 bytes). Not thread-safe.
public final class SourceCatalog {
    private let dataFolder: String
    private var openedStore: ObjectStore?

    public init(dataFolder: String) { self.dataFolder = dataFolder }

    private func store() throws -> ObjectStore {
        if let openedStore { return openedStore }
        let store = try ObjectStore(dataFolder: dataFolder, create: false)
        openedStore = store
        return store
    }

    /// Splits `s3://bucket/rest`.
    static func parseS3(_ spec: String) throws -> (bucket: String, rest: String) {
        let body = spec.dropFirst("s3://".count)
        guard let slash = body.firstIndex(of: "/") else { return (String(body), "") }
        let bucket = String(body[..<slash])
        guard !bucket.isEmpty else { throw ExtractError.badSource(spec, reason: "no bucket name") }
        return (bucket, String(body[body.index(after: slash)...]))
    }

    /// The objects `spec` names, in key order. `s3://b/k` is the one object when `k`
    /// exists, else every key starting with `k`; a folder is every file under it except
    /// hidden ones (names starting with a dot).
    public func list(_ spec: String) throws -> [SourceObject] {
        if spec == "-" { return [SourceObject(uri: "-", location: .standardInput, etag: "", size: nil)] }
        if spec.hasPrefix("s3://") {
            let (bucket, rest) = try Self.parseS3(spec)
            let store = try store()
            if !rest.isEmpty && !rest.hasSuffix("/"), let info = try? store.head(bucket: bucket, key: rest) {
                return [objectSource(bucket: bucket, info: info)]
            }
            var out: [SourceObject] = []
            var token: String? = nil
            repeat {
                let page = try store.list(bucket: bucket, ListRequest(prefix: rest, continuationToken: token))
                for info in page.contents where !info.key.hasSuffix("/") { out.append(objectSource(bucket: bucket, info: info)) }
                token = page.isTruncated ? page.nextContinuationToken : nil
            } while token != nil
            if out.isEmpty { throw ExtractError.noObjects(spec) }
            return out
        }
        var st = stat()
        guard stat(spec, &st) == 0 else { throw ExtractError.badSource(spec, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard let folder = try Directory.open(spec, followLinks: true) else { throw ExtractError.noObjects(spec) }
            var out: [SourceObject] = []
            let base = spec.hasSuffix("/") ? String(spec.dropLast()) : spec
            try walk(folder, path: base, into: &out)
            if out.isEmpty { throw ExtractError.noObjects(spec) }
            return out.sorted { $0.uri.utf8.lexicographicallyPrecedes($1.uri.utf8) }
        }
        return [fileSource(spec, size: Int(st.st_size), modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))]
    }

    private func walk(_ folder: Directory, path: String, into out: inout [SourceObject]) throws {
        for (name, kind) in try folder.entries() where !name.hasPrefix(".") {
            switch kind {
            case .file:
                if let status = try folder.status(name) {
                    out.append(fileSource(path + "/" + name, size: status.size, modified: status.modified))
                }
            case .directory:
                if let sub = try folder.subdirectory(name) { try walk(sub, path: path + "/" + name, into: &out) }
            default:
                continue
            }
        }
    }

    private func objectSource(bucket: String, info: ObjectInfo) -> SourceObject {
        SourceObject(uri: "s3://\(bucket)/\(info.key)", location: .object(bucket: bucket, key: info.key), etag: info.etag, size: info.size)
    }

    private func fileSource(_ path: String, size: Int, modified: Int64) -> SourceObject {
        SourceObject(uri: path, location: .file(path), etag: "\(size)-\(modified)", size: size)
    }

    /// The object `relative` to the folder holding `object` (a manifest's data file).
    public func sibling(of object: SourceObject, _ relative: String) throws -> SourceObject {
        let folderURI = object.uri.contains("/") ? String(object.uri[..<object.uri.lastIndex(of: "/")!]) : "."
        let found = try? list(folderURI + "/" + relative)
        guard let match = found?.first(where: { $0.uri == folderURI + "/" + relative }) else {
            throw ExtractError.badManifest(object.uri, reason: "\(folderURI)/\(relative) is listed but does not exist")
        }
        return match
    }

    /// Opens the object's bytes as stored (gzip or not), with the ETag of exactly those
    /// bytes (the object may have changed since it was listed).
    public func open(_ object: SourceObject) throws -> (source: ByteSource, etag: String) {
        switch object.location {
        case .standardInput:
            return (FileSource(descriptor: 0, name: "-"), "")
        case let .file(path):
            let source = try FileSource(path: path)
            var st = stat()
            guard fstat(source.descriptor, &st) == 0 else { throw IOError.readFailed(path: path, errno: errno) }
            return (source, "\(st.st_size)-\(Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))")
        case let .object(bucket, key):
            let (info, source) = try store().open(bucket: bucket, key: key)
            return (NamedSource(source, name: object.uri), info.etag)
        }
    }

    /// A small object's whole content (manifests).
    public func read(_ object: SourceObject, limit: Int = 64 << 20) throws -> [UInt8] {
        try InputDecoding.open(try open(object).source).readAll(limit: limit)
    }
}

/// A source under another name (an object's file read as `s3://bucket/key`).
final class NamedSource: ByteSource {
    let upstream: ByteSource
    let name: String
    init(_ upstream: ByteSource, name: String) {
        self.upstream = upstream
        self.name = name
    }
    var bytesConsumed: Int { upstream.bytesConsumed }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try upstream.read(into: buffer) }
}
