#if canImport(Glibc)
import Glibc
#endif
import FerryTable
import FerryTestSupport
import Foundation
import XCTest

final class TableLockTests: XCTestCase {
    func testSecondWriterIsToldWhoHoldsTheLock() throws {
        let folder = try TestSupport.temporaryFolder().path
        let first = try TableLock(table: "Music", folder: folder, program: "ferry-load")
        XCTAssertThrowsError(try TableLock(table: "Music", folder: folder, program: "ferry-table")) {
            XCTAssertEqual("\($0)", "table 'Music' is locked by pid \(getpid()) (ferry-load)")
        }
        withExtendedLifetime(first) {}
    }

    func testLockIsFreeAgainWhenTheHolderGoesAway() throws {
        let folder = try TestSupport.temporaryFolder().path
        do { _ = try TableLock(table: "T", folder: folder, program: "a") }
        XCTAssertNoThrow(try TableLock(table: "T", folder: folder, program: "b"))
    }

    func testLockHeldByAnotherProcessIsReported() throws {
        let folder = try TestSupport.temporaryFolder().path
        // flock(1) holds the lock in a child process for a while.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec flock -x '\(folder)/LOCK' sh -c 'echo \"$$ ferry-load\" > \"\(folder)/LOCK\"; sleep 2'"]
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        var message = ""
        for _ in 0..<100 {
            do {
                let lock = try TableLock(table: "Music", folder: folder, program: "test")
                withExtendedLifetime(lock) {}
                usleep(20_000)   // the child has not taken it yet
            } catch {
                message = "\(error)"
                if message.contains("(ferry-load)") { break }
                usleep(20_000)
            }
        }
        XCTAssertTrue(message.hasPrefix("table 'Music' is locked by pid "), message)
        XCTAssertTrue(message.hasSuffix(" (ferry-load)"), message)
    }
}
