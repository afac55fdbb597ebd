import FerryIO
import FerryTestSupport
import Foundation
import XCTest

final class LineReaderTests: XCTestCase {
    private func lines(_ text: String, chunk: Int = .max, max: Int = LineReader.defaultMaxLineLength) throws -> [(Int, String)] {
        let reader = LineReader(source: MemorySource(Array(text.utf8), name: "t", chunkLimit: chunk),
                                maxLineLength: max, bufferSize: 64)
        var out: [(Int, String)] = []
        while let line = try reader.next() { out.append((reader.lineNumber, String(decoding: line, as: UTF8.self))) }
        return out
    }

    func testSplitsLinesAndCountsBlankOnes() throws {
        let got = try lines("a\n\nb\n   \nc\n")
        XCTAssertEqual(got.map(\.0), [1, 3, 5])
        XCTAssertEqual(got.map(\.1), ["a", "b", "c"])
    }

    func testLastLineWithoutNewlineIsReturned() throws {
        XCTAssertEqual(try lines("a\nlast").map(\.1), ["a", "last"])
    }

    func testCarriageReturnBeforeNewlineIsDropped() throws {
        XCTAssertEqual(try lines("a\r\nb\r\n").map(\.1), ["a", "b"])
    }

    func testEmptyInputHasNoLines() throws {
        XCTAssertTrue(try lines("").isEmpty)
        XCTAssertTrue(try lines("\n\n").isEmpty)
    }

    func testLinesSplitAcrossTinyReadsAndBufferGrowth() throws {
        let long = String(repeating: "x", count: 1000)
        let text = "short\n\(long)\n\(long)y\nend"
        for chunk in [1, 3, 7, 64, 1000] {
            XCTAssertEqual(try lines(text, chunk: chunk).map(\.1), ["short", long, long + "y", "end"], "chunk \(chunk)")
        }
    }

    func testLineAtTheLimitIsAccepted() throws {
        let line = String(repeating: "z", count: 100)
        XCTAssertEqual(try lines(line + "\n", max: 100).map(\.1), [line])
    }

    func testOverlongLineIsReportedThenSkipped() throws {
        let reader = LineReader(source: MemorySource(Array(("ok\n" + String(repeating: "x", count: 300) + "\nafter\n").utf8),
                                                     name: "in.jsonl", chunkLimit: 50),
                                maxLineLength: 100, bufferSize: 64)
        XCTAssertEqual(try reader.next().map { String(decoding: $0, as: UTF8.self) }, "ok")
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "in.jsonl:2: line is longer than the limit of 100 bytes")
        }
        XCTAssertEqual(try reader.next().map { String(decoding: $0, as: UTF8.self) }, "after")
        XCTAssertEqual(reader.lineNumber, 3)
        XCTAssertNil(try reader.next())
    }

    func testReadsAFileFromDisk() throws {
        let folder = try TestSupport.temporaryFolder().path
        let path = folder + "/f.txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x\ny\n".utf8)))
        let reader = LineReader(source: try FileSource(path: path))
        XCTAssertEqual(try reader.next().map { Array($0) }, Array("x".utf8))
        XCTAssertEqual(try reader.next().map { Array($0) }, Array("y".utf8))
        XCTAssertNil(try reader.next())
    }

    func testMissingFileNamesThePath() {
        XCTAssertThrowsError(try FileSource(path: "/nonexistent/in.jsonl")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/in.jsonl: cannot open: No such file or directory")
        }
    }
}
