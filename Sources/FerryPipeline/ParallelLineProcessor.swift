#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import Foundation

/// Runs a per-block function over an NDJSON stream on several threads and hands the
/// results back in stream order (docs/parallelism.md).
///
/// One reader thread reads (and gunzips) the source and cuts it into blocks of whole
/// lines; `threads` workers each run their own worker function (made once per thread by
/// `makeWorker`, so it may hold non-thread-safe state such as an ItemDecoder) on
/// blocks; the calling thread receives each block's result with `consume`, strictly in
/// order. At most `2 × threads + 2` blocks (or `lookahead`) are in flight, so memory
/// stays bounded.
///
/// Failure: a read error is raised on the calling thread after the results of every
/// block before it were consumed; an error thrown by `consume` stops the reader and the
/// workers, and `run` rethrows it once they have stopped.
public enum ParallelLineProcessor {
    public static func run<Output: Sendable>(
        source: ByteSource,
        threads: Int,
        blockSize: Int = 1 << 20,
        maxLineLength: Int = LineReader.defaultMaxLineLength,
        lookahead: Int? = nil,
        makeWorker: @escaping @Sendable () -> (LineBlock) -> Output,
        consume: (Output) throws -> Void
    ) throws {
        // `lookahead`: blocks in flight, for a consumer that stops now and then for long
        // (a bulk commit) while the workers go on.
        let state = SharedState<Output>(maxInFlight: max(lookahead ?? 0, 2 * max(1, threads) + 2))
        // A block never holds more than one line's limit, so a line over the limit can
        // only show up as a full block without a newline, where it is caught.
        let blockSize = max(16, min(blockSize, maxLineLength))
        let sendableSource = UncheckedBox(source)
        let reader = Thread {
            BlockReader(source: sendableSource.value, blockSize: blockSize, maxLineLength: maxLineLength, state: state).run()
        }
        reader.stackSize = 1 << 20
        reader.start()
        for _ in 0..<max(1, threads) {
            let worker = Thread {
                let work = makeWorker()
                while let job = state.nextJob() {
                    let output = work(job.block)
                    state.finish(job, output: output)
                }
                state.workerExited()
            }
            worker.stackSize = 8 << 20   // item decoding recurses up to DynamoDB's 32 levels
            worker.start()
        }
        state.setWorkers(max(1, threads))

        var failure: Error?
        do {
            while let output = try state.nextResult() { try consume(output) }
        } catch {
            failure = error
        }
        state.cancel()
        state.waitForThreads()
        if let failure { throw failure }
    }
}

/// Carries a non-Sendable reference to the one thread that uses it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A block's memory, recycled between blocks (fresh allocations cost page faults).
final class BlockBuffer: @unchecked Sendable {
    var memory: UnsafeMutableRawBufferPointer
    var count = 0
    init(capacity: Int) { memory = .allocate(byteCount: capacity, alignment: 64) }
    deinit { memory.deallocate() }

    func grow(to capacity: Int) {
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        grown.baseAddress!.copyMemory(from: memory.baseAddress!, byteCount: count)
        memory.deallocate()
        memory = grown
    }
}

struct Job: @unchecked Sendable {
    let sequence: Int
    let buffer: BlockBuffer?
    let block: LineBlock
}

/// Queues between the reader, the workers and the consumer, under one lock.
final class SharedState<Output: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var jobHead = 0
    private var results: [Int: Output] = [:]
    private var nextToConsume = 0
    private var inFlight = 0
    private let maxInFlight: Int
    private var readerDone = false
    private var readError: Error?
    private var readErrorSequence = Int.max
    private var cancelled = false
    private var liveWorkers = 0
    private var readerRunning = true
    private var freeBuffers: [BlockBuffer] = []

    init(maxInFlight: Int) { self.maxInFlight = maxInFlight }

    func setWorkers(_ n: Int) {
        condition.lock(); liveWorkers += n; condition.unlock()
    }

    // Reader side.

    /// Waits for room; false when the run was cancelled.
    func waitForRoom() -> Bool {
        condition.lock(); defer { condition.unlock() }
        while inFlight >= maxInFlight && !cancelled { condition.wait() }
        return !cancelled
    }

    func takeBuffer(capacity: Int) -> BlockBuffer {
        condition.lock()
        let buffer = freeBuffers.popLast()
        condition.unlock()
        if let buffer { buffer.count = 0; return buffer }
        return BlockBuffer(capacity: capacity)
    }

    func submit(_ job: Job) {
        condition.lock()
        jobs.append(job)
        inFlight += 1
        condition.broadcast()
        condition.unlock()
    }

    func readerFinished(error: Error?, nextSequence: Int) {
        condition.lock()
        readerDone = true
        readerRunning = false
        if let error { readError = error; readErrorSequence = nextSequence }
        condition.broadcast()
        condition.unlock()
    }

    var isCancelled: Bool {
        condition.lock(); defer { condition.unlock() }
        return cancelled
    }

    // Worker side.

    func nextJob() -> Job? {
        condition.lock(); defer { condition.unlock() }
        while jobHead == jobs.count && !readerDone && !cancelled { condition.wait() }
        if cancelled || jobHead == jobs.count { return nil }
        let job = jobs[jobHead]
        jobHead += 1
        if jobHead > 64 && jobHead * 2 > jobs.count {
            jobs.removeFirst(jobHead)
            jobHead = 0
        }
        return job
    }

    func finish(_ job: Job, output: Output) {
        condition.lock()
        results[job.sequence] = output
        if let buffer = job.buffer { freeBuffers.append(buffer) }
        condition.broadcast()
        condition.unlock()
    }

    func workerExited() {
        condition.lock(); liveWorkers -= 1; condition.broadcast(); condition.unlock()
    }

    // Consumer side.

    /// The next result in order; nil at the end; throws the read error in its place.
    func nextResult() throws -> Output? {
        condition.lock(); defer { condition.unlock() }
        while true {
            if let output = results.removeValue(forKey: nextToConsume) {
                nextToConsume += 1
                inFlight -= 1
                condition.broadcast()
                return output
            }
            if nextToConsume >= readErrorSequence, let readError { throw readError }
            if readerDone && inFlight == 0 && readError == nil { return nil }
            condition.wait()
        }
    }

    func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }

    func waitForThreads() {
        condition.lock(); defer { condition.unlock() }
        while liveWorkers > 0 || readerRunning { condition.wait() }
    }
}

/// Index of the last newline in the buffer (lines are short: a backward scan is cheap).
private func lastNewline(_ buffer: BlockBuffer) -> Int? {
    var i = buffer.count - 1
    let bytes = buffer.memory
    while i >= 0 {
        if bytes[i] == 0x0A { return i }
        i -= 1
    }
    return nil
}

/// Cuts the source into blocks of whole lines on the reader thread.
struct BlockReader<Output: Sendable> {
    let source: ByteSource
    let blockSize: Int
    let maxLineLength: Int
    let state: SharedState<Output>

    func run() {
        var sequence = 0
        var nextLine = 1
        var carry: [UInt8] = []      // a partial last line, moved to the next block
        var atEnd = false
        var discarding = false        // skipping the rest of an over-long line
        do {
            while !atEnd {
                guard state.waitForRoom() else { break }
                let buffer = state.takeBuffer(capacity: blockSize)
                if carry.count >= buffer.memory.count { buffer.grow(to: carry.count * 2) }
                carry.withUnsafeBytes { buffer.memory.baseAddress!.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, byteCount: $0.count) }
                buffer.count = carry.count
                carry.removeAll(keepingCapacity: true)
                var cut = 0   // index after the last newline
                while true {
                    // Fill the buffer.
                    while buffer.count < buffer.memory.count {
                        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.memory[buffer.count...]))
                        if n == 0 { atEnd = true; break }
                        buffer.count += n
                    }
                    if discarding {
                        // Drop everything up to and including the next newline.
                        if let nl = memchr(buffer.memory.baseAddress!, 0x0A, buffer.count) {
                            let skip = buffer.memory.baseAddress!.distance(to: nl) + 1
                            buffer.memory.baseAddress!.copyMemory(from: buffer.memory.baseAddress! + skip, byteCount: buffer.count - skip)
                            buffer.count -= skip
                            discarding = false
                            if !atEnd && buffer.count < buffer.memory.count { continue }
                        } else {
                            buffer.count = 0
                            if atEnd { break }
                            continue
                        }
                    }
                    // At the end of the input everything left is whole lines.
                    if atEnd { cut = buffer.count; break }
                    if let newline = lastNewline(buffer) {
                        cut = newline + 1
                        break
                    }
                    // No newline in a full buffer: a long line.
                    if buffer.count > maxLineLength {
                        state.submit(Job(sequence: sequence, buffer: nil,
                                         block: LineBlock(bytes: UnsafeRawBufferPointer(start: nil, count: 0),
                                                          firstLine: nextLine, source: source.name, overlongLine: nextLine)))
                        sequence += 1
                        nextLine += 1
                        buffer.count = 0
                        discarding = true
                        continue
                    }
                    buffer.grow(to: min(buffer.memory.count * 2, maxLineLength + 1))
                }
                if cut < buffer.count {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer.memory[cut..<buffer.count]))
                }
                buffer.count = cut
                guard cut > 0 else { continue }
                let bytes = UnsafeRawBufferPointer(rebasing: buffer.memory[..<cut])
                var lines = 0
                var p = 0
                while p < cut, let nl = memchr(bytes.baseAddress! + p, 0x0A, cut - p) {
                    lines += 1
                    p = bytes.baseAddress!.distance(to: UnsafeRawPointer(nl)) + 1
                }
                if p < cut { lines += 1 }   // last line without newline
                state.submit(Job(sequence: sequence, buffer: buffer,
                                 block: LineBlock(bytes: bytes, firstLine: nextLine, source: source.name, overlongLine: nil)))
                sequence += 1
                nextLine += lines
                if state.isCancelled { break }
            }
            state.readerFinished(error: nil, nextSequence: sequence)
        } catch {
            state.readerFinished(error: error, nextSequence: sequence)
        }
    }
}
