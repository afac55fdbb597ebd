// Requests built and signed by botocore's own clients (fixtures/sigv4/make-botocore.py
// wrote fixtures/sigv4/botocore-requests.json): the verifier accepts them and the signer
// computes the same canonical request, string to sign and Authorization.
import FerryAWS
import FerryTestSupport
import Foundation
import XCTest

final class BotocoreTests: XCTestCase {
    struct Fixture {
        let name: String
        let service: String
        let region: String
        let credentials: SigV4Credentials
        let date: SigV4Date
        let request: SigV4Request
        let canonicalRequest: String
        let stringToSign: String
        let authorization: String
        var isS3: Bool { service == "s3" }
    }

    private func fixtures() throws -> [Fixture] {
        let data = try Data(TestSupport.fixtureBytes("sigv4/botocore-requests.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let requests = try XCTUnwrap(root["requests"] as? [String: [String: Any]])
        return try requests.keys.sorted().map { name in
            let r = requests[name]!
            func string(_ key: String) throws -> String { try XCTUnwrap(r[key] as? String, "\(name).\(key)") }
            let headers = try XCTUnwrap(r["headers"] as? [[String]]).map { (name: $0[0], value: $0[1]) }
            let body = [UInt8](try XCTUnwrap(Data(base64Encoded: try string("body_base64"))))
            return Fixture(
                name: name, service: try string("service"), region: try string("region"),
                credentials: SigV4Credentials(accessKeyId: try string("access_key_id"),
                                              secretAccessKey: try string("secret_access_key"),
                                              sessionToken: r["session_token"] as? String),
                date: try XCTUnwrap(SigV4Date(iso8601Basic: try string("amz_date"))),
                request: SigV4Request(method: try string("method"), target: try string("target"), headers: headers, body: body),
                canonicalRequest: try string("canonical_request"), stringToSign: try string("string_to_sign"),
                authorization: try string("authorization"))
        }
    }

    private func verifier(for fixture: Fixture) -> SigV4Verifier {
        SigV4Verifier(secrets: [fixture.credentials.accessKeyId: fixture.credentials.secretAccessKey],
                      options: .init(region: fixture.region, service: fixture.service, pathMode: fixture.isS3 ? .s3 : .normalized),
                      keyCache: SigV4SigningKeyCache())
    }

    func testTheFixtureHoldsDynamoDBAndS3Requests() throws {
        let names = try fixtures().map(\.name)
        XCTAssertEqual(names, ["dynamodb-get-item", "dynamodb-https-default-port", "dynamodb-put-item-session-token",
                               "s3-list-objects-v2-query", "s3-put-object-path-style"])
    }

    func testVerifierAcceptsRequestsSignedByBotocore() throws {
        for fixture in try fixtures() {
            let verified = try verifier(for: fixture).verify(fixture.request, now: fixture.date.adding(seconds: 42))
            XCTAssertEqual(verified.accessKeyId, "AKIDEXAMPLE", fixture.name)
            XCTAssertEqual(verified.service, fixture.service, fixture.name)
            XCTAssertEqual(verified.sessionToken, fixture.credentials.sessionToken, fixture.name)
        }
    }

    func testSignerProducesBotocoresAuthorization() throws {
        for fixture in try fixtures() {
            // What botocore held when it signed: the request without the fields it adds
            // afterwards or does not sign (Authorization, X-Amz-Date, the token and
            // content hash it adds itself; amz-sdk-*, Content-Length, Accept-Encoding).
            let added: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
                                      "amz-sdk-invocation-id", "amz-sdk-request", "content-length", "accept-encoding"]
            var unsigned = fixture.request
            unsigned.headers.removeAll { added.contains(SigV4Canonical.lowercased($0.name)) }
            let signer = SigV4Signer(credentials: fixture.credentials, region: fixture.region, service: fixture.service,
                                     options: fixture.isS3 ? .s3 : .init())
            let signature = signer.sign(unsigned, at: fixture.date)
            XCTAssertEqual(signature.canonicalRequest, fixture.canonicalRequest, fixture.name)
            XCTAssertEqual(signature.stringToSign, fixture.stringToSign, fixture.name)
            XCTAssertEqual(signature.authorization, fixture.authorization, fixture.name)
            XCTAssertEqual(signature.request.header("Authorization"), fixture.request.header("Authorization"), fixture.name)
        }
    }

    func testBotocoreRequestsAlteredAreRefused() throws {
        for fixture in try fixtures() {
            let verifier = self.verifier(for: fixture)
            guard case .bytes(let body) = fixture.request.payload else { return XCTFail(fixture.name) }
            var longer = fixture.request
            longer.payload = .bytes(body + [0x20])
            XCTAssertThrowsError(try verifier.verify(longer, now: fixture.date), fixture.name) { error in
                // S3 signs X-Amz-Content-Sha256, so the signature holds and the body hash does not.
                if fixture.isS3 {
                    guard case .contentSHA256Mismatch = error as? SigV4Error else { return XCTFail("\(fixture.name): \(error)") }
                } else {
                    guard case .signatureMismatch = error as? SigV4Error else { return XCTFail("\(fixture.name): \(error)") }
                }
            }
            let target = fixture.request.settingHeader("X-Amz-Target", "DynamoDB_20120810.DeleteTable")
            if fixture.service == "dynamodb" {
                XCTAssertThrowsError(try verifier.verify(target, now: fixture.date), fixture.name)
            }
            // Unsigned fields may change: a proxy adding one does not break the signature.
            let extra = fixture.request.settingHeader("X-Forwarded-For", "10.0.0.1").settingHeader("User-Agent", "proxy")
            XCTAssertNoThrow(try verifier.verify(extra, now: fixture.date), fixture.name)
            XCTAssertThrowsError(try verifier.verify(fixture.request, now: fixture.date.adding(seconds: 16 * 60)), fixture.name)
        }
    }
}
