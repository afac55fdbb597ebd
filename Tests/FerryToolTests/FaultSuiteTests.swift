import FerryTestSupport
import Foundation
import XCTest

/// The fault suite: processes killed at random points, a full disk, two writers, damaged
/// logs, runs and objects. After each fault the invariants hold: nothing acknowledged is
/// lost, nothing is half-visible, and the error is one clear line. `make test-faults`
/// runs it (with the other crash tests) at full size (FERRY_FAULTS=full); `make test`
/// runs fewer rounds. docs/faults.md lists every fault and its invariant.
final class FaultSuiteTests: ToolTestCase {
    /// `n` plain items k0000001... as NDJSON on stdout.
    private static func items(_ n: Int, first: Int = 1) -> String {
        #"seq \#(first) \#(first + n - 1) | awk '{printf "{\"id\":\"k%07d\",\"v\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", $1, $1}'"#
    }

    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    /// Runs `command` in the background and SIGKILLs it after `delay` seconds.
    private func killAfter(_ delay: Double, _ command: String) throws {
        try sh("\(command) 2>/dev/null & pid=$!; sleep \(String(format: "%.3f", delay)); kill -9 $pid 2>/dev/null; wait $pid; true")
    }

    /// A kill time from 0 to 1.5 times a calibrated run: the calibration runs alone, while
    /// `make test` runs suites side by side, so the range reaches well past the end and
    /// some kills land on the last steps (rename, catalog update) or after them.
    private static func killPoint(_ random: inout SplitMix, _ full: Double) -> Double {
        Double(random.next() % 1000) / 1000 * full * 1.5
    }

    /// Items in a table, by a full scan.
    private func count(_ table: String, data: String? = nil) throws -> Int {
        let env = data.map { "FERRY_DATA='\($0)' " } ?? ""
        let text = try sh("\(env)ferry-table scan --table-name \(table) --select COUNT --output json | jq .Count").stdout
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    func testRestoreKilledAtRandomPointsLeavesNoTableOrTheWholeTable() throws {
        try sh("\(Self.items(100_000)) > items.jsonl && ferry-load --table Source --create id:S items.jsonl 2>/dev/null "
            + "&& ferry-backup --table Source --out source.backup.gz 2>/dev/null && ferry-export --table Source > source.export")
        let full = try seconds { try sh("ferry-restore --in source.backup.gz --table Timing 2>/dev/null && ferry-table delete-table --table-name Timing > /dev/null") }
        var random = SplitMix(seed: 11)
        var whole = 0, none = 0
        for round in 0..<TestSupport.faultRounds(reduced: 6, full: 30) {
            try killAfter(Self.killPoint(&random, full), "ferry-restore --in source.backup.gz --table Restored")
            // Opening the catalog (any command) removes the work folders of dead restores.
            let listed = try sh("ferry-table list-tables").stdout
            XCTAssertEqual(try sh("ls -A \"$FERRY_DATA/tables\" | grep -v -x -e Source -e Restored || true").stdout, "", "round \(round): folders left")
            if listed.contains("\"Restored\"") {
                try sh("ferry-export --table Restored | cmp - source.export && ferry-table delete-table --table-name Restored > /dev/null")
                whole += 1
            } else {
                none += 1
            }
        }
        print("restore: \(whole) runs finished before the kill, \(none) left no table")
        try sh("ferry-restore --in source.backup.gz --table Restored 2>/dev/null && ferry-export --table Restored | cmp - source.export")
    }

    func testBackupKilledAtRandomPointsLeavesNoFileOrAWholeOne() throws {
        try sh("\(Self.items(100_000)) | ferry-load --table Source --create id:S 2>/dev/null")
        let full = try seconds { try sh("ferry-backup --table Source --out timing.gz 2>/dev/null && rm timing.gz") }
        var random = SplitMix(seed: 12)
        var whole = 0
        for round in 0..<TestSupport.faultRounds(reduced: 6, full: 30) {
            try sh("rm -f nightly.gz")
            try killAfter(Self.killPoint(&random, full), "ferry-backup --table Source --out nightly.gz")
            if try sh("test -e nightly.gz", expect: nil).status == 0 {
                let verify = try sh("ferry-backup --verify nightly.gz")
                XCTAssertTrue(verify.stderr.contains("100000 items"), "round \(round): \(verify.stderr)")
                whole += 1
            }
            // Whatever the kill left is hidden under a temporary name, never the backup's.
            XCTAssertEqual(try sh("ls | grep -v -x -e fixtures -e data -e nightly.gz || true").stdout, "", "round \(round)")
        }
        print("backup: \(whole) finished before the kill")
        try sh("rm -f nightly.gz && ferry-backup --table Source --out nightly.gz 2>/dev/null && ferry-backup --verify nightly.gz 2>&1 | grep -q '100000 items'")
    }

    func testObjectPutKilledAtRandomPointsLeavesTheOldOrTheNewObject() throws {
        try sh("""
            head -c 48000000 /dev/zero | tr '\\0' a > a.bin && head -c 48000000 /dev/zero | tr '\\0' b > b.bin
            md5sum a.bin b.bin | cut -c1-32 > sums
            ferry-s3 mb s3://faults > /dev/null && ferry-s3 cp a.bin s3://faults/k > /dev/null
            """)
        let full = try seconds { try sh("ferry-s3 cp b.bin s3://faults/timing > /dev/null && ferry-s3 rm s3://faults/timing > /dev/null") }
        var random = SplitMix(seed: 13)
        for round in 0..<TestSupport.faultRounds(reduced: 8, full: 40) {
            try killAfter(Self.killPoint(&random, full), "ferry-s3 cp \(round % 2 == 0 ? "b.bin" : "a.bin") s3://faults/k")
            try sh("rm -f got.bin && ferry-s3 cp s3://faults/k got.bin > /dev/null && md5sum got.bin | cut -c1-32 | grep -qxFf sums")
            let listing = try sh("ferry-s3 ls s3://faults/ --recursive").stdout.split(separator: "\n")
            XCTAssertEqual(listing.count, 1, "round \(round): \(listing)")
            XCTAssertTrue(listing.first?.hasSuffix("48000000 k") ?? false, "round \(round): \(listing)")
        }
    }

    func testFullDiskFailsCleanlyAndTheRerunLoadsEverythingExactlyOnce() throws {
        let small = workspace.folder.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        // A 6 MiB tmpfs is a full disk; without the right to mount, a 6 MiB file-size limit
        // fails writes the same way (EFBIG instead of ENOSPC).
        let mounted = try sh("mount -t tmpfs -o size=6m tmpfs '\(small)' 2>/dev/null", expect: nil).status == 0
        defer { if mounted { _ = try? sh("umount '\(small)'", expect: nil) } }
        let limit = mounted ? "" : "ulimit -f 6144; "
        let data = small + "/data"
        try sh("\(Self.items(200_000)) > items.jsonl && echo old > old.txt && head -c 8000000 /dev/zero > big.bin")
        try sh("export FERRY_DATA='\(data)'; ferry-s3 mb s3://full > /dev/null && ferry-s3 cp old.txt s3://full/k > /dev/null")

        let load = "FERRY_DATA='\(data)' ferry-load --table Full --create id:S --checkpoint ck.json --group 5000 items.jsonl"
        let failed = try sh(limit + load, expect: 1)
        XCTAssertTrue(failed.stderr.contains("No space left on device") || failed.stderr.contains("File too large"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains("ferry-load: error: "), failed.stderr)
        // Whole groups only, and exactly the first ones: ids k0000001...k<count>, nothing else.
        let committed = try count("Full", data: data)
        XCTAssertGreaterThan(committed, 0)
        XCTAssertLessThan(committed, 200_000)
        XCTAssertEqual(committed % 5000, 0, "a group is half there")
        let last = try sh("FERRY_DATA='\(data)' ferry-export --table Full --plain | jq -r .id | sort | tail -n 1").stdout
        XCTAssertEqual(last, String(format: "k%07d\n", committed))

        // The disk is full: a put fails and keeps the old object; a backup leaves no file.
        let put = try sh("\(limit)FERRY_DATA='\(data)' ferry-s3 cp big.bin s3://full/k", expect: 1)
        XCTAssertTrue(put.stderr.contains("s3://full/k") || put.stderr.contains("/s3/full/k"), put.stderr)
        try sh("FERRY_DATA='\(data)' ferry-s3 cp s3://full/k - | cmp - old.txt")
        try sh("\(limit)FERRY_DATA='\(data)' ferry-backup --table Full --out '\(small)/full.backup.gz'", expect: 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: small + "/full.backup.gz"))

        // Space freed: the same command finishes the load, every item exactly once.
        if mounted { try sh("mount -o remount,size=96m '\(small)'") }
        let rerun = try sh(load)
        XCTAssertTrue(rerun.stderr.contains("\(200_000 - committed) loaded") && rerun.stderr.contains("\(committed) already loaded"), rerun.stderr)
        XCTAssertEqual(try count("Full", data: data), 200_000)
        try sh("FERRY_DATA='\(data)' ferry-export --table Full --plain | jq -r .id | sort -u | wc -l | grep -qx 200000")
        let described = try sh("FERRY_DATA='\(data)' ferry-table describe-table --table-name Full | jq .Table.ItemCount").stdout
        XCTAssertEqual(described, "200000\n")
    }

    func testASecondWriterIsRefusedWithTheHolderNamedAndTheFirstCompletes() throws {
        let r = try sh("""
            mkfifo feed
            \(Self.items(1000)) > first.jsonl
            \(Self.items(1000, first: 5001)) > second.jsonl
            ferry-load --table Two --create id:S < feed 2> first.err & pid=$!
            exec 3> feed
            head -n 500 first.jsonl >&3
            for i in $(seq 200); do ferry-table describe-table --table-name Two > /dev/null 2>&1 && break; sleep 0.05; done
            ferry-load --table Two second.jsonl; echo "second $?"
            ferry-table put-item --table-name Two --item '{"id":{"S":"intruder"}}'; echo "put-item $?"
            ferry-restore --in fixtures/backup/Music.backup.jsonl --table Two --replace; echo "restore $?"
            tail -n +501 first.jsonl >&3
            exec 3>&-
            wait $pid; echo "first $?"
            """)
        XCTAssertTrue(r.stdout.contains("second 1\nput-item 1\nrestore 1\nfirst 0\n"), r.stdout + r.stderr)
        let refusals = r.stderr.split(separator: "\n").filter { $0.contains("table 'Two' is locked by pid") && $0.contains("(ferry-load)") }
        XCTAssertEqual(refusals.count, 3, r.stderr)
        XCTAssertEqual(try count("Two"), 1000)
        try sh("ferry-export --table Two --plain | jq -r .id | sort | diff - <(jq -r .id first.jsonl)")
    }

    func testTornLogTailKeepsWholeCommitsAndAFlippedByteNamesTheLogAndOffset() throws {
        for k in 0..<5 {
            try sh("\(Self.items(40, first: k * 40 + 1)) | ferry-load --table Logged \(k == 0 ? "--create id:S" : "") 2>/dev/null")
        }
        try sh("cp -r \"$FERRY_DATA/tables/Logged\" pristine")
        let log = try sh("ls \"$FERRY_DATA\"/tables/Logged/log-*.wal | tail -n 1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // A torn last record: the last commit is gone as a whole, the others stay.
        try sh("truncate -s -10 '\(log)'")
        XCTAssertEqual(try count("Logged"), 160)
        try sh("ferry-export --table Logged --plain | jq -r .id | sort | diff - <(\(Self.items(160)) | jq -r .id)")

        // A flipped byte inside an earlier record is damage, not a torn write: refused, named.
        try sh("rm -rf \"$FERRY_DATA/tables/Logged\" && cp -r pristine \"$FERRY_DATA/tables/Logged\"")
        try sh("printf '\\xff' | dd of='\(log)' bs=1 seek=200 conv=notrunc 2>/dev/null")
        let scan = try sh("ferry-table scan --table-name Logged", expect: 1)
        XCTAssertEqual(scan.stderr.split(separator: "\n").count, 1, scan.stderr)
        XCTAssertTrue(scan.stderr.contains((log as NSString).lastPathComponent + ": corrupt write-ahead log record at byte "), scan.stderr)
        try sh("ferry-export --table Logged --out damaged.jsonl", expect: 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: workspace.folder.appendingPathComponent("damaged.jsonl").path))
    }

    func testAFlippedByteInASortedRunIsReportedWithTheRunAndOffset() throws {
        try sh("\(Self.items(100_000)) | ferry-load --table Runs --create id:S 2>/dev/null")
        let run = try sh("ls -S \"$FERRY_DATA\"/tables/Runs/run-*.run | head -n 1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(run.isEmpty, "the load left no sorted run")
        let size = try sh("stat -c %s '\(run)'").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try sh("printf '\\xff' | dd of='\(run)' bs=1 seek=\((Int(size) ?? 0) / 2) conv=notrunc 2>/dev/null")
        let scan = try sh("ferry-table scan --table-name Runs --select COUNT", expect: 1)
        XCTAssertEqual(scan.stderr.split(separator: "\n").count, 1, scan.stderr)
        XCTAssertTrue(scan.stderr.contains((run as NSString).lastPathComponent + ": corrupt sorted run block at byte "), scan.stderr)
        let backup = try sh("ferry-backup --table Runs --out runs.backup.gz", expect: 1)
        XCTAssertTrue(backup.stderr.contains((run as NSString).lastPathComponent), backup.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: workspace.folder.appendingPathComponent("runs.backup.gz").path))
    }

    func testDamagedObjectsAreCaughtByTheirChecksumAndNothingIsWritten() throws {
        try sh("""
            ferry-s3 mb s3://rot > /dev/null
            \(Self.items(2000)) > items.jsonl && gzip -c items.jsonl > items.jsonl.gz
            ferry-s3 cp items.jsonl s3://rot/plain.jsonl > /dev/null && ferry-s3 cp items.jsonl.gz s3://rot/packed.jsonl.gz > /dev/null
            ferry-s3 ls s3://rot/ > /dev/null
            """)
        // Bit rot: one byte changes and the file's size and times stay as they were.
        for key in ["plain.jsonl", "packed.jsonl.gz"] {
            try sh("""
                python3 - "$FERRY_DATA/s3/rot/\(key)" <<'PY'
                import os, sys
                path = sys.argv[1]
                st = os.stat(path)
                data = bytearray(open(path, 'rb').read())
                data[len(data) // 2] ^= 0x04
                open(path, 'wb').write(data)
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
                PY
                """)
        }
        // The whole stderr, with CRCs and offsets (they depend on the generated bytes and on
        // gzip's version) matched by shape.
        func assertStderr(_ stderr: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            let pattern = "^" + NSRegularExpression.escapedPattern(for: expected).replacingOccurrences(of: "<crc>", with: "[A-Za-z0-9+/]{6}==")
                .replacingOccurrences(of: "<n>", with: "[0-9]+") + "$"
            XCTAssertNotNil(stderr.range(of: pattern, options: .regularExpression), stderr, file: file, line: line)
        }
        let digest = "BadDigest: s3://rot/plain.jsonl: the stored bytes do not match the object's CRC32 (<crc>, recorded <crc>): the object is damaged on disk"
        let download = try sh("ferry-s3 cp s3://rot/plain.jsonl got.jsonl", expect: 1)
        assertStderr(download.stderr, "ferry-s3: error: \(digest)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: workspace.folder.appendingPathComponent("got.jsonl").path))
        let copy = try sh("ferry-s3 cp s3://rot/plain.jsonl s3://rot/copy.jsonl", expect: 1)
        assertStderr(copy.stderr, "ferry-s3: error: \(digest)\n")
        XCTAssertEqual(try sh("ferry-s3 ls s3://rot/").stdout.contains("copy.jsonl"), false)
        // The object named once; a gzip object's own CRC fails first, at its last block.
        let plain = try sh("ferry-extract s3://rot/plain.jsonl > /dev/null", expect: 1)
        assertStderr(plain.stderr, "ferry-extract: error: s3://rot/plain.jsonl: BadDigest: the stored bytes do not match the object's CRC32 "
            + "(<crc>, recorded <crc>): the object is damaged on disk; nothing from it was sent\n"
            + "ferry-extract: error: 1 object(s) failed and were not marked complete: s3://rot/plain.jsonl\n")
        let packed = try sh("ferry-extract s3://rot/packed.jsonl.gz > /dev/null", expect: 1)
        assertStderr(packed.stderr, "ferry-extract: error: s3://rot/packed.jsonl.gz: corrupt gzip data near byte <n>: incorrect data check; nothing from it was sent\n"
            + "ferry-extract: error: 1 object(s) failed and were not marked complete: s3://rot/packed.jsonl.gz\n")
    }
}
