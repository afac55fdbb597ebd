/// Text in a single-byte encoding, read as UTF-8 (`ferry-extract --encoding`): Excel and
/// older systems export Latin-1 or Windows-1252 rather than UTF-8. Every byte maps to
/// exactly one character, so line numbers and the records themselves stay as they were;
/// a cp1252 byte with no character (0x81, 0x8D, 0x8F, 0x90, 0x9D) is an error naming
/// its offset, never a replacement character. Not thread-safe.
public final class TextEncodingSource: ByteSource {
    public enum Encoding: String, Sendable, CaseIterable {
        case utf8 = "utf-8"
        case latin1
        case cp1252
    }

    public let name: String
    private let upstream: ByteSource
    private let encoding: Encoding
    private var input: [UInt8]
    private var offset = 0
    public var bytesConsumed: Int { upstream.bytesConsumed }

    public init(_ upstream: ByteSource, encoding: Encoding) {
        self.upstream = upstream
        self.encoding = encoding
        name = upstream.name
        input = [UInt8](repeating: 0, count: 64 * 1024)
    }

    /// Windows-1252's characters for 0x80...0x9F (0 where it has none).
    static let cp1252High: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// Converted bytes a small read had no room for.
    private var pending: [UInt8] = []

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if encoding == .utf8 { return try upstream.read(into: buffer) }
        if pending.isEmpty {
            // Each byte becomes at most 3.
            let want = max(1, min(input.count, buffer.count / 3))
            let n = try input.withUnsafeMutableBytes { try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
            if n == 0 { return 0 }
            pending.reserveCapacity(n * 3)
            for i in 0..<n {
                let byte = input[i]
                if byte < 0x80 { pending.append(byte); continue }
                var scalar = UInt32(byte)
                if byte <= 0x9F && encoding == .cp1252 {
                    scalar = Self.cp1252High[Int(byte - 0x80)]
                    if scalar == 0 {
                        throw IOError.unreadableInput(path: name, reason: "byte 0x\(String(byte, radix: 16, uppercase: true)) at offset \(offset + i) has no character in cp1252")
                    }
                }
                if scalar < 0x800 {
                    pending.append(UInt8(0xC0 | (scalar >> 6)))
                    pending.append(UInt8(0x80 | (scalar & 0x3F)))
                } else {
                    pending.append(UInt8(0xE0 | (scalar >> 12)))
                    pending.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                    pending.append(UInt8(0x80 | (scalar & 0x3F)))
                }
            }
            offset += n
        }
        let count = min(buffer.count, pending.count)
        pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        pending.removeFirst(count)
        return count
    }
}
