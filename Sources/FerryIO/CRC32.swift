import CZlib

/// CRC-32 (IEEE 802.3, the one gzip and S3 use), computed by zlib. Value type; update
/// with successive chunks.
public struct CRC32: Sendable {
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
        var left = bytes.count
        var crc = uLong(value)
        // zlib takes a 32-bit length: feed huge buffers in pieces.
        while left > 0 {
            let piece = min(left, 1 << 30)
            crc = crc32(crc, base, uInt(piece))
            base += piece
            left -= piece
        }
        value = UInt32(truncatingIfNeeded: crc)
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// This CRC followed by `other`'s bytes (`length` of them), as if they had been fed
    /// in one stream: lets threads checksum pieces of one stream.
    public mutating func combine(_ other: CRC32, length: Int) {
        value = UInt32(truncatingIfNeeded: crc32_combine(uLong(value), uLong(other.value), off_t(length)))
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
