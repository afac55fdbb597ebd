#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryObjectStore
import FerryTestSupport
import Foundation
import XCTest

/// Serves `count` bytes of `byte` without holding them in memory.
final class RepeatingSource: ByteSource {
    let name = "<generated>"
    private(set) var bytesConsumed = 0
    let count: Int
    let byte: UInt8
    init(count: Int, byte: UInt8) { self.count = count; self.byte = byte }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, count - bytesConsumed)
        if n > 0 { buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: byte, count: n) }
        bytesConsumed += n
        return n
    }
}

/// Counts bytes and checks they are all one value.
final class UniformSink: ByteSink, @unchecked Sendable {
    let name = "<check>"
    var count = 0
    var values = Set<UInt8>()
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += bytes.count
        if let first = bytes.first { values.insert(first) }
        if let last = bytes.last { values.insert(last) }
        for i in stride(from: 0, to: bytes.count, by: 4096) { values.insert(bytes[i]) }
    }
    func finish() throws {}
}

final class DurabilityTests: XCTestCase {
    func testConcurrentReaderSeesTheOldObjectOrTheNewNeverHalf() throws {
        let data = try TestSupport.temporaryFolder().path
        let writer = try ObjectStore(dataFolder: data)
        try writer.createBucket("atomic")
        let size = 1 << 20
        try writer.put(bucket: "atomic", key: "k", from: RepeatingSource(count: size, byte: 0x41))
        let done = ManagedAtomicFlag()
        let reader = Thread {
            guard let store = try? ObjectStore(dataFolder: data) else { return }
            while !done.isSet {
                let sink = UniformSink()
                guard (try? store.get(bucket: "atomic", key: "k", into: sink)) != nil else { continue }
                if sink.count != size || sink.values.count != 1 { done.recordFailure("saw \(sink.count) bytes of \(sink.values.sorted())") }
                done.countRead()
            }
        }
        reader.start()
        for i in 0..<20 {
            try writer.put(bucket: "atomic", key: "k", from: RepeatingSource(count: size, byte: i % 2 == 0 ? 0x42 : 0x41))
        }
        while done.reads < 5 { usleep(1000) }
        done.set()
        while !reader.isFinished { usleep(1000) }
        XCTAssertNil(done.failure)
        XCTAssertGreaterThan(done.reads, 0)
    }

    func testFullDiskLeavesNoPartialObjectAndKeepsTheOldOne() throws {
        let data = try TestSupport.temporaryFolder().path
        let store = try ObjectStore(dataFolder: data)
        try store.createBucket("full")
        try store.put(bucket: "full", key: "k", from: MemorySource(Array("old content".utf8)))
        // A file-size limit makes writes past 1 MiB fail (EFBIG), as a full disk fails them.
        signal(SIGXFSZ, SIG_IGN)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        var limit = saved
        limit.rlim_cur = 1 << 20
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        defer { setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved) }
        XCTAssertThrowsError(try store.put(bucket: "full", key: "k", from: RepeatingSource(count: 3 << 20, byte: 7))) { error in
            XCTAssertTrue("\(error)".hasPrefix("InternalError: \(data)/s3/full/k: writing output failed: File too large"), "\(error)")
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        let sink = MemorySink()
        try store.get(bucket: "full", key: "k", into: sink)
        XCTAssertEqual(String(decoding: sink.buffer.bytes, as: UTF8.self), "old content")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: data + "/s3/full"), ["k"])
    }

    func testLargeObjectsStreamWithFlatMemory() throws {
        func peakRSSKilobytes() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss
        }
        let store = try ObjectStore(dataFolder: try TestSupport.temporaryFolder().path)
        try store.createBucket("big")
        let size = 96 << 20
        let before = peakRSSKilobytes()
        let info = try store.put(bucket: "big", key: "blob", from: RepeatingSource(count: size, byte: 9))
        XCTAssertEqual(info.size, size)
        let sink = UniformSink()
        try store.get(bucket: "big", key: "blob", into: sink)
        XCTAssertEqual(sink.count, size)
        XCTAssertEqual(sink.values, [9])
        XCTAssertLessThan(peakRSSKilobytes() - before, 32 * 1024)
    }
}

/// A tiny thread-safe flag and counters for the reader thread above.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var readCount = 0
    private var firstFailure: String?
    var isSet: Bool { lock.withLock { flag } }
    var reads: Int { lock.withLock { readCount } }
    var failure: String? { lock.withLock { firstFailure } }
    func set() { lock.withLock { flag = true } }
    func countRead() { lock.withLock { readCount += 1 } }
    func recordFailure(_ text: String) { lock.withLock { if firstFailure == nil { firstFailure = text } } }
}
