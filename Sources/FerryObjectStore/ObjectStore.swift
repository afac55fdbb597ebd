#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryValues

/// An S3-style object store in `<data>/s3` (docs/object-store.md): a bucket is a folder,
/// an object a plain file at its key's path, metadata a sidecar file under
/// `<data>/s3/.ferry/meta/<bucket>/<key>`.
///
/// Writes are atomic (temporary file, fsync, rename, fsync of the folder). No path is
/// ever followed through a symbolic link. Not thread-safe: one store per thread; several
/// processes may use one folder (each put is atomic on its own).
public final class ObjectStore {
    public let root: String
    /// `<data>/s3`; nil only for a read-only store of a data folder without one.
    private let existingRoot: Directory?
    private var rootDirectory: Directory {
        get throws {
            guard let existingRoot else { throw IOError.noDataFolder(path: root) }
            return existingRoot
        }
    }
    /// Sorted entries of folders already read, checked against the folder's mtime, so
    /// paging through a large folder reads it once per process.
    var listingCache: [String: (modified: Int64, entries: [(name: String, isDirectory: Bool)])] = [:]

    /// Opens the store in `<data>/s3`. With `create` (commands that write) it is made
    /// when missing; without it (commands that only read) a missing data folder is an
    /// error and nothing is made: a store without `s3` has no buckets.
    public init(dataFolder: String, create: Bool = true) throws {
        let root = dataFolder + "/s3"
        self.root = root
        if create {
            existingRoot = try storeIO { try Directory.create(root) }
        } else {
            guard let data = try storeIO({ try Directory.open(dataFolder, followLinks: true) }) else {
                throw IOError.noDataFolder(path: dataFolder)
            }
            existingRoot = try storeIO { try data.subdirectory("s3") }
        }
    }

    // MARK: Buckets

    public struct BucketInfo: Sendable, Equatable {
        public var name: String
        /// Nanoseconds since the epoch.
        public var created: Int64
    }

    public func createBucket(_ name: String) throws {
        try BucketName.validate(name)
        try storeIO {
            if try rootDirectory.status(name) != nil { throw ObjectStoreError.bucketAlreadyExists(name) }
            _ = try rootDirectory.subdirectory(name, create: true)
            let created = try rootDirectory.status(name)?.modified ?? 0
            let record = try bucketRecords()
            try record.writeAtomically(name) { sink in
                try Array("{\"created_ns\":\(created)}\n".utf8).withUnsafeBytes { try sink.write($0) }
            }
            try rootDirectory.sync()
        }
    }

    /// Buckets in name order. A folder made by hand with a valid bucket name is a bucket.
    public func listBuckets() throws -> [BucketInfo] {
        guard existingRoot != nil else { return [] }
        return try storeIO {
            // Read without creating: listing is what read-only commands do.
            let records = try rootDirectory.subdirectory(".ferry")?.subdirectory("buckets")
            var out: [BucketInfo] = []
            for entry in try rootDirectory.entries() where entry.kind == .directory {
                guard (try? BucketName.validate(entry.name)) != nil else { continue }
                var created = try rootDirectory.status(entry.name)?.modified ?? 0
                if let source = try records?.openForReading(entry.name),
                   let text = try? JSONValue.parse(source.readAll(limit: 4096)),
                   let recorded = text["created_ns"]?.numberText.flatMap({ Int64($0) }) {
                    created = recorded
                }
                out.append(BucketInfo(name: entry.name, created: created))
            }
            return out.sorted { bytesLess($0.name, $1.name) }
        }
    }

    /// Deletes a bucket; with `force`, its objects first. Without it, a bucket that
    /// holds objects is refused with BucketNotEmpty.
    public func deleteBucket(_ name: String, force: Bool = false) throws {
        let bucket = try bucketDirectory(name)
        if !force, try firstKey(in: bucket) != nil { throw ObjectStoreError.bucketNotEmpty(name) }
        try storeIO {
            try rootDirectory.removeTree(name)
            if let meta = try metaRoot(create: false) { try meta.removeTree(name) }
            try bucketRecords().removeFile(name)
            try rootDirectory.sync()
        }
    }

    func bucketDirectory(_ name: String) throws -> Directory {
        try BucketName.validate(name)
        guard let directory = try storeIO({ try existingRoot?.subdirectory(name) }) else {
            throw ObjectStoreError.noSuchBucket(name)
        }
        return directory
    }

    private func bucketRecords() throws -> Directory {
        try rootDirectory.subdirectory(".ferry", create: true)!.subdirectory("buckets", create: true)!
    }

    private func metaRoot(create: Bool) throws -> Directory? {
        guard let ferry = try rootDirectory.subdirectory(".ferry", create: create) else { return nil }
        return try ferry.subdirectory("meta", create: create)
    }

    // MARK: Objects

    /// Stores the bytes of `source` as `key`, atomically. Memory stays at one chunk
    /// whatever the object's size. Returns the new object's info.
    @discardableResult
    public func put(bucket: String, key: String, from source: ByteSource, contentType: String? = nil,
                    metadata: [String: String] = [:]) throws -> ObjectInfo {
        let bucketDir = try bucketDirectory(bucket)
        let segments = try ObjectKey.segments(key, bucket: bucket)
        return try storeIO {
            let folder = try folderForWriting(bucketDir, segments: segments, bucket: bucket, key: key)
            let name = segments[segments.count - 1]
            if let existing = try folder.status(name), existing.kind != .file {
                if existing.kind == .directory, try isEmptyTree(folder, name) {
                    try folder.removeTree(name)
                } else if existing.kind == .directory {
                    throw ObjectStoreError.keyConflict(bucket: bucket, key: key, existing: key + "/...")
                } else {
                    throw ObjectStoreError.unsafeKey(bucket: bucket, key: key, reason: "a symbolic link or special file is in the way")
                }
            }
            var digest = ContentDigest()
            try folder.writeAtomically(name) { sink in
                digest = try HashingCopy.copy(from: source, to: sink)
            }
            let status = try folder.status(name)
            let (etag, crc) = digest.finish()
            let info = ObjectInfo(key: key, size: digest.size, modified: status?.modified ?? 0, etag: etag, crc32: crc,
                                  contentType: contentType ?? guessContentType(name), metadata: metadata)
            try writeSidecar(info, bucket: bucket, segments: segments)
            return info
        }
    }

    /// The folder an object goes in, made as needed; refuses a path through a file (a key
    /// that is the "folder" of this one) or through a link.
    private func folderForWriting(_ bucketDir: Directory, segments: [String], bucket: String, key: String) throws -> Directory {
        var folder = bucketDir
        for (i, segment) in segments.dropLast().enumerated() {
            if let status = try folder.status(segment), status.kind != .directory {
                let existing = segments[...i].joined(separator: "/")
                if status.kind == .file { throw ObjectStoreError.keyConflict(bucket: bucket, key: key, existing: existing) }
                throw ObjectStoreError.unsafeKey(bucket: bucket, key: key, reason: "'\(existing)' is a symbolic link or special file")
            }
            folder = try folder.subdirectory(segment, create: true)!
        }
        return folder
    }

    /// True when the folder holds no object (only empty folders, or leftover temporary files).
    private func isEmptyTree(_ parent: Directory, _ name: String) throws -> Bool {
        guard let folder = try parent.subdirectory(name) else { return true }
        for entry in try folder.entries() {
            if entry.kind == .directory {
                if try !isEmptyTree(folder, entry.name) { return false }
            } else if !entry.name.hasPrefix(Directory.temporaryPrefix) {
                return false
            }
        }
        return true
    }

    /// The object's info; NoSuchKey when it does not exist.
    public func head(bucket: String, key: String) throws -> ObjectInfo {
        let bucketDir = try bucketDirectory(bucket)
        let segments = try ObjectKey.segments(key, bucket: bucket)
        return try storeIO {
            guard let folder = try existingFolder(bucketDir, segments.dropLast()),
                  let status = try folder.status(segments.last!), status.kind == .file else {
                throw ObjectStoreError.noSuchKey(bucket: bucket, key: key)
            }
            return try info(key: key, bucket: bucket, segments: segments, folder: folder, status: status)
        }
    }

    private func existingFolder(_ start: Directory, _ segments: ArraySlice<String>) throws -> Directory? {
        var folder = start
        for segment in segments {
            guard let next = try folder.subdirectory(segment) else { return nil }
            folder = next
        }
        return folder
    }

    /// Info from the sidecar when it matches the file's size and mtime; otherwise (a file
    /// dropped in or changed by hand) computed from the content and stored.
    func info(key: String, bucket: String, segments: [String], folder: Directory, status: FileStatus) throws -> ObjectInfo {
        var contentType: String? = nil
        var metadata: [String: String]? = nil
        if let metaFolder = try metaRoot(create: false).flatMap({ try existingFolder($0, [bucket] + segments.dropLast()) }),
           let source = try? metaFolder.openForReading(segments.last!),
           let bytes = try? source.readAll(limit: 1 << 20) {
            switch Sidecar.decode(bytes, key: key) {
            case let .info(previous):
                if previous.size == status.size, previous.modified == status.modified { return previous }
                // Stale (the file changed by hand): the content's values are recomputed.
                (contentType, metadata) = (previous.contentType, previous.metadata)
            case let .damaged(type, meta):
                (contentType, metadata) = (type, meta)
            }
        }
        guard let source = try folder.openForReading(segments.last!) else {
            throw ObjectStoreError.noSuchKey(bucket: bucket, key: key)
        }
        var digest = ContentDigest()
        try source.forEachChunk { digest.update($0) }
        let (etag, crc) = digest.finish()
        let info = ObjectInfo(key: key, size: digest.size, modified: status.modified, etag: etag, crc32: crc,
                              contentType: contentType ?? guessContentType(segments.last!),
                              metadata: metadata ?? [:])
        // Best effort: a read-only store still answers, it just cannot remember.
        try? writeSidecar(info, bucket: bucket, segments: segments)
        return info
    }

    private func writeSidecar(_ info: ObjectInfo, bucket: String, segments: [String]) throws {
        var folder = try metaRoot(create: true)!.subdirectory(bucket, create: true)!
        for segment in segments.dropLast() {
            if let status = try folder.status(segment), status.kind != .directory { try folder.removeTree(segment) }
            folder = try folder.subdirectory(segment, create: true)!
        }
        let name = segments[segments.count - 1]
        if let status = try folder.status(name), status.kind == .directory { try folder.removeTree(name) }
        let bytes = Sidecar.encode(info)
        // Not synced: a sidecar is a cache, checked against the object's size and mtime
        // and recomputed when missing, unreadable or stale.
        try folder.writeAtomically(name, durable: false) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    /// Opens the object for streaming reads, with the info (ETag) of exactly the bytes the
    /// source will serve: the file is opened first and its size and mtime checked against
    /// the info, so an object replaced meanwhile is retried rather than mislabelled.
    public func open(bucket: String, key: String) throws -> (info: ObjectInfo, source: ByteSource) {
        let bucketDir = try bucketDirectory(bucket)
        let segments = try ObjectKey.segments(key, bucket: bucket)
        for _ in 0..<5 {
            let source: FileSource = try storeIO {
                guard let folder = try existingFolder(bucketDir, segments.dropLast()),
                      let source = try folder.openForReading(segments.last!) else {
                    throw ObjectStoreError.noSuchKey(bucket: bucket, key: key)
                }
                return source
            }
            let info = try head(bucket: bucket, key: key)
            var st = stat()
            if fstat(source.descriptor, &st) == 0, Int(st.st_size) == info.size,
               Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec) == info.modified {
                return (info, ChecksummedSource(source, info: info, bucket: bucket))
            }
        }
        throw ObjectStoreError.io(IOError.readFailed(path: "s3://\(bucket)/\(key)", errno: EAGAIN))
    }

    /// Writes the object (or `range` of it) to `sink`; returns its info and the bytes sent.
    @discardableResult
    public func get(bucket: String, key: String, range: ByteRange? = nil, into sink: ByteSink) throws -> (info: ObjectInfo, sent: ClosedRange<Int>?) {
        let info = try head(bucket: bucket, key: key)
        let segments = try ObjectKey.segments(key, bucket: bucket)
        let bucketDir = try bucketDirectory(bucket)
        return try storeIO {
            guard let folder = try existingFolder(bucketDir, segments.dropLast()),
                  let source = try folder.openForReading(segments.last!) else {
                throw ObjectStoreError.noSuchKey(bucket: bucket, key: key)
            }
            guard let range else {
                // The check runs on a second thread, beside the copy (zlib's CRC32 on one
                // core is slower than a page-cache copy).
                let (crc, size) = try HashingCopy.copyComputingCRC(from: source, to: sink)
                try ChecksummedSource.check(crc, info, bucket: bucket, size: size)
                return (info, info.size > 0 ? 0...(info.size - 1) : nil)
            }
            guard let bounds = range.resolve(size: info.size) else {
                throw ObjectStoreError.invalidRange(bucket: bucket, key: key, range: range.text)
            }
            try source.seek(to: bounds.lowerBound)
            var left = bounds.count
            try source.forEachChunk { chunk in
                guard left > 0 else { return }
                let n = min(left, chunk.count)
                try sink.write(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
                left -= n
            }
            return (info, bounds)
        }
    }

    /// Deletes an object (and its sidecar) and any folders it leaves empty. Deleting a key
    /// that does not exist succeeds, as in S3.
    public func delete(bucket: String, key: String) throws {
        let bucketDir = try bucketDirectory(bucket)
        let segments = try ObjectKey.segments(key, bucket: bucket)
        try storeIO {
            try removePath(bucketDir, segments)
            if let meta = try metaRoot(create: false), let metaBucket = try meta.subdirectory(bucket) {
                try removePath(metaBucket, segments)
            }
        }
    }

    /// Removes the file at `segments` under `start`, then its folders while empty.
    private func removePath(_ start: Directory, _ segments: [String]) throws {
        var chain: [Directory] = [start]
        for segment in segments.dropLast() {
            guard let next = try chain.last!.subdirectory(segment) else { return }
            chain.append(next)
        }
        guard let status = try chain.last!.status(segments.last!), status.kind == .file else { return }
        try chain.last!.removeFile(segments.last!)
        try chain.last!.sync()
        var i = segments.count - 2
        while i >= 0 {
            if try !chain[i].removeEmptyDirectory(segments[i]) { break }
            i -= 1
        }
    }

    /// Copies an object inside the store (streaming; metadata kept unless replaced).
    @discardableResult
    public func copy(fromBucket: String, key fromKey: String, toBucket: String, key toKey: String,
                     contentType: String? = nil) throws -> ObjectInfo {
        // Read through the checksum: a damaged source fails the copy before it is renamed in.
        let (source, reader) = try open(bucket: fromBucket, key: fromKey)
        return try put(bucket: toBucket, key: toKey, from: reader, contentType: contentType ?? source.contentType,
                       metadata: source.metadata)
    }
}

/// An HTTP byte range as S3 takes it: `bytes=0-99`, `bytes=100-`, `bytes=-100`.
public struct ByteRange: Sendable, Equatable {
    public let text: String
    let first: Int?
    let last: Int?

    /// nil when the text is not a byte range of that form.
    public init?(_ text: String) {
        guard text.hasPrefix("bytes=") else { return nil }
        let spec = text.dropFirst(6)
        guard let dash = spec.firstIndex(of: "-"), !spec.contains(",") else { return nil }
        let a = spec[..<dash], b = spec[spec.index(after: dash)...]
        if a.isEmpty && b.isEmpty { return nil }
        first = a.isEmpty ? nil : Int(a)
        last = b.isEmpty ? nil : Int(b)
        if (!a.isEmpty && first == nil) || (!b.isEmpty && last == nil) { return nil }
        if let first, let last, last < first { return nil }
        self.text = text
    }

    /// The byte positions for an object of `size` bytes; nil when not satisfiable.
    func resolve(size: Int) -> ClosedRange<Int>? {
        switch (first, last) {
        case let (f?, l?): return f < size ? f...min(l, size - 1) : nil
        case let (f?, nil): return f < size ? f...(size - 1) : nil
        case let (nil, n?): return n > 0 && size > 0 ? max(0, size - n)...(size - 1) : nil
        default: return nil
        }
    }
}
