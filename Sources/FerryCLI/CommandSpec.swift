/// What a command accepts: the source of its parser and of its --help text.
public struct CommandSpec: Sendable {
    public var name: String
    public var summary: String
    /// The usage line without "USAGE: ", e.g. "ferry-transform [--plain] [<file> ...]".
    public var usage: String
    public var arguments: [(name: String, help: String)]
    public var options: [OptionSpec]
    public var examples: [String]
    /// Extra paragraphs after the options (formats, notes).
    public var notes: [String]

    public init(name: String, summary: String, usage: String,
                arguments: [(name: String, help: String)] = [], options: [OptionSpec],
                examples: [String] = [], notes: [String] = []) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.arguments = arguments
        self.options = options + [.help, .version]
        self.examples = examples
        self.notes = notes
    }

    func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }

    /// The text printed for --help.
    public var helpText: String {
        var lines = ["OVERVIEW: \(summary)", "", "USAGE: \(usage)"]
        if !arguments.isEmpty {
            lines += ["", "ARGUMENTS:"]
            let width = arguments.map(\.name.count).max() ?? 0
            for (name, help) in arguments { lines.append("  \(pad(name, width))  \(help)") }
        }
        lines += ["", "OPTIONS:"]
        let labels = options.map(\.label)
        let width = labels.map(\.count).max() ?? 0
        for (option, label) in zip(options, labels) { lines.append("  \(pad(label, width))  \(option.help)") }
        for note in notes { lines += ["", note] }
        lines += ["", "EXIT STATUS:",
                  "  0  success", "  1  failure (the error is on stderr)", "  2  usage error",
                  "  3  finished, but some records were rejected"]
        if !examples.isEmpty {
            lines += ["", "EXAMPLES:"]
            lines += examples.map { "  \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}

public struct OptionSpec: Sendable {
    /// With the dashes: "--table".
    public var name: String
    /// nil for a flag; else the placeholder shown in help: "<name>".
    public var valueName: String?
    public var help: String
    /// May be given more than once (values accumulate in order).
    public var repeatable: Bool
    /// Takes every following argument up to the next `--option` as its values, as the
    /// aws CLI's list parameters do (`--key-schema A=1,B=2 A=3,B=4`).
    public var takesMany: Bool

    public init(_ name: String, value valueName: String? = nil, help: String, repeatable: Bool = false, takesMany: Bool = false) {
        self.name = name
        self.valueName = valueName
        self.help = help
        self.repeatable = repeatable
        self.takesMany = takesMany
    }

    var label: String { valueName.map { "\(name) \($0)" + (takesMany ? " ..." : "") } ?? name }

    public static let help = OptionSpec("--help", help: "Show this help and exit.")
    public static let version = OptionSpec("--version", help: "Show the version and exit.")
    /// The data folder option every command that touches the store or tables takes.
    public static let data = OptionSpec(
        "--data", value: "<dir>", help: "Data folder (default: $FERRY_DATA, else ./ferry-data).")
    public static let threads = OptionSpec(
        "--threads", value: "<n>", help: "Worker threads for parsing and checking (default: the number of cores).")
    public static let progress = OptionSpec(
        "--progress", help: "Report progress on stderr even when it is not a terminal.")
}
