// Each check of the verifier, in its order, with DynamoDB's code and message.
import FerryAWS
import FerryIO
import XCTest

final class SigV4VerifierTests: XCTestCase {
    private let now = SigV4SuiteCase.date
    private let secret = SigV4SuiteCase.credentials.secretAccessKey

    private func verifier(_ options: SigV4Verifier.Options = .init(region: "us-east-1", service: "dynamodb"),
                          cache: SigV4SigningKeyCache = SigV4SigningKeyCache()) -> SigV4Verifier {
        SigV4Verifier(secrets: ["AKIDEXAMPLE": secret], options: options, keyCache: cache)
    }

    /// A DynamoDB request as an SDK signs it.
    private func signed(_ body: String = #"{"TableName":"Music"}"#, headers extra: [(name: String, value: String)] = [],
                        options: SigV4Signer.Options = .init(), at date: SigV4Date? = nil) -> SigV4Request {
        let request = SigV4Request(method: "POST", target: "/", headers: [
            ("Host", "localhost:8000"), ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),
        ] + extra, body: Array(body.utf8))
        return SigV4Signer(credentials: SigV4SuiteCase.credentials, region: "us-east-1", service: "dynamodb", options: options)
            .sign(request, at: date ?? now).request
    }

    private func assertRefused(_ request: SigV4Request, by verifier: SigV4Verifier? = nil, now at: SigV4Date? = nil,
                               code: String, message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try (verifier ?? self.verifier()).verify(request, now: at ?? now), file: file, line: line) { error in
            guard let error = error as? SigV4Error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.code, code, file: file, line: line)
            XCTAssertEqual(error.message, message, file: file, line: line)
            XCTAssertEqual(error.status, 400, file: file, line: line)
        }
    }

    private func withAuthorization(_ value: String?, _ request: SigV4Request? = nil) -> SigV4Request {
        var request = request ?? signed()
        request.headers.removeAll { $0.name == "Authorization" }
        if let value { request.headers.append((name: "Authorization", value: value)) }
        return request
    }

    func testASignedRequestIsAcceptedAndSaysWhoSignedIt() throws {
        let verified = try verifier().verify(signed(), now: now)
        XCTAssertEqual(verified, SigV4Verified(accessKeyId: "AKIDEXAMPLE", region: "us-east-1", service: "dynamodb", date: now,
                                               signedHeaders: ["content-type", "host", "x-amz-date", "x-amz-target"],
                                               sessionToken: nil))
    }

    func testNoAuthorizationHeaderIsMissingAuthenticationToken() {
        assertRefused(withAuthorization(nil), code: "MissingAuthenticationTokenException",
                      message: "Request is missing Authentication Token")
        assertRefused(withAuthorization("Bearer abc"), code: "MissingAuthenticationTokenException",
                      message: "Request is missing Authentication Token")
        XCTAssertEqual(SigV4Error.missingAuthenticationToken.description,
                       "MissingAuthenticationTokenException: Request is missing Authentication Token")
    }

    func testAPartWithoutEqualsSignIsIncompleteSignature() {
        let header = "AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders"
        assertRefused(withAuthorization(header), code: "IncompleteSignatureException",
                      message: "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: "
                          + "'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'.")
    }

    func testMissingParametersAndDateAreListedInAmazonsWords() {
        let noSignature = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date"
        var request = withAuthorization(noSignature)
        request.headers.removeAll { $0.name == "X-Amz-Date" }
        assertRefused(request, code: "IncompleteSignatureException",
                      message: "Authorization header requires 'Signature' parameter. Authorization header requires existence of "
                          + "either a 'X-Amz-Date' or a 'Date' header. Authorization=" + noSignature)
        assertRefused(withAuthorization("AWS4-HMAC-SHA256"), code: "IncompleteSignatureException",
                      message: "Authorization header requires 'Credential' parameter. Authorization header requires "
                          + "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                          + "Authorization=AWS4-HMAC-SHA256")
    }

    func testAMalformedDateIsIncompleteSignature() {
        assertRefused(signed().settingHeader("X-Amz-Date", "2015-08-30T12:36:00Z"), code: "IncompleteSignatureException",
                      message: "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601")
    }

    func testTheDateMayComeFromTheDateHeader() throws {
        // Signed by hand over an HTTP Date header: the string to sign carries its ISO form.
        let canonical = "POST\n/\n\ndate:Sun, 30 Aug 2015 12:36:00 GMT\nhost:localhost:8000\n\ndate;host\n" + SigV4Payload.emptySHA256
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/dynamodb/aws4_request\n"
            + Hex.encode(SHA256.digest(Array(canonical.utf8)))
        let key = SigV4Signer.signingKey(secretAccessKey: secret, dateStamp: "20150830", region: "us-east-1", service: "dynamodb")
        let signature = Hex.encode(HMACSHA256.authenticationCode(key: key, message: Array(sts.utf8)))
        let request = SigV4Request(method: "POST", path: "/", headers: [
            ("Host", "localhost:8000"), ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
                + "SignedHeaders=date;host, Signature=\(signature)"),
        ])
        let verified = try verifier().verify(request, now: now)
        XCTAssertEqual(verified.signedHeaders, ["date", "host"])
        XCTAssertEqual(verified.date, now)
        assertRefused(request.settingHeader("Date", "yesterday"), code: "IncompleteSignatureException",
                      message: "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601")
    }

    func testSkewIsFifteenMinutesEitherWayAndConfigurable() {
        XCTAssertNoThrow(try verifier().verify(signed(), now: now.adding(seconds: 900)))
        XCTAssertNoThrow(try verifier().verify(signed(), now: now.adding(seconds: -900)))
        assertRefused(signed(), now: now.adding(seconds: 901), code: "InvalidSignatureException",
                      message: "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)")
        assertRefused(signed(), now: now.adding(seconds: -901), code: "InvalidSignatureException",
                      message: "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)")
        let strict = verifier(.init(maxSkewSeconds: 300))
        assertRefused(signed(), by: strict, now: now.adding(seconds: 301), code: "InvalidSignatureException",
                      message: "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)")
    }

    func testHostMustBeSigned() {
        var options = SigV4Signer.Options()
        options.unsignedHeaders.insert("host")
        assertRefused(signed(options: options), code: "InvalidSignatureException",
                      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    }

    func testOnlyAWS4HMACSHA256IsSupported() {
        let header = signed().header("Authorization")!.replacingOccurrences(of: "AWS4-HMAC-SHA256", with: "AWS4-HMAC-SHA512")
        assertRefused(withAuthorization(header), code: "IncompleteSignatureException",
                      message: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now)")
    }

    func testCredentialMustHaveFiveParts() {
        let header = signed().header("Authorization")!.replacingOccurrences(of: "/aws4_request", with: "")
        assertRefused(withAuthorization(header), code: "IncompleteSignatureException",
                      message: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
                          + "got 'AKIDEXAMPLE/20150830/us-east-1/dynamodb'")
        let slashInKey = signed().header("Authorization")!.replacingOccurrences(of: "AKIDEXAMPLE", with: "AKID/EXAMPLE")
        assertRefused(withAuthorization(slashInKey), code: "IncompleteSignatureException",
                      message: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
                          + "got 'AKID/EXAMPLE/20150830/us-east-1/dynamodb/aws4_request'")
        // Trailing slashes are ignored, as Amazon does.
        let trailing = signed().header("Authorization")!.replacingOccurrences(of: "aws4_request", with: "aws4_request//")
        XCTAssertNoThrow(try verifier().verify(withAuthorization(trailing), now: now))
    }

    func testCredentialScopeMismatchesAreListedTogether() {
        let header = signed().header("Authorization")!
            .replacingOccurrences(of: "20150830/us-east-1/dynamodb/aws4_request", with: "20150829/eu-west-1/s3/aws5_request")
        assertRefused(withAuthorization(header), code: "InvalidSignatureException",
                      message: "Credential should be scoped to a valid region, not 'eu-west-1'. "
                          + "Credential should be scoped to correct service: 'dynamodb'. "
                          + "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
                          + "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                          + "'20150829' != '20150830', from '20150830T123600Z'.")
        // With no region or service configured, any is accepted.
        let anywhere = SigV4Signer(credentials: SigV4SuiteCase.credentials, region: "ap-south-2", service: "dynamodb")
            .sign(SigV4Request(method: "POST", path: "/", headers: [("Host", "h")]), at: now).request
        XCTAssertEqual(try verifier(.init()).verify(anywhere, now: now).region, "ap-south-2")
        assertRefused(anywhere, code: "InvalidSignatureException",
                      message: "Credential should be scoped to a valid region, not 'ap-south-2'.")
    }

    func testUnknownAccessKeyIsUnrecognizedClient() {
        let stranger = SigV4Signer(credentials: SigV4Credentials(accessKeyId: "AKIDSTRANGER", secretAccessKey: secret),
                                   region: "us-east-1", service: "dynamodb")
            .sign(SigV4Request(method: "POST", path: "/", headers: [("Host", "h")]), at: now).request
        assertRefused(stranger, code: "UnrecognizedClientException", message: "The security token included in the request is invalid.")
    }

    func testWrongSecretBodyOrSignatureFormIsInvalidSignature() {
        let message = "The request signature we calculated does not match the signature you provided. "
            + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        let wrongSecret = SigV4Verifier(secrets: ["AKIDEXAMPLE": "not the secret"], options: .init(), keyCache: SigV4SigningKeyCache())
        assertRefused(signed(), by: wrongSecret, code: "InvalidSignatureException", message: message)
        assertRefused(signed().withBody(Array(#"{"TableName":"Musik"}"#.utf8)), code: "InvalidSignatureException", message: message)
        let upper = signed().header("Authorization")!.uppercased().replacingOccurrences(of: "SIGNEDHEADERS", with: "SignedHeaders")
        let signatureOnlyUpper = signed().header("Authorization")!.split(separator: "=").dropLast().joined(separator: "=")
            + "=" + upper.split(separator: "=").last!
        assertRefused(withAuthorization(signatureOnlyUpper), code: "InvalidSignatureException", message: message)
        let short = String(signed().header("Authorization")!.dropLast())
        assertRefused(withAuthorization(short), code: "InvalidSignatureException", message: message)
    }

    func testTheMismatchKeepsTheCanonicalRequestForTheLog() throws {
        do {
            _ = try verifier().verify(signed().withBody([]), now: now)
            XCTFail("accepted")
        } catch {
            guard case .signatureMismatch(let canonical, let sts) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(canonical.hasSuffix("\n" + SigV4Payload.emptySHA256), canonical)
            XCTAssertTrue(sts.hasPrefix("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/dynamodb/aws4_request\n"), sts)
        }
    }

    func testContentSHA256HeaderMustMatchTheBody() throws {
        let s3 = SigV4Signer.Options.s3
        let verifier = self.verifier(.init(pathMode: .s3))
        XCTAssertNoThrow(try verifier.verify(signed("abc", options: s3), now: now))
        assertRefused(signed("abc", options: s3).withBody(Array("abd".utf8)), by: verifier, code: "InvalidSignatureException",
                      message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        let unsigned = signed("abc", headers: [("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")], options: s3).withBody(Array("xyz".utf8))
        assertRefused(unsigned, by: verifier, code: "InvalidSignatureException",
                      message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        XCTAssertNoThrow(try self.verifier(.init(pathMode: .s3, allowUnsignedPayload: true)).verify(unsigned, now: now))
        let streaming = signed("abc", headers: [("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")], options: s3)
        XCTAssertThrowsError(try self.verifier(.init(pathMode: .s3, allowUnsignedPayload: true)).verify(streaming, now: now)) { error in
            XCTAssertEqual(error as? SigV4Error, .contentSHA256Mismatch(provided: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                                                        computed: Hex.encode(SHA256.digest(Array("abc".utf8)))))
        }
    }

    func testABodyGivenAsItsHashVerifiesLikeTheBody() throws {
        var request = signed("abc")
        request.payload = .sha256(Hex.encode(SHA256.digest(Array("abc".utf8))))
        XCTAssertNoThrow(try verifier().verify(request, now: now))
    }

    func testSessionTokenIsReportedNotChecked() throws {
        var credentials = SigV4SuiteCase.credentials
        credentials.sessionToken = "FwoGZXIvYXdzEXAMPLE"
        let request = SigV4Signer(credentials: credentials, region: "us-east-1", service: "dynamodb")
            .sign(SigV4Request(method: "POST", path: "/", headers: [("Host", "h")]), at: now).request
        XCTAssertEqual(try verifier().verify(request, now: now).sessionToken, "FwoGZXIvYXdzEXAMPLE")
    }

    func testTheSigningKeyIsDerivedOncePerSecretDateRegionAndService() throws {
        let cache = SigV4SigningKeyCache()
        let verifier = self.verifier(cache: cache)
        let request = signed()
        for _ in 0..<500 { _ = try verifier.verify(request, now: now) }
        XCTAssertEqual(cache.derivationCount, 1)
        let nextDay = signed(at: now.adding(seconds: 86_400))
        _ = try verifier.verify(nextDay, now: now.adding(seconds: 86_400))
        XCTAssertEqual(cache.derivationCount, 2)
        let small = SigV4SigningKeyCache(capacity: 1)
        for day in 0..<3 {
            _ = small.signingMAC(secretAccessKey: "s", dateStamp: "2015083\(day)", region: "r", service: "x")
        }
        _ = small.signingMAC(secretAccessKey: "s", dateStamp: "20150832", region: "r", service: "x")   // kept
        XCTAssertEqual(small.derivationCount, 3)
        _ = small.signingMAC(secretAccessKey: "s", dateStamp: "20150830", region: "r", service: "x")   // evicted
        XCTAssertEqual(small.derivationCount, 4)
    }

    func testVerifyingIsFastEnoughForAServer() throws {
        let verifier = self.verifier()
        let request = signed(String(repeating: "x", count: 1024))
        let count = 2000
        let start = Date()
        for _ in 0..<count { _ = try verifier.verify(request, now: now) }
        let perSecond = Double(count) / Date().timeIntervalSince(start)
        print("SigV4Verifier: \(Int(perSecond)) verifications/s of a 1 KiB request (this build)")
        // Release builds do about 40,000/s on one core here, debug builds about 2,000/s;
        // the bounds leave room for a busy machine.
        #if DEBUG
        XCTAssertGreaterThan(perSecond, 200)
        #else
        XCTAssertGreaterThan(perSecond, 5000)
        #endif
    }

    func testEveryErrorIsHTTP400WithItsCode() {
        let errors: [(SigV4Error, String)] = [
            (.missingAuthenticationToken, "MissingAuthenticationTokenException"),
            (.malformedParameter(token: "x", authorization: "AWS4-HMAC-SHA256 x"), "IncompleteSignatureException"),
            (.missingParameters(missing: ["Signature"], missingDate: false, authorization: "a"), "IncompleteSignatureException"),
            (.malformedDate("x"), "IncompleteSignatureException"),
            (.signatureExpired(signed: now, now: now, skewSeconds: 900), "InvalidSignatureException"),
            (.signatureNotYetCurrent(signed: now, now: now, skewSeconds: 900), "InvalidSignatureException"),
            (.hostNotSigned, "InvalidSignatureException"),
            (.unsupportedAlgorithm("x"), "IncompleteSignatureException"),
            (.malformedCredential("x"), "IncompleteSignatureException"),
            (.credentialScopeMismatch(problems: ["x"]), "InvalidSignatureException"),
            (.unrecognizedClient(accessKeyId: "x"), "UnrecognizedClientException"),
            (.signatureMismatch(canonicalRequest: "", stringToSign: ""), "InvalidSignatureException"),
            (.contentSHA256Mismatch(provided: "", computed: ""), "InvalidSignatureException"),
        ]
        for (error, code) in errors {
            XCTAssertEqual(error.code, code, "\(error)")
            XCTAssertEqual(error.status, 400)
            XCTAssertFalse(error.message.isEmpty)
        }
    }
}
