@testable import FerryPipeline
import FerryIO
import FerryTestSupport
import FerryValues
import XCTest

final class ExtractFormatTests: XCTestCase {
    func testHandWrittenCheckpointFileReads() throws {
        let state = try CheckpointState.decode(try TestSupport.fixtureBytes("extract/checkpoint.json"), path: "checkpoint.json")
        XCTAssertEqual(state.table, "Music")
        XCTAssertEqual(state.lines, 0)
        XCTAssertEqual(state.sources["fixtures/extract/songs.csv"],
                       Barrier(source: "fixtures/extract/songs.csv", etag: "0-0", line: 3, records: 2, complete: false))
        XCTAssertEqual(state.sources["s3://music/done.jsonl"]?.complete, true)
        // What the loader writes reads back to the same state, byte for byte stable.
        XCTAssertEqual(try CheckpointState.decode(state.encode(), path: "x"), state)
        XCTAssertEqual(String(decoding: state.encode(), as: UTF8.self),
                       String(decoding: try TestSupport.fixtureBytes("extract/checkpoint.json"), as: UTF8.self))
    }

    func testCheckpointOfAnotherVersionIsRefusedNamingTheFile() {
        let bytes = Array(#"{"ferry:checkpoint":{"version":2,"sources":[]}}"#.utf8)
        XCTAssertThrowsError(try CheckpointState.decode(bytes, path: "cp.json")) { error in
            XCTAssertEqual("\(error)", "cp.json: not a Ferry checkpoint file: unknown version 2")
        }
    }

    func testCSVSplitsQuotesDoubledQuotesAndEmptyFields() {
        let reader = CSVReader(LineReader(source: MemorySource([])), delimiter: UInt8(ascii: ","))
        func fields(_ s: String) -> [String]? {
            if case let .fields(f) = reader.split(Array(s.utf8)) { return f }
            return nil
        }
        XCTAssertEqual(fields("a,b,c"), ["a", "b", "c"])
        XCTAssertEqual(fields(#""a,1","say ""hi""",,"#), ["a,1", #"say "hi""#, "", ""])
        XCTAssertEqual(fields(""), [""])
        if case .openQuote = reader.split(Array(#"a,"open"#.utf8)) {} else { XCTFail("an open quote continues on the next line") }
        if case let .malformed(reason) = reader.split(Array(#""a"b,c"#.utf8)) {
            XCTAssertEqual(reason, "field 1: text after a closing quote")
        } else { XCTFail() }
    }

    func testCSVRecordSpanningLinesKeepsItsFirstLineNumber() throws {
        let text = "id,note\n1,\"two\n\nlines\"\n2,x\n"
        let reader = CSVReader(LineReader(source: MemorySource(Array(text.utf8))), delimiter: UInt8(ascii: ","))
        XCTAssertEqual(try reader.next()?.fields, ["id", "note"])
        let row = try reader.next()
        XCTAssertEqual(row?.fields, ["1", "two\n\nlines"])
        XCTAssertEqual(row?.line, 2)
        XCTAssertEqual(try reader.next()?.line, 5)
    }

    func testDataPipelineTypeKeysBecomeDynamoDBs() throws {
        let line = Array(#"{"a":{"m":{"b":{"l":[{"nULL":true},{"bOOL":false}]}}},"c":{"nS":["1","2"]}}"#.utf8)
        let json = try line.withUnsafeBytes { try DataPipelineLine.typedJSON($0) }
        XCTAssertEqual(json.jsonText, #"{"a":{"M":{"b":{"L":[{"NULL":true},{"BOOL":false}]}}},"c":{"NS":["1","2"]}}"#)
        let bad = Array(#"{"a":{"S":"upper"}}"#.utf8)
        XCTAssertThrowsError(try bad.withUnsafeBytes { try DataPipelineLine.typedJSON($0) })
    }

    func testBarriersFallAtFixedRecordCountsWhereverARunStarts() throws {
        // Records 1...7 of an object, barrier every 3: a run resumed at record 3 writes
        // its barriers at 6 and at the end, where the first run wrote them.
        func barriers(startingAt start: Int) throws -> [Int] {
            let sink = MemorySink()
            let output = OutputWriter(sink: sink)
            let group = GroupWriter(output: output, source: "s", etag: "e", every: 3, records: start, line: start)
            var block = Extractor.ConvertedBlock()
            for n in (start + 1)...7 {
                block.bytes += Array("{\"Item\":{\"n\":{\"N\":\"\(n)\"}}}\n".utf8)
                block.ends.append(block.bytes.count)
                block.lines.append(n)
            }
            try group.append(block)
            try group.writeBarrier(complete: true)
            try output.finish()
            return String(decoding: sink.buffer.array, as: UTF8.self).split(separator: "\n")
                .filter { $0.contains("ferry:barrier") }
                .map { line in Int(line[line.range(of: "\"records\":")!.upperBound...].prefix { $0.isNumber })! }
        }
        XCTAssertEqual(try barriers(startingAt: 0), [3, 6, 7])
        XCTAssertEqual(try barriers(startingAt: 3), [6, 7])
    }
}
