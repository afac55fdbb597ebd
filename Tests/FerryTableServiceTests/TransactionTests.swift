import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// TransactWriteItems and TransactGetItems over the service (docs/transactions.md), as a
/// command line runs them (`.perRequest`) and as ferry-serve does (`.held`), with
/// DynamoDB's answers: cancellation reasons in action order, its validation texts, the
/// idempotency token; and the intent's recovery when a process dies part way.
final class TransactionTests: XCTestCase, ServiceTestCase {
    private var folder: String!
    var service: DynamoDBService!

    override func setUpWithError() throws {
        folder = try TestSupport.temporaryFolder().path
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        for name in ["Accounts", "Ledger"] {
            try call("CreateTable", """
            {"TableName":"\(name)","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"kind","AttributeType":"S"}],
             "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
             "GlobalSecondaryIndexes":[{"IndexName":"byKind","KeySchema":[{"AttributeName":"kind","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}
            """)
        }
        try call("PutItem", #"{"TableName":"Accounts","Item":{"id":{"S":"a"},"balance":{"N":"100"},"kind":{"S":"acct"}}}"#)
        try call("PutItem", #"{"TableName":"Accounts","Item":{"id":{"S":"b"},"balance":{"N":"0"},"kind":{"S":"acct"}}}"#)
    }

    override func tearDown() { _ = service?.close() }

    @discardableResult
    private func call(_ operation: String, _ json: String, on other: DynamoDBService) throws -> JSONValue {
        try other.call(operation, try JSONValue.parse(json))
    }


    /// The CancellationReasons of a refused transaction, as JSON text.
    private func reasons(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> (message: String, reasons: String) {
        do {
            try call("TransactWriteItems", json)
            XCTFail("the transaction committed", file: file, line: line)
        } catch let e as DynamoDBError {
            XCTAssertEqual(e.kind, .transactionCanceled, "\(e)", file: file, line: line)
            return (e.message, e.details.first { $0.key == "CancellationReasons" }?.value.jsonText ?? "")
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return ("", "")
    }

    private func balance(_ id: String) throws -> String {
        try call("GetItem", #"{"TableName":"Accounts","Key":{"id":{"S":"\#(id)"}}}"#)["Item"]?["balance"]?["N"]?.stringValue ?? "absent"
    }

    private func itemCount(_ table: String) throws -> (table: String, index: String) {
        let t = try call("DescribeTable", #"{"TableName":"\#(table)"}"#)["Table"]
        return (t?["ItemCount"]?.numberText ?? "?", t?["GlobalSecondaryIndexes"]?.arrayValue?.first?["ItemCount"]?.numberText ?? "?")
    }

    private static func transfer(_ amount: Int, id: String = "t1") -> String {
        """
        {"TransactItems":[
          {"Update":{"TableName":"Accounts","Key":{"id":{"S":"a"}},"UpdateExpression":"SET balance = balance - :amt",
                     "ConditionExpression":"balance >= :amt","ExpressionAttributeValues":{":amt":{"N":"\(amount)"}},
                     "ReturnValuesOnConditionCheckFailure":"ALL_OLD"}},
          {"Update":{"TableName":"Accounts","Key":{"id":{"S":"b"}},"UpdateExpression":"SET balance = balance + :amt",
                     "ExpressionAttributeValues":{":amt":{"N":"\(amount)"}}}},
          {"Put":{"TableName":"Ledger","Item":{"id":{"S":"\(id)"},"amount":{"N":"\(amount)"},"kind":{"S":"transfer"}},
                  "ConditionExpression":"attribute_not_exists(id)"}}]}
        """
    }

    func testATransactionAcrossTablesCommitsEveryActionWithIndexesAndCounts() throws {
        XCTAssertEqual(try call("TransactWriteItems", Self.transfer(30)).jsonText, "{}")
        XCTAssertEqual(try balance("a"), "70")
        XCTAssertEqual(try balance("b"), "30")
        let ledger = try call("Query", #"{"TableName":"Ledger","IndexName":"byKind","KeyConditionExpression":"kind = :k","ExpressionAttributeValues":{":k":{"S":"transfer"}}}"#)
        XCTAssertEqual(ledger["Count"]?.numberText, "1")
        XCTAssertTrue(try itemCount("Ledger") == ("1", "1"))
        XCTAssertTrue(try itemCount("Accounts") == ("2", "2"))
        // The intent is gone once every share is in.
        let intents = try FileManager.default.contentsOfDirectory(atPath: folder + "/transactions").filter { $0.hasSuffix(".txn") }
        XCTAssertEqual(intents, [])
    }

    func testAFailedConditionCancelsEveryActionWithReasonsInActionOrder() throws {
        let (message, reasons) = reasons(Self.transfer(500))
        XCTAssertEqual(message, "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None]")
        XCTAssertEqual(reasons, #"[{"Code":"ConditionalCheckFailed","Item":{"id":{"S":"a"},"balance":{"N":"100"},"kind":{"S":"acct"}},"Message":"The conditional request failed"},{"Code":"None"},{"Code":"None"}]"#)
        XCTAssertEqual(try balance("a"), "100")
        XCTAssertEqual(try balance("b"), "0")
        XCTAssertTrue(try itemCount("Ledger") == ("0", "0"))
        // Every failed condition is reported, not only the first.
        try call("TransactWriteItems", Self.transfer(10))
        let again = self.reasons(Self.transfer(500))
        XCTAssertEqual(again.message, "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, ConditionalCheckFailed]")
    }

    func testAKeyOfTheWrongTypeCancelsWithAValidationErrorAndLaterActionsNone() throws {
        let (message, reasons) = reasons("""
        {"TransactItems":[
          {"Put":{"TableName":"Ledger","Item":{"id":{"S":"x"}}}},
          {"Delete":{"TableName":"Accounts","Key":{"id":{"N":"1"}}}},
          {"ConditionCheck":{"TableName":"Accounts","Key":{"id":{"S":"zz"}},"ConditionExpression":"attribute_exists(id)"}}]}
        """)
        XCTAssertEqual(message, "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError, None]")
        XCTAssertEqual(reasons, #"[{"Code":"None"},{"Code":"ValidationError","Message":"The provided key element does not match the schema"},{"Code":"None"}]"#)
        XCTAssertTrue(try itemCount("Ledger") == ("0", "0"))
    }

    func testTransactionRequestsAreCheckedWithDynamoDBsMessages() throws {
        let put = #"{"Put":{"TableName":"Ledger","Item":{"id":{"S":"x"}}}}"#
        refused("TransactWriteItems", "{}", .validation,
                "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null")
        refused("TransactWriteItems", #"{"TransactItems":[]}"#, .validation,
                "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
        let many = (0..<101).map { #"{"Put":{"TableName":"Ledger","Item":{"id":{"S":"x\#($0)"}}}}"# }.joined(separator: ",")
        refused("TransactWriteItems", #"{"TransactItems":[\#(many)]}"#, .validation,
                "1 validation error detected: Value at 'TransactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
        refused("TransactWriteItems", #"{"TransactItems":[\#(put),\#(put)]}"#, .validation,
                "Transaction request cannot include multiple operations on one item")
        refused("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Nope","Item":{"id":{"S":"x"}}}}]}"#, .resourceNotFound,
                "Requested resource not found")
        refused("TransactWriteItems", #"{"TransactItems":[{}]}"#, .validation,
                "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request")
        refused("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Ledger","Item":{"id":{"S":"x"}}},"Delete":{"TableName":"Ledger","Key":{"id":{"S":"x"}}}}]}"#, .validation,
                "TransactItems can only contain one of Check, Put, Update or Delete")
        refused("TransactWriteItems", #"{"TransactItems":[{"ConditionCheck":{"TableName":"Ledger","Key":{"id":{"S":"x"}}}}]}"#, .validation,
                "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
        refused("TransactWriteItems", #"{"TransactItems":[\#(put)],"ClientRequestToken":"\#(String(repeating: "t", count: 37))"}"#, .validation,
                "1 validation error detected: Value '\(String(repeating: "t", count: 37))' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36")
        refused("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Ledger","Item":{"id":{"S":"x"}},"ReturnValuesOnConditionCheckFailure":"ALL_NEW"}}]}"#, .validation,
                "1 validation error detected: Value 'ALL_NEW' at 'transactItems.1.member.put.returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]")
        refused("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Ledger","Item":{"id":{"S":"x"}},"ExpressionAttributeValues":{":v":{"S":"1"}}}}]}"#, .validation,
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}")
        refused("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Ledger","Item":{"id":{"S":""}}}}]}"#, .validation,
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id")
        refused("TransactWriteItems", #"{"TransactItems":[{"Put":{"TableName":"Ledger","Item":{"id":{"S":"x"}},"Expected":{}}}]}"#, .validation,
                "Unknown request member Expected for a transaction's Put (Ferry refuses members DynamoDB's API does not define)")
        let big = String(repeating: "x", count: 350_000)
        let bigPuts = (0..<13).map { #"{"Put":{"TableName":"Ledger","Item":{"id":{"S":"b\#($0)"},"blob":{"S":"\#(big)"}}}}"# }.joined(separator: ",")
        XCTAssertThrowsError(try call("TransactWriteItems", #"{"TransactItems":[\#(bigPuts)]}"#)) { error in
            XCTAssertTrue((error as? DynamoDBError)?.message.hasPrefix("Transaction request size cannot exceed 4 MB") ?? false, "\(error)")
        }
        XCTAssertTrue(try itemCount("Ledger") == ("0", "0"))
    }

    func testARepeatedClientRequestTokenAppliesOnceAndAnotherRequestWithItIsRefused() throws {
        let request = Self.transfer(10).dropLast() + #","ClientRequestToken":"tok-1"}"#
        try call("TransactWriteItems", String(request))
        // The ledger put's condition would now fail: a repeat is answered without re-running.
        XCTAssertEqual(try call("TransactWriteItems", String(request)).jsonText, "{}")
        XCTAssertEqual(try balance("a"), "90")
        let other = Self.transfer(20).dropLast() + #","ClientRequestToken":"tok-1"}"#
        refused("TransactWriteItems", String(other), .idempotentParameterMismatch,
                "Request parameters do not match the previous request with this client request token.")
        // Remembered on disk, by a process that did not make it, until it expires.
        let another = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        XCTAssertEqual(try call("TransactWriteItems", String(request), on: another).jsonText, "{}")
        XCTAssertEqual(try balance("a"), "90")
        setenv("FERRY_TEST_NOW", String(Int(Date().timeIntervalSince1970) + 601), 1)
        defer { unsetenv("FERRY_TEST_NOW") }
        XCTAssertEqual(self.reasons(String(request)).message,
                       "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, ConditionalCheckFailed]")
    }

    func testTransactGetItemsReadsEveryTableAsOfOneMoment() throws {
        try call("TransactWriteItems", Self.transfer(25))
        let got = try call("TransactGetItems", """
        {"TransactItems":[{"Get":{"TableName":"Accounts","Key":{"id":{"S":"a"}},"ProjectionExpression":"balance"}},
                          {"Get":{"TableName":"Ledger","Key":{"id":{"S":"t1"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"amount"}}},
                          {"Get":{"TableName":"Ledger","Key":{"id":{"S":"none"}}}},
                          {"Get":{"TableName":"Accounts","Key":{"id":{"S":"b"}},"ProjectionExpression":"nothing"}}]}
        """)
        XCTAssertEqual(got.jsonText, #"{"Responses":[{"Item":{"balance":{"N":"75"}}},{"Item":{"amount":{"N":"25"}}},{},{}]}"#)
        XCTAssertThrowsError(try call("TransactGetItems", #"{"TransactItems":[{"Get":{"TableName":"Accounts","Key":{"id":{"N":"1"}}}}]}"#)) { error in
            XCTAssertEqual((error as? DynamoDBError)?.kind, .transactionCanceled)
            XCTAssertEqual((error as? DynamoDBError)?.details.first?.value.jsonText,
                           #"[{"Code":"ValidationError","Message":"The provided key element does not match the schema"}]"#)
        }
        refused("TransactGetItems", #"{"TransactItems":[{"Get":{"TableName":"Accounts","Key":{"id":{"S":"a"}}}},{"Get":{"TableName":"Accounts","Key":{"id":{"S":"a"}}}}]}"#, .validation,
                "Transaction request cannot include multiple operations on one item")
    }

    func testAFailedConditionOfASingleWriteCarriesTheItemWhenAsked() throws {
        let request = #"{"TableName":"Accounts","Key":{"id":{"S":"a"}},"ConditionExpression":"balance > :m","ExpressionAttributeValues":{":m":{"N":"500"}}"#
        XCTAssertThrowsError(try call("DeleteItem", request + #","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}"#)) { error in
            XCTAssertEqual((error as? DynamoDBError)?.kind, .conditionalCheckFailed)
            XCTAssertEqual((error as? DynamoDBError)?.details.first?.value.jsonText, #"{"id":{"S":"a"},"balance":{"N":"100"},"kind":{"S":"acct"}}"#)
        }
        XCTAssertThrowsError(try call("DeleteItem", request + "}")) { error in
            XCTAssertEqual((error as? DynamoDBError)?.details.count, 0)
        }
        refused("PutItem", #"{"TableName":"Accounts","Item":{"id":{"S":"a"}},"ReturnValuesOnConditionCheckFailure":"ALL_NEW"}"#, .validation,
                "1 validation error detected: Value 'ALL_NEW' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]")
    }

    func testARemoveOnlyUpdateOfAMissingItemWritesNothing() throws {
        try call("UpdateItem", #"{"TableName":"Ledger","Key":{"id":{"S":"ghost"}},"UpdateExpression":"REMOVE amount"}"#)
        try call("TransactWriteItems", #"{"TransactItems":[{"Update":{"TableName":"Ledger","Key":{"id":{"S":"ghost2"}},"UpdateExpression":"REMOVE amount"}}]}"#)
        XCTAssertTrue(try itemCount("Ledger") == ("0", "0"))
        // SET still creates it, as DynamoDB does.
        try call("UpdateItem", #"{"TableName":"Ledger","Key":{"id":{"S":"ghost"}},"UpdateExpression":"SET amount = :a REMOVE extra","ExpressionAttributeValues":{":a":{"N":"1"}}}"#)
        XCTAssertEqual(try itemCount("Ledger").table, "1")
    }

    /// Four threads move money between the same two accounts and a ledger as ferry-serve
    /// runs them: transactions on the same items run one after the other, so none is
    /// lost and the total never changes.
    func testConcurrentConflictingTransactionsKeepTotalsExact() throws {
        _ = service.close()
        let held = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-serve at http://127.0.0.1:1", access: .held)
        service = held
        let threads = 4, rounds = 40
        let failures = Mutexed<[String]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<rounds {
                let (from, to) = i % 2 == 0 ? ("a", "b") : ("b", "a")
                let request = """
                {"TransactItems":[
                  {"Update":{"TableName":"Accounts","Key":{"id":{"S":"\(from)"}},"UpdateExpression":"ADD balance :minus","ExpressionAttributeValues":{":minus":{"N":"-1"}}}},
                  {"Update":{"TableName":"Accounts","Key":{"id":{"S":"\(to)"}},"UpdateExpression":"ADD balance :one","ExpressionAttributeValues":{":one":{"N":"1"}}}},
                  {"Update":{"TableName":"Ledger","Key":{"id":{"S":"count"}},"UpdateExpression":"ADD moves :one","ExpressionAttributeValues":{":one":{"N":"1"}}}},
                  {"Put":{"TableName":"Ledger","Item":{"id":{"S":"m\(t)-\(i)"},"kind":{"S":"move"}}}}]}
                """
                do { _ = try held.call("TransactWriteItems", try JSONValue.parse(request)) } catch { failures.mutate { $0.append("\(error)") } }
            }
        }
        XCTAssertEqual(failures.value, [])
        let a = Int(try balance("a")) ?? -1, b = Int(try balance("b")) ?? -1
        XCTAssertEqual(a + b, 100)
        XCTAssertEqual(a, 100)   // each thread's moves cancel out over an even number of rounds
        let moves = try call("GetItem", #"{"TableName":"Ledger","Key":{"id":{"S":"count"}}}"#)["Item"]?["moves"]?["N"]?.stringValue
        XCTAssertEqual(moves, String(threads * rounds))
        XCTAssertTrue(try itemCount("Ledger") == (String(threads * rounds + 1), String(threads * rounds)))
    }

    /// An intent left by a process that died after committing one table's share: the
    /// next catalog to open finishes it, exactly once, whichever shares were in.
    func testAnIntentLeftByADeadProcessIsFinishedWhenTheDataFolderIsNextOpened() throws {
        _ = service.close()
        let data = URL(fileURLWithPath: folder)
        let ids = try ["Accounts", "Ledger"].map { try TableCatalog(dataFolder: folder).description(of: $0).tableId }
        let script = TestSupport.fixture("transactions/write-intent.py").path
        let made = try TestSupport.bash("python3 \(script) \(folder!)/transactions dead Accounts \(ids[0]) Ledger \(ids[1])",
                                        environment: ProcessInfo.processInfo.environment, in: data)
        XCTAssertEqual(made.status, 0, made.stderr)
        // While another process holds Ledger, opening the folder applies Accounts' share
        // alone and keeps the intent for Ledger.
        let ledgerLock = try TableLock(table: "Ledger", folder: folder + "/tables/Ledger", program: "another")
        _ = try TableCatalog(dataFolder: folder)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/transactions").filter { $0.hasSuffix(".txn") }.count, 1)
        ledgerLock.release()
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        XCTAssertEqual(try balance("a"), "100")
        let item = try call("GetItem", #"{"TableName":"Ledger","Key":{"id":{"S":"from-intent"}}}"#)
        XCTAssertEqual(item["Item"]?["note"]?["S"]?.stringValue, "written by write-intent.py")
        XCTAssertTrue(try itemCount("Ledger") == ("1", "0"))
        XCTAssertEqual(try call("GetItem", #"{"TableName":"Accounts","Key":{"id":{"S":"from-intent"}}}"#)["Item"]?["id"]?["S"]?.stringValue, "from-intent")
        XCTAssertEqual(try itemCount("Accounts").table, "3")
        let intents = try FileManager.default.contentsOfDirectory(atPath: folder + "/transactions").filter { $0.hasSuffix(".txn") }
        XCTAssertEqual(intents, [])
        // Opening again applies nothing twice.
        service = DynamoDBService(catalog: try TableCatalog(dataFolder: folder), program: "ferry-table")
        XCTAssertEqual(try itemCount("Accounts").table, "3")
    }
}
