/// A command line that breaks the command's rules. Printed as
/// `ferry-x: error: <description>` with the usage line; exit status 2.
public enum UsageError: Error, CustomStringConvertible, Equatable {
    case unknownOption(String)
    case missingValue(String)
    case unexpectedValue(option: String)
    case repeated(String)
    case invalidValue(option: String, value: String, expected: String)
    case missingOption(String)
    case unexpectedArgument(String)
    case missingArgument(String)
    case conflict(String, String)
    case other(String)

    public var description: String {
        switch self {
        case let .unknownOption(o): return "unknown option '\(o)'"
        case let .missingValue(o): return "missing value for '\(o)'"
        case let .unexpectedValue(o): return "option '\(o)' takes no value"
        case let .repeated(o): return "option '\(o)' given more than once"
        case let .invalidValue(o, v, expected): return "invalid value '\(v)' for '\(o)': expected \(expected)"
        case let .missingOption(o): return "missing required option '\(o)'"
        case let .unexpectedArgument(a): return "unexpected argument '\(a)'"
        case let .missingArgument(a): return "missing argument \(a)"
        case let .conflict(a, b): return "'\(a)' and '\(b)' cannot be used together"
        case let .other(text): return text
        }
    }
}

/// The parsed command line.
public struct ParsedArguments: Sendable {
    public private(set) var values: [String: [String]] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []
    /// Every option value in command-line order (for steps whose order matters).
    public private(set) var ordered: [(name: String, value: String)] = []

    public func flag(_ name: String) -> Bool { flags.contains(name) }
    public func value(_ name: String) -> String? { values[name]?.last }
    public func values(_ name: String) -> [String] { values[name] ?? [] }

    public func required(_ name: String) throws -> String {
        guard let v = value(name) else { throw UsageError.missingOption(name) }
        return v
    }

    /// An integer option within `range`, or `defaultValue` when absent.
    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let n = Int(text), range.contains(n) else {
            let expected = range.upperBound == Int.max ? "an integer of at least \(range.lowerBound)"
                : "an integer from \(range.lowerBound) to \(range.upperBound)"
            throw UsageError.invalidValue(option: name, value: text, expected: expected)
        }
        return n
    }

    /// A number option above 0 (`--max-rcu 12.5`), or nil when absent; `expected` names
    /// what it counts in the error.
    public func positiveNumber(_ name: String, expected: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let n = Double(text), n > 0, n.isFinite else {
            throw UsageError.invalidValue(option: name, value: text, expected: "a number of \(expected) above 0")
        }
        return n
    }

    /// `--threads`, defaulting to the number of cores the process may use.
    public func threadCount() throws -> Int {
        try int("--threads", default: ProcessorCount.available, range: 1...256)
    }

    /// An option whose value must be one of `choices`.
    public func choice(_ name: String, _ choices: [String], default defaultValue: String) throws -> String {
        guard let text = value(name) else { return defaultValue }
        guard choices.contains(text) else {
            throw UsageError.invalidValue(option: name, value: text, expected: "one of \(choices.joined(separator: ", "))")
        }
        return text
    }

    /// Parses `arguments` (without the program name) against `spec`.
    ///
    /// `--opt value` and `--opt=value`; flags take no value; `--` ends options; a lone
    /// `-` is an argument (stdin or stdout). Short options are not used by ferry tools.
    public static func parse(_ arguments: [String], spec: CommandSpec) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var i = 0
        var optionsEnded = false
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if optionsEnded || arg == "-" || !arg.hasPrefix("-") {
                parsed.positionals.append(arg)
                continue
            }
            if arg == "--" { optionsEnded = true; continue }
            var name = arg
            var inlineValue: String? = nil
            if let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inlineValue = String(arg[arg.index(after: eq)...])
            }
            guard let option = spec.option(named: name) else { throw UsageError.unknownOption(name) }
            if option.valueName == nil {
                if inlineValue != nil { throw UsageError.unexpectedValue(option: name) }
                if parsed.flags.contains(name) && !option.repeatable { throw UsageError.repeated(name) }
                parsed.flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard i < arguments.count else { throw UsageError.missingValue(name) }
                value = arguments[i]
                i += 1
            }
            if parsed.values[name] != nil && !option.repeatable { throw UsageError.repeated(name) }
            parsed.values[name, default: []].append(value)
            parsed.ordered.append((name, value))
            if option.takesMany && inlineValue == nil {
                while i < arguments.count, !arguments[i].hasPrefix("--") {
                    parsed.values[name, default: []].append(arguments[i])
                    i += 1
                }
            }
        }
        return parsed
    }
}
