// Sends signed requests to one AWS (or compatible) endpoint, with the standard retry
// mode. Knows the AWS protocol pieces (SigV4, error shapes, retries), not DynamoDB's or
// S3's operations: RemoteDynamoDB and RemoteObjectStore sit on it. docs/remote.md.
import Foundation
import FerryAWS
import FerryHTTP
import FerryHTTPS

/// A request that failed: the endpoint, the operation and what the service (or the
/// network) said. One line: `An error occurred (AccessDeniedException) when calling the
/// PutItem operation on http://127.0.0.1:8000: message`.
public struct AWSRequestError: Error, Sendable, CustomStringConvertible {
    public enum Failure: Sendable, Equatable {
        /// The service's error: HTTP status, error code, message.
        case service(status: Int, code: String, message: String)
        /// No complete answer (after the retries allowed).
        case network(HTTPClientError)
        /// The answer arrived but is not what the protocol says (a bad checksum, JSON
        /// that does not parse).
        case invalidResponse(String)
    }

    public let endpoint: String
    public let operation: String
    public let failure: Failure
    /// Attempts made, the first included.
    public let attempts: Int

    public init(endpoint: String, operation: String, failure: Failure, attempts: Int = 1) {
        self.endpoint = endpoint
        self.operation = operation
        self.failure = failure
        self.attempts = attempts
    }

    /// The error code, or nil for a network failure.
    public var code: String? {
        if case let .service(_, code, _) = failure { return code }
        return nil
    }

    public var description: String {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        switch failure {
        case let .service(status, code, message):
            let text = message.isEmpty ? "HTTP \(status)" : message
            return "An error occurred (\(code)) when calling the \(operation) operation on \(endpoint)\(tries): \(text)"
        case let .network(error):
            return "Could not call \(operation) on \(endpoint)\(tries): \(error)"
        case let .invalidResponse(why):
            return "The \(operation) answer from \(endpoint) is not valid\(tries): \(why)"
        }
    }
}

/// One endpoint's transport, signer and retry strategy. Thread-safe: requests from any
/// number of threads share its connections and retry quota.
public final class AWSClient: Sendable {
    public let settings: AWSSettings
    public let endpoint: HTTPEndpoint
    let transport: any HTTPTransport
    let signer: SigV4Signer?
    public let retry: AWSRetryStrategy

    /// Reads the service's error code and message from a failed response.
    public typealias ErrorReader = @Sendable (HTTPClientResponse) -> (code: String, message: String)

    /// A client for `settings`' endpoint (which must be set), with credentials from its
    /// chain unless requests go unsigned.
    public init(settings: AWSSettings, retry: AWSRetryStrategy? = nil, timeouts: HTTPClient.Timeouts = HTTPClient.Timeouts()) throws(AWSSettingsError) {
        guard let url = settings.endpointURL else { throw AWSSettingsError("no endpoint configured for \(settings.service.rawValue)") }
        let endpoint: HTTPEndpoint
        do {
            endpoint = try HTTPEndpoint(parsing: url)
        } catch {
            throw AWSSettingsError("\(error) (from \(settings.endpointSource.map { "\($0)" } ?? "settings"))",
                                   fromOption: settings.endpointSource == .option("--endpoint-url"))
        }
        self.settings = settings
        self.endpoint = endpoint
        switch endpoint.scheme {
        case .http: transport = HTTPClient(endpoint: endpoint, timeouts: timeouts)
        case .https: transport = URLSessionTransport(endpoint: endpoint, connectTimeout: timeouts.connect, idleTimeout: timeouts.idle)
        }
        if let credentials = try settings.credentials() {
            let options = settings.service == .s3 ? SigV4Signer.Options.s3 : SigV4Signer.Options()
            signer = SigV4Signer(credentials: credentials, region: settings.region, service: settings.service.signingName, options: options)
        } else {
            signer = nil
        }
        let environment = ProcessInfo.processInfo.environment
        let attempts = environment["AWS_MAX_ATTEMPTS"].flatMap(Int.init) ?? 3
        self.retry = retry ?? AWSRetryStrategy(maxAttempts: attempts)
    }

    /// Sends `request` (its target already percent-encoded), signing each attempt afresh
    /// and retrying what the standard mode retries; a request that is not `idempotent`
    /// is retried only when the failure proves it was not applied. A response with a
    /// status of 300 or more is an error read by `readError`. With a `sink`, a retry
    /// happens only while the sink has not yet been given a byte.
    public func send(_ request: HTTPClientRequest, operation: String, idempotent: Bool, payload: SigV4Payload? = nil,
                     maxBodyBytes: Int = 256 << 20, readError: ErrorReader,
                     sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws(AWSRequestError) -> HTTPClientResponse {
        var attempt = 1
        var retryCost: Int?
        while true {
            var delivered = false
            let wrapped: ((UnsafeRawBufferPointer) throws -> Void)? = sink.map { s in { piece in delivered = true; try s(piece) } }
            let failure: AWSAttemptFailure
            let error: AWSRequestError.Failure
            do {
                let signed = sign(request, payload: payload)
                let response = try transport.send(signed, maxBodyBytes: maxBodyBytes, sink: wrapped)
                if response.status < 300 || (response.status == 304) {
                    retry.recordSuccess(retriedWithCost: retryCost)
                    return response
                }
                let (code, message) = readError(response)
                failure = .service(status: response.status, code: code)
                error = .service(status: response.status, code: code, message: message)
            } catch let e {
                if case .sinkFailed = e { throw AWSRequestError(endpoint: endpoint.description, operation: operation, failure: .network(e), attempts: attempt) }
                var sent = true
                if case .cannotConnect = e { sent = false }
                var timeout = false
                if case .timedOut = e { timeout = true }
                failure = e.isTransient ? .connection(requestSent: sent, timeout: timeout) : .service(status: 0, code: "")
                error = .network(e)
                if !e.isTransient { throw AWSRequestError(endpoint: endpoint.description, operation: operation, failure: error, attempts: attempt) }
            }
            guard !delivered, let delay = retry.delayBeforeRetry(after: failure, attempt: attempt, idempotent: idempotent) else {
                throw AWSRequestError(endpoint: endpoint.description, operation: operation, failure: error, attempts: attempt)
            }
            retryCost = AWSRetryStrategy.cost(of: failure)
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            attempt += 1
        }
    }

    /// The request with Host, the signature's headers and Authorization (unchanged when
    /// requests go unsigned). The signed path includes the endpoint's base path.
    func sign(_ request: HTTPClientRequest, payload: SigV4Payload?) -> HTTPClientRequest {
        var out = request
        if !out.headers.contains("host") { out.headers.add("Host", endpoint.hostHeader) }
        guard let signer else { return out }
        let target = endpoint.basePath + request.target
        let q = target.firstIndex(of: "?")
        let path = q.map { String(target[..<$0]) } ?? target
        let query = q.map { String(target[target.index(after: $0)...]) } ?? ""
        let sigRequest = SigV4Request(method: out.method, path: path, query: query, headers: out.headers.fields,
                                      payload: payload ?? .bytes(out.body))
        let signature = signer.sign(sigRequest, at: SigV4Date(Date()))
        out.headers = HTTPHeaders(signature.request.headers)
        return out
    }
}
