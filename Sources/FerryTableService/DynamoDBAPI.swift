import FerryValues

/// DynamoDB's JSON API: an operation's name and request in, its response out. The local
/// `DynamoDBService` (tables in the data folder) and `RemoteDynamoDB` (an endpoint)
/// both are one, so a tool does not care which it was given. Implementations are
/// thread-safe.
public protocol DynamoDBAPI: AnyObject, Sendable {
    /// The response to `operation`; DynamoDB's errors are thrown as `DynamoDBError`
    /// (local) or `AWSRequestError` (remote).
    func call(_ operation: String, _ request: JSONValue) throws -> JSONValue
    /// Where the tables are, for summaries: `data folder ./ferry-data` or `http://...`.
    var location: String { get }
}

extension DynamoDBService: DynamoDBAPI {
    public var location: String {
        "data folder " + (catalog.path.hasSuffix("/tables") ? String(catalog.path.dropLast("/tables".count)) : catalog.path)
    }
}
