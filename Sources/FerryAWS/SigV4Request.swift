// The plain values SigV4 signs and verifies. See ../../docs/sigv4.md.
import FerryIO

/// An access key id, its secret and, for temporary credentials, the session token.
public struct SigV4Credentials: Sendable, Hashable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// What the last line of the canonical request says about the body.
public enum SigV4Payload: Sendable, Hashable {
    /// The body itself; it is hashed when needed.
    case bytes([UInt8])
    /// The body's SHA-256 as 64 lower-case hex digits (for a caller that hashed it while
    /// reading it).
    case sha256(String)
    /// `UNSIGNED-PAYLOAD` (S3 over TLS); the body is not covered by the signature.
    case unsigned

    /// The SHA-256 of the empty body.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The body's SHA-256 in lower-case hex, or `UNSIGNED-PAYLOAD`.
    public var hashHex: String {
        switch self {
        case .bytes(let body): return body.isEmpty ? Self.emptySHA256 : Hex.encode(SHA256.digest(body))
        case .sha256(let hex): return hex
        case .unsigned: return Self.unsignedPayload
        }
    }
}

/// An HTTP request as it is (or will be) on the wire: no server or client types, just
/// the method, the raw request target split at its first `?`, the header fields in order
/// (names as sent, repeated names repeated) and the body or its hash.
public struct SigV4Request: Sendable {
    /// `GET`, `POST`, ... (case-sensitive, as sent).
    public var method: String
    /// The path as sent, still percent-encoded (`/my%20file`), without the query.
    public var path: String
    /// The query string as sent, without the `?` (empty if none).
    public var query: String
    /// Header fields in the order they were sent.
    public var headers: [(name: String, value: String)]
    public var payload: SigV4Payload

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)],
                payload: SigV4Payload = .bytes([])) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payload = payload
    }

    /// Splits a request target (`/path?query`) at its first `?`.
    public init(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8] = []) {
        if let mark = target.firstIndex(of: "?") {
            self.init(method: method, path: String(target[..<mark]), query: String(target[target.index(after: mark)...]),
                      headers: headers, payload: .bytes(body))
        } else {
            self.init(method: method, path: target, query: "", headers: headers, payload: .bytes(body))
        }
    }

    /// The first value of the header `name` (compared case-insensitively), or nil.
    public func header(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { wanted in
            for field in headers {
                var fieldName = field.name
                if fieldName.withUTF8({ SigV4Canonical.equalsIgnoringASCIICase($0, wanted) }) { return field.value }
            }
            return nil
        }
    }

    /// Every value of the header `name`, in order.
    public func headerValues(_ name: String) -> [String] {
        var name = name
        return name.withUTF8 { wanted in
            var values: [String] = []
            for field in headers {
                var fieldName = field.name
                if fieldName.withUTF8({ SigV4Canonical.equalsIgnoringASCIICase($0, wanted) }) { values.append(field.value) }
            }
            return values
        }
    }

    /// This request with every `name` header removed and `value` appended (or put in the
    /// place of the first one, so the order of the others does not change).
    public func settingHeader(_ name: String, _ value: String) -> SigV4Request {
        var copy = self
        var replaced = false
        copy.headers = headers.compactMap { field in
            guard SigV4Canonical.equalsIgnoringASCIICase(field.name, name) else { return field }
            if replaced { return nil }
            replaced = true
            return (name: field.name, value: value)
        }
        if !replaced { copy.headers.append((name: name, value: value)) }
        return copy
    }
}
