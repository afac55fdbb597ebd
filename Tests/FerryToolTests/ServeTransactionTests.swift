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

    /// The first share's log write fails inside ferry-serve: the transaction's intent is
    /// on disk, so every one of its tables stops taking writes (a write let through would
    /// be undone when the intent is recovered); after a restart both shares are in.
    func testAFailedShareStopsEveryTableOfItsTransactionUntilTheRestartCompletesIt() throws {
        let setup = """
        set -e
        . fixtures/serve/server.sh
        for t in Alpha Beta; do
          ferry-table create-table --table-name $t --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
          ferry-table put-item --table-name $t --item '{"id":{"S":"acct"},"bal":{"N":"100"}}'
        done
        """
        let r = try sh(setup + """

        cp -a data clean
        # The clean run lists the server's mutating calls: the first write after the
        # intent's rename and directory sync is the first share's log record.
        FERRY_TEST_FAULT=count=$PWD/calls start_server
        timeout 60 python3 fixtures/serve/failed-share.py > /dev/null
        stop_server
        n=$(grep -v '^#' calls | grep -n '' | awk -F: '/rename .*[.]txn/ { r = $1 } r && $1 > r + 1 && / write / { print $1; exit } r && $1 > r + 1 && /^[0-9]+:write/ { print $1; exit }')
        rm -rf data && cp -a clean data
        FERRY_TEST_FAULT="EIO@$n" start_server
        timeout 60 python3 fixtures/serve/failed-share.py
        stop_server || true
        for t in Alpha Beta; do ferry-table get-item --table-name $t --key '{"id":{"S":"acct"}}' | tr -d ' \n'; echo; done
        ls data/transactions | grep -c '[.]txn$' || true
        """, env: callerEnvironment(workspace))
        XCTAssertEqual(r.stdout, """
        tx InternalServerError
        put InternalServerError
        {"Item":{"id":{"S":"acct"},"bal":{"N":"90"}}}
        {"Item":{"id":{"S":"acct"},"bal":{"N":"110"}}}
        0

        """, r.stderr)
    }
}
