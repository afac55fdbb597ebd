import Foundation
import Synchronization
import FerryAWS
import FerryHTTP
import FerryIO
import FerryTable
import FerryTableService
import FerryValues

/// DynamoDB's JSON protocol (awsJson1_0) over HTTP onto a `DynamoDBService`
/// (docs/ferry-serve.md): `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`,
/// the request's JSON body in, the response's JSON out with `x-amzn-RequestId` and
/// `x-amz-crc32`; errors as DynamoDB sends them.
///
/// Thread-safe: called from every connection's thread; the service is.
public final class DynamoDBHTTPHandler: HTTPHandler, @unchecked Sendable {
    public let service: DynamoDBService
    /// Checks each request's signature when set (ferry-serve --credentials).
    public let verifier: SigV4Verifier?
    /// host:port clients reach this server at, for DescribeEndpoints.
    public var endpointAddress: String
    /// Where faults of Ferry's own (InternalServerError) are reported.
    public let log: @Sendable (String) -> Void
    private let requestIDs = RequestIDSource()

    public static let targetPrefix = "DynamoDB_20120810."
    public static let contentType = "application/x-amz-json-1.0"
    /// What DynamoDB answers a `GET /` with.
    public static let health = "healthy: dynamodb.us-east-1.amazonaws.com "

    public init(service: DynamoDBService, verifier: SigV4Verifier?, endpointAddress: String,
                log: @escaping @Sendable (String) -> Void) {
        self.service = service
        self.verifier = verifier
        self.endpointAddress = endpointAddress
        self.log = log
    }

    /// The front door, in DynamoDB's order (docs/ferry-serve.md, "Requests"): the health
    /// answer, method and content type, the JSON body, the target, the signature, then
    /// the operation.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let id = requestIDs.next()
        if request.method == "GET" || request.method == "HEAD" {
            guard request.path == "/" else { return notFound(id: id) }
            let body = Array(Self.health.utf8)
            return HTTPResponse(status: 200, headers: headers(body, id: id, contentType: "text/plain"), body: body)
        }
        guard request.method == "POST", request.path == "/" else { return notFound(id: id) }
        // application/json is DynamoDB's too, and echoed; a body of any other type is not
        // an API request at all.
        var contentType = Self.contentType
        if let declared = request.headers["Content-Type"] {
            if declared != Self.contentType {  // the usual case skips Foundation's trimming
                let base = declared.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
                if base == "application/json" {
                    contentType = "application/json"
                } else if base != Self.contentType {
                    return notFound(id: id)
                }
            }
        } else if !request.body.isEmpty {
            return notFound(id: id)
        }
        let json: JSONValue
        do {
            json = try request.body.withUnsafeBytes { try JSONValue.parse($0) }
        } catch {
            return self.error(.serialization(Self.serializationMessage(error, bytes: request.body.count)), id: id, contentType: contentType)
        }
        guard let target = request.headers["X-Amz-Target"], target.hasPrefix(Self.targetPrefix),
              case let operation = String(target.dropFirst(Self.targetPrefix.count)), Self.operations.contains(operation) else {
            return error(.unknownOperation(request.headers["X-Amz-Target"]), id: id, contentType: contentType)
        }
        if let verifier {
            let signed = SigV4Request(method: request.method, path: request.path, query: request.query,
                                      headers: request.headers.fields, payload: .bytes(request.wireBody))
            do { _ = try verifier.verify(signed, now: SigV4Date(Date())) } catch {
                return self.error(DynamoDBWireError(error), id: id, contentType: contentType)
            }
        }
        do {
            let result: JSONValue
            if operation == "DescribeEndpoints" {
                try DynamoDBService.checkMembers(operation, json)
                result = DynamoDBService.endpoints(address: endpointAddress)
            } else {
                result = try service.call(operation, json)
            }
            let out = ByteBuffer(capacity: 512)
            result.write(into: out)
            let body = out.array
            return HTTPResponse(status: 200, headers: headers(body, id: id, contentType: contentType), body: body)
        } catch let e as DynamoDBError {
            if e.kind == .internalServerError { log("\(operation): \(e.message)") }
            return error(DynamoDBWireError(e), id: id, contentType: contentType)
        } catch {
            // Not the request's fault: the disk, a damaged file. Logged; the client is
            // told only that the server failed (and may retry).
            log("\(operation): \(error)")
            return self.error(.internal, id: id, contentType: contentType)
        }
    }

    public func response(for refusal: HTTPRefusal) -> HTTPResponse {
        let id = requestIDs.next()
        let wire: DynamoDBWireError
        switch refusal {
        case let .bodyTooLarge(declared):
            // DynamoDB answers 413 too; its body is not documented, so Ferry's says why.
            let size = declared.map { "of \($0) bytes " } ?? ""
            wire = DynamoDBWireError(status: 413, type: DynamoDBWireError.coral + "RequestEntityTooLargeException",
                                     message: "Request body \(size)is over DynamoDB's request size limit of \(HTTPServerLimits.dynamoDB.maxBodyBytes) bytes")
        case .headersTooLarge:
            wire = DynamoDBWireError(status: 431, type: DynamoDBWireError.coral + "RequestHeaderFieldsTooLargeException",
                                     message: "Request header block is over the \(HTTPServerLimits.dynamoDB.maxHeaderBytes)-byte limit")
        case .requestTimeout:
            wire = DynamoDBWireError(status: 408, type: DynamoDBWireError.coral + "RequestTimeoutException",
                                     message: "The request was not received in time")
        case .tooManyConnections:
            wire = DynamoDBWireError(status: 503, type: DynamoDBWireError.coral + "ServiceUnavailableException",
                                     message: "Too many connections; retry later")
        default:
            // A body that does not inflate, a malformed message: the request's fault (400,
            // where DynamoDB answers 500 and so makes SDKs retry what cannot succeed).
            wire = DynamoDBWireError(status: refusal.status == 500 ? 400 : refusal.status,
                                     type: DynamoDBWireError.coral + "SerializationException", message: "The request was refused: \(refusal.message)")
        }
        return error(wire, id: id, contentType: Self.contentType)
    }

    /// Every operation served: ferry-table's and the two endpoint-level ones.
    public static let operations: Set<String> = Set(DynamoDBService.operations + ["DescribeEndpoints", "DescribeLimits"])

    // MARK: Responses

    /// What DynamoDB answers a request that is not its API (another method, path or
    /// content type).
    private func notFound(id: String) -> HTTPResponse {
        let body = Array("<UnknownOperationException/>\n".utf8)
        return HTTPResponse(status: 404, headers: headers(body, id: id, contentType: nil), body: body)
    }

    private func error(_ e: DynamoDBWireError, id: String, contentType: String) -> HTTPResponse {
        var members = [JSONMember("__type", .string(e.type))]
        members += e.details
        // DynamoDB's SerializationException and the transaction errors say "Message", its
        // other errors "message" (botocore reads either).
        let capital = ["#SerializationException", "#TransactionCanceledException", "#IdempotentParameterMismatchException"]
        if !e.message.isEmpty { members.append(JSONMember(capital.contains { e.type.hasSuffix($0) } ? "Message" : "message", .string(e.message))) }
        let out = ByteBuffer(capacity: 256)
        JSONValue.object(members).write(into: out)
        let body = out.array
        return HTTPResponse(status: e.status, headers: headers(body, id: id, contentType: contentType), body: body)
    }

    /// DynamoDB's answer headers; its 404 page carries no Content-Type.
    private func headers(_ body: [UInt8], id: String, contentType: String?) -> HTTPHeaders {
        var crc = CRC32()
        crc.update(body)
        var fields = [("x-amzn-RequestId", id), ("x-amz-crc32", String(crc.value))]
        if let contentType { fields.insert(("Content-Type", contentType), at: 0) }
        return HTTPHeaders(fields)
    }

    static func serializationMessage(_ error: Error, bytes: Int) -> String {
        if bytes == 0 { return "The request body is empty; DynamoDB's requests are JSON objects" }
        if let e = error as? JSONError { return "The request body is not valid JSON: at byte \(e.offset + 1): \(e.reason)" }
        return "The request body is not valid JSON: \(error)"
    }
}

/// An error as DynamoDB puts it on the wire: status, `__type`, `message`.
struct DynamoDBWireError {
    var status: Int
    var type: String
    var message: String
    /// Members besides the message (TransactionCanceledException's CancellationReasons).
    var details: [JSONMember] = []

    static let prefix = "com.amazonaws.dynamodb.v20120810#"
    static let coral = "com.amazon.coral.service#"

    init(status: Int, type: String, message: String) {
        self.status = status
        self.type = type
        self.message = message
    }

    init(_ e: DynamoDBError) {
        switch e.kind {
        case .validation: self.init(status: 400, type: "com.amazon.coral.validate#ValidationException", message: e.message)
        case .serialization: self.init(status: 400, type: Self.coral + "SerializationException", message: e.message)
        case .internalServerError: self.init(status: 500, type: Self.prefix + "InternalServerError", message: "Internal server error")
        default: self.init(status: 400, type: Self.prefix + e.kind.rawValue, message: e.message)
        }
        details = e.details
    }

    init(_ failure: SigV4Error) {
        self.init(status: failure.status, type: Self.coral + failure.code, message: failure.message)
    }

    /// DynamoDB sends no message; Ferry names what it got.
    static func unknownOperation(_ target: String?) -> DynamoDBWireError {
        DynamoDBWireError(status: 400, type: coral + "UnknownOperationException",
                          message: target.map { "Unknown operation in X-Amz-Target: \($0)" } ?? "The X-Amz-Target header is missing")
    }

    static func serialization(_ message: String) -> DynamoDBWireError {
        DynamoDBWireError(status: 400, type: coral + "SerializationException", message: message)
    }

    static let `internal` = DynamoDBWireError(status: 500, type: prefix + "InternalServerError", message: "Internal server error")
}

/// Request ids in AWS's shape (52 upper-case letters and digits): a random per-process
/// prefix and a counter, so they are unique without a random draw per request.
final class RequestIDSource: @unchecked Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    init() {
        var g = SystemRandomNumberGenerator()
        prefix = String(decoding: (0..<39).map { _ in Self.alphabet[Int(g.next() % 36)] }, as: UTF8.self)
    }

    func next() -> String {
        var n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var digits = [UInt8](repeating: UInt8(ascii: "A"), count: 13)
        var i = 12
        while n > 0 && i >= 0 {
            digits[i] = Self.alphabet[Int(n % 36)]
            n /= 36
            i -= 1
        }
        return prefix + String(decoding: digits, as: UTF8.self)
    }
}
