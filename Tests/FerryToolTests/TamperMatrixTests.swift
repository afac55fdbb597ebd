import FerryTestSupport
import Foundation
import XCTest

/// Every field of every Ferry file or stream a person or a disk can change, edited one at
/// a time: refused with a message naming it, or provably harmless. The edits and the
/// judging are fixtures/tamper/matrix.py (Python, independent of Ferry's code); `make test`
/// tries every third edit, `make test-faults` all of them.
final class TamperMatrixTests: XCTestCase {
    private func matrix(_ format: String) throws {
        let workspace = try ToolWorkspace()
        let sample = TestSupport.faultRounds(reduced: 3, full: 1)
        let r = try workspace.bash("python3 fixtures/tamper/matrix.py \(format) tamper --sample \(sample)")
        print(r.stdout.split(separator: "\n").last ?? "")
        XCTAssertEqual(r.status, 0, "\(format):\n\(r.stdout)\(r.stderr)")
        XCTAssertTrue(r.stdout.contains("tampering matrix: \(format): "), r.stdout)
    }

    func testEveryBackupHeaderAndTrailerFieldIsRefusedByNameOrRestoredAsWritten() throws { try matrix("backup") }
    func testEveryCheckpointFieldIsRefusedOrEndsExactlyOnce() throws { try matrix("checkpoint") }
    func testEveryExportManifestFieldIsRefusedByNameOrReadsTheSameItems() throws { try matrix("manifest") }
    func testEverySidecarFieldIsRecomputedFromTheContent() throws { try matrix("sidecar") }
}
