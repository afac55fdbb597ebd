import FerryExpressions
import FerryValues
import Foundation
import XCTest

/// Expressions are bounded before they are parsed deeper: DynamoDB's 4 KB in strict mode,
/// and in both modes 256 levels of nesting and 4096 terms in a chain, so no input can
/// overflow the stack (16k nested parentheses used to kill every tool with SIGSEGV).
final class ExpressionLimitTests: XCTestCase {
    private let strict = ExpressionContext(values: [":v": .n(DynamoNumber(1))])
    private var etl: ExpressionContext { ExpressionContext(mode: .etl) }

    func testStrictExpressionsOver4KBAreRefusedWithDynamoDBsMessage() throws {
        let fits = "a = :v" + String(repeating: " ", count: 4096 - 6)
        XCTAssertEqual(fits.utf8.count, 4096)
        XCTAssertNoThrow(try ConditionExpression(fits, context: strict))
        XCTAssertThrowsError(try ConditionExpression(fits + " ", context: strict, kind: .filter)) {
            XCTAssertEqual("\($0)", "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4097")
        }
        XCTAssertThrowsError(try UpdateExpression("SET a = :v" + String(repeating: " ", count: 5000), context: strict)) {
            XCTAssertTrue("\($0)".hasPrefix("Invalid UpdateExpression: Expression size has exceeded the maximum allowed size"), "\($0)")
        }
    }

    func testDeepNestingIsRefusedBeforeItOverflowsTheStack() {
        let deep = String(repeating: "(", count: 16_000) + "a = 1" + String(repeating: ")", count: 16_000)
        XCTAssertThrowsError(try ConditionExpression(deep, context: etl)) {
            XCTAssertEqual("\($0)", "Invalid ConditionExpression: The expression is nested more than 256 levels deep (parentheses, NOT, function arguments)")
        }
        XCTAssertThrowsError(try ConditionExpression(deep.replacingOccurrences(of: "a = 1", with: "a = :v"), context: strict)) {
            XCTAssertTrue("\($0)".contains("Expression size has exceeded"), "\($0)")
        }
        let nots = String(repeating: "NOT ", count: 5000) + "a = 1"
        XCTAssertThrowsError(try ConditionExpression(nots, context: etl))
        let chain = Array(repeating: "a = 1", count: 5000).joined(separator: " AND ")
        XCTAssertThrowsError(try ConditionExpression(chain, context: etl)) {
            XCTAssertEqual("\($0)", "Invalid ConditionExpression: The expression has more than 4096 terms joined by AND, OR, + or -")
        }
        let sum = "a = " + Array(repeating: "1", count: 5000).joined(separator: " + ")
        XCTAssertThrowsError(try ConditionExpression(sum, context: etl))
        let lists = "a = " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        XCTAssertThrowsError(try ConditionExpression(lists, context: etl))
    }

    /// The deepest expressions allowed parse and evaluate well within the 8 MiB Ferry's
    /// threads have: 256 nested levels on 4 MiB (a debug build needs about 2; release far
    /// less), a chain of 4096 terms on 1 MiB.
    func testTheDeepestAllowedExpressionsEvaluateWithinTheirStack() throws {
        let nested = String(repeating: "(", count: 256) + "a = :v" + String(repeating: ")", count: 256)
        let boto3Style = (1..<250).reduce("a = :v") { text, _ in "(\(text) AND a = :v)" }
        let flat = Array(repeating: "a = :v", count: 4096).joined(separator: " AND ")
        XCTAssertEqual(try evaluate(nested, stack: 8 << 20), "true")
        XCTAssertEqual(try evaluate(boto3Style, stack: 8 << 20), "true")
        XCTAssertEqual(try evaluate(flat, stack: 8 << 20), "true")
    }

    private func evaluate(_ text: String, stack: Int) throws -> String {
        let item = Item([("a", .n(DynamoNumber(1)))])
        let values = strict.values
        let result = Mutex<String>("")
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                let condition = try ConditionExpression(text, context: ExpressionContext(values: values, mode: .etl))
                let matched = try condition.evaluate(item)
                result.withLock { $0 = "\(matched)" }
            } catch {
                result.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        thread.stackSize = stack
        thread.start()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        return result.withLock { $0 }
    }
}

import Synchronization
