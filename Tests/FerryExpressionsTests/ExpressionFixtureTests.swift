import FerryExpressions
import FerryTestSupport
import FerryValues
import Foundation
import XCTest

/// Runs the fixture files in fixtures/expressions: each block names an expression, its
/// placeholders and an item, and the expected result or exact error.
final class ExpressionFixtureTests: XCTestCase {
    struct Case {
        var line = 0
        var fields: [String: String] = [:]
    }

    static func cases(_ file: String) throws -> [Case] {
        let text = try String(contentsOf: TestSupport.fixture("expressions/" + file), encoding: .utf8)
        var out: [Case] = []
        var current = Case()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("#") { continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.fields.isEmpty { out.append(current) }
                current = Case()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            if current.fields.isEmpty { current.line = n + 1 }
            current.fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if !current.fields.isEmpty { out.append(current) }
        return out
    }

    static func typedMap(_ text: String?) throws -> AttributeMap {
        guard let text, !text.isEmpty else { return AttributeMap() }
        return try ItemDecoder(spelling: .typed).decodeItem(text)
    }

    static func context(_ c: Case) throws -> ExpressionContext {
        var names: [String: String] = [:]
        if let text = c.fields["names"], case let .object(members) = try JSONValue.parse(text) {
            for m in members { names[m.key] = m.value.stringValue }
        }
        var values: [String: AttributeValue] = [:]
        for (name, value) in try typedMap(c.fields["values"]).entries { values[name] = value }
        return ExpressionContext(names: names, values: values, mode: c.fields["mode"] == "etl" ? .etl : .strict)
    }

    /// Runs every case of `file`: `evaluate` returns "result: ..." or throws, and the
    /// outcome must match the case's `result:` (as `expectedResult` renders it) or `error:`.
    private func run(_ file: String, expression key: String, atLeast minimum: Int,
                     expectedResult: (String) -> String, evaluate: (Case) throws -> String) throws {
        let all = try Self.cases(file)
        XCTAssertGreaterThan(all.count, minimum)
        for c in all {
            var got: String
            do { got = try evaluate(c) } catch { got = "error: \(error)" }
            let expected = c.fields["result"].map(expectedResult) ?? "error: \(c.fields["error"] ?? "?")"
            XCTAssertEqual(got, expected, "\(file):\(c.line): \(c.fields[key] ?? "")")
        }
    }

    func testConditionFixtures() throws {
        try run("conditions.txt", expression: "condition", atLeast: 40, expectedResult: { "result: \($0)" }) { c in
            let expression = try ConditionExpression(c.fields["condition"] ?? "", context: try Self.context(c))
            return "result: \(try expression.evaluate(try Self.typedMap(c.fields["item"])))"
        }
    }

    func testUpdateFixtures() throws {
        try run("updates.txt", expression: "update", atLeast: 25, expectedResult: { _ in "result: ok" }) { c in
            let expression = try UpdateExpression(c.fields["update"] ?? "", context: try Self.context(c))
            let updated = try expression.apply(to: try Self.typedMap(c.fields["item"]))
            return updated == (try Self.typedMap(c.fields["result"] ?? "{}")) ? "result: ok" : "result: \(updated)"
        }
    }
}
