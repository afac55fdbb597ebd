import FerryIO

/// A run of whole lines cut from a stream by `ParallelLineProcessor`: the unit of work a
/// worker thread takes. Lines keep their numbers in the stream (blank lines counted).
public struct LineBlock: @unchecked Sendable {
    /// The block's bytes: whole lines, the last one possibly without `\n` at the end of
    /// the stream. Valid only while the worker processes the block.
    public let bytes: UnsafeRawBufferPointer
    /// Number of the block's first line in the stream (1-based).
    public let firstLine: Int
    /// The stream's name, for messages.
    public let source: String
    /// Set when this block stands for one line longer than the limit (bytes is empty).
    public let overlongLine: Int?

    /// Calls `body` with each non-blank line (without `\n` or `\r\n`) and its number.
    @inline(__always)
    public func forEachLine(_ body: (UnsafeRawBufferPointer, Int) throws -> Void) rethrows {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        var number = firstLine
        let count = bytes.count
        while start < count {
            var end = start
            if let nl = memchr(base + start, 0x0A, count - start) {
                end = base.distance(to: UnsafeRawPointer(nl))
            } else {
                end = count
            }
            var stop = end
            if stop > start && base.load(fromByteOffset: stop - 1, as: UInt8.self) == 0x0D { stop -= 1 }
            let line = UnsafeRawBufferPointer(start: base + start, count: stop - start)
            if !Self.isBlank(line) { try body(line, number) }
            number += 1
            start = end + 1
        }
    }

    @inline(__always)
    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 { return false }
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif
