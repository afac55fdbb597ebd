/// The buffering MD5 and SHA-256 share (Merkle–Damgård over 64-byte blocks): keeps a
/// partial block between updates and builds the final padding.
struct BlockFeeder: Sendable {
    private var pending: [UInt8] = []
    /// Bytes fed so far.
    private(set) var length: UInt64 = 0

    init() { pending.reserveCapacity(64) }

    /// Calls `process` for each complete 64-byte block of what was fed.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ process: (UnsafeRawPointer) -> Void) {
        guard bytes.count > 0 else { return }
        length &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count == 64 {
                pending.withUnsafeBytes { process($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - offset >= 64 {
            process(bytes.baseAddress! + offset)
            offset += 64
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    /// 0x80, zeros to 56 mod 64, then the bit length in 8 bytes.
    func padding(bigEndianLength: Bool) -> [UInt8] {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        let used = (pending.count + 1) % 64
        tail.append(contentsOf: [UInt8](repeating: 0, count: used <= 56 ? 56 - used : 120 - used))
        for i in 0..<8 {
            let shift = UInt64(bigEndianLength ? 7 - i : i) * 8
            tail.append(UInt8(truncatingIfNeeded: bitLength >> shift))
        }
        return tail
    }
}

/// A hash over 64-byte blocks; its public `update`s call `feed`.
protocol BlockHash {
    var blocks: BlockFeeder { get set }
    mutating func processBlock(_ block: UnsafeRawPointer)
}

extension BlockHash {
    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var feeder = blocks
        blocks = BlockFeeder()   // so the copy above stays unique
        feeder.feed(bytes) { processBlock($0) }
        blocks = feeder
    }
}
