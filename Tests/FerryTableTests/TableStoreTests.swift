import FerryIO
@testable import FerryTable
import FerryTestSupport
import Foundation
import XCTest

final class TableStoreTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testNewestValueWinsAndTombstonesHideOlderRuns() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "T", program: "test")
        try store.commit([(bytes("a"), bytes("1")), (bytes("b"), bytes("1")), (bytes("c"), bytes("1"))])
        try store.flush()
        try store.commit([(bytes("b"), bytes("2")), (bytes("c"), nil)])
        try store.flush()
        try store.commit([(bytes("a"), nil), (bytes("d"), bytes("3"))])
        XCTAssertEqual(store.runCount, 2)
        XCTAssertNil(try store.get(bytes("a")))
        XCTAssertEqual(try store.get(bytes("b")), bytes("2"))
        XCTAssertNil(try store.get(bytes("c")))
        var seen: [String] = []
        try store.snapshot().scan { key, value in seen.append("\(String(decoding: key, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))"); return true }
        XCTAssertEqual(seen, ["b=2", "d=3"])
    }

    func testACommitTooBigForOneLogRecordIsRefusedAndTheStoreGoesOn() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "T", program: "test")
        let mebibyte = [UInt8](repeating: 0x61, count: 1 << 20)
        let huge = (0..<65).map { (bytes("k\($0)"), Optional(mebibyte)) }
        XCTAssertThrowsError(try store.commit(huge)) { error in
            XCTAssertTrue("\(error)".contains("over the log's 67108864-byte record limit"), "\(error)")
        }
        XCTAssertNil(try store.get(bytes("k0")))
        try store.commit([(bytes("small"), bytes("1"))])
        XCTAssertEqual(try store.get(bytes("small")), bytes("1"))
        try store.close()
    }

    func testCommitsSurviveReopeningWithAndWithoutFlushes() throws {
        let path = try TestSupport.temporaryFolder().path
        do {
            let store = try TableStore(folder: path, name: "T", program: "test")
            try store.commit([(bytes("flushed"), bytes("1"))])
            try store.flush()
            try store.commit([(bytes("in log"), bytes("2"))])
        }
        let reopened = try TableStore(folder: path, name: "T", program: "test")
        XCTAssertEqual(try reopened.get(bytes("flushed")), bytes("1"))
        XCTAssertEqual(try reopened.get(bytes("in log")), bytes("2"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path).sorted(), ["LOCK", "MANIFEST", "log-2.wal", "run-1.run"])
    }

    func testSecondWriterIsRefused() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "Music", program: "ferry-load")
        XCTAssertThrowsError(try TableStore(folder: path, name: "Music", program: "ferry-table")) {
            XCTAssertEqual("\($0)", "table 'Music' is locked by pid \(getpid()) (ferry-load)")
        }
        withExtendedLifetime(store) {}
    }

    /// Random puts and deletes against a dictionary model, with many small flushes and
    /// reopenings: every get and every scan must match the model.
    func testRandomOperationsMatchAModel() throws {
        let path = try TestSupport.temporaryFolder().path
        var store: TableStore? = try TableStore(folder: path, name: "T", program: "test", flushThreshold: 4096)
        var model: [String: String] = [:]
        var seed: UInt64 = 7
        func random(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        for round in 0..<20 {
            for _ in 0..<250 {
                var changes: [TableStore.Change] = []
                for _ in 0..<(1 + random(4)) {
                    let key = String(format: "k%04d", random(500))
                    if random(4) == 0 {
                        changes.append((bytes(key), nil))
                        model[key] = nil
                    } else {
                        let value = "v\(round)-\(random(1_000_000))"
                        changes.append((bytes(key), bytes(value)))
                        model[key] = value
                    }
                }
                // A commit with two changes to one key: the later one wins.
                try store!.commit(changes)
            }
            if round % 3 == 2 { store = nil; store = try TableStore(folder: path, name: "T", program: "test", flushThreshold: 4096) }
            for i in stride(from: 0, to: 500, by: 7) {
                let key = String(format: "k%04d", i)
                XCTAssertEqual(try store!.get(bytes(key)).map { String(decoding: $0, as: UTF8.self) }, model[key], "round \(round) \(key)")
            }
            var scanned: [String: String] = [:]
            var order: [String] = []
            try store!.snapshot().scan { key, value in
                let k = String(decoding: key, as: UTF8.self)
                scanned[k] = String(decoding: value, as: UTF8.self)
                order.append(k)
                return true
            }
            XCTAssertEqual(scanned, model, "round \(round)")
            XCTAssertEqual(order, order.sorted(), "round \(round)")
        }
        // Dozens of flushes happened; compaction keeps the run count under the fan-in.
        try store!.waitForBackground()
        XCTAssertLessThan(store!.runCount, StoreEngine.compactionFanIn)
        XCTAssertNoThrow(try store!.verify())
    }

    func testSnapshotDoesNotSeeLaterCommitsOrFlushes() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "T", program: "test")
        try store.commit((0..<100).map { (bytes(String(format: "k%03d", $0)), bytes("old")) })
        let before = store.snapshot()
        try store.commit((0..<100).map { (bytes(String(format: "k%03d", $0)), $0 % 2 == 0 ? nil : bytes("new")) })
        try store.flush()
        var values: Set<String> = []
        var count = 0
        try before.scan { _, value in values.insert(String(decoding: value, as: UTF8.self)); count += 1; return true }
        XCTAssertEqual(count, 100)
        XCTAssertEqual(values, ["old"])
        var after = 0
        try store.snapshot().scan { _, value in XCTAssertEqual(value, self.bytes("new")); after += 1; return true }
        XCTAssertEqual(after, 50)
    }

    func testBoundedScansInBothDirectionsAcrossMemtableAndRuns() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "T", program: "test")
        for i in 0..<3000 { try store.commit([(bytes(String(format: "k%05d", i)), bytes("\(i)"))]) ; if i % 1000 == 999 { try store.flush() } }
        try store.commit([(bytes("k01500"), nil)])
        let snapshot = store.snapshot()
        var forward: [String] = []
        try snapshot.scan(lower: bytes("k01498"), upper: bytes("k01503")) { key, _ in forward.append(String(decoding: key, as: UTF8.self)); return true }
        XCTAssertEqual(forward, ["k01498", "k01499", "k01501", "k01502"])
        var backward: [String] = []
        try snapshot.scan(lower: bytes("k01498"), upper: bytes("k01503"), forward: false) { key, _ in backward.append(String(decoding: key, as: UTF8.self)); return true }
        XCTAssertEqual(backward, ["k01502", "k01501", "k01499", "k01498"])
        var last: [String] = []
        try snapshot.scan(forward: false) { key, _ in last.append(String(decoding: key, as: UTF8.self)); return last.count < 2 }
        XCTAssertEqual(last, ["k02999", "k02998"])
    }

    /// Tiered merging looks past the newest run: the bigger runs earlier merges left
    /// merge in turn while a load keeps appending small ones; the lowest tier goes first,
    /// and smaller runs between bigger ones join their merge.
    func testCompactionPicksTheLowestTierWithEnoughAdjacentRuns() {
        XCTAssertNil(StoreEngine.compactionRange(tiers: [], fanIn: 4))
        XCTAssertNil(StoreEngine.compactionRange(tiers: [2, 1, 1, 1, 0, 0, 0], fanIn: 4))
        XCTAssertEqual(StoreEngine.compactionRange(tiers: [0, 0, 0, 0], fanIn: 4), 0..<4)
        // Four tier-1 runs before one new tier-0 run: they merge, with it (the old rule saw
        // only the newest run's tier, so a load left every bigger run unmerged).
        XCTAssertEqual(StoreEngine.compactionRange(tiers: [2, 1, 1, 1, 1, 0], fanIn: 4), 1..<6)
        XCTAssertEqual(StoreEngine.compactionRange(tiers: [1, 0, 1, 0, 1, 0, 1, 0], fanIn: 4), 0..<8)
        // Both a tier-1 and a tier-0 stretch: the tier-0 one, the cheaper merge.
        XCTAssertEqual(StoreEngine.compactionRange(tiers: [1, 1, 1, 1, 0, 0, 0, 0, 0], fanIn: 4), 4..<9)
        // Two stretches of one tier: the newer.
        XCTAssertEqual(StoreEngine.compactionRange(tiers: [1, 1, 1, 1, 2, 1, 1, 1, 1], fanIn: 4), 5..<9)
        XCTAssertEqual(StoreEngine.compactionRange(tiers: [3, 2, 2, 2, 2, 1, 1, 1], fanIn: 4), 1..<8)
    }

    func testCompactionDropsTombstonesAndKeepsCounts() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "T", program: "test")
        for round in 0..<StoreEngine.compactionFanIn {
            try store.commit((0..<50).map { (bytes(String(format: "k%03d", $0)), round == StoreEngine.compactionFanIn - 1 && $0 < 25 ? nil : bytes("r\(round)")) },
                             delta: StoreStats(items: round == 0 ? 50 : (round == StoreEngine.compactionFanIn - 1 ? -25 : 0), bytes: 0))
            try store.flush()
        }
        try store.waitForBackground()
        XCTAssertEqual(store.runCount, 1)
        XCTAssertEqual(store.currentStats.items, 25)
        let run = try SortedRun(path: try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".run") }.map { path + "/" + $0 }[0])
        XCTAssertEqual(run.count, 25)   // no tombstones left
        try store.close()
        let reopened = try TableStore(folder: path, name: "T", program: "test")
        XCTAssertEqual(reopened.currentStats.items, 25)
    }

    func testReaderInAnotherProcessSeesWholeCommitsWithoutTheLock() throws {
        let path = try TestSupport.temporaryFolder().path
        let store = try TableStore(folder: path, name: "T", program: "test", flushThreshold: 8192)
        for i in 0..<40 {
            try store.commit((0..<20).map { (bytes(String(format: "k%03d", $0)), bytes("v\(i)")) }, delta: StoreStats(items: i == 0 ? 20 : 0, bytes: 0))
            // Read as another process would: no lock, files only; every key has the same version.
            let snapshot = try TableStore.readSnapshot(folder: path)
            var versions: Set<[UInt8]> = []
            var count = 0
            try snapshot.scan { _, value in versions.insert(value); count += 1; return true }
            XCTAssertEqual(count, 20)
            XCTAssertEqual(versions, [bytes("v\(i)")])
            XCTAssertEqual(snapshot.stats.items, 20)
        }
    }

    func testDamagedLogRecordMidFileRefusesTheTable() throws {
        let path = try TestSupport.temporaryFolder().path
        do {
            let store = try TableStore(folder: path, name: "T", program: "test")
            for i in 0..<10 { try store.commit([(bytes("k\(i)"), bytes(String(repeating: "v", count: 100)))]) }
            try store.close()
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path + "/log-1.wal"))
        try handle.seek(toOffset: 300)
        try handle.write(contentsOf: Data([0x55]))
        try handle.close()
        XCTAssertThrowsError(try TableStore(folder: path, name: "T", program: "test")) {
            XCTAssertTrue("\($0)".hasPrefix(path + "/log-1.wal: corrupt write-ahead log record at byte "), "\($0)")
        }
        XCTAssertThrowsError(try TableStore.readSnapshot(folder: path))
    }
}
