import FerryTestSupport
import Foundation
import XCTest

/// Runs the built ferry-transform binary and checks stdout, stderr and exit status.
final class FerryTransformToolTests: XCTestCase {
    func testHelpGoesToStdoutWithStatusZero() throws {
        let r = try TestSupport.run("ferry-transform", ["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("OVERVIEW: "))
        XCTAssertTrue(r.stdout.contains("USAGE: ferry-transform [<step> ...] [--plain]"))
        XCTAssertEqual(r.stderr, "")
    }

    func testVersion() throws {
        let r = try TestSupport.run("ferry-transform", ["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "ferry-transform 0.1.0\n")
    }

    func testUsageErrorIsStatusTwoWithUsageLine() throws {
        let r = try TestSupport.run("ferry-transform", ["--bach-size", "3"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr, """
            ferry-transform: error: unknown option '--bach-size'
            USAGE: ferry-transform [<step> ...] [--plain] [--input auto|typed|plain] [--rejects <file>] [--max-errors <n>] [--threads <n>] [<file> ...]
            See 'ferry-transform --help' for more information.

            """)
    }

    func testConvertsPlainToTypedAndBack() throws {
        let input = Array("{\"id\":\"a\",\"n\":1.50}\n".utf8)
        let typed = try TestSupport.run("ferry-transform", [], stdin: input)
        XCTAssertEqual(typed.status, 0)
        XCTAssertEqual(typed.stdout, "{\"Item\":{\"id\":{\"S\":\"a\"},\"n\":{\"N\":\"1.5\"}}}\n")
        let plain = try TestSupport.run("ferry-transform", ["--plain"], stdin: typed.stdoutBytes)
        XCTAssertEqual(plain.stdout, "{\"id\":\"a\",\"n\":1.5}\n")
    }

    func testReadsGzipFilesByTheirMagicBytes() throws {
        let r = try TestSupport.run("ferry-transform", ["--plain", TestSupport.fixture("gzip/hello.txt.gz").path])
        // "hello, gzip" is not JSON: the line is rejected, which proves it was decompressed.
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.stderr.contains("hello.txt.gz:1: invalid JSON at column 1: unexpected character 'h', expected a JSON value"), r.stderr)
    }

    func testRejectedRecordsGiveStatusThreeAndNameFileAndLine() throws {
        let folder = try TestSupport.temporaryFolder()
        let input = folder.appendingPathComponent("in.jsonl")
        try Data("{\"a\":1}\n{\"a\":\n{\"b\":2}\n".utf8).write(to: input)
        let rejects = folder.appendingPathComponent("rejects.jsonl")
        let r = try TestSupport.run("ferry-transform", ["--rejects", rejects.path, input.path])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 2)
        XCTAssertEqual(r.stderr, "ferry-transform: 1 record(s) rejected\n")
        let rejected = try String(contentsOf: rejects, encoding: .utf8)
        XCTAssertTrue(rejected.hasPrefix("{\"ferry:reject\":{\"source\":\"\(input.path)\",\"line\":2,"), rejected)
    }

    func testTooManyRejectsStopsWithStatusOne() throws {
        let r = try TestSupport.run("ferry-transform", ["--max-errors", "1"], stdin: Array("x\n{\"a\":1}\ny\nz\n".utf8))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, """
            ferry-transform: -:1: invalid JSON at column 1: unexpected character 'x', expected a JSON value
            ferry-transform: -:3: invalid JSON at column 1: unexpected character 'y', expected a JSON value
            ferry-transform: error: stopped: more than 1 records rejected (--max-errors 1)

            """)
    }

    func testBadOptionValuesAreUsageErrors() throws {
        let input = try TestSupport.run("ferry-transform", ["--input", "xml"])
        XCTAssertEqual(input.status, 2)
        XCTAssertTrue(input.stderr.hasPrefix("ferry-transform: error: invalid value 'xml' for '--input': expected one of auto, typed, plain\n"), input.stderr)
        let threads = try TestSupport.run("ferry-transform", ["--threads", "0"])
        XCTAssertEqual(threads.status, 2)
        XCTAssertTrue(threads.stderr.hasPrefix("ferry-transform: error: invalid value '0' for '--threads': expected an integer from 1 to 256\n"), threads.stderr)
    }

    func testMissingInputFileIsStatusOne() throws {
        let r = try TestSupport.run("ferry-transform", ["/nonexistent/x.jsonl"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "ferry-transform: error: /nonexistent/x.jsonl: cannot open: No such file or directory\n")
    }

    func testBrokenPipeEndsQuietly() throws {
        let folder = try TestSupport.temporaryFolder()
        let input = folder.appendingPathComponent("many.jsonl")
        var text = ""
        for i in 0..<50_000 { text += "{\"id\":\"item-\(i)\",\"n\":\(i)}\n" }
        try Data(text.utf8).write(to: input)
        let tool = TestSupport.productsFolder.appendingPathComponent("ferry-transform").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "'\(tool)' '\(input.path)' 2>\(folder.path)/err | head -n 1 >/dev/null; echo ${PIPESTATUS[0]}"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let status = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(status, "0\n")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("err"), encoding: .utf8), "")
    }
}
