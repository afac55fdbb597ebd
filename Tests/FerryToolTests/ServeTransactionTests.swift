import FerryTestSupport
import Foundation
import XCTest

/// Transactions through ferry-serve with boto3 (docs/transactions.md): DynamoDB's shapes
/// and errors as a client reads them, and all or nothing across a kill -9.
final class ServeTransactionTests: ToolTestCase {
    func testBoto3TransactionsCommitCancelWithReasonsAndHonourTokens() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/transactions.py walkthrough")
        XCTAssertEqual(r.stdout, """
        get [{'id': {'S': 'acct0'}, 'balance': {'N': '70'}}, {'balance': {'N': '130'}}, {'amount': {'N': '30'}}, None]
        cancelled TransactionCanceledException Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None]
        reasons [{'Item': {'id': {'S': 'acct0'}, 'balance': {'N': '70'}}, 'Code': 'ConditionalCheckFailed', 'Message': 'The conditional request failed'}, {'Code': 'None'}, {'Code': 'None'}]
        token IdempotentParameterMismatchException Request parameters do not match the previous request with this client request token.
        duplicate ValidationException Transaction request cannot include multiple operations on one item
        missing table ResourceNotFoundException Requested resource not found
        bonus 7
        ledger 1

        """, r.stderr)
    }

    func testKillNineDuringTransfersLeavesNoTransactionHalfApplied() throws {
        let r = try sh("""
        set -e
        . fixtures/serve/server.sh
        start_server
        timeout 60 python3 fixtures/serve/transactions.py create
        timeout 60 python3 fixtures/serve/transactions.py transfers & load=$!
        sleep 3
        kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        wait $load || true
        start_server
        timeout 60 python3 fixtures/serve/transactions.py check
        stop_server
        ferry-table verify --table-name Ledger
        """, env: callerEnvironment(workspace))
        XCTAssertTrue(r.stdout.hasPrefix("""
        total 1000
        acknowledged many missing 0
        balances match the ledger True
        ledger count exact True

        """), r.stdout + r.stderr)
    }
}
