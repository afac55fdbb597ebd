import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import Foundation
import XCTest

/// Fault injection: a writer killed with SIGKILL at random points (mid-commit, mid-flush,
/// mid-compaction) loses no acknowledged batch and never leaves half of one.
final class TableCrashTests: XCTestCase {
    func testKillNineKeepsEveryAcknowledgedBatchAndNoHalfBatch() throws {
        let data = try TestSupport.temporaryFolder().path
        let tool = TestSupport.productsFolder.appendingPathComponent("table-crash-writer").path
        var generator = SplitMix(seed: 20261123)
        var acknowledged = -1
        var next = 0
        for round in 0..<TestSupport.faultRounds(reduced: 20, full: 80) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = [data, String(next)]
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let target = next + Int(generator.next() % 120)
            var buffered = ""
            func consume(_ data: Data) {
                buffered += String(decoding: data, as: UTF8.self)
                while let newline = buffered.firstIndex(of: "\n") {
                    let line = buffered[..<newline]
                    if line.hasPrefix("acked "), let n = Int(line.dropFirst(6)) { acknowledged = max(acknowledged, n) }
                    buffered = String(buffered[buffered.index(after: newline)...])
                }
            }
            while acknowledged < target {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                consume(chunk)
            }
            // Sometimes kill at once, sometimes after a random pause mid-write.
            if generator.next() % 2 == 0 { usleep(UInt32(generator.next() % 20_000)) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            consume(output.fileHandleForReading.readDataToEndOfFile())
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(stderr, "", "round \(round)")

            // Recover as the next writer would, then check the invariants.
            let catalog = try TableCatalog(dataFolder: data)
            let table = try catalog.openForWriting("Crash", program: "test")
            var present: [Int: Int] = [:]
            var shared: Set<String> = []
            var scanned = 0
            var request = ReadRequest()
            repeat {
                let page = try table.read(request)
                for item in page.items {
                    guard case let .s(pk)? = item["pk"], case let .n(batch)? = item["batch"] else { continue }
                    scanned += 1
                    if pk.hasPrefix("shared-") { shared.insert(batch.description) } else {
                        XCTAssertTrue(pk.hasPrefix("b\(batch)-"), "round \(round): \(pk) holds batch \(batch)")
                        present[Int(batch.description)!, default: 0] += 1
                    }
                }
                request.exclusiveStartKey = page.lastEvaluatedKey
            } while request.exclusiveStartKey != nil
            let highest = present.keys.max() ?? -1
            XCTAssertGreaterThanOrEqual(highest, acknowledged, "round \(round): an acknowledged batch is missing")
            for (batch, count) in present { XCTAssertEqual(count, 10, "round \(round): batch \(batch) is half there") }
            XCTAssertEqual(present.count, highest + 1, "round \(round): a batch in the middle is missing")
            XCTAssertEqual(shared, highest >= 0 ? ["\(highest)"] : [], "round \(round): the shared items mix batches")
            XCTAssertEqual(table.stats.items, scanned, "round \(round): ItemCount")
            XCTAssertEqual(table.stats.counts[1]?.items ?? 0, scanned, "round \(round): the index count")
            var byBatch = ReadRequest()
            byBatch.indexName = "ByBatch"
            byBatch.keyCondition = try KeyConditionExpressionForTests.batch(highest)
            if highest >= 0 { XCTAssertEqual(try table.read(byBatch).count, 20, "round \(round): index entries of the last batch") }
            try table.close()
            acknowledged = highest
            next = highest + 1
        }
        XCTAssertGreaterThan(next, 100)
        let runs = try FileManager.default.contentsOfDirectory(atPath: data + "/tables/Crash").filter { $0.hasSuffix(".run") }
        XCTAssertFalse(runs.isEmpty)
    }
}

import FerryExpressions

enum KeyConditionExpressionForTests {
    static func batch(_ n: Int) throws -> KeyConditionExpression {
        try KeyConditionExpression("#b = :b", context: ExpressionContext(names: ["#b": "batch"], values: [":b": .n(DynamoNumber(n))]))
    }
}

