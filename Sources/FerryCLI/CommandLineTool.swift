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
        keepLargeBuffersOutOfTheHeap()
        if let message = invalidArgument() {
            Console(tool: String(spec.name.split(separator: " ").first ?? Substring(spec.name))).error(message)
            Console.writeStderr("USAGE: \(spec.usage)\nSee '\(spec.name) --help' for more information.\n")
            exit(ExitCode.usage.rawValue)
        }
        exit(run(spec, arguments: arguments, body: body).rawValue)
    }

    /// Buffers of 256 KiB and more (line blocks, groups, merge outputs) get pages of their
    /// own and give them back when freed. glibc otherwise raises its mmap threshold
    /// after each such free, so later big buffers come from the heap and stay there: a
    /// 16M-item load peaked at 542 MB instead of 475 (docs/performance.md). Setting the
    /// threshold also stops that raising. (An environment's MALLOC_MMAP_THRESHOLD_ wins.)
    static func keepLargeBuffersOutOfTheHeap() {
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil { Syscall.setMmapThreshold(256 << 10) }
    }

    /// Swift's `CommandLine.arguments` turns bytes that are not UTF-8 into U+FFFD, so
    /// `ferry-s3 cp f s3://b/bad$'\xff'` would store the key `bad\u{FFFD}`: an argument
    /// that is not UTF-8 is refused instead, naming it with the bad bytes escaped.
    static func invalidArgument() -> String? {
        for index in stride(from: 1, to: Int(CommandLine.argc), by: 1) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
            guard let bad = UTF8Text.firstInvalidByte(bytes) else { continue }
            let validPrefix = String(decoding: bytes[..<bad], as: UTF8.self)
            let escapedRest = bytes[bad...].map { $0 < 0x80 && $0 >= 0x20 ? String(Character(Unicode.Scalar($0))) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
            return "argument \(index) ('\(validPrefix)\(escapedRest)') is not valid UTF-8 (byte \(bad + 1)); names, keys and paths must be UTF-8"
        }
        return nil
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
