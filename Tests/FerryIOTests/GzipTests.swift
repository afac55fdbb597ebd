import FerryIO
import FerryTestSupport
import Foundation
import XCTest

final class GzipTests: XCTestCase {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func testReadsAFileWrittenBySystemGzip() throws {
        let bytes = try TestSupport.fixtureBytes("gzip/hello.txt.gz")
        XCTAssertEqual(text(try Gzip.decompress(bytes)), "hello, gzip\n")
    }

    func testReadsEveryMemberOfAMultiMemberFile() throws {
        let bytes = try TestSupport.fixtureBytes("gzip/two-members.txt.gz")
        XCTAssertEqual(text(try Gzip.decompress(bytes)), "first member\nsecond member\n")
    }

    func testMultiMemberAcrossOneByteReads() throws {
        let bytes = try TestSupport.fixtureBytes("gzip/two-members.txt.gz")
        let source = try InputDecoding.open(MemorySource(bytes, name: "m.gz", chunkLimit: 1))
        XCTAssertEqual(text(try source.readAll()), "first member\nsecond member\n")
    }

    func testDetectsGzipByMagicBytesNotName() throws {
        let gz = try TestSupport.fixtureBytes("gzip/hello.txt.gz")
        XCTAssertEqual(text(try InputDecoding.open(MemorySource(gz, name: "no-suffix")).readAll()), "hello, gzip\n")
        let plain = Array("not gzip at all\n".utf8)
        XCTAssertEqual(try InputDecoding.open(MemorySource(plain, name: "x.gz")).readAll(), plain)
        XCTAssertEqual(try InputDecoding.open(MemorySource([0x1F], name: "one")).readAll(), [0x1F])
        XCTAssertEqual(try InputDecoding.open(MemorySource([], name: "empty")).readAll(), [])
    }

    func testRoundTripOfLargeDataKeepsEveryByte() throws {
        var data = [UInt8]()
        var seed: UInt64 = 42
        for i in 0..<3_000_000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            data.append(i % 7 == 0 ? UInt8(truncatingIfNeeded: seed >> 33) : UInt8(ascii: "a") + UInt8(i % 26))
        }
        let compressed = try Gzip.compress(data)
        XCTAssertLessThan(compressed.count, data.count)
        XCTAssertEqual(try Gzip.decompress(compressed), data)
        // And through the streaming sink, written in uneven pieces.
        let sink = MemorySink()
        let gzip = try GzipSink(sink, level: 1)
        var offset = 0
        while offset < data.count {
            let n = min(77_777, data.count - offset)
            try data[offset..<offset + n].withUnsafeBytes { try gzip.write($0) }
            offset += n
        }
        try gzip.finish()
        XCTAssertEqual(try Gzip.decompress(sink.buffer.array), data)
    }

    func testTruncatedStreamNamesFileAndOffset() throws {
        let whole = try Gzip.compress(Array(repeating: UInt8(ascii: "q"), count: 10_000))
        let cut = Array(whole[..<(whole.count - 6)])
        XCTAssertThrowsError(try Gzip.decompress(cut, name: "backup.gz")) { error in
            XCTAssertEqual("\(error)", "backup.gz: gzip data ends early at byte \(cut.count) (truncated file?)")
        }
    }

    func testCorruptCRCIsRefused() throws {
        var bytes = try Gzip.compress(Array("some text that will be checked\n".utf8))
        bytes[bytes.count - 8] ^= 0xFF   // first byte of the CRC32 trailer
        XCTAssertThrowsError(try Gzip.decompress(bytes, name: "bad.gz")) { error in
            XCTAssertEqual("\(error)", "bad.gz: corrupt gzip data near byte \(bytes.count - 4): incorrect data check")
        }
    }

    /// The member checks are Ferry's (zlib's own CRC is off): each trailer is found and
    /// checked wherever reads cut the input, and a flipped CRC or length byte of any
    /// member is refused with zlib's words and the member's end.
    func testEveryMembersTrailerIsCheckedWhereverReadsCutTheInput() throws {
        let parts: [[UInt8]] = [Array("first member, with some text\n".utf8), [], Array(repeating: UInt8(ascii: "z"), count: 70_000)]
        var members: [[UInt8]] = []
        for part in parts { members.append(try Gzip.compress(part)) }
        let whole = members.flatMap { $0 }
        let expected = parts.flatMap { $0 }
        for chunk in [1, 3, 7, 8, 9, 13, 64, 4096] {
            let source = try InputDecoding.open(MemorySource(whole, name: "m.gz", chunkLimit: chunk))
            XCTAssertEqual(try source.readAll(), expected, "reads of \(chunk)")
        }
        var end = 0
        for member in members {
            end += member.count
            for (field, reason, offset) in [(end - 8, "incorrect data check", end - 4), (end - 1, "incorrect length check", end)] {
                var bad = whole
                bad[field] ^= 0x01
                for chunk in [1, 5, 4096] {
                    XCTAssertThrowsError(try InputDecoding.open(MemorySource(bad, name: "bad.gz", chunkLimit: chunk)).readAll(), "byte \(field), reads of \(chunk)") { error in
                        XCTAssertEqual("\(error)", "bad.gz: corrupt gzip data near byte \(offset): \(reason)", "byte \(field), reads of \(chunk)")
                    }
                }
            }
        }
    }

    /// A member with a header CRC (FHCRC, which gzip does not write but RFC 1952 allows)
    /// is read when the CRC is right and refused when it is not, wherever reads cut it.
    func testAHeaderCRCIsChecked() throws {
        let text = Array(String(repeating: "header crc member\n", count: 40).utf8)
        let plain = try Gzip.compress(text)
        var head = Array(plain[..<10])
        head[3] |= 0x02
        var crc = CRC32()
        head.withUnsafeBytes { crc.update($0) }
        let good = head + [UInt8(crc.value & 0xFF), UInt8((crc.value >> 8) & 0xFF)] + plain[10...]
        var bad = good
        bad[10] ^= 0x01
        for chunk in [1, 3, 11, 4096] {
            XCTAssertEqual(try InputDecoding.open(MemorySource(good + plain, name: "h.gz", chunkLimit: chunk)).readAll(), text + text, "reads of \(chunk)")
            XCTAssertThrowsError(try InputDecoding.open(MemorySource(plain + bad, name: "h.gz", chunkLimit: chunk)).readAll(), "reads of \(chunk)") { error in
                XCTAssertEqual("\(error)", "h.gz: corrupt gzip data near byte \(plain.count + 12): header crc mismatch", "reads of \(chunk)")
            }
        }
    }

    func testCorruptDeflateDataIsRefused() throws {
        var bytes = try TestSupport.fixtureBytes("gzip/hello.txt.gz")
        bytes[10] = 0xFF   // first byte of the deflate data: an invalid block type
        XCTAssertThrowsError(try Gzip.decompress(bytes, name: "x.gz")) { error in
            guard case GzipError.corrupt(name: "x.gz", _, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testBytesAfterTheLastMemberAreRefused() throws {
        let bytes = try TestSupport.fixtureBytes("gzip/hello.txt.gz") + Array("junk".utf8)
        XCTAssertThrowsError(try Gzip.decompress(bytes, name: "t.gz")) { error in
            XCTAssertEqual("\(error)", "t.gz: data after the end of the gzip stream at byte 32 is not gzip")
        }
    }

    func testMemoryStaysFlatWhileStreaming256MB() throws {
        func peakRSSKilobytes() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss
        }
        let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 1 << 20)
        let compressed = MemorySink()
        let before = peakRSSKilobytes()
        let sink = try GzipSink(compressed, level: 1)
        for _ in 0..<256 { try chunk.withUnsafeBytes { try sink.write($0) } }
        try sink.finish()
        let total = try GzipSource(MemorySource(compressed.buffer.array, name: "big.gz")).forEachChunk { _ in }
        XCTAssertEqual(total, 256 << 20)
        // 256 MB went through both ways; the peak may grow by buffers, not by the data.
        XCTAssertLessThan(peakRSSKilobytes() - before, 32 * 1024)
    }

    func testSystemGzipReadsWhatWeWrite() throws {
        let folder = try TestSupport.temporaryFolder()
        let path = folder.appendingPathComponent("ours.gz").path
        let member1 = try Gzip.compress(Array("one\n".utf8))
        let member2 = try Gzip.compress(Array("two\n".utf8), level: 9)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(member1 + member2)))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc '\(path)'"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "one\ntwo\n")
    }
}
