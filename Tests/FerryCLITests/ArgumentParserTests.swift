import FerryCLI
import XCTest

final class ArgumentParserTests: XCTestCase {
    private let spec = CommandSpec(
        name: "ferry-demo", summary: "A command for tests.", usage: "ferry-demo [--table <name>] [<file> ...]",
        arguments: [("<file>", "Input.")],
        options: [
            OptionSpec("--table", value: "<name>", help: "Table name."),
            OptionSpec("--set", value: "<expr>", help: "Repeatable.", repeatable: true),
            OptionSpec("--plain", help: "A flag."),
            OptionSpec("--threads", value: "<n>", help: "Count."),
        ],
        examples: ["ferry-demo --table T a.jsonl"])

    private func parse(_ args: [String]) throws -> ParsedArguments { try ParsedArguments.parse(args, spec: spec) }

    private func usageError(_ args: [String]) -> String {
        do { _ = try parse(args); return "no error" } catch { return "\(error)" }
    }

    func testValuesInBothSpellings() throws {
        let a = try parse(["--table", "Music", "--threads=4", "x.json"])
        XCTAssertEqual(a.value("--table"), "Music")
        XCTAssertEqual(try a.int("--threads", default: 1), 4)
        XCTAssertEqual(a.positionals, ["x.json"])
    }

    func testRepeatedOptionsAccumulateInOrder() throws {
        XCTAssertEqual(try parse(["--set", "a = 1", "--set=b = 2"]).values("--set"), ["a = 1", "b = 2"])
    }

    func testDoubleDashEndsOptionsAndLoneDashIsAnArgument() throws {
        let a = try parse(["-", "--plain", "--", "--table", "-x"])
        XCTAssertEqual(a.positionals, ["-", "--table", "-x"])
        XCTAssertTrue(a.flag("--plain"))
    }

    func testValueMayStartWithADash() throws {
        XCTAssertEqual(try parse(["--table", "-weird"]).value("--table"), "-weird")
    }

    func testUsageErrorsSayWhatIsWrong() {
        XCTAssertEqual(usageError(["--bach-size", "3"]), "unknown option '--bach-size'")
        XCTAssertEqual(usageError(["--table"]), "missing value for '--table'")
        XCTAssertEqual(usageError(["--plain=yes"]), "option '--plain' takes no value")
        XCTAssertEqual(usageError(["--table", "a", "--table", "b"]), "option '--table' given more than once")
        XCTAssertEqual(usageError(["-x"]), "unknown option '-x'")
    }

    func testIntegerAndChoiceValidation() throws {
        XCTAssertThrowsError(try parse(["--threads", "zero"]).int("--threads", default: 1, range: 1...64)) {
            XCTAssertEqual("\($0)", "invalid value 'zero' for '--threads': expected an integer from 1 to 64")
        }
        XCTAssertThrowsError(try parse(["--table", "x"]).choice("--table", ["a", "b"], default: "a")) {
            XCTAssertEqual("\($0)", "invalid value 'x' for '--table': expected one of a, b")
        }
    }

    func testHelpListsUsageOptionsExitCodesAndExamples() {
        let help = spec.helpText
        XCTAssertTrue(help.contains("USAGE: ferry-demo [--table <name>] [<file> ...]\n"))
        XCTAssertTrue(help.contains("  --table <name>  Table name.\n"))
        XCTAssertTrue(help.contains("  --help          Show this help and exit.\n"))
        XCTAssertTrue(help.contains("  3  finished, but some records were rejected\n"))
        XCTAssertTrue(help.contains("EXAMPLES:\n  ferry-demo --table T a.jsonl\n"))
    }

    func testRunMapsErrorsToExitCodes() {
        XCTAssertEqual(CommandLineTool.run(spec, arguments: ["--nope"]) { _ in .ok }, .usage)
        XCTAssertEqual(CommandLineTool.run(spec, arguments: []) { _ in throw UsageError.missingOption("--table") }, .usage)
        struct Boom: Error {}
        XCTAssertEqual(CommandLineTool.run(spec, arguments: []) { _ in throw Boom() }, .failure)
        XCTAssertEqual(CommandLineTool.run(spec, arguments: []) { _ in .rejected }, .rejected)
    }

    func testDataFolderComesFromOptionThenEnvironmentThenDefault() {
        XCTAssertEqual(DataFolder.resolve(option: "/d", environment: ["FERRY_DATA": "/e"]), "/d")
        XCTAssertEqual(DataFolder.resolve(option: nil, environment: ["FERRY_DATA": "/e"]), "/e")
        XCTAssertEqual(DataFolder.resolve(option: nil, environment: [:]), "ferry-data")
        XCTAssertEqual(DataFolder.resolve(option: nil, environment: ["FERRY_DATA": ""]), "ferry-data")
    }

    func testProgressIsSilentUnlessForcedOrATerminal() {
        XCTAssertFalse(ProgressReporter(label: "x", forced: false, isTerminal: false).isEnabled)
        XCTAssertTrue(ProgressReporter(label: "x", forced: true, isTerminal: false).isEnabled)
        XCTAssertTrue(ProgressReporter(label: "x", forced: false, isTerminal: true).isEnabled)
        let progress = ProgressReporter(label: "load", forced: true, isTerminal: false)
        progress.add(items: 5, bytes: 2_500_000)
        XCTAssertTrue(progress.line().hasPrefix("load: 5 items, 2.5 MB, "), progress.line())
    }
}
