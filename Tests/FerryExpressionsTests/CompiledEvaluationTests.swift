import FerryExpressions
import FerryValues
import XCTest

final class CompiledEvaluationTests: XCTestCase {
    /// Position hints remember where a name was last found; items whose attributes come
    /// in other orders must still read and write the right attributes.
    func testItemsWithDifferentAttributeOrdersUpdateCorrectly() throws {
        let ctx = ExpressionContext(values: [":one": .n(DynamoNumber(1)), ":ten": .n(DynamoNumber(10))])
        let update = try UpdateExpression("SET a = a + :one, b = :ten", context: ctx)
        let condition = try ConditionExpression("a >= :one AND b <> :ten", context: ctx)
        let layouts: [Item] = [
            Item([("a", .n(DynamoNumber(1))), ("b", .n(DynamoNumber(2))), ("c", .s("x"))]),
            Item([("c", .s("y")), ("b", .n(DynamoNumber(3))), ("a", .n(DynamoNumber(5)))]),
            Item([("b", .n(DynamoNumber(4))), ("a", .n(DynamoNumber(7)))]),
            Item([("c", .s("z")), ("a", .n(DynamoNumber(9)))]),
        ]
        for round in 0..<3 {
            for original in layouts {
                var item = original
                XCTAssertTrue(try condition.evaluate(item), "round \(round)")
                try update.apply(updating: &item)
                XCTAssertEqual(item["a"], .n(try (original["a"].flatMap { if case let .n(n) = $0 { return n }; return nil }!).adding(DynamoNumber(1))))
                XCTAssertEqual(item["b"], .n(DynamoNumber(10)))
                XCTAssertEqual(item["c"], original["c"])
                XCTAssertEqual(item.count, original["b"] == nil ? original.count + 1 : original.count)
            }
        }
    }

    func testFailedUpdateLeavesTheItemUnchanged() throws {
        let ctx = ExpressionContext(values: [":one": .n(DynamoNumber(1)), ":s": .ss(["x"])])
        let update = try UpdateExpression("SET a = :one ADD b :s", context: ctx)
        var item = Item([("a", .n(DynamoNumber(5))), ("b", .n(DynamoNumber(2)))])
        XCTAssertThrowsError(try update.apply(updating: &item)) {
            XCTAssertEqual("\($0)", "An operand in the update expression has an incorrect data type")
        }
        XCTAssertEqual(item, Item([("a", .n(DynamoNumber(5))), ("b", .n(DynamoNumber(2)))]))
    }
}
