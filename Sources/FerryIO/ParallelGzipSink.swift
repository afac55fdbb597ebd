import Foundation

/// Gzips on several threads, as pigz does: the stream is cut into chunks (default 1 MiB),
/// each compressed into an independent gzip member by a worker, and the members are
/// written to the downstream in order. The result is one valid multi-member gzip file
/// (gunzip, zcat and GzipSource read it whole). Memory: at most `2 × threads` chunks.
/// Written to from one thread.
public final class ParallelGzipSink: ByteSink, @unchecked Sendable {
    public var name: String { downstream.name }
    private let downstream: ByteSink
    private let level: Int32
    private let chunkSize: Int
    private var chunk: [UInt8] = []
    private let queue: DispatchQueue
    private let condition = NSCondition()
    private var results: [Int: Result<[UInt8], Error>] = [:]
    private var nextSubmit = 0
    private var nextWrite = 0
    private let maxInFlight: Int
    private var finished = false

    public init(_ downstream: ByteSink, level: Int32 = 6, threads: Int, chunkSize: Int = 1 << 20) {
        self.downstream = downstream
        self.level = level
        self.chunkSize = max(4096, chunkSize)
        maxInFlight = 2 * max(1, threads)
        queue = DispatchQueue(label: "ferry.gzip", attributes: .concurrent)
        chunk.reserveCapacity(self.chunkSize)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let take = min(chunkSize - chunk.count, rest.count)
            chunk.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if chunk.count == chunkSize { try submit() }
        }
    }

    private func submit() throws {
        let data = chunk
        chunk = []
        chunk.reserveCapacity(chunkSize)
        let sequence = nextSubmit
        nextSubmit += 1
        let level = self.level
        queue.async { [self] in
            let result = Result { try data.withUnsafeBytes { raw -> [UInt8] in
                let out = ByteBuffer(capacity: raw.count / 3 + 1024)
                try Gzip.compressMember(raw, level: level, into: out)
                return out.array
            } }
            condition.lock()
            results[sequence] = result
            condition.broadcast()
            condition.unlock()
        }
        try drain(keepingAtMost: maxInFlight)
    }

    /// Writes finished members in order until at most `limit` are still in flight.
    private func drain(keepingAtMost limit: Int) throws {
        while nextSubmit - nextWrite > limit || (limit == 0 && nextWrite < nextSubmit) {
            condition.lock()
            while results[nextWrite] == nil { condition.wait() }
            let result = results.removeValue(forKey: nextWrite)!
            condition.unlock()
            nextWrite += 1
            let member = try result.get()
            try member.withUnsafeBytes { try downstream.write($0) }
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        if !chunk.isEmpty || nextSubmit == 0 { try submit() }
        try drain(keepingAtMost: 0)
        try downstream.finish()
    }
}
