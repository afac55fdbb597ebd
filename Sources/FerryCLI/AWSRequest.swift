#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import FerryValues

/// One parameter of an aws-CLI-shaped command: its option, the request member it sets,
/// and how its text becomes JSON (docs/ferry-table.md).
public struct AWSParameter: Sendable {
    public enum Kind: Sendable {
        case string, integer
        /// `--x` / `--no-x`.
        case boolean
        /// JSON object or shorthand `A=1,B=2`.
        case structure
        /// Several values, each a structure (JSON or shorthand), or one JSON list.
        case list
        /// Several strings, or one JSON list.
        case stringList
        /// JSON object or shorthand; attribute values with BOOL/NULL made booleans.
        case attributeMap
        /// JSON object or shorthand of strings.
        case stringMap
    }

    public var option: String
    public var member: String
    public var kind: Kind
    public var help: String
    /// A structure's members that are booleans: in shorthand every value is text, and
    /// the aws CLI types them by its model (`Enabled=true`).
    public var booleanMembers: Set<String>

    public init(_ option: String, _ member: String, _ kind: Kind, _ help: String, booleans: Set<String> = []) {
        self.option = option
        self.member = member
        self.kind = kind
        self.help = help
        booleanMembers = booleans
    }

    public var negated: String { "--no-" + option.dropFirst(2) }

    public var optionSpecs: [OptionSpec] {
        switch kind {
        case .boolean:
            return [OptionSpec(option, help: help), OptionSpec(negated, help: "The opposite of \(option).")]
        case .list, .stringList:
            return [OptionSpec(option, value: "<value>", help: help, takesMany: true)]
        case .structure:
            return [OptionSpec(option, value: "<value>", help: help, takesMany: true)]
        default:
            return [OptionSpec(option, value: "<value>", help: help)]
        }
    }
}

/// Builds a request JSON object from aws-style options: `--cli-input-json` first, then
/// each option given on the command line (which wins). Values may be `file://path`.
public enum AWSRequestBuilder {
    public static let cliInputJSON = OptionSpec("--cli-input-json", value: "<json>",
                                                help: "The whole request as JSON (or file://path); options given beside it win.")

    public static func build(_ args: ParsedArguments, _ parameters: [AWSParameter]) throws -> JSONValue {
        var members: [JSONMember] = []
        if let input = args.value("--cli-input-json") {
            let json = try parseJSON(try load(input, option: "--cli-input-json"), option: "--cli-input-json")
            guard let object = json.objectValue else {
                throw UsageError.other("Error parsing parameter '--cli-input-json': the input must be a JSON object")
            }
            members = object
        }
        func set(_ key: String, _ value: JSONValue) {
            if let i = members.firstIndex(where: { $0.key == key }) { members[i].value = value } else { members.append(JSONMember(key, value)) }
        }
        for p in parameters {
            switch p.kind {
            case .boolean:
                if args.flag(p.option) { set(p.member, .bool(true)) }
                if args.flag(p.negated) { set(p.member, .bool(false)) }
                continue
            default:
                break
            }
            let values = args.values(p.option)
            guard !values.isEmpty else { continue }
            set(p.member, try value(values, p))
        }
        return .object(members)
    }

    static func value(_ raw: [String], _ p: AWSParameter) throws -> JSONValue {
        let texts = try raw.map { try load($0, option: p.option) }
        switch p.kind {
        case .string:
            return .string(texts[0])
        case .integer:
            guard let n = Int(texts[0].trimmingSpaces) else {
                throw UsageError.invalidValue(option: p.option, value: texts[0], expected: "an integer")
            }
            return .number(String(n))
        case .boolean:
            return .bool(true)
        case .structure:
            if texts.count == 1, looksLikeJSON(texts[0]) { return try parseJSON(texts[0], option: p.option) }
            // Shorthand split over several arguments ("A=1," "B=2") is one structure.
            let joined = texts.map { $0.trimmingSpaces }.map { $0.hasSuffix(",") ? String($0.dropLast()) : $0 }.joined(separator: ",")
            guard case let .object(members) = try shorthand(joined, option: p.option) else { return try shorthand(joined, option: p.option) }
            return .object(members.map { m in
                guard p.booleanMembers.contains(m.key), let text = m.value.stringValue else { return m }
                guard text == "true" || text == "false" else { return m }
                return JSONMember(m.key, .bool(text == "true"))
            })
        case .list:
            if texts.count == 1, texts[0].trimmingSpaces.hasPrefix("[") { return try parseJSON(texts[0], option: p.option) }
            return .array(try texts.map { looksLikeJSON($0) ? try parseJSON($0, option: p.option) : try shorthand($0, option: p.option) })
        case .stringList:
            if texts.count == 1, texts[0].trimmingSpaces.hasPrefix("[") { return try parseJSON(texts[0], option: p.option) }
            return .array(try texts.flatMap { text -> [JSONValue] in
                do { return try AWSShorthand.parseScalars(text) } catch {
                    throw UsageError.other("Error parsing parameter '\(p.option)': \(error)")
                }
            })
        case .attributeMap:
            let json = looksLikeJSON(texts[0]) ? try parseJSON(texts[0], option: p.option) : try shorthand(texts[0], option: p.option)
            return typedBooleans(json)
        case .stringMap:
            return looksLikeJSON(texts[0]) ? try parseJSON(texts[0], option: p.option) : try shorthand(texts[0], option: p.option)
        }
    }

    static func looksLikeJSON(_ text: String) -> Bool {
        let t = text.trimmingSpaces
        return t.hasPrefix("{") || t.hasPrefix("[") || t.hasPrefix("\"")
    }

    static func shorthand(_ text: String, option: String) throws -> JSONValue {
        do { return try AWSShorthand.parse(text) } catch {
            throw UsageError.other("Error parsing parameter '\(option)': \(error)")
        }
    }

    static func parseJSON(_ text: String, option: String) throws -> JSONValue {
        do { return try JSONValue.parse(text) } catch {
            throw UsageError.other("Error parsing parameter '\(option)': Invalid JSON: \(error)\nJSON received: \(text)")
        }
    }

    /// `file://path` is the file's text, as in the aws CLI.
    static func load(_ text: String, option: String) throws -> String {
        guard text.hasPrefix("file://") else { return text }
        let path = String(text.dropFirst("file://".count))
        do {
            let source = try FileSource(path: path)
            let bytes = try source.readAll(limit: 64 << 20)
            return String(decoding: bytes, as: UTF8.self)
        } catch {
            throw UsageError.other("Error parsing parameter '\(option)': Unable to load paramfile \(text): \(error)")
        }
    }

    /// In shorthand every scalar is a string; `{"BOOL":"true"}` must be a boolean.
    static func typedBooleans(_ v: JSONValue) -> JSONValue {
        switch v {
        case let .object(members):
            return .object(members.map { m in
                if (m.key == "BOOL" || m.key == "NULL"), let s = m.value.stringValue, s == "true" || s == "false" {
                    return JSONMember(m.key, .bool(s == "true"))
                }
                return JSONMember(m.key, typedBooleans(m.value))
            })
        case let .array(items): return .array(items.map(typedBooleans))
        default: return v
        }
    }
}
