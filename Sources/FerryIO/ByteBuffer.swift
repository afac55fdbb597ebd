/// A growable run of bytes over one raw allocation that doubles when full.
///
/// Output is built here rather than in `[UInt8]`: `Array.append(contentsOf:)` cost about
/// 30% of a writer's time in measurements (see docs/performance.md). Not thread-safe:
/// one owner at a time; reuse one buffer rather than making a new one per record.
public final class ByteBuffer {
    @usableFromInline var storage: UnsafeMutablePointer<UInt8>
    @usableFromInline var _count: Int = 0
    @usableFromInline var _capacity: Int

    public init(capacity: Int = 4096) {
        _capacity = max(capacity, 16)
        storage = .allocate(capacity: _capacity)
    }

    deinit { storage.deallocate() }

    @inlinable public var count: Int { _count }
    @inlinable public var isEmpty: Bool { _count == 0 }
    @inlinable public var capacity: Int { _capacity }

    /// The bytes written so far; valid until the next mutation.
    @inlinable public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage, count: _count)
    }

    @inlinable public var array: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: _count)) }

    /// Makes room for `extra` more bytes without further allocation.
    @inlinable public func reserve(_ extra: Int) {
        if _count + extra > _capacity { grow(to: _count + extra) }
    }

    @usableFromInline func grow(to needed: Int) {
        var newCapacity = _capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newStorage.update(from: storage, count: _count)
        storage.deallocate()
        storage = newStorage
        _capacity = newCapacity
    }

    @inlinable @inline(__always) public func append(_ byte: UInt8) {
        if _count == _capacity { grow(to: _count + 1) }
        storage[_count] = byte
        _count &+= 1
    }

    @inlinable public func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + _count).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        _count &+= bytes.count
    }

    @inlinable public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inlinable public func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inlinable public func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends the decimal digits of `value`.
    @inlinable public func append(decimal value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, no heap
        withUnsafeMutableBytes(of: &digits) { scratch in
            var i = scratch.count
            repeat {
                i -= 1
                scratch[i] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            append(UnsafeRawBufferPointer(rebasing: scratch[i...]))
        }
    }

    /// Gives the free space at the end to `body`, which returns how much it filled.
    @inlinable public func appendWithUnsafeSpace(
        minimum: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Int
    ) rethrows {
        reserve(minimum)
        let space = UnsafeMutableRawBufferPointer(start: storage + _count, count: _capacity - _count)
        let filled = try body(space)
        precondition(filled >= 0 && filled <= space.count, "appendWithUnsafeSpace overfilled")
        _count += filled
    }

    public func removeAll() { _count = 0 }

    /// Drops the first `n` bytes, moving the rest to the front.
    public func removeFirst(_ n: Int) {
        precondition(n <= _count)
        if n < _count { storage.update(from: storage + n, count: _count - n) }
        _count -= n
    }

    /// Cuts the buffer back to `newCount` bytes (to undo a partly written record).
    public func truncate(to newCount: Int) {
        precondition(newCount <= _count)
        _count = newCount
    }
}
