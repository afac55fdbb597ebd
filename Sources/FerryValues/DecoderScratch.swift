#if canImport(Glibc)
import Glibc
#endif

/// Scratch a decoder keeps between records: recent attribute names, so a name seen on
/// the previous line is not built again as a String, and a stack of name hashes for the
/// duplicate check, so no array is allocated per map.
///
/// Names are verified byte for byte before reuse: a hash collision costs a miss, never
/// a wrong name. State sits behind pointers (see ByteBuffer on exclusivity checks).
/// Not thread-safe: one per decoder, one decoder per thread.
final class DecoderScratch {
    private struct Slot {
        var hash: UInt64
        var name: String
    }

    private static let slotCount = 256   // power of two
    private let slots: UnsafeMutablePointer<Slot>
    private(set) var hashes: UnsafeMutablePointer<UInt64>
    private var hashCapacity: Int
    /// Names longer than this are not cached (they are rare and costly to compare).
    private static let maxCachedLength = 64

    init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(hash: 0, name: ""), count: Self.slotCount)
        hashCapacity = 64
        hashes = .allocate(capacity: hashCapacity)
    }

    deinit {
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
        hashes.deallocate()
    }

    /// The String for `bytes` (valid UTF-8), from the cache when it was seen recently.
    @inline(__always)
    func name(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> String {
        let n = bytes.count
        guard n > 0, n <= Self.maxCachedLength else { return String(decoding: bytes, as: UTF8.self) }
        let slot = slots + Int(truncatingIfNeeded: hash & UInt64(Self.slotCount - 1))
        if slot.pointee.hash == hash {
            let same = slot.pointee.name.utf8.withContiguousStorageIfAvailable { stored in
                stored.count == n && memcmp(stored.baseAddress!, bytes.baseAddress!, n) == 0
            }
            if same == true { return slot.pointee.name }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        slot.pointee = Slot(hash: hash, name: name)
        return name
    }

    /// Makes room for `count` hashes in the duplicate-check stack.
    @inline(__always)
    func reserveHashes(_ count: Int) {
        if count > hashCapacity {
            var newCapacity = hashCapacity
            while newCapacity < count { newCapacity *= 2 }
            let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity)
            grown.update(from: hashes, count: hashCapacity)
            hashes.deallocate()
            hashes = grown
            hashCapacity = newCapacity
        }
    }
}
