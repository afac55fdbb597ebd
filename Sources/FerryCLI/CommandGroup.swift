/// An executable with subcommands (`ferry-s3 ls ...`), each with its own spec, help and
/// usage errors; `ferry-x --help` lists them.
public struct CommandGroup {
    public struct Subcommand {
        public var spec: CommandSpec
        public var run: (ParsedArguments) throws -> ExitCode
        public init(_ spec: CommandSpec, run: @escaping (ParsedArguments) throws -> ExitCode) {
            self.spec = spec
            self.run = run
        }
    }

    public var name: String
    public var summary: String
    public var subcommands: [Subcommand]
    public var notes: [String]

    public init(name: String, summary: String, subcommands: [Subcommand], notes: [String] = []) {
        self.name = name
        self.summary = summary
        self.subcommands = subcommands
        self.notes = notes
    }

    public var usage: String { "\(name) <command> [options] (commands: \(subcommands.map { $0.spec.name.split(separator: " ").last.map(String.init) ?? "" }.joined(separator: ", ")))" }

    public var helpText: String {
        var lines = ["OVERVIEW: \(summary)", "", "USAGE: \(name) <command> [options]", "", "COMMANDS:"]
        let names = subcommands.map { $0.spec.name.split(separator: " ").last.map(String.init) ?? $0.spec.name }
        let width = names.map(\.count).max() ?? 0
        for (name, sub) in zip(names, subcommands) {
            lines.append("  " + name + String(repeating: " ", count: width - name.count) + "  " + sub.spec.summary)
        }
        for note in notes { lines += ["", note] }
        lines += ["", "See '\(name) <command> --help' for a command's options.",
                  "", "EXIT STATUS:", "  0  success", "  1  failure (the error is on stderr)", "  2  usage error"]
        return lines.joined(separator: "\n") + "\n"
    }
}

extension CommandLineTool {
    public static func main(_ group: CommandGroup,
                            arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        signal(SIGPIPE, SIG_IGN)
        if let message = invalidArgument() {
            Console(tool: group.name).error(message)
            exit(ExitCode.usage.rawValue)
        }
        exit(run(group, arguments: arguments).rawValue)
    }

    public static func run(_ group: CommandGroup, arguments: [String]) -> ExitCode {
        guard let first = arguments.first else {
            Console(tool: group.name).error("missing command")
            Console.writeStderr("USAGE: \(group.usage)\nSee '\(group.name) --help' for more information.\n")
            return .usage
        }
        if first == "--help" || first == "help" {
            return (try? Console.writeStdout(group.helpText)) == nil ? .failure : .ok
        }
        if first == "--version" {
            return (try? Console.writeStdout("\(group.name) \(FerryVersion.string)\n")) == nil ? .failure : .ok
        }
        guard let sub = group.subcommands.first(where: { $0.spec.name == "\(group.name) \(first)" }) else {
            Console(tool: group.name).error("unknown command '\(first)'")
            Console.writeStderr("USAGE: \(group.usage)\nSee '\(group.name) --help' for more information.\n")
            return .usage
        }
        return run(sub.spec, arguments: Array(arguments.dropFirst()), body: sub.run)
    }
}

#if canImport(Glibc)
import Glibc
#endif
