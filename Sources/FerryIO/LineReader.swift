#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte source into lines for the NDJSON stream (docs/stream-format.md).
///
/// - Lines end at `\n`; a `\r` before it is dropped; the last line may lack `\n`.
/// - Blank lines (empty, or only spaces and tabs) are counted but not returned.
/// - A line longer than `maxLineLength` throws `IOError.lineTooLong`; the reader then
///   skips the rest of that line, so the caller may reject it and go on.
///
/// Not thread-safe. The buffer handed out is valid until the next call.
public final class LineReader {
    /// The largest line accepted by default: 16 MiB, far above DynamoDB's 400 KB item
    /// even in typed JSON with base64 binaries.
    public static let defaultMaxLineLength = 16 * 1024 * 1024

    public let source: ByteSource
    public let maxLineLength: Int
    /// Number of the line last returned (1-based), counting blank lines.
    public private(set) var lineNumber = 0

    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0       // first unread byte
    private var end = 0         // one past the last valid byte
    private var atEnd = false
    private var discarding = false

    public init(source: ByteSource, maxLineLength: Int = LineReader.defaultMaxLineLength,
                bufferSize: Int = 128 * 1024) {
        self.source = source
        self.maxLineLength = maxLineLength
        capacity = max(64, min(bufferSize, maxLineLength + 1))
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next non-blank line without its terminator, or nil at the end of the input.
    public func next() throws -> UnsafeRawBufferPointer? {
        while true {
            guard let line = try nextRaw() else { return nil }
            if !isBlank(line) { return line }
        }
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 { return false }
        return true
    }

    private func nextRaw() throws -> UnsafeRawBufferPointer? {
        var searchFrom = start
        while true {
            if let nl = memchr(buffer + searchFrom, 0x0A, end - searchFrom) {
                let newline = buffer.distance(to: nl)
                let lineStart = start
                start = newline + 1
                if discarding {
                    // Tail of an over-long line, already reported: drop it.
                    discarding = false
                    searchFrom = start
                    continue
                }
                return emit(from: lineStart, to: newline)
            }
            if atEnd {
                guard end > start, !discarding else { return nil }
                let lineStart = start
                start = end
                return emit(from: lineStart, to: end)
            }
            if !discarding && end - start > maxLineLength {
                // Over the limit: report once, then skip up to the next newline.
                lineNumber += 1
                start = 0; end = 0
                discarding = true
                throw IOError.lineTooLong(path: source.name, line: lineNumber, limit: maxLineLength)
            }
            let searched = end - start
            try fill()
            searchFrom = discarding ? start : start + searched
        }
    }

    private func emit(from lineStart: Int, to lineEnd: Int) -> UnsafeRawBufferPointer {
        lineNumber += 1
        var stop = lineEnd
        if stop > lineStart && buffer.load(fromByteOffset: stop - 1, as: UInt8.self) == 0x0D { stop -= 1 }
        return UnsafeRawBufferPointer(start: buffer + lineStart, count: stop - lineStart)
    }

    /// Reads more input, first moving the unread tail to the front (or growing the buffer
    /// when the tail fills it).
    private func fill() throws {
        if discarding {
            start = 0; end = 0
        } else if start > 0 {
            let tail = end - start
            if tail > 0 { memmove(buffer, buffer + start, tail) }
            start = 0; end = tail
        }
        if end == capacity {
            let newCapacity = min(capacity * 2, maxLineLength + 1)
            if newCapacity > capacity {
                let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
                grown.copyMemory(from: buffer, byteCount: end)
                buffer.deallocate()
                buffer = grown
                capacity = newCapacity
            }
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: capacity - end))
        if n == 0 { atEnd = true } else { end += n }
    }
}
