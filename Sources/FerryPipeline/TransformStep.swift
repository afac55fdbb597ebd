import FerryExpressions
import FerryValues

/// One step of `ferry-transform`, applied to each item in command-line order, in the
/// expression language's ETL mode (docs/expressions.md; the README's ferry-transform section).
public enum TransformStep: Sendable {
    /// `--where COND`: drop items for which the condition is false.
    case keep(ConditionExpression)
    /// `--set`, `--remove`: an update expression applied to the item.
    case update(UpdateExpression)
    /// `--rename old=new`: move a top-level attribute (nothing when it is absent).
    case rename(from: String, to: String)
    /// `--project a,b`: keep only these paths.
    case project(ProjectionExpression)

    /// Applies the step; false when the item is dropped. Throws for a run-time fault
    /// (the item is rejected, the stream goes on).
    @inline(__always)
    public func apply(_ item: inout Item) throws -> Bool {
        switch self {
        case let .keep(condition):
            return try condition.evaluate(item)
        case let .update(update):
            try update.apply(updating: &item)
            return true
        case let .rename(from, to):
            guard let value = item[from] else { return true }
            item[from] = nil
            item[to] = value
            return true
        case let .project(projection):
            item = projection.apply(to: item)
            return true
        }
    }

    /// The `--names` and `--values` of a command line as an ETL-mode context (the
    /// loader's --update and --condition use the same options).
    public static func placeholders(_ options: [(name: String, value: String)]) throws -> ExpressionContext {
        var context = ExpressionContext(mode: .etl)
        for (name, value) in options {
            switch name {
            case "--names":
                guard case let .object(members) = try parseJSON(value, option: name) else {
                    throw TransformStepError(option: name, text: value, reason: "expected a JSON object of \"#name\": \"attribute\"")
                }
                for m in members {
                    guard let s = m.value.stringValue else {
                        throw TransformStepError(option: name, text: value, reason: "\(m.key) must name an attribute as a string")
                    }
                    context.names[m.key] = s
                }
            case "--values":
                let item: Item
                do { item = try ItemDecoder(spelling: .auto).decodeItem(value) } catch {
                    throw TransformStepError(option: name, text: value, reason: "expected a JSON object of \":name\": value (\(error))")
                }
                for (key, v) in item.entries { context.values[key] = v }
            default:
                break
            }
        }
        return context
    }

    /// The steps a command line names, in its order. `options` are (option, value)
    /// pairs as given; `--names` and `--values` apply to every step wherever they stand.
    public static func parse(_ options: [(name: String, value: String)]) throws -> [TransformStep] {
        let context = try placeholders(options)
        var steps: [TransformStep] = []
        for (name, value) in options {
            do {
                switch name {
                case "--where":
                    steps.append(.keep(try ConditionExpression(value, context: context, kind: .condition)))
                case "--set":
                    steps.append(.update(try UpdateExpression("SET " + value, context: context)))
                case "--remove":
                    steps.append(.update(try UpdateExpression("REMOVE " + value, context: context)))
                case "--rename":
                    let parts = value.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: " ") }
                    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                        throw TransformStepError(option: name, text: value, reason: "expected old=new")
                    }
                    steps.append(.rename(from: context.names[parts[0]] ?? parts[0], to: context.names[parts[1]] ?? parts[1]))
                case "--project":
                    steps.append(.project(try ProjectionExpression(value, context: context)))
                default:
                    break
                }
            } catch let error as ExpressionError {
                throw TransformStepError(option: name, text: value, reason: error.description)
            }
        }
        return steps
    }

    static func parseJSON(_ text: String, option: String) throws -> JSONValue {
        do { return try JSONValue.parse(text) } catch {
            throw TransformStepError(option: option, text: text, reason: "invalid JSON: \(error)")
        }
    }
}

/// A step that cannot be compiled: a usage error naming the option and the text.
public struct TransformStepError: Error, CustomStringConvertible, Equatable {
    public let option: String
    public let text: String
    public let reason: String
    /// The option and its text (cut after 80 characters: a one-line error names the
    /// option without repeating a 32 KB expression), then why.
    public var description: String {
        let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return "\(option) '\(shown)': \(reason)"
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
