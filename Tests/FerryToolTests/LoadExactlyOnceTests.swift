import FerryTestSupport
import Foundation
import XCTest

/// `ferry-extract --resume | ferry-load --checkpoint` killed with SIGKILL at random points
/// and rerun ends with the table one clean run makes: counters that add one per record
/// show any record lost or applied twice.
final class LoadExactlyOnceTests: XCTestCase {
    private var workspace: ToolWorkspace!
    private var work: URL { workspace.folder }
    private var environment: [String: String] { workspace.environment }
    /// Records per key, as one clean run counts them.
    private var expected: [String: Int] = [:]

    static let objects = 8
    static let recordsPerObject = 25_000
    static let keys = 2_000

    static let pipeline = """
        ferry-extract --resume cp.json s3://clicks/in/ \
          | ferry-load --table Clicks --create pk:S --checkpoint cp.json --summary summary.json \
              --update 'ADD n :one SET last_seq = :seq' --values '{":one": 1}'
        """

    override func setUpWithError() throws {
        workspace = try ToolWorkspace()
        var generator = SplitMix(seed: 424242)
        let input = work.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        var sequence = 0
        for object in 0..<Self.objects {
            var text = ""
            for _ in 0..<Self.recordsPerObject {
                let key = "k\(generator.next() % UInt64(Self.keys))"
                expected[key, default: 0] += 1
                text += "{\"pk\":\"\(key)\",\"seq\":\(sequence)}\n"
                sequence += 1
            }
            try Data(text.utf8).write(to: input.appendingPathComponent("part-\(object).jsonl"))
        }
        try sh("gzip in/*.jsonl && ferry-s3 mb s3://clicks >/dev/null && ferry-s3 cp --recursive in s3://clicks/in/ >/dev/null")
    }

    @discardableResult
    private func sh(_ script: String, env extra: [String: String] = [:], expect status: Int32? = 0) throws -> TestSupport.Result {
        let r = try workspace.bash(script, env: extra)
        if let status { XCTAssertEqual(r.status, status, "\(script)\n\(r.stderr)") }
        return r
    }

    /// Counter per key in the table now.
    private func counters() throws -> [String: Int] {
        let r = try sh("ferry-table scan --table-name Clicks --projection-expression 'pk, n'")
        guard let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let items = json["Items"] as? [[String: [String: String]]] else { return [:] }
        var out: [String: Int] = [:]
        for item in items {
            if let pk = item["pk"]?["S"], let n = item["n"]?["N"].flatMap({ Int($0) }) { out[pk] = n }
        }
        return out
    }

    /// The committed position: a load with no input repairs the checkpoint file from the
    /// table's copy; its records must be exactly the sum of the counters.
    private func committedRecords() throws -> Int {
        try sh("ferry-load --table Clicks --checkpoint cp.json < /dev/null 2>/dev/null")
        let text = try String(contentsOf: work.appendingPathComponent("cp.json"), encoding: .utf8)
        var total = 0
        for line in text.split(separator: "\n") where line.contains("\"records\":") {
            let after = line[line.range(of: "\"records\":")!.upperBound...]
            total += Int(after.prefix { $0.isNumber }) ?? 0
        }
        return total
    }

    func testKilledPipelineRerunLoadsEveryRecordExactlyOnce() throws {
        var generator = SplitMix(seed: 20261123)
        var kills = 0
        var completedRuns = 0
        let target = TestSupport.faultRounds(reduced: 20, full: 50)
        while kills < target {
            // Start the pipeline in its own process group and kill the whole group.
            let script = work.appendingPathComponent("pipeline.sh")
            try Data(("cd '\(work.path)'\n" + Self.pipeline + " 2>/dev/null\n").utf8).write(to: script)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
            process.arguments = ["/bin/bash", script.path]
            process.environment = environment
            try process.run()
            usleep(UInt32(50_000 + generator.next() % 1_500_000))
            let finished = !process.isRunning
            if !finished {
                kill(-process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()

            let counts = try counters()
            let committed = try committedRecords()
            XCTAssertEqual(counts.values.reduce(0, +), committed, "kill \(kills): the counters and the committed position disagree")
            if finished && process.terminationStatus == 0 {
                XCTAssertEqual(counts, expected, "a finished run after \(kills) kills")
                completedRuns += 1
                // Start over, so the next kills land in the middle of a load again.
                try sh("ferry-table delete-table --table-name Clicks >/dev/null && rm -f cp.json")
            }
        }
        try sh(Self.pipeline + " 2>/dev/null")
        XCTAssertEqual(try counters(), expected, "the final run")
        XCTAssertGreaterThan(kills, 0)
    }

    func testCrashBetweenEngineCommitAndCheckpointRenameLoadsExactlyOnce() throws {
        var generator = SplitMix(seed: 77)
        for round in 0..<3 {
            // ferry-load dies right after its engine commit, before the file is rewritten.
            let after = 1 + Int(generator.next() % 4)
            try sh(Self.pipeline + " 2>/dev/null", env: ["FERRY_TEST_KILL_AFTER_COMMITS": String(after)], expect: nil)
            let counts = try counters()
            XCTAssertEqual(counts.values.reduce(0, +), try committedRecords(), "round \(round)")
        }
        // The checkpoint file is one commit behind the table: the extract replays that
        // group and the loader must skip it.
        try sh("cp cp.json stale.json")
        try sh("ferry-extract --resume stale.json s3://clicks/in/ 2>/dev/null | ferry-load --table Clicks --checkpoint cp.json --summary summary.json --update 'ADD n :one SET last_seq = :seq' --values '{\":one\": 1}' 2>/dev/null")
        try sh(Self.pipeline + " 2>/dev/null")
        XCTAssertEqual(try counters(), expected)
    }

    func testReplayedGroupFromAStaleCheckpointIsSkipped() throws {
        try sh(Self.pipeline + " 2>/dev/null", env: ["FERRY_TEST_KILL_AFTER_COMMITS": "2"], expect: nil)
        // cp.json now shows one commit less than the table holds.
        try sh(Self.pipeline)
        let summary = try String(contentsOf: work.appendingPathComponent("summary.json"), encoding: .utf8)
        XCTAssertTrue(summary.contains("\"skipped\": 10000") || summary.contains("\"skipped\": 20000"), summary)
        XCTAssertEqual(try counters(), expected)
    }
}
