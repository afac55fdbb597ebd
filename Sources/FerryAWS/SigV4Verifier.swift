// Checks a request's AWS Signature Version 4 as DynamoDB does. See ../../docs/sigv4.md.
import FerryIO

/// Verifies the `Authorization` header of a request, in Amazon's order of checks (the
/// first failure is the answer):
///
/// 1. an `Authorization` header starting `AWS4-`, else `MissingAuthenticationToken`;
/// 2. every part of it `key=value`; `Credential`, `Signature`, `SignedHeaders` present;
///    an `X-Amz-Date` or `Date` header present;
/// 3. the time (`X-Amz-Date`, else `Date`) well-formed and within `maxSkewSeconds` of now;
/// 4. `host` among the signed headers;
/// 5. the algorithm `AWS4-HMAC-SHA256`;
/// 6. the credential `keyid/date/region/service/aws4_request`, its date the request's,
///    its region and service the expected ones (when set);
/// 7. the access key id known;
/// 8. the signature equal to the one computed (constant-time comparison);
/// 9. `X-Amz-Content-Sha256`, if sent, equal to the body's SHA-256.
///
/// Pure: the clock is the `now` argument. `Sendable`; the lookup must be thread-safe.
public struct SigV4Verifier: Sendable {
    public struct Options: Sendable, Hashable {
        /// The region the credential scope must name; nil accepts any.
        public var region: String?
        /// The service the credential scope must name (`dynamodb`); nil accepts any.
        public var service: String?
        public var pathMode: SigV4Canonical.PathMode = .normalized
        /// How far the request time may be from now, either way (Amazon: 15 minutes).
        public var maxSkewSeconds: Int64 = 15 * 60
        /// Accept `X-Amz-Content-Sha256: UNSIGNED-PAYLOAD` (S3 does over TLS).
        public var allowUnsignedPayload = false

        public init(region: String? = nil, service: String? = nil, pathMode: SigV4Canonical.PathMode = .normalized,
                    maxSkewSeconds: Int64 = 15 * 60, allowUnsignedPayload: Bool = false) {
            self.region = region
            self.service = service
            self.pathMode = pathMode
            self.maxSkewSeconds = maxSkewSeconds
            self.allowUnsignedPayload = allowUnsignedPayload
        }
    }

    public var options: Options
    public let keyCache: SigV4SigningKeyCache
    private let secretFor: @Sendable (String) -> String?

    /// `secretFor` maps an access key id to its secret (nil: unknown key).
    public init(options: Options = Options(), keyCache: SigV4SigningKeyCache = .shared,
                secretFor: @escaping @Sendable (String) -> String?) {
        self.options = options
        self.keyCache = keyCache
        self.secretFor = secretFor
    }

    /// With a fixed map of access key id → secret (a `CredentialsFile`'s `secrets`).
    public init(secrets: [String: String], options: Options = Options(), keyCache: SigV4SigningKeyCache = .shared) {
        self.init(options: options, keyCache: keyCache, secretFor: { secrets[$0] })
    }

    /// Returns who signed the request, or throws the first check that failed.
    public func verify(_ request: SigV4Request, now: SigV4Date) throws(SigV4Error) -> SigV4Verified {
        // 1. The header.
        guard let rawAuthorization = request.header("Authorization") else { throw .missingAuthenticationToken }
        let authorization = SigV4Canonical.trimmed(rawAuthorization)
        let auth = Array(authorization.utf8)
        guard auth.count >= 5, auth[0..<5].elementsEqual(Self.aws4Prefix) else { throw .missingAuthenticationToken }

        // 2. Its parameters, and a date header.
        let parsed = try Self.parseAuthorization(auth, authorization)
        let amzDateHeader = request.header("X-Amz-Date")
        let dateHeader = amzDateHeader == nil ? request.header("Date") : nil
        var missing: [String] = []
        if parsed.credential?.isEmpty ?? true { missing.append("Credential") }
        if parsed.signature?.isEmpty ?? true { missing.append("Signature") }
        if parsed.signedHeaders == nil { missing.append("SignedHeaders") }
        let missingDate = amzDateHeader == nil && dateHeader == nil
        if !missing.isEmpty || missingDate {
            throw .missingParameters(missing: missing, missingDate: missingDate, authorization: authorization)
        }
        let credential = auth[parsed.credential!], signature = auth[parsed.signature!]
        let signedHeaders = auth[parsed.signedHeaders!]

        // 3. The time.
        let signedAt: SigV4Date
        let amzDate: String
        if let amzDateHeader {
            let value = SigV4Canonical.trimmed(amzDateHeader)
            guard let date = SigV4Date(iso8601Basic: value) else { throw .malformedDate(value) }
            signedAt = date
            amzDate = value
        } else {
            let value = SigV4Canonical.trimmed(dateHeader!)
            guard let date = SigV4Date(httpDate: value) else { throw .malformedDate(value) }
            signedAt = date
            amzDate = date.iso8601Basic
        }
        let skew = options.maxSkewSeconds
        if signedAt < now.adding(seconds: -skew) { throw .signatureExpired(signed: signedAt, now: now, skewSeconds: skew) }
        if signedAt > now.adding(seconds: skew) { throw .signatureNotYetCurrent(signed: signedAt, now: now, skewSeconds: skew) }

        // 4. Host signed.
        let signedNames = signedHeaders.split(separator: 0x3B, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard signedNames.contains(where: { SigV4Canonical.equalsIgnoringASCIICase($0, "host") }) else { throw .hostNotSigned }

        // 5. The algorithm.
        guard auth[parsed.algorithm].elementsEqual(Self.algorithmBytes) else {
            throw .unsupportedAlgorithm(String(decoding: auth[parsed.algorithm], as: UTF8.self))
        }

        // 6. The credential scope (trailing slashes are ignored, as Amazon does).
        var scopeBytes = credential
        while scopeBytes.last == 0x2F { scopeBytes = scopeBytes.dropLast() }
        let parts = scopeBytes.split(separator: 0x2F, omittingEmptySubsequences: false)
        guard parts.count == 5 else { throw .malformedCredential(String(decoding: credential, as: UTF8.self)) }
        let accessKeyId = String(decoding: parts[0], as: UTF8.self), scopeDate = String(decoding: parts[1], as: UTF8.self)
        let region = String(decoding: parts[2], as: UTF8.self), service = String(decoding: parts[3], as: UTF8.self)
        let terminator = String(decoding: parts[4], as: UTF8.self)
        let requestDateStamp = String(decoding: amzDate.utf8.prefix(8), as: UTF8.self)
        if (options.region.map { $0 != region } ?? false) || (options.service.map { $0 != service } ?? false)
            || terminator != SigV4Signer.terminator || scopeDate != requestDateStamp {
            var problems: [String] = []
            if let expected = options.region, region != expected {
                problems.append("Credential should be scoped to a valid region, not '\(region)'.")
            }
            if let expected = options.service, service != expected {
                problems.append("Credential should be scoped to correct service: '\(expected)'.")
            }
            if terminator != SigV4Signer.terminator {
                problems.append("Credential should be scoped with a valid terminator: '\(SigV4Signer.terminator)', not '\(terminator)'.")
            }
            if scopeDate != requestDateStamp {
                problems.append("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'\(scopeDate)' != '\(requestDateStamp)', from '\(amzDate)'.")
            }
            throw .credentialScopeMismatch(problems: problems)
        }

        // 7. The key.
        guard let secret = secretFor(accessKeyId) else { throw .unrecognizedClient(accessKeyId: accessKeyId) }

        // 8. The signature.
        let providedContentHash = request.header("X-Amz-Content-Sha256").map(SigV4Canonical.trimmed)
        var bodyHash: String?
        func computedBodyHash() -> String {
            if let bodyHash { return bodyHash }
            let hash = request.payload.hashHex
            bodyHash = hash
            return hash
        }
        let payloadHash = providedContentHash ?? computedBodyHash()
        let canonical = SigV4Canonical.canonicalRequest(method: request.method, path: request.path, query: request.query,
                                                        mode: options.pathMode,
                                                        signedHeaders: String(decoding: signedHeaders, as: UTF8.self),
                                                        payloadHash: payloadHash) { out in
            for name in signedNames { SigV4Canonical.appendHeaderLine(signedName: name, fields: request.headers, to: &out) }
        }
        let scope = "\(scopeDate)/\(region)/\(service)/\(terminator)"
        let stringToSign = SigV4Canonical.stringToSign(amzDate: amzDate, scope: scope,
                                                       canonicalRequestHash: Hex.encode(SHA256.digest(canonical)))
        let mac = keyCache.signingMAC(secretAccessKey: secret, dateStamp: scopeDate, region: region, service: service)
        let expected = Array(Hex.encode(mac.authenticationCode(for: stringToSign)).utf8)
        guard HMACSHA256.constantTimeEqual(expected, Array(signature)) else {
            throw .signatureMismatch(canonicalRequest: String(decoding: canonical, as: UTF8.self),
                                     stringToSign: String(decoding: stringToSign, as: UTF8.self))
        }

        // 9. The body against X-Amz-Content-Sha256.
        if let provided = providedContentHash {
            let unsignedAllowed = options.allowUnsignedPayload && provided == SigV4Payload.unsignedPayload
            if !unsignedAllowed {
                let computed = computedBodyHash()
                guard SigV4Canonical.lowercasedIfNeeded(provided) == computed else {
                    throw .contentSHA256Mismatch(provided: provided, computed: computed)
                }
            }
        }

        return SigV4Verified(accessKeyId: accessKeyId, region: region, service: service, date: signedAt,
                             signedHeaders: signedNames.map(SigV4Canonical.lowercasedIfNeeded),
                             sessionToken: request.header("X-Amz-Security-Token"))
    }

    private static let aws4Prefix = Array("AWS4-".utf8)
    private static let algorithmBytes = Array(SigV4Signer.algorithm.utf8)
    private static let credentialKey = Array("Credential".utf8)
    private static let signedHeadersKey = Array("SignedHeaders".utf8)
    private static let signatureKey = Array("Signature".utf8)

    /// The parts of `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
    /// as ranges of `auth`: the algorithm, then `key=value` parts separated by commas
    /// and/or spaces (a later repeat of a key wins; unknown keys are ignored).
    static func parseAuthorization(_ auth: [UInt8], _ authorization: String) throws(SigV4Error)
        -> (algorithm: Range<Int>, credential: Range<Int>?, signedHeaders: Range<Int>?, signature: Range<Int>?) {
        let algorithmEnd = auth.firstIndex { SigV4Canonical.isWhitespace($0) } ?? auth.count
        var credential: Range<Int>?, signedHeaders: Range<Int>?, signature: Range<Int>?
        var i = algorithmEnd
        while i < auth.count {
            let b = auth[i]
            if b == 0x2C || SigV4Canonical.isWhitespace(b) { i += 1; continue }
            var end = i
            var equals: Int?
            while end < auth.count && auth[end] != 0x2C && !SigV4Canonical.isWhitespace(auth[end]) {
                if equals == nil && auth[end] == 0x3D { equals = end }
                end += 1
            }
            guard let equals else {
                throw .malformedParameter(token: String(decoding: auth[i..<end], as: UTF8.self), authorization: authorization)
            }
            let key = auth[i..<equals], value = equals + 1..<end
            if key.elementsEqual(credentialKey) { credential = value }
            else if key.elementsEqual(signedHeadersKey) { signedHeaders = value }
            else if key.elementsEqual(signatureKey) { signature = value }
            i = end
        }
        return (0..<algorithmEnd, credential, signedHeaders, signature)
    }
}

/// Who signed a verified request, and what the signature covers.
public struct SigV4Verified: Sendable, Hashable {
    public let accessKeyId: String
    public let region: String
    public let service: String
    public let date: SigV4Date
    /// Lower-case names, as listed in `SignedHeaders`.
    public let signedHeaders: [String]
    /// `X-Amz-Security-Token` if sent (not checked: Ferry has no token service).
    public let sessionToken: String?

    public init(accessKeyId: String, region: String, service: String, date: SigV4Date, signedHeaders: [String],
                sessionToken: String?) {
        self.accessKeyId = accessKeyId
        self.region = region
        self.service = service
        self.date = date
        self.signedHeaders = signedHeaders
        self.sessionToken = sessionToken
    }
}
