#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// Runs a ferry-* executable's body with the shared conventions (docs/cli.md):
/// --help and --version on stdout with status 0; usage errors on stderr with the usage
/// line and status 2; other errors as one line `ferry-x: error: ...` and status 1; a
/// broken pipe on stdout ends quietly. SIGPIPE is ignored so a closed pipe is an error
/// value (EPIPE) the writer can see, not a silent kill mid-write.
public enum CommandLineTool {
    public static func main(
        _ spec: CommandSpec,
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        body: (ParsedArguments) throws -> ExitCode
    ) -> Never {
        signal(SIGPIPE, SIG_IGN)
        exit(run(spec, arguments: arguments, body: body).rawValue)
    }

    /// The same, returning the status instead of exiting (for tests).
    public static func run(_ spec: CommandSpec, arguments: [String],
                           body: (ParsedArguments) throws -> ExitCode) -> ExitCode {
        // "ferry-s3 ls" reports as "ferry-s3", as git and aws do.
        let console = Console(tool: String(spec.name.split(separator: " ").first ?? Substring(spec.name)))
        do {
            let parsed = try ParsedArguments.parse(arguments, spec: spec)
            if parsed.flag("--help") {
                try Console.writeStdout(spec.helpText)
                return .ok
            }
            if parsed.flag("--version") {
                try Console.writeStdout("\(spec.name) \(FerryVersion.string)\n")
                return .ok
            }
            return try body(parsed)
        } catch let error as UsageError {
            console.error("\(error)")
            Console.writeStderr("USAGE: \(spec.usage)\nSee '\(spec.name) --help' for more information.\n")
            return .usage
        } catch IOError.brokenPipe {
            return .ok
        } catch {
            console.error("\(error)")
            return .failure
        }
    }
}

/// Messages to stderr, each prefixed with the tool's name as jq and rg do.
public struct Console: Sendable {
    public let tool: String
    public init(tool: String) { self.tool = tool }

    public func error(_ message: String) { Console.writeStderr("\(tool): error: \(message)\n") }
    public func warning(_ message: String) { Console.writeStderr("\(tool): warning: \(message)\n") }
    public func note(_ message: String) { Console.writeStderr("\(tool): \(message)\n") }

    /// Best effort: if stderr is gone there is nowhere left to report to.
    public static func writeStderr(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: UInt8.self) { write(2, $0.baseAddress, $0.count) }
        }
    }

    public static func writeStdout(_ text: String) throws {
        var text = text
        try text.withUTF8 { try FileSink.standardOutput().write(UnsafeRawBufferPointer($0)) }
    }

    public static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

/// Where the object store and tables live: `--data DIR`, else `$FERRY_DATA`, else
/// `./ferry-data` (docs/cli.md).
public enum DataFolder {
    public static func resolve(option: String?, environment: [String: String]) -> String {
        if let option, !option.isEmpty { return option }
        if let env = environment["FERRY_DATA"], !env.isEmpty { return env }
        return "ferry-data"
    }

    public static func resolve(_ arguments: ParsedArguments) -> String {
        var environment: [String: String] = [:]
        if let value = getenv("FERRY_DATA") { environment["FERRY_DATA"] = String(cString: value) }
        return resolve(option: arguments.value("--data"), environment: environment)
    }
}
