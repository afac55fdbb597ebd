import FerryIO
@testable import FerryTable
import FerryTestSupport
import Foundation
import XCTest

final class WriteAheadLogTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws { folder = try TestSupport.temporaryFolder().path }

    private func text(_ records: [[UInt8]]) -> [String] { records.map { String(decoding: $0, as: UTF8.self) } }

    /// A log with commits "c0" ... "c<n-1>"; returns its path and each record's offset.
    private func log(_ n: Int) throws -> (String, [Int]) {
        let path = folder + "/t.log"
        let (log, _) = try WriteAheadLog.open(path: path)
        var offsets: [Int] = []
        for i in 0..<n {
            offsets.append(log.length)
            try log.commit(Array("c\(i)".utf8))
        }
        try log.close()
        return (path, offsets)
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    private func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    func testReadsALogWrittenByAnotherImplementation() throws {
        let recovered = try WALReader.read(path: TestSupport.fixture("wal/two-commits.log").path)
        XCTAssertEqual(text(recovered.records), ["hello", "world, second commit"])
        XCTAssertEqual(recovered.droppedBytes, 0)
    }

    func testWritesTheDocumentedBytes() throws {
        let path = folder + "/same.log"
        let (log, _) = try WriteAheadLog.open(path: path)
        try log.commit(Array("hello".utf8))
        try log.commit(Array("world, second commit".utf8))
        try log.close()
        XCTAssertEqual(try bytes(path), try TestSupport.fixtureBytes("wal/two-commits.log"))
    }

    func testCommitsSurviveReopening() throws {
        let (path, _) = try log(100)
        let (log, recovered) = try WriteAheadLog.open(path: path)
        XCTAssertEqual(text(recovered.records), (0..<100).map { "c\($0)" })
        try log.commit(Array("after".utf8))
        try log.close()
        XCTAssertEqual(text(try WALReader.read(path: path).records).last, "after")
    }

    func testTruncatedTrailingRecordIsIgnored() throws {
        let (path, offsets) = try log(3)
        let all = try bytes(path)
        try write(Array(all[..<(all.count - 1)]), path)          // last payload cut short
        var recovered = try WALReader.read(path: path)
        XCTAssertEqual(text(recovered.records), ["c0", "c1"])
        XCTAssertEqual(recovered.validLength, offsets[2])
        // Reopening cuts the torn tail, and the next commit follows the last good one.
        let (log, _) = try WriteAheadLog.open(path: path)
        try log.commit(Array("c2 again".utf8))
        try log.close()
        recovered = try WALReader.read(path: path)
        XCTAssertEqual(text(recovered.records), ["c0", "c1", "c2 again"])
        XCTAssertEqual(recovered.droppedBytes, 0)
    }

    func testTornHeaderAtEndIsIgnored() throws {
        let (path, offsets) = try log(2)
        try write(Array(try bytes(path)[..<(offsets[1] + 4)]), path)
        XCTAssertEqual(text(try WALReader.read(path: path).records), ["c0"])
    }

    func testChecksumMismatchOnLastRecordIsDropped() throws {
        let (path, _) = try log(3)
        var all = try bytes(path)
        all[all.count - 1] ^= 0x40
        try write(all, path)
        let recovered = try WALReader.read(path: path)
        XCTAssertEqual(text(recovered.records), ["c0", "c1"])
        XCTAssertGreaterThan(recovered.droppedBytes, 0)
    }

    func testChecksumMismatchMidFileIsCorruption() throws {
        let (path, offsets) = try log(3)
        var all = try bytes(path)
        all[offsets[1] + WALFormat.recordHeaderSize] ^= 0x01   // first payload byte of c1
        try write(all, path)
        XCTAssertThrowsError(try WALReader.read(path: path)) {
            XCTAssertEqual("\($0)", "\(path): corrupt write-ahead log record at byte \(offsets[1]): checksum mismatch")
        }
        XCTAssertThrowsError(try WriteAheadLog.open(path: path))   // the table refuses to open
    }

    func testBadLengthAtEndIsIgnored() throws {
        let (path, _) = try log(2)
        try write(try bytes(path) + [0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4, 1], path)
        XCTAssertEqual(text(try WALReader.read(path: path).records), ["c0", "c1"])
    }

    func testBadLengthMidFileIsCorruption() throws {
        let (path, offsets) = try log(3)
        var all = try bytes(path)
        all[offsets[1] + 3] = 0x7F   // c1's length becomes about 2 GB
        try write(all, path)
        XCTAssertThrowsError(try WALReader.read(path: path)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path): corrupt write-ahead log record at byte \(offsets[1]): impossible record length"), "\($0)")
        }
    }

    func testPlausibleLengthThatSwallowsTheNextRecordIsCorruption() throws {
        let (path, offsets) = try log(4)
        var all = try bytes(path)
        all[offsets[1]] = 40   // c1 now claims 40 bytes, overlapping c2 and c3
        try write(all, path)
        XCTAssertThrowsError(try WALReader.read(path: path)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path): corrupt write-ahead log record at byte \(offsets[1]): "), "\($0)")
        }
    }

    func testZeroFilledTailIsIgnored() throws {
        let (path, _) = try log(2)
        try write(try bytes(path) + [UInt8](repeating: 0, count: 4096), path)
        let recovered = try WALReader.read(path: path)
        XCTAssertEqual(text(recovered.records), ["c0", "c1"])
        XCTAssertEqual(recovered.droppedBytes, 4096)
    }

    /// A full disk or a crash right after a new log was created leaves it empty or with
    /// part of its header: no commit can be in it, so it reads as empty and reopens.
    func testLogWhoseHeaderWasCutShortReadsAsEmptyAndReopens() throws {
        for kept in [0, 5, 15] {
            let path = folder + "/torn-\(kept).wal"
            try write(Array(WALFormat.fileHeader().prefix(kept)), path)
            let recovered = try WALReader.read(path: path)
            XCTAssertEqual(recovered.records.count, 0)
            XCTAssertEqual(recovered.validLength, 0)
            let (log, _) = try WriteAheadLog.open(path: path)
            try log.commit(Array("after".utf8))
            try log.close()
            XCTAssertEqual(text(try WALReader.read(path: path).records), ["after"])
        }
    }

    func testAFileThatIsNotALogIsRefused() throws {
        let path = folder + "/other.log"
        try write(Array("not a log at all, just text\n".utf8), path)
        XCTAssertThrowsError(try WALReader.read(path: path)) {
            XCTAssertEqual("\($0)", "\(path): not a Ferry write-ahead log (bad magic bytes)")
        }
    }

    /// SIGKILL a writer at random points: every acknowledged commit survives, each intact,
    /// in order, and nothing after them is half applied.
    func testKillNineKeepsEveryAcknowledgedCommit() throws {
        let path = folder + "/killed.log"
        let tool = TestSupport.productsFolder.appendingPathComponent("wal-crash-writer").path
        var acknowledged = -1
        for round in 0..<6 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = [path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let target = acknowledged + 1 + Int.random(in: 1...200)
            var buffered = ""
            while acknowledged < target {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                buffered += String(decoding: data, as: UTF8.self)
                while let newline = buffered.firstIndex(of: "\n") {
                    let line = buffered[..<newline]
                    if line.hasPrefix("acked "), let n = Int(line.dropFirst(6)) { acknowledged = n }
                    buffered = String(buffered[buffered.index(after: newline)...])
                }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let recovered = try WALReader.read(path: path)
            XCTAssertGreaterThanOrEqual(recovered.records.count, acknowledged + 1, "round \(round)")
            for (n, record) in recovered.records.enumerated() {
                XCTAssertTrue(String(decoding: record.prefix(20), as: UTF8.self).hasPrefix("record-\(n)-"), "round \(round) record \(n)")
                XCTAssertEqual(record.count, "record-\(n)-".utf8.count + (n * 7919) % 3000)
            }
            acknowledged = recovered.records.count - 1
        }
        XCTAssertGreaterThan(acknowledged, 5)
    }
}
