// Why a request's signature was refused, in DynamoDB's words. See ../../docs/sigv4.md.

/// One case per check of `SigV4Verifier`, each with the error code and message DynamoDB
/// (the AWS JSON protocol) answers with. All are HTTP 400.
public enum SigV4Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `Authorization` header, or one that is not `AWS4-...`.
    case missingAuthenticationToken
    /// A part of the `Authorization` header is not `key=value`; `token` is that part.
    case malformedParameter(token: String, authorization: String)
    /// `Credential`, `Signature` or `SignedHeaders` missing, or neither `X-Amz-Date` nor
    /// `Date` sent. `missing` lists the parameters, in that order.
    case missingParameters(missing: [String], missingDate: Bool, authorization: String)
    /// The request time is not `YYYYMMDDTHHMMSSZ` (or, from `Date`, not an HTTP date).
    case malformedDate(String)
    /// The request time is more than the allowed skew before now.
    case signatureExpired(signed: SigV4Date, now: SigV4Date, skewSeconds: Int64)
    /// The request time is more than the allowed skew after now.
    case signatureNotYetCurrent(signed: SigV4Date, now: SigV4Date, skewSeconds: Int64)
    /// `host` is not among `SignedHeaders`.
    case hostNotSigned
    /// The algorithm is not `AWS4-HMAC-SHA256`.
    case unsupportedAlgorithm(String)
    /// `Credential` is not `keyid/date/region/service/aws4_request`.
    case malformedCredential(String)
    /// Region, service, terminator or date of the credential scope is wrong; `problems`
    /// are Amazon's sentences, in Amazon's order.
    case credentialScopeMismatch(problems: [String])
    /// The access key id is not known.
    case unrecognizedClient(accessKeyId: String)
    /// The signature differs from the one computed. The canonical request and string to
    /// sign computed are kept for the server's log (Amazon no longer sends them back).
    case signatureMismatch(canonicalRequest: String, stringToSign: String)
    /// `X-Amz-Content-Sha256` is not the SHA-256 of the body (or is a form not accepted:
    /// `UNSIGNED-PAYLOAD` unless allowed, `STREAMING-...`).
    case contentSHA256Mismatch(provided: String, computed: String)

    /// The error code, the `__type` of DynamoDB's JSON error (without the
    /// `com.amazon.coral.service#` prefix).
    public var code: String {
        switch self {
        case .missingAuthenticationToken: return "MissingAuthenticationTokenException"
        case .malformedParameter, .missingParameters, .malformedDate, .unsupportedAlgorithm, .malformedCredential:
            return "IncompleteSignatureException"
        case .unrecognizedClient: return "UnrecognizedClientException"
        case .signatureExpired, .signatureNotYetCurrent, .hostNotSigned, .credentialScopeMismatch,
             .signatureMismatch, .contentSHA256Mismatch:
            return "InvalidSignatureException"
        }
    }

    /// HTTP status: 400 for all of them (DynamoDB answers 400 even for a missing token).
    public var status: Int { 400 }

    public var message: String {
        switch self {
        case .missingAuthenticationToken:
            return "Request is missing Authentication Token"
        case .malformedParameter(let token, let authorization):
            return "'\(token)' not a valid key=value pair (missing equal-sign) in Authorization header: '\(authorization)'."
        case .missingParameters(let missing, let missingDate, let authorization):
            var text = ""
            for name in missing { text += "Authorization header requires '\(name)' parameter. " }
            if missingDate { text += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " }
            return text + "Authorization=" + authorization
        case .malformedDate(let value):
            return "Date must be in ISO-8601 'basic format'. Got '\(value)'. See http://en.wikipedia.org/wiki/ISO_8601"
        case .signatureExpired(let signed, let now, let skew):
            return "Signature expired: \(signed) is now earlier than \(now.adding(seconds: -skew)) (\(now) - \(Self.minutes(skew)) min.)"
        case .signatureNotYetCurrent(let signed, let now, let skew):
            return "Signature not yet current: \(signed) is still later than \(now.adding(seconds: skew)) (\(now) + \(Self.minutes(skew)) min.)"
        case .hostNotSigned:
            return "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        case .unsupportedAlgorithm(let algorithm):
            return "Unsupported AWS 'algorithm': '\(algorithm)' (only AWS4-HMAC-SHA256 for now)"
        case .malformedCredential(let credential):
            return "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '\(credential)'"
        case .credentialScopeMismatch(let problems):
            return problems.joined(separator: " ")
        case .unrecognizedClient:
            return "The security token included in the request is invalid."
        case .signatureMismatch:
            return "The request signature we calculated does not match the signature you provided. "
                + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        case .contentSHA256Mismatch:
            return "The provided 'x-amz-content-sha256' header does not match what was computed."
        }
    }

    /// `InvalidSignatureException: The request signature we calculated ...`.
    public var description: String { "\(code): \(message)" }

    private static func minutes(_ seconds: Int64) -> String {
        seconds % 60 == 0 ? String(seconds / 60) : String(Double(seconds) / 60)
    }
}
