// The canonicalization rules one at a time, beyond what the suite's cases cover.
import FerryAWS
import XCTest

final class SigV4CanonicalTests: XCTestCase {
    func testNormalizedPathRemovesDotSegmentsAndCollapsesSlashesAsBotocoreDoes() {
        let cases: [(String, String)] = [
            ("", "/"), ("/", "/"), ("//", "/"), ("/./", "/"), ("/example/..", "/"), ("/a/b/../..", "/"),
            ("/../..", "/"), ("//example//", "/example/"), ("/a/./b/../c", "/a/c"), ("/a/b/.", "/a/b"),
            ("/a/b/./", "/a/b/"), ("/.../x", "/.../x"), ("/a..b/", "/a..b/"),
        ]
        for (raw, canonical) in cases {
            XCTAssertEqual(SigV4Canonical.uri(raw, mode: .normalized), canonical, raw)
        }
    }

    func testNormalizedPathEncodesWhatWasSentAgainSoPercentBecomesPercent25() {
        XCTAssertEqual(SigV4Canonical.uri("/example space/", mode: .normalized), "/example%20space/")
        XCTAssertEqual(SigV4Canonical.uri("/my%20file", mode: .normalized), "/my%2520file")
        XCTAssertEqual(SigV4Canonical.uri("/\u{1234}", mode: .normalized), "/%E1%88%B4")
        XCTAssertEqual(SigV4Canonical.uri("/$+!*'(),;:@&=", mode: .normalized), "/%24%2B%21%2A%27%28%29%2C%3B%3A%40%26%3D")
        XCTAssertEqual(SigV4Canonical.uri("/-._~AZaz09", mode: .normalized), "/-._~AZaz09")
    }

    func testS3PathKeepsSlashesDotsAndEscapesAsSent() {
        XCTAssertEqual(SigV4Canonical.uri("//example//", mode: .s3), "//example//")
        XCTAssertEqual(SigV4Canonical.uri("/bucket/a/../b/./c", mode: .s3), "/bucket/a/../b/./c")
        XCTAssertEqual(SigV4Canonical.uri("/bucket/My%20Trip", mode: .s3), "/bucket/My%20Trip")
        XCTAssertEqual(SigV4Canonical.uri("/bucket/a%2fb%e1", mode: .s3), "/bucket/a%2Fb%E1")
        XCTAssertEqual(SigV4Canonical.uri("/bucket/raw space+$", mode: .s3), "/bucket/raw%20space%2B%24")
        XCTAssertEqual(SigV4Canonical.uri("/bucket/100%", mode: .s3), "/bucket/100%25")
        XCTAssertEqual(SigV4Canonical.uri("", mode: .s3), "/")
    }

    func testQueryIsDecodedReencodedAndSortedByNameThenValue() {
        XCTAssertEqual(SigV4Canonical.query(""), "")
        XCTAssertEqual(SigV4Canonical.query("b=2&a=1"), "a=1&b=2")
        XCTAssertEqual(SigV4Canonical.query("Param1=value2&Param1=Value1"), "Param1=Value1&Param1=value2")
        // By name first: "Param" sorts before "Param-3" although "Param=" would sort after "Param-".
        XCTAssertEqual(SigV4Canonical.query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
                       "%E1%88%B4=Value1&Param=Value2&Param-3=Value3")
        XCTAssertEqual(SigV4Canonical.query("acl"), "acl=")
        XCTAssertEqual(SigV4Canonical.query("a=&b"), "a=&b=")
        XCTAssertEqual(SigV4Canonical.query("a=1&&b=2&"), "a=1&b=2")
        XCTAssertEqual(SigV4Canonical.query("k=a b+c%7e%7Ed%2f"), "k=a%20b%2Bc~~d%2F")
        XCTAssertEqual(SigV4Canonical.query("k=x=y"), "k=x%3Dy")
        XCTAssertEqual(SigV4Canonical.query("k=100%"), "k=100%25")
        XCTAssertEqual(SigV4Canonical.query("\u{1234}=bar"), "%E1%88%B4=bar")
    }

    func testHeaderValuesAreTrimmedAndInnerWhiteSpaceRunsBecomeOneSpace() {
        XCTAssertEqual(SigV4Canonical.headerValue("  value1  "), "value1")
        XCTAssertEqual(SigV4Canonical.headerValue("\"a   b   c\""), "\"a b c\"")
        XCTAssertEqual(SigV4Canonical.headerValue("value1\n  value2\n     value3"), "value1 value2 value3")
        XCTAssertEqual(SigV4Canonical.headerValue("a\t\tb\r\nc"), "a b c")
        XCTAssertEqual(SigV4Canonical.headerValue("   "), "")
        XCTAssertEqual(SigV4Canonical.headerValue("VALUE1"), "VALUE1")
    }

    func testHeaderNamesAreLowerCasedSortedAndRepeatsJoinedInOrder() {
        let request = SigV4Request(method: "GET", path: "/", headers: [
            ("X-B", "2"), ("host", "h"), ("x-a", " 1 "), ("X-B", "  3"), ("User-Agent", "not signed"),
        ])
        let signer = SigV4Signer(credentials: SigV4SuiteCase.credentials, region: "r", service: "s")
        let signature = signer.sign(request, at: SigV4SuiteCase.date)
        XCTAssertEqual(signature.signedHeaders, "host;x-a;x-amz-date;x-b")
        XCTAssertTrue(signature.canonicalRequest.contains("\nhost:h\nx-a:1\nx-amz-date:20150830T123600Z\nx-b:2,3\n\n"),
                      signature.canonicalRequest)
    }

    func testSignerSetsXAmzDateAndAddsTokenAndContentHashAsAsked() {
        let request = SigV4Request(method: "PUT", path: "/b/k", headers: [("Host", "h"), ("X-Amz-Date", "19990101T000000Z")],
                                   payload: .bytes(Array("hello".utf8)))
        var credentials = SigV4SuiteCase.credentials
        credentials.sessionToken = "TOKEN"
        let signature = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
            .sign(request, at: SigV4SuiteCase.date)
        XCTAssertEqual(signature.signedHeaders, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        XCTAssertEqual(signature.request.header("X-Amz-Date"), "20150830T123600Z")
        XCTAssertEqual(signature.request.headerValues("x-amz-date").count, 1)
        XCTAssertEqual(signature.request.header("X-Amz-Content-Sha256"),
                       "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        XCTAssertEqual(signature.addedHeaders.map(\.name), ["X-Amz-Security-Token", "X-Amz-Content-Sha256", "Authorization"])
        XCTAssertTrue(signature.canonicalRequest.hasSuffix("\n2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
    }

    func testPayloadGivenAsHashOrUnsignedIsUsedAsIs() {
        XCTAssertEqual(SigV4Payload.bytes([]).hashHex, SigV4Payload.emptySHA256)
        XCTAssertEqual(SigV4Payload.sha256("abc").hashHex, "abc")
        XCTAssertEqual(SigV4Payload.unsigned.hashHex, "UNSIGNED-PAYLOAD")
        let hashed = SigV4Request(method: "POST", path: "/", headers: [("Host", "h")],
                                  payload: .sha256("9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"))
        let body = SigV4Request(method: "POST", target: "/", headers: [("Host", "h")], body: Array("Param1=value1".utf8))
        let signer = SigV4Signer(credentials: SigV4SuiteCase.credentials, region: "r", service: "s")
        XCTAssertEqual(signer.sign(hashed, at: SigV4SuiteCase.date).signature, signer.sign(body, at: SigV4SuiteCase.date).signature)
    }

    func testRequestTargetIsSplitAtItsFirstQuestionMark() {
        let request = SigV4Request(method: "GET", target: "/a?b=c?d&e", headers: [])
        XCTAssertEqual(request.path, "/a")
        XCTAssertEqual(request.query, "b=c?d&e")
        XCTAssertEqual(SigV4Request(method: "GET", target: "/a", headers: []).query, "")
    }
}

final class SigV4DateTests: XCTestCase {
    func testISO8601BasicRoundTrips() {
        for text in ["20150830T123600Z", "19700101T000000Z", "20000229T235959Z", "19691231T235959Z", "99991231T235959Z"] {
            XCTAssertEqual(SigV4Date(iso8601Basic: text)?.iso8601Basic, text)
        }
        XCTAssertEqual(SigV4Date(iso8601Basic: "20150830T123600Z")?.secondsSince1970, 1_440_938_160)
        XCTAssertEqual(SigV4Date(iso8601Basic: "19691231T235959Z")?.secondsSince1970, -1)
        XCTAssertEqual(SigV4Date(iso8601Basic: "20150830T123600Z")?.dateStamp, "20150830")
    }

    func testMalformedOrImpossibleTimesAreRefused() {
        for text in ["", "20150830", "2015-08-30T12:36:00Z", "20150830T123600", "20150830t123600Z", "20150230T000000Z",
                     "20190229T000000Z", "20151301T000000Z", "20150830T240000Z", "20150830T126000Z", "2015083OT123600Z",
                     " 20150830T123600Z"] {
            XCTAssertNil(SigV4Date(iso8601Basic: text), text)
        }
    }

    func testHTTPDatesAreRead() {
        XCTAssertEqual(SigV4Date(httpDate: "Sun, 30 Aug 2015 12:36:00 GMT")?.iso8601Basic, "20150830T123600Z")
        XCTAssertEqual(SigV4Date(httpDate: "30 Aug 2015 12:36:00 GMT")?.iso8601Basic, "20150830T123600Z")
        XCTAssertEqual(SigV4Date(httpDate: "Thu, 1 Jan 1970 00:00:01 GMT")?.secondsSince1970, 1)
        XCTAssertNil(SigV4Date(httpDate: "Sun, 30 Aug 2015 12:36:00 PST"))
        XCTAssertNil(SigV4Date(httpDate: "Sun, 31 Sep 2015 12:36:00 GMT"))
        XCTAssertNil(SigV4Date(httpDate: "20150830T123600Z"))
    }

    func testFoundationDatesTruncateToTheSecond() {
        XCTAssertEqual(SigV4Date(Date(timeIntervalSince1970: 1_440_938_160.9)).iso8601Basic, "20150830T123600Z")
        XCTAssertEqual(SigV4Date(secondsSince1970: 1_440_938_160).date, Date(timeIntervalSince1970: 1_440_938_160))
    }
}
