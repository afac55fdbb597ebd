import FerryTestSupport
import Foundation
import XCTest

/// ferry-load's positions are never trusted past what the table committed: a failed
/// checkpoint file write, a checkpoint file ahead of the table, another input under a
/// line count, a changed object under a counting load, and control lines that are not.
final class LoadPositionTests: ToolTestCase {

    /// How many items hold each value of the counter `c` (nil: items without one).
    private func counters(_ table: String = "Tab") throws -> [String: Int] {
        let lines = try sh("ferry-export --table \(table) --plain").stdout.split(separator: "\n")
        var out: [String: Int] = [:]
        for line in lines {
            let value = line.range(of: #""c":"#).map { String(line[$0.upperBound...].prefix { $0.isNumber }) } ?? "none"
            out[value, default: 0] += 1
        }
        return out
    }

    private func makeTable() throws {
        try sh("ferry-table create-table --table-name Tab --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null")
    }

    private func writeLines(_ name: String, prefix: String, count: Int) throws {
        var text = ""
        for i in 0..<count { text += "{\"pk\":\"\(prefix)\(String(format: "%05d", i))\",\"n\":1}\n" }
        try Data(text.utf8).write(to: work.appendingPathComponent(name))
    }

    /// N of a count file's note `# fd=N path`.
    private func descriptor(_ note: String) -> String {
        String(note.dropFirst("# fd=".count).prefix { $0 != " " })
    }

    /// The 1-based number of the first `call` on the descriptor that `rename`'s n-th
    /// rename onto `target` published, from a count file (FaultInjection's count mode).
    private func callNumber(_ call: String, beforeRename target: String, occurrence: Int, in calls: [String]) -> Int? {
        let counted = calls.filter { !$0.hasPrefix("#") }
        let renames = counted.indices.filter { counted[$0] == "rename \(target)" }
        guard renames.count >= occurrence else { return nil }
        let rename = renames[occurrence - 1]
        // The temporary file's calls come just before its rename: the last create before it.
        guard let create = counted[..<rename].lastIndex(where: { $0.hasPrefix("create .ferry-tmp-") }) else { return nil }
        let tempName = String(counted[create].dropFirst("create ".count))
        guard let note = calls.first(where: { $0.hasPrefix("# fd=") && $0.hasSuffix(" " + tempName) }) else { return nil }
        let fd = descriptor(note)
        guard let index = counted[create..<rename].firstIndex(of: "\(call) fd=\(fd)") else { return nil }
        return index + 1
    }

    func testAFailedCheckpointFileWriteNeverAppliesAGroupTwice() throws {
        try writeLines("s3k.jsonl", prefix: "k", count: 3000)
        let load = "ferry-load --table Tab --group 1000 --update 'ADD c :n' --checkpoint ck.json s3k.jsonl"
        try makeTable()
        try sh(load, env: ["FERRY_TEST_FAULT": "count=\(work.path)/calls"])
        let calls = try String(contentsOf: work.appendingPathComponent("calls"), encoding: .utf8).split(separator: "\n").map(String.init)
        // The first rename onto ck.json repairs the file at start; the second follows commit 1.
        for (call, errno) in [("write", "ENOSPC"), ("fsync", "EIO")] {
            guard let n = callNumber(call, beforeRename: "ck.json", occurrence: 2, in: calls) else {
                return XCTFail("no \(call) of the checkpoint's temporary file in \(calls)")
            }
            try sh("rm -rf data ck.json")
            try makeTable()
            let failed = try sh(load, expect: 1, env: ["FERRY_TEST_FAULT": "\(errno)@\(n)"])
            XCTAssertTrue(failed.stderr.contains("ferry-load: error: ck.json: the checkpoint file could not be rewritten ("), failed.stderr)
            XCTAssertTrue(failed.stderr.contains("rerunning the same command resumes exactly once"), failed.stderr)
            XCTAssertEqual(try counters(), ["1": 1000], "\(errno) on the checkpoint's \(call): the group is applied once")
            let rerun = try sh(load)
            XCTAssertTrue(rerun.stderr.contains("3000 read, 2000 loaded, 0 rejected, 1000 already loaded"), rerun.stderr)
            XCTAssertEqual(try counters(), ["1": 3000])
        }
    }

    func testAFailedLogWriteStopsTheLoadAndTheRerunLoadsExactlyOnce() throws {
        try writeLines("s3k.jsonl", prefix: "k", count: 3000)
        let load = "ferry-load --table Tab --group 1000 --update 'ADD c :n' --checkpoint ck.json s3k.jsonl"
        try makeTable()
        try sh(load, env: ["FERRY_TEST_FAULT": "count=\(work.path)/calls"])
        let calls = try String(contentsOf: work.appendingPathComponent("calls"), encoding: .utf8).split(separator: "\n").map(String.init)
        let counted = calls.filter { !$0.hasPrefix("#") }
        // The log's descriptor: the one opened on log-1.wal.
        guard let note = calls.first(where: { $0.hasPrefix("# fd=") && $0.hasSuffix("/log-1.wal") }) else { return XCTFail("no log in \(calls)") }
        let fd = descriptor(note)
        let logCalls = counted.indices.filter { counted[$0] == "write fd=\(fd)" || counted[$0] == "fsync fd=\(fd)" }
        // Past the log's header (a write and an fsync): commit 2's write, then its fsync.
        for index in logCalls.dropFirst(4).prefix(2) {
            for plan in ["ENOSPC@\(index + 1)", "EIO@\(index + 1)+"] {
                try sh("rm -rf data ck.json")
                try makeTable()
                let failed = try sh(load, expect: 1, env: ["FERRY_TEST_FAULT": plan])
                XCTAssertTrue(failed.stderr.contains("ferry-load: error: "), failed.stderr)
                let after = try counters()
                XCTAssertEqual(Set(after.keys), ["1"], "\(plan): nothing applied twice: \(after)")
                XCTAssertTrue([1000, 2000].contains(after["1"] ?? 0), "\(plan): whole groups only: \(after)")
                try sh(load)
                XCTAssertEqual(try counters(), ["1": 3000], "\(plan): the rerun finishes exactly once")
            }
        }
    }

    func testACompleteObjectWhoseCountIsAMultipleOfTheBarrierIntervalIsMarkedComplete() throws {
        try writeLines("in.jsonl", prefix: "k", count: 20_000)
        try makeTable()
        try sh("ferry-extract --resume ck.json in.jsonl | ferry-load --table Tab --checkpoint ck.json")
        let checkpoint = try String(contentsOf: work.appendingPathComponent("ck.json"), encoding: .utf8)
        XCTAssertTrue(checkpoint.contains(#""line":20000,"records":20000,"complete":true"#), checkpoint)
        let rerun = try sh("ferry-extract --resume ck.json in.jsonl | ferry-load --table Tab --checkpoint ck.json")
        XCTAssertTrue(rerun.stderr.contains("Tab: 0 read, 0 loaded"), rerun.stderr)
    }

    func testACheckpointFileAheadOfTheTableIsRefusedAndTheRerunLoadsTheRest() throws {
        try writeLines("s30k.jsonl", prefix: "k", count: 30_000)
        try makeTable()
        try sh("ferry-s3 mb s3://bkt > /dev/null && ferry-s3 cp s30k.jsonl s3://bkt/in.jsonl > /dev/null && ferry-backup --table Tab --out empty.gz 2>/dev/null")
        let pipe = "ferry-extract --barrier-every 1000 --resume ck.json s3://bkt/in.jsonl | ferry-load --table Tab --group 1000 --checkpoint ck.json --update 'ADD c :n'; echo \"status ${PIPESTATUS[*]}\""
        // Killed after 12 groups: the file says line 11000 (written after group 11).
        try sh(pipe, env: ["FERRY_TEST_KILL_AFTER_COMMITS": "12"])
        XCTAssertTrue(try String(contentsOf: work.appendingPathComponent("ck.json"), encoding: .utf8).contains(#""line":11000"#))
        // The table rolled back; the file is now ahead of it.
        try sh("ferry-restore --in empty.gz --table Tab --replace 2>/dev/null")
        let ahead = try sh(pipe)
        XCTAssertTrue(ahead.stdout.contains("status 0 1"), ahead.stdout)
        XCTAssertTrue(ahead.stderr.contains("ferry-load: error: s3://bkt/in.jsonl: the stream starts after its line 11000, but the table has it committed only through line 0"), ahead.stderr)
        XCTAssertEqual(try counters(), [:], "nothing was skipped, nothing loaded")
        let rerun = try sh(pipe)
        XCTAssertTrue(rerun.stdout.contains("status 0 0"), rerun.stderr)
        XCTAssertEqual(try counters(), ["1": 30_000])
        // Complete, then rolled back: the rerun must not exit 0 having loaded nothing.
        try sh("ferry-restore --in empty.gz --table Tab --replace 2>/dev/null")
        let skipped = try sh(pipe)
        XCTAssertTrue(skipped.stderr.contains("s3://bkt/in.jsonl: the stream skips it as loaded completely, but the table has it committed only through line 0"), skipped.stderr)
        try sh(pipe)
        XCTAssertEqual(try counters(), ["1": 30_000])
        // A hand-edited file: the same refusal.
        try sh("ferry-restore --in empty.gz --table Tab --replace 2>/dev/null")
        try sh(#"sed -i 's/"line":30000,"records":30000,"complete":true/"line":5000,"records":5000,"complete":false/' ck.json && grep -c '"line":5000' ck.json"#)
        let edited = try sh(pipe)
        XCTAssertTrue(edited.stderr.contains("s3://bkt/in.jsonl: the stream starts after its line 5000, but the table has it committed only through line 0"), edited.stderr)
        XCTAssertEqual(try counters(), [:])
    }

    func testALineCountCheckpointIsRefusedForAnotherInputAndFollowsAGrowingOne() throws {
        try makeTable()
        try writeLines("day.jsonl", prefix: "a", count: 100)
        try sh("ferry-load --table Tab --checkpoint ck.json day.jsonl")
        try writeLines("day.jsonl", prefix: "b", count: 150)
        let other = try sh("ferry-load --table Tab --checkpoint ck.json day.jsonl", expect: 1)
        XCTAssertTrue(other.stderr.contains("ferry-load: error: the checkpoint's 100 committed lines were counted on other input (its first 2199 bytes differ); nothing was loaded"), other.stderr)
        let shorter = try sh("head -n 40 day.jsonl | ferry-load --table Tab --checkpoint ck.json", expect: 1)
        XCTAssertTrue(shorter.stderr.contains("counted on other input (its name is '-', not 'day.jsonl'; its first 640 bytes differ)")
                      || shorter.stderr.contains("the input has 40 lines, but the checkpoint committed 100 lines"), shorter.stderr)
        XCTAssertEqual(try counters()["none"], 100, "only day 1's lines")
        // The same input grown (an append-only log): the rest loads.
        try sh("python3 -c \"import sys\nfor i in range(100): print('{\\\"pk\\\":\\\"a%05d\\\",\\\"n\\\":1}' % i)\nfor i in range(50): print('{\\\"pk\\\":\\\"c%05d\\\",\\\"n\\\":1}' % i)\" > day.jsonl")
        let grown = try sh("ferry-load --table Tab --checkpoint ck.json day.jsonl")
        XCTAssertTrue(grown.stderr.contains("150 read, 50 loaded, 0 rejected, 100 already loaded"), grown.stderr)
    }

    func testAFinishedLoadOfSeveralInputsRerunsAsTheSameInputWhateverFollowsItsLastRecord() throws {
        try makeTable()
        try writeLines("a.jsonl", prefix: "a", count: 30)
        try sh(": > empty.jsonl && printf '\\n\\n' > blank.jsonl")
        let load = "ferry-load --table Tab --update 'ADD c :n' --checkpoint ck.json a.jsonl empty.jsonl blank.jsonl"
        try sh(load)
        let rerun = try sh(load)
        XCTAssertTrue(rerun.stderr.contains("30 read, 0 loaded, 0 rejected, 30 already loaded"), rerun.stderr)
        XCTAssertEqual(try counters(), ["1": 30])
    }

    func testAnInputThatFailsPartWayCommitsNothingReadSinceTheLastCommit() throws {
        try makeTable()
        // 20,000 lines gzipped, its CRC damaged: found only at the end of the member.
        try writeLines("in.jsonl", prefix: "k", count: 20_000)
        try sh("gzip -n in.jsonl && python3 -c \"import sys; b = bytearray(open('in.jsonl.gz','rb').read()); b[-8] ^= 1; open('in.jsonl.gz','wb').write(b)\"")
        let r = try sh("ferry-load --table Tab --group 1000 --update 'ADD c :n' --checkpoint ck.json in.jsonl.gz", expect: 1)
        XCTAssertTrue(r.stderr.contains("in.jsonl.gz: corrupt gzip data"), r.stderr)
        let loaded = try counters()["1"] ?? 0
        XCTAssertEqual(loaded % 1000, 0, "whole groups only: \(loaded)")
        XCTAssertLessThan(loaded, 20_000)
    }

    func testABackupLoadedWithACheckpointRerunsExactlyOnce() throws {
        try makeTable()
        try writeLines("in.jsonl", prefix: "k", count: 50)
        try sh("ferry-load --table Tab in.jsonl 2>/dev/null && ferry-backup --table Tab --out b.gz 2>/dev/null && ferry-table create-table --table-name Two --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null")
        let load = "ferry-load --table Two --update 'ADD c :n' --checkpoint ck.json b.gz"
        try sh(load)
        let rerun = try sh(load)
        XCTAssertTrue(rerun.stderr.contains("50 read, 0 loaded, 0 rejected, 50 already loaded"), rerun.stderr)
        XCTAssertEqual(try counters("Two"), ["1": 50])
    }

    func testAChangedObjectIsRefusedUnderACountingLoadUnlessReloadIsAsked() throws {
        try makeTable()
        try writeLines("in.jsonl", prefix: "k", count: 50)
        let pipe = "ferry-extract --resume ck.json s3://bkt/in.jsonl | ferry-load --table Tab --checkpoint ck.json --update 'ADD c :n'"
        try sh("ferry-s3 mb s3://bkt > /dev/null && ferry-s3 cp in.jsonl s3://bkt/in.jsonl > /dev/null && \(pipe)")
        try writeLines("in.jsonl", prefix: "k", count: 60)
        try sh("ferry-s3 cp in.jsonl s3://bkt/in.jsonl > /dev/null")
        let refused = try sh(pipe, expect: 1)
        XCTAssertTrue(refused.stderr.contains("ferry-load: error: s3://bkt/in.jsonl: changed since it was loaded (ETag "), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("pass --changed reload to load it anyway"), refused.stderr)
        XCTAssertEqual(try counters(), ["1": 50])
        try sh(pipe + " --changed reload")
        XCTAssertEqual(try counters(), ["2": 50, "1": 10], "reloaded on purpose: the unchanged lines counted twice")
        // Puts are idempotent: a changed object simply reloads.
        try writeLines("in.jsonl", prefix: "k", count: 70)
        try sh("ferry-s3 cp in.jsonl s3://bkt/in.jsonl > /dev/null && ferry-extract --resume ck.json s3://bkt/in.jsonl | ferry-load --table Tab --checkpoint ck.json")
        XCTAssertEqual(try counters(), ["none": 70])
    }

    func testLinesNamedLikeControlsAreItemsAndEveryLineIsAccountedFor() throws {
        try makeTable()
        let input = """
            {"ferry:source":"crm","pk":"f1"}
            {"ferry:barrierish":1,"pk":"f2"}
            {"ferry:reject":{"source":"x","line":1,"reason":"r","record":"{}"}}
            {"ferry:barrier":{"source":"x","line":1},"pk":"f3"}
            {"pk":"f4"}

            """
        try Data(input.utf8).write(to: work.appendingPathComponent("in.jsonl"))
        let r = try sh("ferry-load --table Tab --summary s.json in.jsonl", expect: 3)
        XCTAssertTrue(r.stderr.contains("in.jsonl:3: a ferry:reject line is not a record: fix the line in its \"record\" member and load that"), r.stderr)
        XCTAssertTrue(r.stderr.contains("in.jsonl:4: a ferry:barrier line must hold nothing beside its \"ferry:barrier\" member, not \"pk\""), r.stderr)
        XCTAssertTrue(r.stderr.contains("Tab: 5 read, 3 loaded, 2 rejected, 0 already loaded"), r.stderr)
        let items = try sh("ferry-export --table Tab --plain | sort").stdout
        XCTAssertEqual(items, """
            {"ferry:barrierish":1,"pk":"f2"}
            {"ferry:source":"crm","pk":"f1"}
            {"pk":"f4"}

            """)
        let transformed = try sh("ferry-transform --set 'x = :one' --values '{\":one\":1}' in.jsonl 2>/dev/null | head -2").stdout
        XCTAssertTrue(transformed.contains(#""x":{"N":"1"}"#) && transformed.contains("ferry:source"), transformed)
    }
}
