// DynamoDB's JSON 1.0 protocol over AWSClient: POST / with X-Amz-Target, typed JSON in
// and out, the x-amz-crc32 of each answer checked. docs/remote.md, "DynamoDB".
import FerryAWS
import FerryHTTP
import FerryIO
import FerryTableService
import FerryValues

/// A DynamoDB endpoint as a `DynamoDBAPI`. Thread-safe (AWSClient is).
public final class RemoteDynamoDB: DynamoDBAPI {
    public let client: AWSClient
    static let targetPrefix = "DynamoDB_20120810."
    static let contentType = "application/x-amz-json-1.0"

    /// Operations that may be sent again after a failure that does not prove the first
    /// try was not applied. Writes are idempotent when they set a whole item or delete
    /// one (PutItem, DeleteItem, BatchWriteItem), and TransactWriteItems carries a
    /// ClientRequestToken; UpdateItem (ADD, list_append) and conditional writes are not.
    static let idempotent: Set<String> = [
        "GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables", "DescribeTimeToLive",
        "ListTagsOfResource", "DescribeLimits", "DescribeEndpoints", "TransactGetItems", "DescribeContinuousBackups",
    ]

    public init(client: AWSClient) { self.client = client }

    public var location: String { client.endpoint.description }

    public func call(_ operation: String, _ request: JSONValue) throws -> JSONValue {
        let out = ByteBuffer(capacity: 512)
        request.write(into: out)
        return try call(operation, body: out.array, idempotent: Self.idempotent.contains(operation) || Self.isIdempotentWrite(operation, request))
    }

    /// Sends a request already encoded; `idempotent` says whether a failure that does
    /// not prove it was not applied may be retried (the caller knows: a load's merge
    /// sets the same attributes twice alike).
    public func call(_ operation: String, body: [UInt8], idempotent: Bool) throws -> JSONValue {
        var headers = HTTPHeaders()
        headers.add("Content-Type", Self.contentType)
        headers.add("X-Amz-Target", Self.targetPrefix + operation)
        headers.add("User-Agent", "ferry")
        let http = HTTPClientRequest(method: "POST", target: "/", headers: headers, body: body)
        let response = try client.send(http, operation: operation, idempotent: idempotent, readError: Self.readError)
        if let sent = response.headers["x-amz-crc32"], let expected = UInt32(sent) {
            let actual = CRC32.checksum(response.body)
            guard actual == expected else {
                throw AWSRequestError(endpoint: location, operation: operation,
                                      failure: .invalidResponse("x-amz-crc32 is \(expected) but the body's CRC-32 is \(actual)"))
            }
        }
        do {
            return try response.body.withUnsafeBytes { try JSONValue.parse($0) }
        } catch {
            throw AWSRequestError(endpoint: location, operation: operation, failure: .invalidResponse("the body is not JSON: \(error)"))
        }
    }

    /// A write that lands the same way twice: no condition, no update expression, no
    /// return values that depend on the item before.
    static func isIdempotentWrite(_ operation: String, _ request: JSONValue) -> Bool {
        switch operation {
        case "PutItem", "DeleteItem":
            return request["ConditionExpression"] == nil && request["Expected"] == nil
        case "BatchWriteItem":
            return true
        case "TransactWriteItems":
            return request["ClientRequestToken"] != nil
        default:
            return false
        }
    }

    /// `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"..."}`:
    /// the code after `#`, the message under `message` or `Message`.
    @Sendable static func readError(_ response: HTTPClientResponse) -> (code: String, message: String) {
        let json = try? response.body.withUnsafeBytes { try JSONValue.parse($0) }
        var code = json?["__type"]?.stringValue ?? response.headers["x-amzn-ErrorType"] ?? ""
        if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
        if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
        if code.isEmpty { code = "HTTP\(response.status)" }
        let message = json?["message"]?.stringValue ?? json?["Message"]?.stringValue ?? ""
        return (code, message)
    }
}
