/// Which kind of expression an error is about; it names the expression in messages, as
/// DynamoDB does ("Invalid UpdateExpression: ...").
public enum ExpressionKind: String, Sendable {
    case condition = "ConditionExpression"
    case filter = "FilterExpression"
    case update = "UpdateExpression"
    case projection = "ProjectionExpression"
    case keyCondition = "KeyConditionExpression"
}

/// An expression DynamoDB would refuse, or one that fails on an item. `description` is
/// DynamoDB's message (ValidationException) where DynamoDB has one.
public struct ExpressionError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func invalid(_ kind: ExpressionKind, _ detail: String) -> ExpressionError {
        ExpressionError("Invalid \(kind.rawValue): \(detail)")
    }

    static func syntax(_ kind: ExpressionKind, token: String, near: String) -> ExpressionError {
        invalid(kind, "Syntax error; token: \"\(token)\", near: \"\(near)\"")
    }

    static func reserved(_ kind: ExpressionKind, _ word: String) -> ExpressionError {
        invalid(kind, "Attribute name is a reserved keyword; reserved keyword: \(word)")
    }

    static func undefinedName(_ kind: ExpressionKind, _ name: String) -> ExpressionError {
        invalid(kind, "An expression attribute name used in the document path is not defined; attribute name: \(name)")
    }

    static func undefinedValue(_ kind: ExpressionKind, _ name: String) -> ExpressionError {
        invalid(kind, "An expression attribute value used in expression is not defined; attribute value: \(name)")
    }

    static func operandType(_ kind: ExpressionKind, _ function: String, _ type: String) -> ExpressionError {
        invalid(kind, "Incorrect operand type for operator or function; operator or function: \(function), operand type: \(type)")
    }

    static func operandCount(_ kind: ExpressionKind, _ function: String, _ count: Int) -> ExpressionError {
        invalid(kind, "Incorrect number of operands for operator or function; operator or function: \(function), number of operands: \(count)")
    }

    /// An unused ExpressionAttributeNames or ExpressionAttributeValues entry.
    public static func unusedNames(_ names: [String]) -> ExpressionError {
        ExpressionError("Value provided in ExpressionAttributeNames unused in expressions: keys: {\(names.sorted().joined(separator: ", "))}")
    }

    public static func unusedValues(_ names: [String]) -> ExpressionError {
        ExpressionError("Value provided in ExpressionAttributeValues unused in expressions: keys: {\(names.sorted().joined(separator: ", "))}")
    }
}
