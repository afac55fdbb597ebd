// The handler contract and what the server refuses before a handler sees a request.
// Threading rules: docs/http.md, "Threading".

/// What the server refuses before a handler sees the request. After any refusal the
/// server sends the handler's `response(for:)` with `Connection: close` and closes.
public enum HTTPRefusal: Sendable, Equatable {
    /// 400: bad request line, header syntax, chunk framing or Content-Length, a missing
    /// or repeated Host, or a gzip body that does not inflate. The text says which.
    case malformedRequest(String)
    /// 431: request line and header block (or a chunked body's trailers) over
    /// `limits.maxHeaderBytes`.
    case headersTooLarge
    /// 413: Content-Length, de-chunked body or inflated body over `limits.maxBodyBytes`;
    /// `declared` is the Content-Length when that is what was too large.
    case bodyTooLarge(declared: Int?)
    /// 408: the head or the body did not arrive in time (a slowloris client).
    case requestTimeout
    /// 505: an HTTP version other than 1.x.
    case unsupportedVersion
    /// 501: a transfer coding other than chunked (the coding named).
    case unsupportedTransferEncoding(String)
    /// 415: a content coding other than gzip, x-gzip or identity (the coding named).
    case unsupportedContentEncoding(String)
    /// 503: the connection would be over `limits.maxConnections`; closed after.
    case tooManyConnections

    public var status: Int {
        switch self {
        case .malformedRequest: return 400
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .requestTimeout: return 408
        case .unsupportedVersion: return 505
        case .unsupportedTransferEncoding: return 501
        case .unsupportedContentEncoding: return 415
        case .tooManyConnections: return 503
        }
    }

    /// One line for a log or a plain-text body: "malformed request: bad chunk size".
    public var message: String {
        switch self {
        case .malformedRequest(let why): return "malformed request: \(why)"
        case .headersTooLarge: return "request header fields too large"
        case .bodyTooLarge(let declared?): return "request body too large (Content-Length \(declared))"
        case .bodyTooLarge(nil): return "request body too large"
        case .requestTimeout: return "request not received in time"
        case .unsupportedVersion: return "HTTP version not supported (HTTP/1.1 and HTTP/1.0 are)"
        case .unsupportedTransferEncoding(let coding): return "transfer coding '\(coding)' not supported (chunked is)"
        case .unsupportedContentEncoding(let coding): return "content coding '\(coding)' not supported (gzip and identity are)"
        case .tooManyConnections: return "too many connections"
        }
    }
}

extension HTTPRefusal: CustomStringConvertible {
    public var description: String { "\(status) \(HTTPResponse.reasonPhrase(status)): \(message)" }
}

/// The application: turns a request into a response.
///
/// Contract (docs/http.md, "Threading"): `respond(to:)` and `response(for:)` are called
/// concurrently from many connection threads, one call per thread at a time, so a handler
/// must be safe to call from several threads at once (hence `Sendable`). Requests on one
/// connection are handled one after another, in order. A call that never returns holds
/// its connection (and `HTTPServer.run()` at shutdown) for ever: the server has no way to
/// interrupt a handler.
public protocol HTTPHandler: Sendable {
    func respond(to request: HTTPRequest) -> HTTPResponse
    /// The response for a refusal (the application picks the body shape); default:
    /// `text/plain`, one line (`HTTPRefusal.description`).
    func response(for refusal: HTTPRefusal) -> HTTPResponse
}

extension HTTPHandler {
    public func response(for refusal: HTTPRefusal) -> HTTPResponse {
        HTTPResponse.text(refusal.status, refusal.description + "\n")
    }
}
