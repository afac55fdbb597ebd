import FerryIO
import FerryPipeline
import FerryValues
import XCTest

final class StreamTranscoderTests: XCTestCase {
    private func transcode(_ input: String, plain: Bool = false, rejectFile: Bool = false, limit: Int? = nil,
                           threads: Int = 2) throws -> (output: String, rejects: String, reported: [String]) {
        let sink = MemorySink(), rejectSink = MemorySink()
        var reported: [String] = []
        let rejects = RejectWriter(output: rejectFile ? OutputWriter(sink: rejectSink) : nil, limit: limit) { reported.append($0) }
        let output = OutputWriter(sink: sink)
        let transcoder = StreamTranscoder(output: output, rejects: rejects, options: .init(plainOutput: plain, threads: threads))
        try transcoder.run(MemorySource(Array(input.utf8), name: "in.jsonl"))
        try output.finish()
        try rejects.finish()
        return (String(decoding: sink.buffer.bytes, as: UTF8.self), String(decoding: rejectSink.buffer.bytes, as: UTF8.self), reported)
    }

    func testControlLinesPassThroughUnchangedAndInOrder() throws {
        let barrier = #"{"ferry:barrier" : {"source":"s3://b/k", "line":1,"complete":true}}"#
        let result = try transcode("{\"a\":1}\n\(barrier)\n{\"a\":2}\n")
        XCTAssertEqual(result.output, "{\"Item\":{\"a\":{\"N\":\"1\"}}}\n\(barrier)\n{\"Item\":{\"a\":{\"N\":\"2\"}}}\n")
    }

    func testBadRecordsAreRejectedWithTheirLineAndTheRestGoOn() throws {
        let result = try transcode("{\"a\":1}\n{oops}\n\n{\"s\":{\"SS\":[]}}\n{\"a\":2}\n")
        XCTAssertEqual(result.output, "{\"Item\":{\"a\":{\"N\":\"1\"}}}\n{\"Item\":{\"a\":{\"N\":\"2\"}}}\n")
        XCTAssertEqual(result.reported, [
            "in.jsonl:2: invalid JSON at column 2: unexpected character 'o', expected a string",
            "in.jsonl:4: attribute s: One or more parameter values were invalid: An string set  may not be empty",
        ])
    }

    func testRejectFileHoldsTheOriginalLine() throws {
        let result = try transcode("{\"a\":1}\n{\"bad\":tru}\n", rejectFile: true)
        XCTAssertEqual(result.rejects,
            #"{"ferry:reject":{"source":"in.jsonl","line":2,"reason":"invalid JSON at column 8: unexpected character 't', expected a JSON value","record":"{\"bad\":tru}"}}"# + "\n")
        XCTAssertTrue(result.reported.isEmpty)
    }

    func testOutputOrderIsTheInputOrderWhateverTheThreadCount() throws {
        var input = ""
        var expected = ""
        for i in 0..<20_000 {
            input += i % 1000 == 999 ? "{\"ferry:barrier\":{\"line\":\(i)}}\n" : "{\"n\":\(i)}\n"
            expected += i % 1000 == 999 ? "{\"ferry:barrier\":{\"line\":\(i)}}\n" : "{\"Item\":{\"n\":{\"N\":\"\(i)\"}}}\n"
        }
        for threads in [1, 2, 4] {
            XCTAssertEqual(try transcode(input, threads: threads).output, expected, "threads \(threads)")
        }
    }

    func testTooManyRejectsStopsTheRun() {
        XCTAssertThrowsError(try transcode("x\ny\nz\n", limit: 1)) {
            XCTAssertEqual("\($0)", "stopped: more than 1 records rejected (--max-errors 1)")
        }
    }

    func testOversizedItemIsRejected() throws {
        let big = String(repeating: "x", count: 410_000)
        let result = try transcode("{\"d\":\"\(big)\"}\n{\"a\":1}\n")
        XCTAssertEqual(result.reported, ["in.jsonl:1: Item size has exceeded the maximum allowed size"])
        XCTAssertEqual(result.output, "{\"Item\":{\"a\":{\"N\":\"1\"}}}\n")
    }
}
