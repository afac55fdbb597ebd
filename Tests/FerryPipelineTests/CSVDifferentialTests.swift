@testable import FerryPipeline
import FerryIO
import FerryTestSupport
import Foundation
import XCTest

/// Ferry's CSV reader against Python's csv module (strict=True) on seeded hostile
/// documents (fixtures/csv/differential.py says how the two are made comparable): the
/// same records, byte for byte, on the same lines; a rejected record wherever Python
/// raises; and reading buffered one byte at a time changes nothing.
final class CSVDifferentialTests: XCTestCase {
    private struct Case: Decodable {
        struct Record: Decodable {
            var line: Int
            var fields: [String]?
            var error: Bool?
        }
        var doc: String
        var records: [Record]
    }

    private func oracle(seed: Int, count: Int) throws -> [Case] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestSupport.fixture("csv/differential.py").path, String(seed), String(count)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "python3 differential.py")
        return try JSONDecoder().decode([Case].self, from: data)
    }

    /// Ferry's records, in the oracle's terms, up to its first rejected one.
    private func ferry(_ bytes: [UInt8], bufferSize: Int) -> [String] {
        let reader = CSVReader(source: MemorySource(bytes), delimiter: UInt8(ascii: ","), bufferSize: bufferSize)
        var out: [String] = []
        while true {
            do {
                guard let row = try reader.next() else { return out }
                if row.fields.count == 1, row.fields[0].utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                out.append("\(row.line): \(row.fields)")
            } catch let ExtractError.badRecord(line, _, _) {
                out.append("\(line): rejected")
                return out
            } catch {
                out.append("\(error)")
                return out
            }
        }
    }

    func testRecordsMatchPythonsCSVModuleOnHostileInput() throws {
        let rounds = TestSupport.faultRounds(reduced: 2, full: 10)
        var compared = 0, rejected = 0
        for seed in 1...rounds {
            for (i, c) in try oracle(seed: seed, count: 1500).enumerated() {
                guard let data = Data(base64Encoded: c.doc) else { return XCTFail("seed \(seed) case \(i): bad base64") }
                let bytes = [UInt8](data)
                let expected = c.records.map { r in r.error == true ? "\(r.line): rejected" : "\(r.line): \(r.fields ?? [])" }
                let actual = ferry(bytes, bufferSize: 1 << 16)
                XCTAssertEqual(actual, expected, "seed \(seed) case \(i): \(c.doc)")
                XCTAssertEqual(ferry(bytes, bufferSize: 1), actual, "seed \(seed) case \(i), one-byte buffers: \(c.doc)")
                if actual != expected { return }
                compared += 1
                if expected.last?.hasSuffix("rejected") == true { rejected += 1 }
            }
        }
        print("csv differential: \(compared) documents compared, \(rejected) ending in a rejected record")
        XCTAssertGreaterThan(rejected, compared / 10, "the generator makes bad records too")
        XCTAssertLessThan(rejected, compared * 9 / 10, "and good ones")
    }
}
