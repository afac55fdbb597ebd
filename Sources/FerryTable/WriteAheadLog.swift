#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// Reads a write-ahead log and recovers its records (docs/wal-format.md).
///
/// Recovery rules: records are read in order. At the first damaged record (cut short,
/// impossible length, unknown type, wrong checksum): if no intact record follows it, it
/// is a torn tail (the crash interrupted the last, unacknowledged write) and is dropped,
/// reported through `validLength`; if an intact record follows, acknowledged data was
/// damaged, and reading throws `WALError.corrupt` with the file and byte offset.
public struct WALReader {
    public struct Recovered {
        /// The payloads of the intact records, in order.
        public var records: [[UInt8]]
        /// Bytes up to the end of the last intact record: the writer truncates here.
        public var validLength: Int
        /// Bytes dropped as a torn tail (0 for a cleanly closed log).
        public var droppedBytes: Int
    }

    public static func read(path: String) throws -> Recovered {
        let bytes: [UInt8]
        do {
            guard let source = try Directory.open(parentOf(path))?.openForReading(baseName(path)) else {
                throw IOError.openFailed(path: path, errno: ENOENT)
            }
            bytes = try source.readAll(limit: Int.max)
        }
        return try parse(bytes, path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Recovered {
        // Created but its header not (wholly) written: a crash or a full disk right after
        // the log was started. It can hold no commit.
        if bytes.count < WALFormat.fileHeaderSize, bytes == Array(WALFormat.fileHeader().prefix(bytes.count)) {
            return Recovered(records: [], validLength: 0, droppedBytes: bytes.count)
        }
        guard bytes.count >= WALFormat.fileHeaderSize, Array(bytes[0..<8]) == WALFormat.magic else {
            throw WALError.notALog(path: path)
        }
        let version = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian }
        guard version == WALFormat.version else { throw WALError.unsupportedVersion(path: path, version: version) }
        var records: [[UInt8]] = []
        var offset = WALFormat.fileHeaderSize
        while offset < bytes.count {
            if let payload = record(in: bytes, at: offset) {
                records.append(Array(bytes[(offset + WALFormat.recordHeaderSize)..<(offset + WALFormat.recordHeaderSize + payload)]))
                offset += WALFormat.recordHeaderSize + payload
                continue
            }
            // Damage here. A crash can only tear the last write, so if an intact record
            // follows, this is corruption of acknowledged data, not a torn tail.
            if let later = firstRecord(in: bytes, after: offset) {
                throw WALError.corrupt(path: path, offset: offset, reason: describeDamage(bytes, at: offset, nextIntact: later))
            }
            break
        }
        return Recovered(records: records, validLength: offset, droppedBytes: bytes.count - offset)
    }

    /// The payload length of an intact record at `offset` (complete, known type, right
    /// checksum), or nil.
    static func record(in bytes: [UInt8], at offset: Int) -> Int? {
        guard bytes.count - offset >= WALFormat.recordHeaderSize else { return nil }
        return bytes.withUnsafeBytes { raw -> Int? in
            let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            let stored = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
            let type = raw[offset + 8]
            let end = offset + WALFormat.recordHeaderSize + length
            guard length <= WALFormat.maxPayload, end <= bytes.count, WALFormat.RecordType(rawValue: type) != nil else { return nil }
            let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + WALFormat.recordHeaderSize)..<end])
            return WALFormat.checksum(type: type, payload: payload) == stored ? length : nil
        }
    }

    /// The offset of the first intact record after `offset`, if any (only read on
    /// recovery from damage).
    static func firstRecord(in bytes: [UInt8], after offset: Int) -> Int? {
        var p = offset + 1
        while p + WALFormat.recordHeaderSize <= bytes.count {
            if bytes[p + 8] == WALFormat.RecordType.commit.rawValue, record(in: bytes, at: p) != nil { return p }
            p += 1
        }
        return nil
    }

    static func describeDamage(_ bytes: [UInt8], at offset: Int, nextIntact: Int) -> String {
        let length = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian) }
        if length > WALFormat.maxPayload { return "impossible record length \(length)" }
        if offset + WALFormat.recordHeaderSize + length > bytes.count { return "record length \(length) runs past the end of the file" }
        if WALFormat.RecordType(rawValue: bytes[offset + 8]) == nil { return "unknown record type \(bytes[offset + 8])" }
        return "checksum mismatch"
    }

    static func parentOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

/// Appends records to a write-ahead log. A commit is one record, written whole and then
/// (with `SyncPolicy.always`) fsynced before `commit` returns: a record is acknowledged
/// only once it is durable. Several commits may share one fsync (group commit) by
/// appending with `sync: false` and calling `sync()`. Not thread-safe: the engine
/// serialises writers.
public final class WriteAheadLog {
    public enum SyncPolicy: String, Sendable {
        /// fsync before each commit is acknowledged (the default).
        case always
        /// fsync when the caller asks (after a group of commits); a crash may lose the
        /// commits since the last sync, never part of one.
        case batch
    }

    public let path: String
    public let policy: SyncPolicy
    private let sink: FileSink
    private let frame = ByteBuffer(capacity: 1 << 16)
    public private(set) var length: Int

    /// Opens `path`, creating it with a file header if missing. An existing log is read
    /// first; a torn tail is cut off so new records follow the last intact one.
    /// Returns the log and the recovered records.
    public static func open(path: String, policy: SyncPolicy = .always) throws -> (WriteAheadLog, WALReader.Recovered) {
        let fd = Syscall.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw IOError.openFailed(path: path, errno: -fd) }
        var st = stat()
        fstat(fd, &st)
        let sink = FileSink(ownedDescriptor: fd, name: path)
        var recovered = WALReader.Recovered(records: [], validLength: 0, droppedBytes: 0)
        if st.st_size > 0 {
            recovered = try WALReader.read(path: path)
            if recovered.droppedBytes > 0 {
                let failure = Syscall.ftruncate(fd, recovered.validLength)
                if failure != 0 { throw IOError.failed(operation: "truncate", path: path, errno: failure) }
                try sink.sync()
            }
        }
        if recovered.validLength == 0 {   // new, or its header was torn
            if lseek(fd, 0, SEEK_SET) < 0 { throw IOError.failed(operation: "seek", path: path, errno: errno) }
            try WALFormat.fileHeader().withUnsafeBytes { try sink.write($0) }
            try sink.sync()
            recovered.validLength = WALFormat.fileHeaderSize
        }
        if lseek(fd, off_t(recovered.validLength), SEEK_SET) < 0 {
            throw IOError.failed(operation: "seek", path: path, errno: errno)
        }
        return (WriteAheadLog(path: path, policy: policy, sink: sink, length: recovered.validLength), recovered)
    }

    private init(path: String, policy: SyncPolicy, sink: FileSink, length: Int) {
        self.path = path
        self.policy = policy
        self.sink = sink
        self.length = length
    }

    /// Appends one commit record. With `SyncPolicy.always` it is durable when this
    /// returns; with `.batch`, after the next `sync()`.
    public func commit(_ payload: UnsafeRawBufferPointer) throws {
        guard payload.count <= WALFormat.maxPayload else {
            throw WALError.corrupt(path: path, offset: length, reason: "a commit of \(payload.count) bytes is over the \(WALFormat.maxPayload)-byte limit")
        }
        frame.removeAll()
        let type = WALFormat.RecordType.commit.rawValue
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { frame.append($0) }
        withUnsafeBytes(of: WALFormat.checksum(type: type, payload: payload).littleEndian) { frame.append($0) }
        frame.append(type)
        frame.append(payload)
        try sink.write(frame.bytes)
        length += frame.count
        if policy == .always { try sink.sync() }
    }

    public func commit(_ payload: [UInt8]) throws {
        try payload.withUnsafeBytes { try commit($0) }
    }

    /// Makes every commit so far durable (one fsync for the group).
    public func sync() throws { try sink.sync() }

    public func close() throws { try sink.finish() }
}
