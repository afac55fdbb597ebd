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

    /// Every record of `text`, or the reason it was refused, with its first line.
    private func csv(_ text: [UInt8], maxRecord: Int = 1 << 20, bufferSize: Int = 1 << 20) -> [String] {
        let reader = CSVReader(source: MemorySource(text), delimiter: UInt8(ascii: ","), maxRecordBytes: maxRecord, bufferSize: bufferSize)
        var out: [String] = []
        while true {
            do {
                guard let row = try reader.next() else { return out }
                out.append("\(row.line): " + row.fields.map { "[\($0)]" }.joined())
            } catch let ExtractError.badRecord(line, reason, _) {
                out.append("\(line): ! \(reason)")
            } catch {
                return out + ["\(error)"]
            }
        }
    }

    private func csv(_ text: String, maxRecord: Int = 1 << 20, bufferSize: Int = 1 << 20) -> [String] {
        csv(Array(text.utf8), maxRecord: maxRecord, bufferSize: bufferSize)
    }

    func testCSVSplitsQuotesDoubledQuotesAndEmptyFields() {
        XCTAssertEqual(csv("a,b,c\n\"a,1\",\"say \"\"hi\"\"\",,\na,\n"), ["1: [a][b][c]", #"2: [a,1][say "hi"][][]"#, "3: [a][]"])
        XCTAssertEqual(csv(#"a"b,c"# + "\n"), [#"1: [a"b][c]"#], "a quote inside an unquoted field is a character, as in Python's csv")
        XCTAssertEqual(csv(#""a"b,c"# + "\nx,y\n"), ["1: ! field 1: text after a closing quote", "2: [x][y]"])
        XCTAssertEqual(csv("a,\"open\nb,c\n"), ["1: ! a quoted field is not closed before the end of the object"])
    }

    func testCSVQuotedFieldsKeepEveryByte() {
        XCTAssertEqual(csv("\"a\n   \nb\",c\n"), ["1: [a\n   \nb][c]"], "a whitespace-only line inside quotes is data")
        XCTAssertEqual(csv("\"a\r\nb\",c\r\nd,e\r\n"), ["1: [a\r\nb][c]", "3: [d][e]"], "CRLF inside quotes stays CRLF")
        XCTAssertEqual(csv("\"x\ry\",1\n"), ["1: [x\ry][1]"])
    }

    func testCSVLineEndsAreLFCRLFOrCRAndBlankLinesAreSkipped() {
        XCTAssertEqual(csv("a,b\rc,d\re,f"), ["1: [a][b]", "2: [c][d]", "3: [e][f]"], "old Mac line ends")
        XCTAssertEqual(csv("a,b\n\n   \n\r\nc,d\n"), ["1: [a][b]", "5: [c][d]"])
        XCTAssertEqual(csv("\"\"\n"), ["1: []"], "a quoted empty field is not a blank line")
    }

    func testCSVRecordSpanningLinesKeepsItsFirstLineNumber() {
        XCTAssertEqual(csv("id,note\n1,\"two\n\nlines\"\n2,x\n"), ["1: [id][note]", "2: [1][two\n\nlines]", "5: [2][x]"])
        // The same across buffer boundaries of every size.
        let text = "id,note\r\n1,\"a\r\nb\"\r\n2,\"c\rd\"\r3,x\n"
        let expected = csv(text)
        XCTAssertEqual(expected, ["1: [id][note]", "2: [1][a\r\nb]", "4: [2][c\rd]", "6: [3][x]"])
        for size in 1...12 { XCTAssertEqual(csv(text, bufferSize: size), expected, "buffer of \(size) bytes") }
    }

    func testCSVInvalidUTF8IsRejectedWithLineAndColumnAndReadingGoesOn() {
        let text = Array("k,v\nx,caf".utf8) + [0xE9] + Array("\n\"multi\nline ".utf8) + [0xFF] + Array("\",2\nok,1\n".utf8)
        XCTAssertEqual(csv(text), [
            "1: [k][v]",
            "2: ! line 2, column 6: byte 0xE9 is not UTF-8 (pass --encoding latin1 or cp1252 if the file is not UTF-8)",
            "3: ! line 4, column 6: byte 0xFF is not UTF-8 (pass --encoding latin1 or cp1252 if the file is not UTF-8)",
            "5: [ok][1]",
        ])
    }

    func testCSVRecordOverTheLimitIsRejectedAndReadingGoesOn() {
        let long = "a," + String(repeating: "x", count: 100) + "\n\"" + String(repeating: "y\n", count: 60) + "\",1\nb,2\n"
        XCTAssertEqual(csv(long, maxRecord: 64, bufferSize: 16), [
            "1: ! the record is longer than the limit of 64 bytes",
            "2: ! the record is longer than the limit of 64 bytes",
            "63: [b][2]",
        ])
    }

    func testCSVRecordWithMoreFieldsThanAnItemCanHoldIsRejectedWithoutHoldingThem() {
        let text = String(repeating: ",", count: 500_000) + "\nx,y\n"
        XCTAssertEqual(csv(text, maxRecord: 1 << 24), ["1: ! the record has more than 400000 fields", "2: [x][y]"])
    }

    func testLatin1AndCP1252AreConvertedExactly() throws {
        let bytes: [UInt8] = Array("caf".utf8) + [0xE9, 0x80, 0x0A]
        let latin1 = try TextEncodingSource(MemorySource(bytes), encoding: .latin1).readAll()
        XCTAssertEqual(String(decoding: latin1, as: UTF8.self), "caf\u{E9}\u{80}\n")
        let cp1252 = try TextEncodingSource(MemorySource(bytes), encoding: .cp1252).readAll()
        XCTAssertEqual(String(decoding: cp1252, as: UTF8.self), "caf\u{E9}\u{20AC}\n")
        XCTAssertThrowsError(try TextEncodingSource(MemorySource([0x41, 0x81]), encoding: .cp1252).readAll()) { error in
            XCTAssertTrue("\(error)".contains("byte 0x81 at offset 1 has no character in cp1252"), "\(error)")
        }
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
