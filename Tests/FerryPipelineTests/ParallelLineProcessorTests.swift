import FerryIO
import FerryPipeline
import XCTest

final class ParallelLineProcessorTests: XCTestCase {
    /// Lines with their numbers, in the order the consumer saw them.
    private func collect(_ text: String, threads: Int, blockSize: Int, maxLine: Int = 1 << 20,
                         source: ByteSource? = nil) throws -> [String] {
        var seen: [String] = []
        try ParallelLineProcessor.run(
            source: source ?? MemorySource(Array(text.utf8), name: "t", chunkLimit: 7),
            threads: threads, blockSize: blockSize, maxLineLength: maxLine,
            makeWorker: {
                { (block: LineBlock) -> [String] in
                    if let n = block.overlongLine { return ["\(n):<too long>"] }
                    var out: [String] = []
                    block.forEachLine { line, n in out.append("\(n):\(String(decoding: line, as: UTF8.self))") }
                    return out
                }
            },
            consume: { seen.append(contentsOf: $0) })
        return seen
    }

    func testKeepsOrderAndLineNumbersAcrossManyBlocksAndThreads() throws {
        var text = ""
        var expected: [String] = []
        for i in 1...3000 {
            if i % 10 == 0 { text += "\n"; continue }   // blank lines are counted, not returned
            let line = "line-\(i)-" + String(repeating: "x", count: i % 37)
            text += line + (i % 3 == 0 ? "\r\n" : "\n")
            expected.append("\(i):\(line)")
        }
        text += "last-without-newline"
        expected.append("3001:last-without-newline")
        for threads in [1, 2, 5] {
            for blockSize in [64, 1000, 1 << 20] {
                let got = try collect(text, threads: threads, blockSize: blockSize)
                let firstDifference = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
                XCTAssertEqual(got.count, expected.count, "threads \(threads) block \(blockSize)")
                if firstDifference < max(got.count, expected.count) {
                    XCTFail("threads \(threads) block \(blockSize): first difference at \(firstDifference): " +
                            "\(got.dropFirst(firstDifference).first ?? "-") vs \(expected.dropFirst(firstDifference).first ?? "-")")
                }
            }
        }
    }

    func testLineLongerThanABlockGrowsTheBlock() throws {
        let long = String(repeating: "L", count: 5000)
        XCTAssertEqual(try collect("a\n\(long)\nb\n", threads: 2, blockSize: 64), ["1:a", "2:\(long)", "3:b"])
    }

    func testOverlongLineIsReportedInPlaceAndSkipped() throws {
        let long = String(repeating: "L", count: 500)
        XCTAssertEqual(try collect("a\n\(long)\nb\n\(long)", threads: 3, blockSize: 64, maxLine: 100),
                       ["1:a", "2:<too long>", "3:b", "4:<too long>"])
    }

    func testOverlongLineIsCaughtWhateverTheBlockSize() throws {
        let long = String(repeating: "L", count: 500)
        XCTAssertEqual(try collect("a\n\(long)\nb\n\(long)", threads: 2, blockSize: 1 << 20, maxLine: 100),
                       ["1:a", "2:<too long>", "3:b", "4:<too long>"])
    }

    func testEmptyInputGivesNothing() throws {
        XCTAssertEqual(try collect("", threads: 2, blockSize: 64), [])
    }

    /// Fails after serving `limit` bytes.
    final class FailingSource: ByteSource {
        let name = "flaky"
        var bytesConsumed = 0
        let data: [UInt8]
        let limit: Int
        init(_ data: [UInt8], failAfter limit: Int) { self.data = data; self.limit = limit }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            if bytesConsumed >= limit { throw IOError.readFailed(path: name, errno: 5) }
            let n = min(buffer.count, limit - bytesConsumed, 10)
            for i in 0..<n { buffer[i] = data[bytesConsumed + i] }
            bytesConsumed += n
            return n
        }
    }

    func testReadErrorArrivesAfterEverythingReadBeforeIt() throws {
        let text = (1...100).map { "r\($0)" }.joined(separator: "\n") + "\n"
        var seen: [String] = []
        XCTAssertThrowsError(try ParallelLineProcessor.run(
            source: FailingSource(Array(text.utf8), failAfter: 200), threads: 3, blockSize: 32,
            makeWorker: { { (block: LineBlock) -> [String] in
                var out: [String] = []
                block.forEachLine { line, _ in out.append(String(decoding: line, as: UTF8.self)) }
                return out
            } },
            consume: { seen.append(contentsOf: $0) })) { error in
            XCTAssertEqual("\(error)", "flaky: read failed: Input/output error")
        }
        // Every line wholly inside the first 200 bytes that made a complete block arrived, in order.
        XCTAssertFalse(seen.isEmpty)
        XCTAssertEqual(seen, (1...seen.count).map { "r\($0)" })
    }

    func testConsumerErrorStopsTheRunWithoutHanging() {
        struct Stop: Error {}
        let text = String(repeating: "0123456789\n", count: 20_000)
        var blocks = 0
        XCTAssertThrowsError(try ParallelLineProcessor.run(
            source: MemorySource(Array(text.utf8), name: "t"), threads: 2, blockSize: 256,
            makeWorker: { { (block: LineBlock) -> Int in block.bytes.count } },
            consume: { _ in
                blocks += 1
                if blocks == 3 { throw Stop() }
            })) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(blocks, 3)
    }
}
