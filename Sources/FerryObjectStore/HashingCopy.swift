import Dispatch
import FerryIO
import Foundation

/// Copies a source to a sink while a hash runs on a second thread over the same chunks,
/// so hashing overlaps the reads and writes. A put hashes MD5 there (the slowest part of
/// a put; CRC32, much faster, runs on the copying thread); a whole-object read checks
/// CRC32 there. A ring of four 1 MiB buffers bounds memory; a buffer is reused only
/// after both the write and the hash of its chunk are done.
enum HashingCopy {
    /// A put: the ETag's MD5 on the second thread, CRC32 on this one.
    static func copy(from source: ByteSource, to sink: ByteSink) throws -> ContentDigest {
        let state = HashState()
        var crc = CRC32()
        _ = try overlapped(from: source, to: sink, onThisThread: { crc.update($0) }, onSecondThread: state)
        var digest = state.digest
        digest.setCRC(crc)
        return digest
    }

    /// A whole-object read: the CRC32 of what was copied, and its length.
    static func copyComputingCRC(from source: ByteSource, to sink: ByteSink) throws -> (crc: CRC32, size: Int) {
        let state = CRCState()
        let size = try overlapped(from: source, to: sink, onThisThread: { _ in }, onSecondThread: state)
        return (state.crc, size)
    }

    private static func overlapped(from source: ByteSource, to sink: ByteSink, onThisThread: (UnsafeRawBufferPointer) -> Void,
                                   onSecondThread state: some ChunkHashing) throws -> Int {
        let slots = 4, chunkSize = 1 << 20
        let ring = BufferRing(count: slots, size: chunkSize)
        let buffers = ring.buffers
        // Made at 0 and raised: libdispatch traps when a semaphore is freed below the value
        // it was created with, which the last, unpaired wait would leave it at.
        let free = DispatchSemaphore(value: 0)
        for _ in 0..<slots { free.signal() }
        let ready = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let pending = PendingChunks()
        let hasher = Thread {
            while true {
                ready.wait()
                guard let (slot, count) = pending.pop() else { break }
                state.update(UnsafeRawBufferPointer(rebasing: ring.buffers[slot][..<count]))
                free.signal()
            }
            done.signal()
        }
        hasher.start()
        var slot = 0
        var total = 0
        var failure: Error?
        while true {
            free.wait()
            let n: Int
            do {
                n = try source.read(into: buffers[slot])
                if n > 0 {
                    let chunk = UnsafeRawBufferPointer(rebasing: buffers[slot][..<n])
                    try sink.write(chunk)
                    onThisThread(chunk)
                    total += n
                }
            } catch {
                failure = error
                break
            }
            if n == 0 { break }
            pending.push((slot, n))
            ready.signal()
            slot = (slot + 1) % slots
        }
        pending.push(nil)
        ready.signal()
        done.wait()
        if let failure { throw failure }
        return total
    }
}

/// What the second thread computes; it owns the state until the copy's end.
private protocol ChunkHashing: AnyObject, Sendable {
    func update(_ bytes: UnsafeRawBufferPointer)
}

private final class HashState: ChunkHashing, @unchecked Sendable {
    var digest = ContentDigest()
    func update(_ bytes: UnsafeRawBufferPointer) { digest.updateMD5(bytes) }
}

private final class CRCState: ChunkHashing, @unchecked Sendable {
    var crc = CRC32()
    func update(_ bytes: UnsafeRawBufferPointer) { crc.update(bytes) }
}

/// Chunk buffers shared by the two threads; the semaphores decide who may touch which.
private final class BufferRing: @unchecked Sendable {
    let buffers: [UnsafeMutableRawBufferPointer]
    init(count: Int, size: Int) {
        buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64) }
    }
    deinit { buffers.forEach { $0.deallocate() } }
}


/// Chunks handed from the copying thread to the hashing thread; nil marks the end.
private final class PendingChunks: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, Int)?] = []
    private var head = 0
    func push(_ item: (Int, Int)?) { lock.withLock { items.append(item) } }
    func pop() -> (Int, Int)? {
        lock.withLock {
            let item = items[head]
            head += 1
            return item
        }
    }
}
