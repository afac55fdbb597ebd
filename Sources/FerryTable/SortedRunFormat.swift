// Sorted run file format shared by writer and reader. See docs/sorted-run-format.md.
import FerryIO

/// DO NOT CHANGE THESE VALUES: they are embedded in sorted run files on disk.
enum SortedRunFormat {
    static let magic: [UInt8] = Array("FERRYRUN".utf8)
    static let endMagic: [UInt8] = Array("FERRYEND".utf8)
    static let version: UInt32 = 2
    static let headerSize = 16
    static let footerSize = 56
    /// Bloom filter: bits per key and probes (1% false positives).
    static let bloomBitsPerKey = 10
    static let bloomProbes: UInt8 = 7
    /// Data blocks are cut after they pass this size.
    static let blockTarget = 16 * 1024

    /// Entry flag values.
    static let put: UInt8 = 0
    static let tombstone: UInt8 = 1

    static func appendVarint(_ value: Int, to out: ByteBuffer) {
        var v = UInt64(value)
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// FNV-1a, 64 bits: the bloom filter's hash (simple enough to write anywhere).
    @inline(__always)
    static func bloomHash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// Reads a varint at `offset`; nil when it runs past `end` or is too long.
    static func readVarint(_ raw: UnsafeRawBufferPointer, _ offset: inout Int, end: Int) -> Int? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end && shift < 64 {
            let byte = raw[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result <= UInt64(Int.max) ? Int(result) : nil }
            shift += 7
        }
        return nil
    }
}

public enum SortedRunError: Error, CustomStringConvertible, Equatable {
    case notARun(path: String)
    case incomplete(path: String, reason: String)
    case corrupt(path: String, offset: Int, reason: String)
    case outOfOrder(path: String)

    public var description: String {
        switch self {
        case let .notARun(path): return "\(path): not a Ferry sorted run (bad magic bytes)"
        case let .incomplete(path, reason): return "\(path): incomplete or damaged sorted run: \(reason)"
        case let .corrupt(path, offset, reason): return "\(path): corrupt sorted run block at byte \(offset): \(reason)"
        case let .outOfOrder(path): return "\(path): keys must be added in strictly increasing order"
        }
    }
}
