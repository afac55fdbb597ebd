import FerryTestSupport
import Foundation
import XCTest

/// fixtures/bad: every malformed input shape the tools meet, each with its exact error
/// (fixtures/bad/cases.txt and expected/), and a seeded mutation run through ferry-load.
final class BadInputCorpusTests: XCTestCase {
    struct Case { let name: String; let status: Int32; let command: String }

    static func cases() throws -> [Case] {
        let text = try String(contentsOf: TestSupport.fixture("bad/cases.txt"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> Case? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
            let fields = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard fields.count == 3, let status = Int32(fields[1]) else { return nil }
            return Case(name: String(fields[0]), status: status, command: fields[2].trimmingCharacters(in: .whitespaces))
        }
    }

    /// The data folder's path as `$FERRY_DATA`; a summary's timing as `in <time>`.
    static func normalise(_ stderr: String, data: String) -> String {
        stderr.replacingOccurrences(of: data, with: "$FERRY_DATA")
            .replacingOccurrences(of: #"in [0-9]+\.[0-9]+ s \([0-9]+ items/s\)"#, with: "in <time>", options: .regularExpression)
    }

    /// FERRY_UPDATE_EXPECTED=1 rewrites expected/ from what the tools print: review the diff.
    func testEveryMalformedInputFailsWithItsExactError() throws {
        let workspace = try ToolWorkspace()
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        let update = ProcessInfo.processInfo.environment["FERRY_UPDATE_EXPECTED"] == "1"
        let expectedFolder = TestSupport.fixture("bad/expected")
        for c in cases {
            let data = workspace.folder.appendingPathComponent("data-\(c.name)").path
            let r = try workspace.bash("cd fixtures/bad && ./setup.sh || exit 99\n" + c.command, env: ["FERRY_DATA": data])
            XCTAssertEqual(r.status, c.status, "\(c.name): exit status\n\(r.stderr)")
            let got = Self.normalise(r.stderr, data: data)
            let file = expectedFolder.appendingPathComponent(c.name + ".txt")
            if update { try got.write(to: file, atomically: true, encoding: .utf8); continue }
            let expected = (try? String(contentsOf: file, encoding: .utf8)) ?? "<no \(file.lastPathComponent)>"
            XCTAssertEqual(got, expected, "\(c.name): stderr differs from expected/\(c.name).txt")
            // No crash, no trace: every message is the tool's own one-liner.
            for line in got.split(separator: "\n") {
                XCTAssertFalse(line.contains("Fatal error") || line.contains("Stack dump") || line.contains("Current stack trace"), "\(c.name): \(line)")
            }
        }
        let known = Set(cases.map { $0.name + ".txt" })
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: expectedFolder.path))
        XCTAssertEqual(files.subtracting(known), [], "expected/ files without a case")
    }

    /// A line of the mutation test: unique key, every plain JSON type, an escape, a
    /// non-ASCII letter, a number with an exponent.
    static func sampleLine(_ i: Int, _ random: inout SplitMix) -> [UInt8] {
        let n = Int(random.next() % 100_000)
        let words = ["harbour", "caf\u{e9}", "na\u{ef}ve", "plain", "tab\\there", "quote\\\"d"]
        let word = words[Int(random.next() % UInt64(words.count))]
        let line = #"{"Artist":"artist-\#(i / 10)","SongTitle":"song-\#(i)","n":\#(n).25,"e":1.5e3,"w":"\#(word)","#
            + #""b":\#(random.next() % 2 == 0),"z":null,"l":[1,"two",{"k":"v"}],"m":{"inner":{"deep":[\#(n)]}}}"#
        return Array(line.utf8)
    }

    /// One random change: a bit flip, a cut, an inserted or deleted byte, or a key made a
    /// number; or none. Which lines end up bad is for the oracle to decide.
    static func mutate(_ line: [UInt8], _ random: inout SplitMix) -> [UInt8] {
        var bytes = line
        let at = Int(random.next() % UInt64(bytes.count))
        switch random.next() % 20 {
        case 0..<8: return bytes
        case 8..<13: bytes[at] ^= UInt8(1) << UInt8(random.next() % 8)
        case 13..<15: bytes.removeSubrange(at...)
        case 15..<17: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
        case 17..<19: bytes.remove(at: at)
        default:
            let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: #""Artist":"artist-"#, with: #""Artist":7"#)
            bytes = Array(text.utf8)
        }
        return bytes
    }

    /// 10,000 seeded mutated lines through ferry-load: no crash, every bad line rejected
    /// with its line number and a reason, every good line loaded as Python reads it.
    func testMutatedLinesAreRejectedWithTheirPositionAndTheRestLoad() throws {
        let workspace = try ToolWorkspace()
        for seed: UInt64 in [1, 2] {
            var random = SplitMix(seed: seed)
            var input: [UInt8] = []
            for i in 0..<5_000 {
                input += Self.mutate(Self.sampleLine(i, &random), &random)
                input.append(UInt8(ascii: "\n"))
            }
            let name = "mutated-\(seed).jsonl"
            try Data(input).write(to: workspace.folder.appendingPathComponent(name))
            let r = try workspace.bash("""
                rm -rf "$FERRY_DATA" && fixtures/bad/setup.sh
                ferry-load --table Music --rejects rejects-\(seed).jsonl \(name); echo "status $?" >&2
                ferry-export --table Music --plain > export-\(seed).jsonl
                python3 fixtures/bad/mutation-oracle.py \(name) rejects-\(seed).jsonl export-\(seed).jsonl
                """)
            XCTAssertTrue(r.stderr.contains("status 3\n"), r.stderr)
            XCTAssertEqual(r.status, 0, "seed \(seed): \(r.stdout)\n\(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
            print("mutation seed \(seed): \(r.stdout)")
        }
    }
}
