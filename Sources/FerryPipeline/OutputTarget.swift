#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryIO
import FerryObjectStore

/// Where an export or a backup goes: stdout (`-`), a file (written to a temporary name
/// and renamed into place when complete), or an object `s3://bucket/key` (written to a
/// temporary file, then put into the store, which is atomic too). Gzip when asked.
public final class OutputTarget {
    public let sink: ByteSink
    /// What the user named, for messages.
    public let name: String
    private let file: AtomicFile?
    private let object: (store: ObjectStore, bucket: String, key: String, path: String)?
    private var done = false

    /// `gzipThreads` > 1 compresses in parallel (independent members, as pigz).
    public init(_ spec: String, gzip: Bool, level: Int32 = 6, gzipThreads: Int = 1, dataFolder: String) throws {
        name = spec
        let raw: ByteSink
        if spec == "-" {
            raw = FileSink.standardOutput()
            file = nil
            object = nil
        } else if spec.hasPrefix("s3://") {
            let (bucket, key) = try SourceCatalog.parseS3(spec)
            guard !key.isEmpty, !key.hasSuffix("/") else { throw ExtractError.badSource(spec, reason: "needs an object key, not a prefix") }
            let store = try ObjectStore(dataFolder: dataFolder)
            // Checked now, not after the whole stream was written to the temporary file.
            guard try store.listBuckets().contains(where: { $0.name == bucket }) else { throw ObjectStoreError.noSuchBucket(bucket) }
            let folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
            let path = "\(folder)/.ferry-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            raw = try FileSink(path: path, mode: 0o600)
            object = (store, bucket, key, path)
            file = nil
        } else {
            let (folderPath, fileName) = splitPath(spec)
            guard let folder = try Directory.open(folderPath, followLinks: true) else {
                throw IOError.openFailed(path: folderPath, errno: ENOENT)
            }
            let atomic = try folder.createAtomically(fileName)
            raw = atomic.sink
            file = atomic
            object = nil
        }
        if gzip {
            // The gzip layer finishes its downstream; the file must stay open for commit's fsync.
            let inner: ByteSink = file != nil ? KeepOpenSink(raw) : raw
            sink = gzipThreads > 1 ? ParallelGzipSink(inner, level: level, threads: gzipThreads) : try GzipSink(inner, level: level)
        } else {
            sink = raw
        }
    }

    /// Finishes the stream and makes it appear under its name.
    public func commit() throws {
        guard !done else { return }
        done = true
        do {
            if let file {
                if sink !== file.sink { try sink.finish() }
                try file.commit()
            } else if let object {
                try sink.finish()
                defer { Syscall.unlink(object.path) }
                _ = try object.store.put(bucket: object.bucket, key: object.key, from: try FileSource(path: object.path))
            } else {
                try sink.finish()
            }
        } catch {
            done = false
            abandon()
            throw error
        }
    }

    /// Leaves nothing behind (stdout: what was written stays written).
    public func abandon() {
        guard !done else { return }
        done = true
        file?.abandon()
        if let object { Syscall.unlink(object.path) }
    }

    deinit { abandon() }
}

/// Passes writes through and ignores `finish`, so whoever owns the sink closes it.
final class KeepOpenSink: ByteSink {
    let inner: ByteSink
    init(_ inner: ByteSink) { self.inner = inner }
    var name: String { inner.name }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try inner.write(bytes) }
    func finish() throws {}
}
