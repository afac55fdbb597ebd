#if canImport(Glibc)
import Glibc
#endif

/// Something bytes are read from: a file, a pipe, stdin, or a decoder over one of these.
/// Implementations are not thread-safe: one reader at a time.
public protocol ByteSource: AnyObject {
    /// The name used in error messages: a path, "-" for stdin, or an object key.
    var name: String { get }
    /// Fills up to `buffer.count` bytes; returns 0 only at the end of the input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Bytes of the underlying input consumed so far (compressed bytes for a decoder),
    /// so errors can name a byte offset.
    var bytesConsumed: Int { get }
}

/// Reads a file descriptor with read(2). Opened from a path, or stdin for "-".
public final class FileSource: ByteSource {
    public let name: String
    public private(set) var bytesConsumed = 0
    private let fd: Int32
    public var descriptor: Int32 { fd }
    private let ownsDescriptor: Bool

    /// Opens `path` for reading; "-" means standard input.
    public init(path: String) throws {
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            let opened = Syscall.open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else { throw IOError.openFailed(path: path, errno: -opened) }
            fd = opened
            ownsDescriptor = true
        }
        name = path
    }

    /// Reads an already open descriptor, which stays open afterwards.
    public init(descriptor: Int32, name: String) {
        fd = descriptor
        ownsDescriptor = false
        self.name = name
    }

    /// Takes ownership of an open descriptor, closed when the source goes away.
    public init(ownedDescriptor: Int32, name: String) {
        fd = ownedDescriptor
        ownsDescriptor = true
        self.name = name
    }

    deinit { if ownsDescriptor { _ = Syscall.close(fd) } }

    /// Moves the read position to `offset` bytes from the start (for byte ranges).
    public func seek(to offset: Int) throws {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 { throw IOError.readFailed(path: name, errno: errno) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let n = Syscall.read(fd, base, buffer.count)
        if n < 0 { throw IOError.readFailed(path: name, errno: Int32(-n)) }
        bytesConsumed += n
        return n
    }
}

/// Serves bytes from memory; for tests and for objects already in memory.
public final class MemorySource: ByteSource {
    public let name: String
    private let data: [UInt8]
    private var position = 0
    /// Largest read served at once, so tests can force data to arrive in small pieces.
    private let chunkLimit: Int
    public var bytesConsumed: Int { position }

    public init(_ data: [UInt8], name: String = "<memory>", chunkLimit: Int = Int.max) {
        self.data = data
        self.name = name
        self.chunkLimit = max(1, chunkLimit)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, data.count - position, chunkLimit)
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

extension ByteSource {
    /// Reads to the end in chunks of up to `chunkSize` bytes, handing each to `body`;
    /// returns the total. Memory is the one chunk buffer.
    @discardableResult
    public func forEachChunk(chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let n = try read(into: buffer)
            if n == 0 { return total }
            total += n
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
    }

    /// Reads everything that is left. For small inputs (documents, manifests) only.
    public func readAll(limit: Int = 1 << 30) throws -> [UInt8] {
        let buffer = ByteBuffer(capacity: 64 * 1024)
        while true {
            var got = 0
            try buffer.appendWithUnsafeSpace(minimum: 64 * 1024) { space in
                got = try read(into: UnsafeMutableRawBufferPointer(
                    start: space.baseAddress, count: min(space.count, 1 << 20)))
                return got
            }
            if got == 0 { break }
            if buffer.count > limit {
                throw IOError.tooLarge(path: name, limit: limit)
            }
        }
        return buffer.array
    }
}
