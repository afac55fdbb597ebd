extension UInt32 {
    @inline(__always) func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 &- n)) }
}

/// MD5 (RFC 1321): S3 ETags and the checksums in Amazon's DynamoDB export manifests.
/// Not for security. Value type; feed chunks with `update`, then `finalize`.
public struct MD5: Sendable, BlockHash {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    var blocks = BlockFeeder()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { feed(bytes) }
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { feed($0) } }

    /// One 64-byte block, the 64 steps of RFC 1321 unrolled with their constants inline
    /// (generated from the RFC's formulas: K[i] = floor(abs(sin(i + 1)) * 2^32)); twice as
    /// fast as a loop over tables.
    mutating func processBlock(_ block: UnsafeRawPointer) {
        let w0 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let w1 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let w2 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let w3 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let w4 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let w5 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
        let w6 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        let w7 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        let w8 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        let w9 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        let w10 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        let w11 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        let w12 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        let w13 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
        let w14 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 56, as: UInt32.self))
        let w15 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        var (a, b, c, d) = state
        a = b &+ (((b & c) | (~b & d)) &+ a &+ 0xd76aa478 &+ w0).rotatedLeft(7)
        d = a &+ (((a & b) | (~a & c)) &+ d &+ 0xe8c7b756 &+ w1).rotatedLeft(12)
        c = d &+ (((d & a) | (~d & b)) &+ c &+ 0x242070db &+ w2).rotatedLeft(17)
        b = c &+ (((c & d) | (~c & a)) &+ b &+ 0xc1bdceee &+ w3).rotatedLeft(22)
        a = b &+ (((b & c) | (~b & d)) &+ a &+ 0xf57c0faf &+ w4).rotatedLeft(7)
        d = a &+ (((a & b) | (~a & c)) &+ d &+ 0x4787c62a &+ w5).rotatedLeft(12)
        c = d &+ (((d & a) | (~d & b)) &+ c &+ 0xa8304613 &+ w6).rotatedLeft(17)
        b = c &+ (((c & d) | (~c & a)) &+ b &+ 0xfd469501 &+ w7).rotatedLeft(22)
        a = b &+ (((b & c) | (~b & d)) &+ a &+ 0x698098d8 &+ w8).rotatedLeft(7)
        d = a &+ (((a & b) | (~a & c)) &+ d &+ 0x8b44f7af &+ w9).rotatedLeft(12)
        c = d &+ (((d & a) | (~d & b)) &+ c &+ 0xffff5bb1 &+ w10).rotatedLeft(17)
        b = c &+ (((c & d) | (~c & a)) &+ b &+ 0x895cd7be &+ w11).rotatedLeft(22)
        a = b &+ (((b & c) | (~b & d)) &+ a &+ 0x6b901122 &+ w12).rotatedLeft(7)
        d = a &+ (((a & b) | (~a & c)) &+ d &+ 0xfd987193 &+ w13).rotatedLeft(12)
        c = d &+ (((d & a) | (~d & b)) &+ c &+ 0xa679438e &+ w14).rotatedLeft(17)
        b = c &+ (((c & d) | (~c & a)) &+ b &+ 0x49b40821 &+ w15).rotatedLeft(22)
        a = b &+ (((d & b) | (~d & c)) &+ a &+ 0xf61e2562 &+ w1).rotatedLeft(5)
        d = a &+ (((c & a) | (~c & b)) &+ d &+ 0xc040b340 &+ w6).rotatedLeft(9)
        c = d &+ (((b & d) | (~b & a)) &+ c &+ 0x265e5a51 &+ w11).rotatedLeft(14)
        b = c &+ (((a & c) | (~a & d)) &+ b &+ 0xe9b6c7aa &+ w0).rotatedLeft(20)
        a = b &+ (((d & b) | (~d & c)) &+ a &+ 0xd62f105d &+ w5).rotatedLeft(5)
        d = a &+ (((c & a) | (~c & b)) &+ d &+ 0x02441453 &+ w10).rotatedLeft(9)
        c = d &+ (((b & d) | (~b & a)) &+ c &+ 0xd8a1e681 &+ w15).rotatedLeft(14)
        b = c &+ (((a & c) | (~a & d)) &+ b &+ 0xe7d3fbc8 &+ w4).rotatedLeft(20)
        a = b &+ (((d & b) | (~d & c)) &+ a &+ 0x21e1cde6 &+ w9).rotatedLeft(5)
        d = a &+ (((c & a) | (~c & b)) &+ d &+ 0xc33707d6 &+ w14).rotatedLeft(9)
        c = d &+ (((b & d) | (~b & a)) &+ c &+ 0xf4d50d87 &+ w3).rotatedLeft(14)
        b = c &+ (((a & c) | (~a & d)) &+ b &+ 0x455a14ed &+ w8).rotatedLeft(20)
        a = b &+ (((d & b) | (~d & c)) &+ a &+ 0xa9e3e905 &+ w13).rotatedLeft(5)
        d = a &+ (((c & a) | (~c & b)) &+ d &+ 0xfcefa3f8 &+ w2).rotatedLeft(9)
        c = d &+ (((b & d) | (~b & a)) &+ c &+ 0x676f02d9 &+ w7).rotatedLeft(14)
        b = c &+ (((a & c) | (~a & d)) &+ b &+ 0x8d2a4c8a &+ w12).rotatedLeft(20)
        a = b &+ ((b ^ c ^ d) &+ a &+ 0xfffa3942 &+ w5).rotatedLeft(4)
        d = a &+ ((a ^ b ^ c) &+ d &+ 0x8771f681 &+ w8).rotatedLeft(11)
        c = d &+ ((d ^ a ^ b) &+ c &+ 0x6d9d6122 &+ w11).rotatedLeft(16)
        b = c &+ ((c ^ d ^ a) &+ b &+ 0xfde5380c &+ w14).rotatedLeft(23)
        a = b &+ ((b ^ c ^ d) &+ a &+ 0xa4beea44 &+ w1).rotatedLeft(4)
        d = a &+ ((a ^ b ^ c) &+ d &+ 0x4bdecfa9 &+ w4).rotatedLeft(11)
        c = d &+ ((d ^ a ^ b) &+ c &+ 0xf6bb4b60 &+ w7).rotatedLeft(16)
        b = c &+ ((c ^ d ^ a) &+ b &+ 0xbebfbc70 &+ w10).rotatedLeft(23)
        a = b &+ ((b ^ c ^ d) &+ a &+ 0x289b7ec6 &+ w13).rotatedLeft(4)
        d = a &+ ((a ^ b ^ c) &+ d &+ 0xeaa127fa &+ w0).rotatedLeft(11)
        c = d &+ ((d ^ a ^ b) &+ c &+ 0xd4ef3085 &+ w3).rotatedLeft(16)
        b = c &+ ((c ^ d ^ a) &+ b &+ 0x04881d05 &+ w6).rotatedLeft(23)
        a = b &+ ((b ^ c ^ d) &+ a &+ 0xd9d4d039 &+ w9).rotatedLeft(4)
        d = a &+ ((a ^ b ^ c) &+ d &+ 0xe6db99e5 &+ w12).rotatedLeft(11)
        c = d &+ ((d ^ a ^ b) &+ c &+ 0x1fa27cf8 &+ w15).rotatedLeft(16)
        b = c &+ ((c ^ d ^ a) &+ b &+ 0xc4ac5665 &+ w2).rotatedLeft(23)
        a = b &+ ((c ^ (b | ~d)) &+ a &+ 0xf4292244 &+ w0).rotatedLeft(6)
        d = a &+ ((b ^ (a | ~c)) &+ d &+ 0x432aff97 &+ w7).rotatedLeft(10)
        c = d &+ ((a ^ (d | ~b)) &+ c &+ 0xab9423a7 &+ w14).rotatedLeft(15)
        b = c &+ ((d ^ (c | ~a)) &+ b &+ 0xfc93a039 &+ w5).rotatedLeft(21)
        a = b &+ ((c ^ (b | ~d)) &+ a &+ 0x655b59c3 &+ w12).rotatedLeft(6)
        d = a &+ ((b ^ (a | ~c)) &+ d &+ 0x8f0ccc92 &+ w3).rotatedLeft(10)
        c = d &+ ((a ^ (d | ~b)) &+ c &+ 0xffeff47d &+ w10).rotatedLeft(15)
        b = c &+ ((d ^ (c | ~a)) &+ b &+ 0x85845dd1 &+ w1).rotatedLeft(21)
        a = b &+ ((c ^ (b | ~d)) &+ a &+ 0x6fa87e4f &+ w8).rotatedLeft(6)
        d = a &+ ((b ^ (a | ~c)) &+ d &+ 0xfe2ce6e0 &+ w15).rotatedLeft(10)
        c = d &+ ((a ^ (d | ~b)) &+ c &+ 0xa3014314 &+ w6).rotatedLeft(15)
        b = c &+ ((d ^ (c | ~a)) &+ b &+ 0x4e0811a1 &+ w13).rotatedLeft(21)
        a = b &+ ((c ^ (b | ~d)) &+ a &+ 0xf7537e82 &+ w4).rotatedLeft(6)
        d = a &+ ((b ^ (a | ~c)) &+ d &+ 0xbd3af235 &+ w11).rotatedLeft(10)
        c = d &+ ((a ^ (d | ~b)) &+ c &+ 0x2ad7d2bb &+ w2).rotatedLeft(15)
        b = c &+ ((d ^ (c | ~a)) &+ b &+ 0xeb86d391 &+ w9).rotatedLeft(21)
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }

    /// The 16-byte digest. The value is consumed: do not update it afterwards.
    public mutating func finalize() -> [UInt8] {
        update(blocks.padding(bigEndianLength: false))
        var out = [UInt8]()
        for word in [state.0, state.1, state.2, state.3] {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return out
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finalize()
    }
}
