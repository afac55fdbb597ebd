import FerryIO
import Foundation
import XCTest

final class OutputWriterTests: XCTestCase {
    func testBuffersUntilFlush() throws {
        let sink = MemorySink()
        let writer = OutputWriter(sink: sink, bufferSize: 16)
        writer.buffer.append("hello ")
        try writer.recordEnded()
        XCTAssertEqual(sink.buffer.count, 0)
        writer.buffer.append("world, more than sixteen")
        try writer.recordEnded()
        XCTAssertEqual(String(decoding: sink.buffer.bytes, as: UTF8.self), "hello world, more than sixteen")
    }

    func testClosedPipeIsReportedAsBrokenPipe() throws {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])
        defer { close(fds[1]) }
        let writer = OutputWriter(sink: FileSink(descriptor: fds[1], name: "-"))
        writer.buffer.append("data\n")
        XCTAssertThrowsError(try writer.flush()) { error in
            XCTAssertEqual(error as? IOError, .brokenPipe(path: "-"))
        }
    }

    func testFailedWriteIsAnErrorNamingTheFile() throws {
        let sink = try FileSink(path: "/dev/full")
        let bytes = [UInt8](repeating: 1, count: 10)
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try sink.write($0) }) { error in
            XCTAssertEqual("\(error)", "/dev/full: writing output failed: No space left on device")
        }
    }

    func testByteBufferAppendsDecimalsAndGrows() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append(decimal: 0); buffer.append(UInt8(ascii: " "))
        buffer.append(decimal: -42); buffer.append(UInt8(ascii: " "))
        buffer.append(decimal: Int.max); buffer.append(UInt8(ascii: " "))
        buffer.append(decimal: Int.min)
        XCTAssertEqual(String(decoding: buffer.bytes, as: UTF8.self), "0 -42 9223372036854775807 -9223372036854775808")
    }
}
