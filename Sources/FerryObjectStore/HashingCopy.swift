import Dispatch
import FerryIO
import Foundation

/// Copies a source to a sink while MD5 is computed on a second thread over the same
/// chunks, so hashing (the slowest part of a put) overlaps the reads and writes; CRC32
/// (zlib, much faster) runs on the copying thread. A ring of four 1 MiB buffers bounds memory; a buffer is reused only after
/// both the write and the hash of its chunk are done.
enum HashingCopy {
    static func copy(from source: ByteSource, to sink: ByteSink) throws -> ContentDigest {
        let slots = 4, chunkSize = 1 << 20
        let ring = BufferRing(count: slots, size: chunkSize)
        let buffers = ring.buffers
        let state = HashState()
        // Made at 0 and raised: libdispatch traps when a semaphore is freed below the value
        // it was created with, which the last, unpaired wait would leave it at.
        let free = DispatchSemaphore(value: 0)
        for _ in 0..<slots { free.signal() }
        let ready = DispatchSemaphore(value: 0)
        let pending = PendingChunks()
        let hasher = Thread {
            while true {
                ready.wait()
                guard let (slot, count) = pending.pop() else { break }
                state.update(UnsafeRawBufferPointer(rebasing: ring.buffers[slot][..<count]))
                free.signal()
            }
            state.finish()
        }
        hasher.start()
        var slot = 0
        var crc = CRC32()
        var failure: Error?
        while true {
            free.wait()
            let n: Int
            do {
                n = try source.read(into: buffers[slot])
                if n > 0 {
                    let chunk = UnsafeRawBufferPointer(rebasing: buffers[slot][..<n])
                    try sink.write(chunk)
                    crc.update(chunk)
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
        state.waitUntilFinished()
        if let failure { throw failure }
        var digest = state.digest
        digest.setCRC(crc)
        return digest
    }
}

/// Chunk buffers shared by the two threads; the semaphores decide who may touch which.
private final class BufferRing: @unchecked Sendable {
    let buffers: [UnsafeMutableRawBufferPointer]
    init(count: Int, size: Int) {
        buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64) }
    }
    deinit { buffers.forEach { $0.deallocate() } }
}

/// The digest, owned by the hashing thread until `finish`.
private final class HashState: @unchecked Sendable {
    var digest = ContentDigest()
    private let done = DispatchSemaphore(value: 0)
    func update(_ bytes: UnsafeRawBufferPointer) { digest.updateMD5(bytes) }
    func finish() { done.signal() }
    func waitUntilFinished() { done.wait() }
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
