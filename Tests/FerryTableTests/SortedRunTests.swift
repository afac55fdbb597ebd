import FerryIO
@testable import FerryTable
import FerryTestSupport
import Foundation
import XCTest

final class SortedRunTests: XCTestCase {
    private var folder: Directory!
    private var path = ""

    override func setUpWithError() throws {
        let url = try TestSupport.temporaryFolder()
        folder = try Directory.open(url.path)
        path = url.path + "/t.run"
    }

    private func key(_ i: Int) -> [UInt8] { Array(String(format: "key-%08d", i).utf8) }

    /// 20,000 entries (many blocks); every 7th a tombstone.
    private func writeRun() throws {
        let writer = try SortedRunWriter(folder: folder, name: "t.run")
        for i in 0..<20_000 {
            try writer.add(RunEntry(key: key(i), value: i % 7 == 0 ? nil : Array("value \(i) ".utf8) + [UInt8](repeating: UInt8(i % 256), count: i % 50)))
        }
        try writer.finish()
    }

    func testReadsARunWrittenByAnotherImplementation() throws {
        let run = try SortedRun(path: TestSupport.fixture("runs/three-entries.run").path)
        XCTAssertEqual(run.count, 3)
        XCTAssertEqual(try run.get(Array("apple".utf8)), RunEntry(key: Array("apple".utf8), value: Array("red".utf8)))
        XCTAssertEqual(try run.get(Array("banana".utf8)), RunEntry(key: Array("banana".utf8), value: nil))
        XCTAssertNil(try run.get(Array("blueberry".utf8)))
        var keys: [String] = []
        try run.scan { keys.append(String(decoding: $0.key, as: UTF8.self)); return true }
        XCTAssertEqual(keys, ["apple", "banana", "cherry"])
    }

    func testWritesTheDocumentedBytes() throws {
        let writer = try SortedRunWriter(folder: folder, name: "same.run")
        try writer.add(RunEntry(key: Array("apple".utf8), value: Array("red".utf8)))
        try writer.add(RunEntry(key: Array("banana".utf8), value: nil))
        try writer.add(RunEntry(key: Array("cherry".utf8), value: Array("dark red".utf8)))
        try writer.finish()
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.path + "/same.run"))),
                       try TestSupport.fixtureBytes("runs/three-entries.run"))
    }

    func testGetsAndScansAcrossManyBlocks() throws {
        try writeRun()
        let run = try SortedRun(path: path)
        XCTAssertEqual(run.count, 20_000)
        for i in stride(from: 0, to: 20_000, by: 97) {
            let entry = try XCTUnwrap(try run.get(key(i)))
            XCTAssertEqual(entry.value == nil, i % 7 == 0)
        }
        XCTAssertNil(try run.get(Array("key-".utf8)))
        XCTAssertNil(try run.get(Array("zzz".utf8)))
        var seen: [Int] = []
        try run.scan(from: key(12_345)) { entry in
            seen.append(Int(String(decoding: entry.key.dropFirst(4), as: UTF8.self))!)
            return seen.count < 1000
        }
        XCTAssertEqual(seen, Array(12_345..<13_345))
        XCTAssertNoThrow(try run.verify())
    }

    func testKeysOutOfOrderAreRefusedAndNothingAppears() throws {
        let writer = try SortedRunWriter(folder: folder, name: "bad.run")
        try writer.add(RunEntry(key: [2], value: [1]))
        XCTAssertThrowsError(try writer.add(RunEntry(key: [1], value: [1]))) {
            XCTAssertEqual("\($0)", "\(folder.path)/bad.run: keys must be added in strictly increasing order")
        }
        writer.abandon()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testChecksumMismatchInABlockNamesTheOffset() throws {
        try writeRun()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let run = try SortedRun(path: path)
        let offset = run.blocks[run.blockIndex(for: key(5000))!].offset
        bytes[offset + 10] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let damaged = try SortedRun(path: path)   // footer and index are fine: it opens
        XCTAssertNotNil(try damaged.get(key(1)))   // other blocks still read
        XCTAssertThrowsError(try damaged.get(key(5000))) {
            XCTAssertEqual("\($0)", "\(path): corrupt sorted run block at byte \(offset): checksum mismatch")
        }
        XCTAssertThrowsError(try damaged.verify())
    }

    func testDamagedFooterOrTruncatedFileIsRefused() throws {
        try writeRun()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(bytes[..<(bytes.count - 10)]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SortedRun(path: path)) {
            XCTAssertEqual("\($0)", "\(path): incomplete or damaged sorted run: bad footer")
        }
        bytes[bytes.count - 20] ^= 1   // inside the footer's fields
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SortedRun(path: path)) {
            XCTAssertEqual("\($0)", "\(path): incomplete or damaged sorted run: bad footer")
        }
        try Data("not a run".utf8 + [UInt8](repeating: 0, count: 60)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SortedRun(path: path)) {
            XCTAssertEqual("\($0)", "\(path): not a Ferry sorted run (bad magic bytes)")
        }
    }
}
