import FerryTestSupport
import Foundation
import XCTest

/// ferry-transform's steps (--where, --set, --remove, --rename, --project) as a user
/// runs them: in command-line order, in ETL mode, failures rejected with their position.
final class FerryTransformStepTests: XCTestCase {
    private let input = """
    {"id":"1","age":30,"email":"Ann@Example.COM","note":"x","status":"ok"}
    {"ferry:barrier":{"seq":1}}
    {"id":"2","age":12,"email":"b@example.com"}
    {"id":"3","age":"forty","email":"c@example.com"}
    {"id":"4","age":41,"email":"d@example.com","status":"new"}

    """

    private func transform(_ args: String...) throws -> TestSupport.Result {
        try TestSupport.run("ferry-transform", ["--plain", "--threads", "2"] + args, stdin: Array(input.utf8))
    }

    func testStepsRunInCommandLineOrderAndControlLinesPassInPlace() throws {
        let r = try transform("--where", "age >= :adult", "--values", #"{":adult": 18}"#,
                              "--rename", "status=state", "--set", "email = lower(email), state = coalesce(state, \"unknown\")",
                              "--remove", "note")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
            {"id":"1","age":30,"email":"ann@example.com","state":"ok"}
            {"ferry:barrier":{"seq":1}}
            {"id":"4","age":41,"email":"d@example.com","state":"new"}

            """)
        // The other order: --set runs before --rename, so the new attribute is renamed too.
        let other = try transform("--set", "status = \"x\"", "--rename", "status=state", "--project", "id, state")
        XCTAssertEqual(other.stdout.split(separator: "\n").first, #"{"id":"1","state":"x"}"#)
    }

    func testAnItemAStepFailsOnIsRejectedWithItsLineAndTheRestGoOn() throws {
        let rejects = try TestSupport.temporaryFolder().appendingPathComponent("rejects.jsonl")
        let r = try transform("--set", "years = to_number(age)", "--project", "id, years", "--rejects", rejects.path)
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout, """
            {"id":"1","years":30}
            {"ferry:barrier":{"seq":1}}
            {"id":"2","years":12}
            {"id":"4","years":41}

            """)
        let rejected = try String(contentsOf: rejects, encoding: .utf8)
        XCTAssertTrue(rejected.contains(#""line":4"#), rejected)
        XCTAssertTrue(rejected.contains(#"to_number: \"forty\" is not a number"#), rejected)
        XCTAssertEqual(r.stderr, "ferry-transform: 1 record(s) rejected\n")
    }

    func testABadStepIsAUsageErrorNamingTheOption() throws {
        let r = try transform("--where", "age >")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("ferry-transform: error: --where 'age >': Invalid ConditionExpression: Syntax error;"), r.stderr)
        let rename = try transform("--rename", "nothing")
        XCTAssertEqual(rename.status, 2)
        XCTAssertTrue(rename.stderr.hasPrefix("ferry-transform: error: --rename 'nothing': expected old=new\n"), rename.stderr)
        let values = try transform("--values", "[1]", "--where", "age > :a")
        XCTAssertEqual(values.status, 2)
        XCTAssertTrue(values.stderr.hasPrefix("ferry-transform: error: --values '[1]': expected a JSON object"), values.stderr)
    }

    func testReservedWordsAreNamesAndNamesPlaceholdersWork() throws {
        let r = try transform("--where", "#s = :ok AND status = :ok", "--names", ##"{"#s":"status"}"##, "--values", #"{":ok":"ok"}"#, "--project", "id")
        XCTAssertEqual(r.stdout, "{\"id\":\"1\"}\n{\"ferry:barrier\":{\"seq\":1}}\n", r.stderr)
    }
}
