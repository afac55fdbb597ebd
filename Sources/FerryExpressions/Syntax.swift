import FerryValues

/// A document path: `a.b[3].c`, with placeholders already resolved to names.
public struct DocumentPath: Hashable, Sendable, CustomStringConvertible {
    public enum Element: Hashable, Sendable {
        case name(String)
        case index(Int)
    }
    public var elements: [Element]

    public init(_ elements: [Element]) { self.elements = elements }

    /// `a.b[3]` (for messages).
    public var description: String {
        var out = ""
        for element in elements {
            switch element {
            case let .name(n): out += out.isEmpty ? n : "." + n
            case let .index(i): out += "[\(i)]"
            }
        }
        return out
    }

    /// `[a, b, [3]]`, the form DynamoDB's overlap messages use.
    var bracketed: String {
        "[" + elements.map { element -> String in
            switch element {
            case let .name(n): return n
            case let .index(i): return "[\(i)]"
            }
        }.joined(separator: ", ") + "]"
    }
}

/// A value in an expression: a path into the item, a placeholder value or literal, or a
/// function or arithmetic over operands.
indirect enum Operand: Sendable {
    case path(DocumentPath)
    case value(AttributeValue)
    case size(Operand)
    case ifNotExists(DocumentPath, Operand)
    case listAppend(Operand, Operand)
    case plus(Operand, Operand)
    case minus(Operand, Operand)
    /// Ferry's ETL functions (lower, upper, ...), never in strict mode.
    case etl(ETLFunction, [Operand])
}

enum Comparator: String, Sendable {
    case equal = "=", notEqual = "<>", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

indirect enum Condition: Sendable {
    case compare(Operand, Comparator, Operand)
    case between(Operand, Operand, Operand)
    case isIn(Operand, [Operand])
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
    case exists(DocumentPath)
    case notExists(DocumentPath)
    case type(DocumentPath, Operand)
    case beginsWith(Operand, Operand)
    case contains(Operand, Operand)
}

/// ETL-mode functions (docs/expressions.md).
enum ETLFunction: String, Sendable, CaseIterable {
    case lower, upper, trim, concat, substr, to_number, to_string, coalesce, now, uuid
}

/// Placeholders and mode shared by the expressions of one request.
public struct ExpressionContext: Sendable {
    public enum Mode: Sendable { case strict, etl }
    public var names: [String: String]
    public var values: [String: AttributeValue]
    public var mode: Mode
    /// DynamoDB's 4096-byte limit on expression text, for text a caller wrote. Text Ferry
    /// generates (from the legacy members, docs/legacy-parameters.md) is not held to it,
    /// as DynamoDB does not limit those members so.
    public var limitsLength = true

    public init(names: [String: String] = [:], values: [String: AttributeValue] = [:], mode: Mode = .strict) {
        self.names = names
        self.values = values
        self.mode = mode
    }
}
