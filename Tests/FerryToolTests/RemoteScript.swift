import FerryTestSupport
import Foundation
import XCTest

extension ToolTestCase {
    /// Runs `script` with the server fixtures sourced (start_server, start_moto,
    /// start_proxy; every server stopped when it ends) as a program calling an
    /// endpoint would: AWS keys in the environment, no data folder of its own.
    func remoteScript(_ script: String, expect status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try sh("""
        set -e
        . fixtures/serve/server.sh
        . fixtures/remote/moto.sh
        \(script)
        """, expect: status, env: callerEnvironment(workspace), file: file, line: line)
    }
}
