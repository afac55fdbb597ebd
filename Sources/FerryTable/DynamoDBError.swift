import FerryValues

/// An error DynamoDB would return: its type name and message. The CLI prints it as the
/// aws CLI does: `An error occurred (ValidationException) when calling the PutItem
/// operation: One or more parameter values were invalid: ...`.
public struct DynamoDBError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case validation = "ValidationException"
        case resourceNotFound = "ResourceNotFoundException"
        case resourceInUse = "ResourceInUseException"
        case conditionalCheckFailed = "ConditionalCheckFailedException"
        case limitExceeded = "LimitExceededException"
        case serialization = "SerializationException"
        case internalServerError = "InternalServerError"
        case transactionCanceled = "TransactionCanceledException"
        case idempotentParameterMismatch = "IdempotentParameterMismatchException"
    }

    public let kind: Kind
    public let message: String

    /// Members the error's body carries besides `__type` and `message`
    /// (TransactionCanceledException's `CancellationReasons`).
    public var details: [JSONMember] = []

    public init(_ kind: Kind, _ message: String, details: [JSONMember] = []) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public static func validation(_ message: String) -> DynamoDBError { DynamoDBError(.validation, message) }
    public static func invalidParameter(_ message: String) -> DynamoDBError {
        DynamoDBError(.validation, "One or more parameter values were invalid: " + message)
    }
    public static func tableNotFound(_ name: String) -> DynamoDBError {
        DynamoDBError(.resourceNotFound, "Requested resource not found: Table: \(name) not found")
    }
    public static let notFound = DynamoDBError(.resourceNotFound, "Requested resource not found")
    public static let conditionFailed = DynamoDBError(.conditionalCheckFailed, "The conditional request failed")
    public static let keyMismatch = DynamoDBError(.validation, "The provided key element does not match the schema")

    public var description: String { "\(kind.rawValue): \(message)" }
}
