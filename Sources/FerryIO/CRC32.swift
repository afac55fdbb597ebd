import CZlib

/// CRC-32 (IEEE 802.3, the one gzip and S3 use): carry-less multiply folding where the CPU
/// has it (CZlib's shim), zlib for the rest. Value type; update with successive chunks.
public struct CRC32: Sendable {
    public private(set) var value: UInt32 = 0

    public init() {}

    /// Continues from a CRC already computed (e.g. stored beside bytes that follow).
    public init(value: UInt32) { self.value = value }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
        var left = bytes.count
        var crc = value
        // zlib takes a 32-bit length: feed huge buffers in pieces.
        while left > 0 {
            let piece = min(left, 1 << 30)
            crc = ferry_crc32(crc, base, piece)
            base += piece
            left -= piece
        }
        value = crc
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
