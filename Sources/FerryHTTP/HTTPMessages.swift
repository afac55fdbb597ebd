// HTTP/1.1 messages as the server hands them to a handler and takes them back.
// What the server does with them on the wire: docs/http.md.

/// Header fields in the order they arrived (or were added), looked up by name without
/// regard to ASCII case. Repeated names are kept as separate fields. A value type:
/// thread-safe as any Swift value is (each copy is its own).
public struct HTTPHeaders: Sendable {
    public var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// The first value of `name` (compared without ASCII case), or nil.
    public subscript(_ name: String) -> String? {
        for field in fields where HTTPHeaders.sameName(field.name, name) { return field.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        var result: [String] = []
        for field in fields where HTTPHeaders.sameName(field.name, name) { result.append(field.value) }
        return result
    }

    /// True when at least one field is called `name`.
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPHeaders.sameName($0.name, name) }
    }

    public var count: Int { fields.count }

    /// Appends a field (an existing one of the same name stays).
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field called `name` with one field holding `value`, placed where
    /// the first one was (at the end when there was none).
    public mutating func set(_ name: String, _ value: String) {
        if let first = fields.firstIndex(where: { HTTPHeaders.sameName($0.name, name) }) {
            fields[first].value = value
            var index = fields.count - 1
            while index > first {
                if HTTPHeaders.sameName(fields[index].name, name) { fields.remove(at: index) }
                index -= 1
            }
        } else {
            fields.append((name: name, value: value))
        }
    }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPHeaders.sameName($0.name, name) }
    }

    /// Header names are ASCII tokens: equal when equal after ASCII lower-casing.
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in asciiCaseInsensitiveEqual(x, y) } }
    }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
    /// `["Content-Type": "text/plain"]`, in the literal's order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { (name: $0.0, value: $0.1) })
    }
}

extension HTTPHeaders: CustomStringConvertible {
    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

@inline(__always)
func asciiCaseInsensitiveEqual(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
    guard x.count == y.count else { return false }
    for i in 0..<x.count where x[i] != y[i] {
        let a = x[i] | 0x20, b = y[i] | 0x20
        guard a == b, a >= 0x61, a <= 0x7A else { return false }
    }
    return true
}

/// One request as the server read it. The body is complete (the handler is called only
/// after the last byte arrived); nothing in it has been interpreted beyond framing.
public struct HTTPRequest: Sendable {
    /// The method token, case as sent: "GET", "POST".
    public var method: String
    /// The raw request-target: "/a%20b?x=1" (or an absolute "http://host/a" or "*").
    public var target: String
    /// The raw (still percent-encoded) path part of the target, before '?'. For an
    /// absolute-form target, the path after the authority ("/" when empty).
    public var path: String
    /// The raw part after the first '?', "" when there is none.
    public var query: String
    /// "HTTP/1.1" or "HTTP/1.0" (a higher 1.x minor version is served as 1.1).
    public var version: String
    public var headers: HTTPHeaders
    /// The body, de-chunked and, with `Content-Encoding: gzip` (or `x-gzip`), inflated.
    public var body: [UInt8]
    /// The body de-chunked but not content-decoded: what a SigV4 payload hash covers.
    /// The same storage as `body` (no copy) when there is no content coding.
    public var wireBody: [UInt8]
    /// The peer: "127.0.0.1:54321" or "[::1]:54321".
    public var remoteAddress: String

    /// A request built by hand (tests, or a handler calling another). `path` and `query`
    /// are split from `target`; `wireBody` defaults to `body`.
    public init(method: String, target: String, version: String = "HTTP/1.1", headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], wireBody: [UInt8]? = nil, remoteAddress: String = "") {
        self.method = method
        self.target = target
        let split = HTTPRequest.splitTarget(target)
        self.path = split.path
        self.query = split.query
        self.version = version
        self.headers = headers
        self.body = body
        self.wireBody = wireBody ?? body
        self.remoteAddress = remoteAddress
    }

    init(method: String, target: String, path: String, query: String, version: String, headers: HTTPHeaders,
         body: [UInt8], wireBody: [UInt8], remoteAddress: String) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.wireBody = wireBody
        self.remoteAddress = remoteAddress
    }

    /// Path and query of a request-target, as the decoder splits them.
    static func splitTarget(_ target: String) -> (path: String, query: String) {
        var target = target
        return target.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            let parts = HTTPSyntax.splitTarget(raw)
            let path = parts.path.isEmpty ? "/" : String(decoding: UnsafeRawBufferPointer(rebasing: raw[parts.path]), as: UTF8.self)
            return (path,
                    String(decoding: UnsafeRawBufferPointer(rebasing: raw[parts.query]), as: UTF8.self))
        }
    }
}

/// What a handler answers. The server writes the status line with the standard reason
/// phrase, these headers (without any Content-Length, Transfer-Encoding or Connection:
/// the server sets those), `Content-Length`, `Connection: close` when it closes, and the
/// body. A handler asks for the connection to be closed with `Connection: close`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ status: Int, _ text: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        if !headers.contains("Content-Type") { headers.add("Content-Type", "text/plain; charset=utf-8") }
        return HTTPResponse(status: status, headers: headers, body: Array(text.utf8))
    }

    /// The standard reason phrase of a status code ("Not Found"), "" for unknown codes.
    public static func reasonPhrase(_ status: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(HTTPStatus.reason(status)), as: UTF8.self)
    }
}

/// Reason phrases (RFC 9110 section 15) as static bytes, for the status line.
enum HTTPStatus {
    static func reason(_ status: Int) -> UnsafeBufferPointer<UInt8> {
        let text: StaticString
        switch status {
        case 100: text = "Continue"
        case 101: text = "Switching Protocols"
        case 200: text = "OK"
        case 201: text = "Created"
        case 202: text = "Accepted"
        case 203: text = "Non-Authoritative Information"
        case 204: text = "No Content"
        case 205: text = "Reset Content"
        case 206: text = "Partial Content"
        case 300: text = "Multiple Choices"
        case 301: text = "Moved Permanently"
        case 302: text = "Found"
        case 303: text = "See Other"
        case 304: text = "Not Modified"
        case 307: text = "Temporary Redirect"
        case 308: text = "Permanent Redirect"
        case 400: text = "Bad Request"
        case 401: text = "Unauthorized"
        case 402: text = "Payment Required"
        case 403: text = "Forbidden"
        case 404: text = "Not Found"
        case 405: text = "Method Not Allowed"
        case 406: text = "Not Acceptable"
        case 407: text = "Proxy Authentication Required"
        case 408: text = "Request Timeout"
        case 409: text = "Conflict"
        case 410: text = "Gone"
        case 411: text = "Length Required"
        case 412: text = "Precondition Failed"
        case 413: text = "Content Too Large"
        case 414: text = "URI Too Long"
        case 415: text = "Unsupported Media Type"
        case 416: text = "Range Not Satisfiable"
        case 417: text = "Expectation Failed"
        case 421: text = "Misdirected Request"
        case 422: text = "Unprocessable Content"
        case 425: text = "Too Early"
        case 426: text = "Upgrade Required"
        case 428: text = "Precondition Required"
        case 429: text = "Too Many Requests"
        case 431: text = "Request Header Fields Too Large"
        case 451: text = "Unavailable For Legal Reasons"
        case 500: text = "Internal Server Error"
        case 501: text = "Not Implemented"
        case 502: text = "Bad Gateway"
        case 503: text = "Service Unavailable"
        case 504: text = "Gateway Timeout"
        case 505: text = "HTTP Version Not Supported"
        case 507: text = "Insufficient Storage"
        case 511: text = "Network Authentication Required"
        default: text = ""
        }
        return UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}
