/// A growable run of bytes over one raw allocation that doubles when full.
///
/// Output is built here rather than in `[UInt8]`: `Array.append(contentsOf:)` cost about
/// 30% of a writer's time in measurements (see docs/performance.md). The mutable state
/// sits behind a `let` pointer rather than in `var` properties: Swift checks exclusive
/// access to a class's `var`s at run time, and those checks measured a third of the
/// time of a writer. Not thread-safe: one owner at a time; reuse one buffer rather than
/// making a new one per record.
public final class ByteBuffer {
    @usableFromInline struct State {
        @usableFromInline var storage: UnsafeMutablePointer<UInt8>
        @usableFromInline var count: Int
        @usableFromInline var capacity: Int
    }

    @usableFromInline let state: UnsafeMutablePointer<State>

    public init(capacity: Int = 4096) {
        let capacity = max(capacity, 16)
        state = .allocate(capacity: 1)
        state.initialize(to: State(storage: .allocate(capacity: capacity), count: 0, capacity: capacity))
    }

    deinit {
        state.pointee.storage.deallocate()
        state.deallocate()
    }

    @inlinable public var count: Int { state.pointee.count }
    @inlinable public var isEmpty: Bool { state.pointee.count == 0 }
    @inlinable public var capacity: Int { state.pointee.capacity }

    /// The bytes written so far; valid until the next mutation.
    @inlinable public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: state.pointee.storage, count: state.pointee.count)
    }

    @inlinable public var array: [UInt8] { Array(UnsafeBufferPointer(start: state.pointee.storage, count: state.pointee.count)) }

    /// Makes room for `extra` more bytes without further allocation.
    @inlinable @inline(__always) public func reserve(_ extra: Int) {
        if state.pointee.count + extra > state.pointee.capacity { grow(to: state.pointee.count + extra) }
    }

    @usableFromInline func grow(to needed: Int) {
        var newCapacity = state.pointee.capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newStorage.update(from: state.pointee.storage, count: state.pointee.count)
        state.pointee.storage.deallocate()
        state.pointee.storage = newStorage
        state.pointee.capacity = newCapacity
    }

    @inlinable @inline(__always) public func append(_ byte: UInt8) {
        let s = state
        if s.pointee.count == s.pointee.capacity { grow(to: s.pointee.count + 1) }
        s.pointee.storage[s.pointee.count] = byte
        s.pointee.count &+= 1
    }

    @inlinable @inline(__always) public func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        let s = state
        (s.pointee.storage + s.pointee.count).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        s.pointee.count &+= bytes.count
    }

    @inlinable public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inlinable @inline(__always) public func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Disfavoured so that a string literal takes the StaticString overload: no String
    /// is made (and retained and released) per literal on the encoders' hot paths.
    @_disfavoredOverload
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
        let s = state
        let space = UnsafeMutableRawBufferPointer(start: s.pointee.storage + s.pointee.count,
                                                  count: s.pointee.capacity - s.pointee.count)
        let filled = try body(space)
        precondition(filled >= 0 && filled <= space.count, "appendWithUnsafeSpace overfilled")
        s.pointee.count += filled
    }

    public func removeAll() { state.pointee.count = 0 }

    /// Drops the first `n` bytes, moving the rest to the front.
    public func removeFirst(_ n: Int) {
        precondition(n <= state.pointee.count)
        let s = state
        if n < s.pointee.count { s.pointee.storage.update(from: s.pointee.storage + n, count: s.pointee.count - n) }
        s.pointee.count -= n
    }

    /// Cuts the buffer back to `newCount` bytes (to undo a partly written record).
    public func truncate(to newCount: Int) {
        precondition(newCount <= state.pointee.count)
        state.pointee.count = newCount
    }
}
