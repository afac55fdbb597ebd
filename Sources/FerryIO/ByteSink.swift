#if canImport(Glibc)
import Glibc
#endif

/// Something bytes are written to: a file, stdout, or an encoder in front of one.
/// Not thread-safe: one writer at a time.
public protocol ByteSink: AnyObject {
    var name: String { get }
    /// Writes all of `bytes` or throws; a short write is never reported as success.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Writes what an encoder still holds and ends the stream; the descriptor of a file
    /// opened by path is closed. Calling it twice is harmless.
    func finish() throws
}

/// Writes to a file descriptor with write(2).
public final class FileSink: ByteSink {
    public let name: String
    public let descriptor: Int32
    private let ownsDescriptor: Bool
    private var closed = false

    /// Standard output, named "-" in messages.
    public static func standardOutput() -> FileSink { FileSink(descriptor: 1, name: "-") }

    public init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
        ownsDescriptor = false
    }

    /// Takes ownership of an open descriptor: `finish()` closes it.
    public init(ownedDescriptor: Int32, name: String) {
        descriptor = ownedDescriptor
        self.name = name
        ownsDescriptor = true
    }

    /// Creates or truncates `path` ("-" is standard output).
    public init(path: String, mode: mode_t = 0o644) throws {
        if path == "-" {
            descriptor = 1
            ownsDescriptor = false
        } else {
            let fd = Syscall.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
            guard fd >= 0 else { throw IOError.openFailed(path: path, errno: -fd) }
            descriptor = fd
            ownsDescriptor = true
        }
        name = path
    }

    deinit { if ownsDescriptor && !closed { _ = Syscall.close(descriptor) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let failure = Syscall.writeAll(descriptor, base, bytes.count)
        if failure == EPIPE { throw IOError.brokenPipe(path: name) }
        if failure != 0 { throw IOError.writeFailed(path: name, errno: failure) }
    }

    /// Starts writing what was written so far to disk without waiting, so the final
    /// `sync` of a large file waits for little (a hint; see `Syscall.startWriteback`).
    public func startWriteback() { Syscall.startWriteback(descriptor) }

    /// fsync(2): the bytes written so far survive a crash once this returns.
    public func sync() throws {
        let failure = Syscall.fsync(descriptor)
        // Pipes and terminals cannot be synced; that is not a failure of the data.
        if failure != 0 && failure != EINVAL && failure != EROFS {
            throw IOError.syncFailed(path: name, errno: failure)
        }
    }

    public func finish() throws {
        guard ownsDescriptor, !closed else { return }
        closed = true
        let failure = Syscall.close(descriptor)
        if failure != 0 { throw IOError.writeFailed(path: name, errno: failure) }
    }
}

/// Collects everything written, in memory; for tests and small objects.
public final class MemorySink: ByteSink {
    public let name: String
    public let buffer = ByteBuffer()
    public init(name: String = "<memory>") { self.name = name }
    public func write(_ bytes: UnsafeRawBufferPointer) throws { buffer.append(bytes) }
    public func finish() throws {}
}

/// Buffers small writes (records, lines) into large ones for a sink.
///
/// Callers append to `buffer` directly and call `recordEnded()` after each record, so a
/// record is built without copies. Not thread-safe.
public final class OutputWriter {
    public let sink: ByteSink
    public let buffer: ByteBuffer
    private let flushThreshold: Int

    public init(sink: ByteSink, bufferSize: Int = 1 << 20) {
        self.sink = sink
        flushThreshold = bufferSize
        buffer = ByteBuffer(capacity: bufferSize + bufferSize / 4)
    }

    /// Writes the buffer out once it holds `bufferSize` bytes.
    public func recordEnded() throws {
        if buffer.count >= flushThreshold { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll() }
        try sink.write(buffer.bytes)
    }

    /// Flushes and finishes the sink.
    public func finish() throws {
        try flush()
        try sink.finish()
    }
}
