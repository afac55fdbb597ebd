import FerryExpressions
import FerryValues
import XCTest

final class ProjectionAndKeyConditionTests: XCTestCase {
    private func item(_ json: String) throws -> Item { try ItemDecoder(spelling: .typed).decodeItem(json) }
    private func error(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testProjectionKeepsOnlyTheNamedPartsNested() throws {
        let source = try item(#"{"Id":{"N":"1"},"Title":{"S":"t"},"Pictures":{"M":{"Front":{"S":"f"},"Side":{"S":"s"}}},"Related":{"L":[{"S":"a"},{"S":"b"},{"S":"c"}]},"Secret":{"S":"x"}}"#)
        let projection = try ProjectionExpression("Id, Title, #p.Front, Related[2], Related[0], Nope",
                                                  context: ExpressionContext(names: ["#p": "Pictures"]))
        XCTAssertEqual(projection.apply(to: source),
                       try item(#"{"Id":{"N":"1"},"Title":{"S":"t"},"Pictures":{"M":{"Front":{"S":"f"}}},"Related":{"L":[{"S":"c"},{"S":"a"}]}}"#))
        XCTAssertEqual(projection.usedNames, ["#p"])
    }

    func testProjectionErrors() {
        XCTAssertEqual(error { _ = try ProjectionExpression("a, a.b", context: ExpressionContext()) },
                       "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]")
        XCTAssertEqual(error { _ = try ProjectionExpression("Name", context: ExpressionContext()) },
                       "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Name")
        XCTAssertEqual(error { _ = try ProjectionExpression("a,", context: ExpressionContext()) },
                       "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\"")
    }

    func testKeyConditionsOnPartitionAndSortKeys() throws {
        let values: [String: AttributeValue] = [":a": .s("Acme"), ":t": .s("Happy"), ":lo": .n(DynamoNumber(1)), ":hi": .n(DynamoNumber(5))]
        let ctx = ExpressionContext(values: values)
        let begins = try KeyConditionExpression("Artist = :a AND begins_with(SongTitle, :t)", context: ctx).resolve(partition: "Artist", sort: "SongTitle")
        XCTAssertEqual(begins.value, .s("Acme"))
        XCTAssertTrue(KeyConditionExpression.sortMatches(.s("Happy Day"), begins.sort))
        XCTAssertFalse(KeyConditionExpression.sortMatches(.s("Sad Day"), begins.sort))
        let between = try KeyConditionExpression("(Released BETWEEN :lo AND :hi) AND Artist = :a", context: ctx).resolve(partition: "Artist", sort: "Released")
        XCTAssertEqual(between.value, .s("Acme"))
        XCTAssertTrue(KeyConditionExpression.sortMatches(.n(DynamoNumber(5)), between.sort))
        XCTAssertFalse(KeyConditionExpression.sortMatches(.n(DynamoNumber(6)), between.sort))
        XCTAssertFalse(KeyConditionExpression.sortMatches(.s("3"), between.sort))
        XCTAssertNil(try KeyConditionExpression("Artist = :a", context: ctx).resolve(partition: "Artist", sort: "Released").sort)
    }

    /// Either order of the two conditions, and the value on either side of a comparison,
    /// as DynamoDB accepts them; which key is the partition key is the schema's call.
    func testKeyConditionsInEitherOrderAndValueFirst() throws {
        let ctx = ExpressionContext(values: [":p": .s("x"), ":c": .s("m")])
        for text in ["p = :p AND c = :c", "c = :c AND p = :p", ":p = p AND :c = c", ":c = c AND p = :p"] {
            let r = try KeyConditionExpression(text, context: ctx).resolve(partition: "p", sort: "c")
            XCTAssertEqual(r.value, .s("x"), text)
            XCTAssertEqual(r.sort, .equal(.s("m")), text)
        }
        let flipped: [(String, KeyConditionExpression.SortCondition)] = [
            (":c < c", .greater(.s("m"))), (":c <= c", .greaterOrEqual(.s("m"))),
            (":c > c", .less(.s("m"))), (":c >= c", .lessOrEqual(.s("m"))),
        ]
        for (text, expected) in flipped {
            XCTAssertEqual(try KeyConditionExpression("p = :p AND " + text, context: ctx).resolve(partition: "p", sort: "c").sort, expected, text)
        }
        XCTAssertEqual(error { _ = try KeyConditionExpression("c = :c AND p = :p", context: ctx).resolve(partition: "p", sort: nil) },
                       "The number of query conditions (2) exceeds the number of key attributes defined in the schema (1)")
        XCTAssertEqual(error { _ = try KeyConditionExpression("c = :c AND z = :p", context: ctx).resolve(partition: "p", sort: "c") },
                       "Query condition missed key schema element: p")
        XCTAssertEqual(error { _ = try KeyConditionExpression("p = :p AND z = :c", context: ctx).resolve(partition: "p", sort: "c") },
                       "Query condition missed key schema element: c")
        XCTAssertEqual(error { _ = try KeyConditionExpression("p = :p AND c < :c", context: ctx).resolve(partition: "c", sort: "p") },
                       "Query key condition not supported")
    }

    func testKeyConditionsInParenthesesAsBoto3WritesThem() throws {
        let ctx = ExpressionContext(names: ["#n0": "Artist", "#n1": "Year"],
                                    values: [":v0": .s("Acme"), ":v1": .n(DynamoNumber(2000))])
        for text in ["(#n0 = :v0 AND #n1 < :v1)", "((#n0 = :v0)) AND (#n1 < :v1)", "(#n0 = :v0 AND (#n1 < :v1))", "(((#n0 = :v0)))"] {
            let k = try KeyConditionExpression(text, context: ctx).resolve(partition: "Artist", sort: "Year")
            XCTAssertEqual(k.value, .s("Acme"), text)
        }
        XCTAssertEqual(error { _ = try KeyConditionExpression("(#n0 = :v0 OR #n1 < :v1)", context: ctx) },
                       "Invalid operator used in KeyConditionExpression: OR")
        XCTAssertEqual(error { _ = try KeyConditionExpression("(#n0 = :v0 AND #n1 < :v1", context: ctx) },
                       "Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\", near: \":v1\"")
        XCTAssertEqual(error { _ = try KeyConditionExpression("#n0 = :v0)", context: ctx) },
                       "Invalid KeyConditionExpression: Syntax error; token: \")\", near: \":v0)\"")
    }

    func testKeyConditionErrors() {
        let ctx = ExpressionContext(values: [":a": .s("x"), ":n": .n(DynamoNumber(1))])
        XCTAssertEqual(error { _ = try KeyConditionExpression("Artist = :a OR Artist = :a", context: ctx) },
                       "Invalid operator used in KeyConditionExpression: OR")
        XCTAssertEqual(error { _ = try KeyConditionExpression("Artist <> :a", context: ctx) },
                       "Unsupported operator in KeyConditionExpression: <>")
        XCTAssertEqual(error { _ = try KeyConditionExpression("Artist = :a AND Artist = :a", context: ctx) },
                       "KeyConditionExpressions must only contain one condition per key")
        XCTAssertEqual(error { _ = try KeyConditionExpression("Artist = :a AND begins_with(Song, :n)", context: ctx) },
                       "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
        XCTAssertEqual(error { _ = try KeyConditionExpression("a.b = :a", context: ctx) },
                       "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes")
        XCTAssertEqual(error { _ = try KeyConditionExpression("Song < :a", context: ctx) }, "Query key condition not supported")
    }

    func testDocumentPathsDeeperThan32LevelsAreRefused() throws {
        let ctx = ExpressionContext(values: [":v": .n(DynamoNumber(1))])
        let ok = (1..<32).reduce("a") { path, _ in path + ".b" }
        XCTAssertNoThrow(try ProjectionExpression(ok, context: ctx))
        XCTAssertEqual(error { _ = try ProjectionExpression(ok + "[0]", context: ctx) },
                       "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33")
        XCTAssertEqual(error { _ = try ConditionExpression(ok + ".c = :v", context: ctx, kind: .filter) },
                       "Invalid FilterExpression: The document path has too many nesting levels; nesting levels: 33")
    }

    func testUnusedPlaceholdersAreReportedAcrossARequest() throws {
        let ctx = ExpressionContext(names: ["#n": "n", "#unused": "u"], values: [":v": .n(DynamoNumber(1)), ":x": .n(DynamoNumber(2)), ":y": .n(DynamoNumber(3))])
        let condition = try ConditionExpression("#n = :v", context: ctx)
        XCTAssertEqual(error { try PlaceholderUse.check(context: ctx, usedNames: condition.usedNames, usedValues: condition.usedValues) },
                       "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}")
        let update = try UpdateExpression("SET #unused = :x", context: ctx)
        XCTAssertEqual(error { try PlaceholderUse.check(context: ctx, usedNames: condition.usedNames.union(update.usedNames),
                                                        usedValues: condition.usedValues.union(update.usedValues)) },
                       "Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}")
    }
}
