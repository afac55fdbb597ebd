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
        try store.scan { key, value in seen.append("\(String(decoding: key, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))"); return true }
        XCTAssertEqual(seen, ["b=2", "d=3"])
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
            try store!.scan { key, value in
                let k = String(decoding: key, as: UTF8.self)
                scanned[k] = String(decoding: value, as: UTF8.self)
                order.append(k)
                return true
            }
            XCTAssertEqual(scanned, model, "round \(round)")
            XCTAssertEqual(order, order.sorted(), "round \(round)")
        }
        XCTAssertGreaterThan(store!.runCount, 5)
        XCTAssertNoThrow(try store!.verify())
    }
}
