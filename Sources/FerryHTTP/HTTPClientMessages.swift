// What an HTTP client sends and gets back, the endpoint it talks to, and how a request
// can fail. The wire rules: docs/http.md, "Client".

/// Where requests go: `http://host:port` (Ferry's own client) or `https://...` (the
/// toolchain's URLSession, docs/remote.md). A value type.
public struct HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }
    public let scheme: Scheme
    /// Host name or address literal, without brackets for IPv6.
    public let host: String
    public let port: Int
    /// A path prefix every request target starts with ("" or "/prefix" without a trailing slash).
    public let basePath: String

    public init(scheme: Scheme, host: String, port: Int, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `http://127.0.0.1:8000`, `https://dynamodb.us-east-1.amazonaws.com`,
    /// `http://[::1]:9000/prefix`. A query, fragment or user info is refused: AWS
    /// endpoints have none, and a typo there should not be sent somewhere.
    public init(parsing url: String) throws(HTTPClientError) {
        func bad(_ why: String) -> HTTPClientError { .invalidEndpoint(url, why) }
        let schemeEnd: String.Index
        let scheme: Scheme
        if let r = url.range(of: "://") {
            schemeEnd = r.upperBound
            guard let s = Scheme(rawValue: url[..<r.lowerBound].lowercased()) else {
                throw bad("the scheme must be http or https")
            }
            scheme = s
        } else {
            throw bad("expected http://host[:port] or https://host[:port]")
        }
        let rest = url[schemeEnd...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        guard !path.contains("?"), !path.contains("#") else { throw bad("an endpoint has no query or fragment") }
        guard !authority.contains("@") else { throw bad("user info does not belong in an endpoint; use credentials") }
        while path.hasSuffix("/") { path.removeLast() }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("an IPv6 address needs its closing ']'") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("expected ':port' after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw bad("the host is missing") }
        guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:".contains($0)) }) else {
            throw bad("the host has characters a host name cannot have")
        }
        var port = scheme == .https ? 443 : 80
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw bad("the port must be a number from 1 to 65535") }
            port = p
        }
        self.init(scheme: scheme, host: String(host).lowercased(), port: port, basePath: path)
    }

    /// The Host header: the port only when it is not the scheme's default (as botocore sends it).
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == .https ? 443 : 80
        return port == defaultPort ? h : "\(h):\(port)"
    }

    /// `http://127.0.0.1:8000` (with the base path): how messages name the endpoint.
    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(basePath)" }
}

/// A request to send. `target` is the path and query as they go on the wire (already
/// percent-encoded), without the endpoint's base path. The client adds `Host` and
/// `Content-Length`; the caller's other fields go as given, in order.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }
}

/// A response as the client returns it: the server's own message type (status, fields
/// in order, body; the body is empty when it went to a sink).
public typealias HTTPClientResponse = HTTPResponse

/// How sending a request failed before a whole response arrived. Each names the endpoint
/// when it is shown (`HTTPClientError.describe(endpoint:)`).
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidEndpoint(String, String)
    /// The host name did not resolve (getaddrinfo's text).
    case cannotResolve(host: String, String)
    /// connect(2) failed for every address (the last error's text).
    case cannotConnect(String)
    /// No answer (or no more of one) within the time allowed; `phase` says where.
    case timedOut(phase: String)
    /// The peer closed or reset the connection; `afterResponseStarted` is false when not a
    /// byte of the response had arrived (the request may or may not have been acted on).
    case connectionLost(String, afterResponseStarted: Bool)
    /// The bytes were not an HTTP/1.x response (the reason).
    case malformedResponse(String)
    /// The body passed the limit the caller set for a collected body.
    case responseTooLarge(limit: Int)
    /// The caller's body sink threw (its text); the connection is closed.
    case sinkFailed(String)
    /// TLS or another failure reported by URLSession (its text).
    case transport(String)

    public var description: String {
        switch self {
        case let .invalidEndpoint(url, why): return "invalid endpoint \(url): \(why)"
        case let .cannotResolve(host, why): return "cannot resolve host \(host): \(why)"
        case let .cannotConnect(why): return "cannot connect: \(why)"
        case let .timedOut(phase): return "timed out \(phase)"
        case let .connectionLost(why, started): return started ? "connection lost during the response: \(why)" : "connection lost before a response: \(why)"
        case let .malformedResponse(why): return "malformed response: \(why)"
        case let .responseTooLarge(limit): return "response body over \(limit) bytes"
        case let .sinkFailed(why): return why
        case let .transport(why): return why
        }
    }

    /// Runs `body`, whose closures cannot carry a typed throw (withUnsafeBytes), and
    /// gives back the HTTPClientError it threw.
    @inline(__always)
    static func typed<T>(_ body: () throws -> T) throws(HTTPClientError) -> T {
        do { return try body() } catch let error as HTTPClientError { throw error } catch { throw .sinkFailed("\(error)") }
    }

    /// True for failures a retry may cure (a connection reset, a timeout, a refused
    /// connect), as the SDKs' standard retry mode treats them; false for a bad endpoint,
    /// an unresolvable host, a malformed answer or the caller's own sink.
    public var isTransient: Bool {
        switch self {
        case .cannotConnect, .timedOut, .connectionLost: return true
        // URLSession's other failures include an untrusted certificate: trying again cannot help.
        case .invalidEndpoint, .cannotResolve, .malformedResponse, .responseTooLarge, .sinkFailed, .transport: return false
        }
    }
}

/// Something that sends a request to one endpoint and returns the answer: `HTTPClient`
/// (plain HTTP, Ferry's own code) or `URLSessionTransport` (HTTPS). Implementations are
/// thread-safe: many threads may send at once.
public protocol HTTPTransport: Sendable {
    var endpoint: HTTPEndpoint { get }
    /// Sends `request`; the body goes to `sink` piece by piece when given (the response's
    /// `body` is then empty), otherwise it is collected up to `maxBodyBytes`.
    func send(_ request: HTTPClientRequest, maxBodyBytes: Int,
              sink: ((UnsafeRawBufferPointer) throws -> Void)?) throws(HTTPClientError) -> HTTPClientResponse
}

extension HTTPTransport {
    /// Sends `request` and collects the body (at most 256 MiB).
    public func send(_ request: HTTPClientRequest) throws(HTTPClientError) -> HTTPClientResponse {
        try send(request, maxBodyBytes: 256 << 20, sink: nil)
    }
}
