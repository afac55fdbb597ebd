// AWS Signature Version 4: the signing key and the signer. See ../../docs/sigv4.md.
import FerryIO
import Foundation

/// Signs requests with AWS Signature Version 4 (the `Authorization` header form).
///
/// A pure function of the request, the credentials, region, service and time: no clock,
/// no network, no environment. The signing key comes from `keyCache`, derived once per
/// (secret, date, region, service). Value type, `Sendable`.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let terminator = "aws4_request"

    public struct Options: Sendable, Hashable {
        /// `.normalized` for every service but S3, `.s3` for S3.
        public var pathMode: SigV4Canonical.PathMode = .normalized
        /// Where a session token goes.
        public var sessionToken: SessionTokenPlacement = .signed
        /// Adds `X-Amz-Content-Sha256` (the payload hash) before signing, as S3 requires.
        public var addContentSHA256Header = false
        /// Lower-case names of headers left out of the signature. The default is
        /// botocore's list (proxies and clients change these) plus `authorization`.
        public var unsignedHeaders: Set<String> = ["authorization", "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"]

        public init(pathMode: SigV4Canonical.PathMode = .normalized, sessionToken: SessionTokenPlacement = .signed,
                    addContentSHA256Header: Bool = false) {
            self.pathMode = pathMode
            self.sessionToken = sessionToken
            self.addContentSHA256Header = addContentSHA256Header
        }

        /// S3's rules: no path normalization, the payload hash in `X-Amz-Content-Sha256`.
        public static let s3 = Options(pathMode: .s3, addContentSHA256Header: true)
    }

    public enum SessionTokenPlacement: Sendable, Hashable {
        /// `X-Amz-Security-Token` is added before signing and is signed (botocore, and
        /// what most services require).
        case signed
        /// `X-Amz-Security-Token` is added after the signature is computed, unsigned
        /// (the test suite's `post-sts-header-after`).
        case addedAfterSigning
    }

    public var credentials: SigV4Credentials
    public var region: String
    public var service: String
    public var options: Options
    public let keyCache: SigV4SigningKeyCache

    public init(credentials: SigV4Credentials, region: String, service: String, options: Options = Options(),
                keyCache: SigV4SigningKeyCache = .shared) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
        self.keyCache = keyCache
    }

    /// Signs `request` at `date`. `X-Amz-Date` is set to `date` (replacing one already
    /// there), `X-Amz-Security-Token` and `X-Amz-Content-Sha256` are added as the
    /// options say, and the result's `request` carries them and `Authorization`.
    public func sign(_ request: SigV4Request, at date: SigV4Date) -> SigV4Signature {
        let amzDate = date.iso8601Basic
        var prepared = request.settingHeader("X-Amz-Date", amzDate)
        var added: [(name: String, value: String)] = []
        if request.header("X-Amz-Date") == nil { added.append((name: "X-Amz-Date", value: amzDate)) }
        let token = credentials.sessionToken
        if let token, options.sessionToken == .signed, prepared.header("X-Amz-Security-Token") == nil {
            prepared.headers.append((name: "X-Amz-Security-Token", value: token))
            added.append((name: "X-Amz-Security-Token", value: token))
        }
        if options.addContentSHA256Header, prepared.header("X-Amz-Content-Sha256") == nil {
            let hash = prepared.payload.hashHex
            prepared.headers.append((name: "X-Amz-Content-Sha256", value: hash))
            added.append((name: "X-Amz-Content-Sha256", value: hash))
        }

        var unsigned = options.unsignedHeaders
        if token != nil && options.sessionToken == .addedAfterSigning { unsigned.insert("x-amz-security-token") }
        let headers = Self.groupedHeaders(prepared.headers, excluding: unsigned)
        let signedHeaders = headers.map(\.lowercasedName).joined(separator: ";")
        let payloadHash = prepared.header("X-Amz-Content-Sha256").map(SigV4Canonical.headerValue) ?? prepared.payload.hashHex

        let scope = "\(date.dateStamp)/\(region)/\(service)/\(Self.terminator)"
        let canonical = SigV4Canonical.canonicalRequest(method: prepared.method, path: prepared.path, query: prepared.query,
                                                        mode: options.pathMode, headers: headers,
                                                        signedHeaders: signedHeaders, payloadHash: payloadHash)
        let stringToSign = SigV4Canonical.stringToSign(amzDate: amzDate, scope: scope,
                                                       canonicalRequestHash: Hex.encode(SHA256.digest(canonical)))
        let mac = keyCache.signingMAC(secretAccessKey: credentials.secretAccessKey, dateStamp: date.dateStamp,
                                      region: region, service: service)
        let signature = Hex.encode(mac.authenticationCode(for: stringToSign))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"

        prepared = prepared.settingHeader("Authorization", authorization)
        added.append((name: "Authorization", value: authorization))
        if let token, options.sessionToken == .addedAfterSigning, prepared.header("X-Amz-Security-Token") == nil {
            prepared.headers.append((name: "X-Amz-Security-Token", value: token))
            added.append((name: "X-Amz-Security-Token", value: token))
        }
        return SigV4Signature(canonicalRequest: String(decoding: canonical, as: UTF8.self),
                              stringToSign: String(decoding: stringToSign, as: UTF8.self),
                              credentialScope: scope, signedHeaders: signedHeaders, signature: signature,
                              authorization: authorization, addedHeaders: added, request: prepared)
    }

    /// The headers to sign: names lower-cased, values of a repeated name kept in the
    /// order sent, names sorted byte by byte.
    static func groupedHeaders(_ headers: [(name: String, value: String)], excluding: Set<String>)
        -> [(lowercasedName: String, values: [String])] {
        var groups: [(lowercasedName: String, values: [String])] = []
        var index: [String: Int] = [:]
        for field in headers {
            let name = SigV4Canonical.lowercased(field.name)
            if excluding.contains(name) { continue }
            if let i = index[name] {
                groups[i].values.append(field.value)
            } else {
                index[name] = groups.count
                groups.append((name, [field.value]))
            }
        }
        groups.sort { Array($0.lowercasedName.utf8).lexicographicallyPrecedes(Array($1.lowercasedName.utf8)) }
        return groups
    }

    /// The signing key: HMAC chain `AWS4`+secret → date → region → service → `aws4_request`.
    public static func signingKey(secretAccessKey: String, dateStamp: String, region: String, service: String) -> [UInt8] {
        let kDate = HMACSHA256(key: Array(("AWS4" + secretAccessKey).utf8)).authenticationCode(for: dateStamp)
        let kRegion = HMACSHA256(key: kDate).authenticationCode(for: region)
        let kService = HMACSHA256(key: kRegion).authenticationCode(for: service)
        return HMACSHA256(key: kService).authenticationCode(for: terminator)
    }
}

/// What signing produced: the intermediate texts (for tests and for debugging a
/// mismatch), the `Authorization` value, and the request ready to send.
public struct SigV4Signature: Sendable {
    public let canonicalRequest: String
    public let stringToSign: String
    /// `20150830/us-east-1/service/aws4_request`.
    public let credentialScope: String
    /// `host;x-amz-date`.
    public let signedHeaders: String
    /// 64 lower-case hex digits.
    public let signature: String
    /// `AWS4-HMAC-SHA256 Credential=AKID/<scope>, SignedHeaders=..., Signature=...`.
    public let authorization: String
    /// The header fields the signer added or set, in order, `Authorization` among them.
    public let addedHeaders: [(name: String, value: String)]
    /// The request with those fields.
    public let request: SigV4Request
}

/// Signing keys, derived once per (secret, date, region, service) and kept as a keyed
/// HMAC (pads absorbed), so signing or verifying a request costs two SHA-256 passes of
/// the canonical request and string to sign and no key derivation.
///
/// Thread-safe (one lock around a dictionary). Bounded: when `capacity` keys are held,
/// the cache is emptied (keys change daily, so it refills with what is in use).
public final class SigV4SigningKeyCache: @unchecked Sendable {
    public static let shared = SigV4SigningKeyCache()

    private struct Key: Hashable {
        let secret: String, dateStamp: String, region: String, service: String
    }

    public let capacity: Int
    private let lock = NSLock()
    private var entries: [Key: HMACSHA256] = [:]
    private var derivations = 0

    public init(capacity: Int = 1024) { self.capacity = max(1, capacity) }

    /// The keyed HMAC of the signing key.
    public func signingMAC(secretAccessKey: String, dateStamp: String, region: String, service: String) -> HMACSHA256 {
        let key = Key(secret: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        lock.lock()
        if let mac = entries[key] {
            lock.unlock()
            return mac
        }
        lock.unlock()
        let mac = HMACSHA256(key: SigV4Signer.signingKey(secretAccessKey: secretAccessKey, dateStamp: dateStamp,
                                                         region: region, service: service))
        lock.lock()
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = mac
        derivations += 1
        lock.unlock()
        return mac
    }

    /// How many keys have been derived (for tests of the cache).
    public var derivationCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return derivations
    }

    public func removeAll() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }
}
