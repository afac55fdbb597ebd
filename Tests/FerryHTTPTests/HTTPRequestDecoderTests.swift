// The request codec on bytes: framing, splits at every byte, pipelining, chunked,
// 100-continue, gzip, and every refusal with its status.
@testable import FerryHTTP
import FerryIO
import XCTest

/// An event reduced to what the tests compare.
enum Decoded: Equatable, CustomStringConvertible {
    case sendContinue
    case request(method: String, target: String, body: [UInt8], closeAfter: Bool)
    case refused(HTTPRefusal)

    var description: String {
        switch self {
        case .sendContinue: return "100-continue"
        case let .request(method, target, body, close):
            return "\(method) \(target) body=\(String(decoding: body, as: UTF8.self)) close=\(close)"
        case let .refused(refusal): return "refused \(refusal)"
        }
    }
}

/// Feeds `pieces` one after another, draining events after each (as a connection does).
func decode(_ pieces: [[UInt8]], limits: HTTPServerLimits = HTTPServerLimits(),
            requests: inout [HTTPRequest]) -> [Decoded] {
    let decoder = HTTPRequestDecoder(limits: limits, remoteAddress: "127.0.0.1:1")
    var events: [Decoded] = []
    for piece in pieces {
        var offset = 0
        repeat {
            offset += decoder.append(piece[offset...])
            drain: while true {
                switch decoder.next() {
                case .needMoreBytes: break drain
                case .sendContinue: events.append(.sendContinue)
                case .request(let request, let closeAfter):
                    requests.append(request)
                    events.append(.request(method: request.method, target: request.target, body: request.body,
                                           closeAfter: closeAfter))
                case .refused(let refusal):
                    events.append(.refused(refusal))
                    return events
                }
            }
        } while offset < piece.count
    }
    return events
}

func decode(_ text: String, limits: HTTPServerLimits = HTTPServerLimits()) -> [Decoded] {
    var requests: [HTTPRequest] = []
    return decode([Array(text.utf8)], limits: limits, requests: &requests)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

final class HTTPRequestDecoderTests: XCTestCase {
    private func limits(maxHeader: Int = 16 * 1024, maxBody: Int = 16 * 1024 * 1024) -> HTTPServerLimits {
        var limits = HTTPServerLimits()
        limits.maxHeaderBytes = maxHeader
        limits.maxBodyBytes = maxBody
        return limits
    }

    private func refusal(_ text: String, limits: HTTPServerLimits = HTTPServerLimits(),
                         file: StaticString = #filePath, line: UInt = #line) -> HTTPRefusal? {
        let events = decode(text, limits: limits)
        guard case .refused(let refusal)? = events.last else {
            XCTFail("not refused: \(events)", file: file, line: line)
            return nil
        }
        return refusal
    }

    private func assertMalformed(_ text: String, _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(refusal(text, file: file, line: line), .malformedRequest(why), file: file, line: line)
    }

    // MARK: heads

    func testSimpleGetIsDecodedWithPathQueryAndHeadersInOrder() {
        var requests: [HTTPRequest] = []
        let events = decode([bytes("GET /a%20b/c?x=1&y=%2F HTTP/1.1\r\nHost: h\r\nX-Two: 1\r\nx-two:  2 \r\nAccept:\r\n\r\n")],
                            requests: &requests)
        XCTAssertEqual(events, [.request(method: "GET", target: "/a%20b/c?x=1&y=%2F", body: [], closeAfter: false)])
        guard let request = requests.first else { return XCTFail("no request") }
        XCTAssertEqual(request.path, "/a%20b/c")
        XCTAssertEqual(request.query, "x=1&y=%2F")
        XCTAssertEqual(request.version, "HTTP/1.1")
        XCTAssertEqual(request.remoteAddress, "127.0.0.1:1")
        XCTAssertEqual(request.headers.fields.map(\.name), ["Host", "X-Two", "x-two", "Accept"])
        XCTAssertEqual(request.headers["x-TWO"], "1")
        XCTAssertEqual(request.headers.values("X-two"), ["1", "2"])
        XCTAssertEqual(request.headers["accept"], "")
        XCTAssertNil(request.headers["missing"])
    }

    func testPostWithContentLengthHasBodyAndWireBody() {
        var requests: [HTTPRequest] = []
        let events = decode([bytes("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")], requests: &requests)
        XCTAssertEqual(events, [.request(method: "POST", target: "/p", body: bytes("hello"), closeAfter: false)])
        XCTAssertEqual(requests.first?.wireBody, bytes("hello"))
        XCTAssertEqual(requests.first?.query, "")
    }

    func testEveryByteBoundarySplitDecodesTheSame() {
        let messages = [
            "GET /x?q HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n",
            "POST /y HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
            "PUT /z HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n",
        ]
        for message in messages {
            var wholeRequests: [HTTPRequest] = []
            let whole = decode([bytes(message)], requests: &wholeRequests)
            XCTAssertEqual(whole.count, 1, message)
            let all = bytes(message)
            for cut in 1..<all.count {
                var requests: [HTTPRequest] = []
                let split = decode([Array(all[..<cut]), Array(all[cut...])], requests: &requests)
                XCTAssertEqual(split, whole, "cut at \(cut) of \(message)")
            }
            var requests: [HTTPRequest] = []
            XCTAssertEqual(decode(all.map { [$0] }, requests: &requests), whole, "byte by byte: \(message)")
        }
    }

    func testPipelinedRequestsInOneBufferComeOutInOrder() {
        let text = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
            + "GET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
            + "GET /5 HTTP/1.1\r\nHo"
        XCTAssertEqual(decode(text), [
            .request(method: "GET", target: "/1", body: [], closeAfter: false),
            .request(method: "POST", target: "/2", body: bytes("abc"), closeAfter: false),
            .request(method: "POST", target: "/3", body: bytes("xy"), closeAfter: false),
            .request(method: "GET", target: "/4", body: [], closeAfter: true),
        ])
    }

    func testPartialNextRequestStaysBufferedAndPhaseFollowsIt() {
        let decoder = HTTPRequestDecoder()
        XCTAssertEqual(decoder.phase, .idle)
        decoder.append(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab"))
        guard case .request = decoder.next() else { return XCTFail("first request") }
        guard case .needMoreBytes = decoder.next() else { return XCTFail("needs the body") }
        XCTAssertEqual(decoder.phase, .body)
        decoder.append(bytes("cd"))
        guard case .request(let second, _) = decoder.next() else { return XCTFail("second request") }
        XCTAssertEqual(second.body, bytes("abcd"))
        guard case .needMoreBytes = decoder.next() else { return XCTFail("idle") }
        XCTAssertEqual(decoder.phase, .idle)
        decoder.append(bytes("G"))
        _ = decoder.next()
        XCTAssertEqual(decoder.phase, .head)
    }

    func testLeadingEmptyLinesBeforeARequestAreIgnored() {
        XCTAssertEqual(decode("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
                       [.request(method: "GET", target: "/", body: [], closeAfter: false)])
        assertMalformed(String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\n", "empty lines instead of a request line")
    }

    func testAbsoluteFormTargetGivesThePathAfterTheAuthority() {
        var requests: [HTTPRequest] = []
        _ = decode([bytes("GET http://example.com:80/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n"
                          + "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"
                          + "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")], requests: &requests)
        XCTAssertEqual(requests.map(\.path), ["/a/b", "/", "*"])
        XCTAssertEqual(requests.map(\.query), ["c=d", "", ""])
        XCTAssertEqual(requests.first?.target, "http://example.com:80/a/b?c=d")
    }

    func testHandBuiltRequestSplitsItsTarget() {
        let request = HTTPRequest(method: "GET", target: "/k?list-type=2", body: bytes("b"))
        XCTAssertEqual(request.path, "/k")
        XCTAssertEqual(request.query, "list-type=2")
        XCTAssertEqual(request.wireBody, bytes("b"))
    }

    // MARK: keep-alive

    func testHTTP11KeepsAliveUnlessConnectionClose() {
        XCTAssertEqual(decode("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"),
                       [.request(method: "GET", target: "/", body: [], closeAfter: false)])
        XCTAssertEqual(decode("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n"),
                       [.request(method: "GET", target: "/", body: [], closeAfter: true)])
    }

    func testHTTP10ClosesUnlessKeepAliveAndNeedsNoHost() {
        XCTAssertEqual(decode("GET / HTTP/1.0\r\n\r\n"), [.request(method: "GET", target: "/", body: [], closeAfter: true)])
        XCTAssertEqual(decode("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
                       [.request(method: "GET", target: "/", body: [], closeAfter: false)])
    }

    func testHigherMinorVersionIsServedAsHTTP11() {
        var requests: [HTTPRequest] = []
        _ = decode([bytes("GET / HTTP/1.9\r\nHost: h\r\n\r\n")], requests: &requests)
        XCTAssertEqual(requests.first?.version, "HTTP/1.1")
    }

    // MARK: head refusals

    func testHeadOverTheLimitIs431() {
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "a", count: 2000) + "\r\n\r\n"
        XCTAssertEqual(refusal(big, limits: limits(maxHeader: 1024)), .headersTooLarge)
        // Without an end in sight: refused as soon as the limit is passed.
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 1100), limits: limits(maxHeader: 1024)),
                       .headersTooLarge)
        XCTAssertEqual(HTTPRefusal.headersTooLarge.status, 431)
    }

    func testHeadExactlyAtTheLimitIsAccepted() {
        let head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        XCTAssertEqual(decode(head, limits: limits(maxHeader: head.utf8.count)).count, 1)
        XCTAssertEqual(refusal(head, limits: limits(maxHeader: head.utf8.count - 1)), .headersTooLarge)
    }

    func testBareLFIsRefusedAtOnce() {
        assertMalformed("GET / HTTP/1.1\nHost: h\n\n", "line not ended by CR LF")
        assertMalformed("GET / HTTP/1.1\r\nHost: h\n", "line not ended by CR LF")
    }

    func testBareCRInsideALineIs400() {
        assertMalformed("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", "invalid byte in a header value")
    }

    func testObsFoldIs400() {
        assertMalformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", "obs-fold (a header line starting with whitespace)")
    }

    func testWhitespaceBeforeTheColonIs400() {
        assertMalformed("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "whitespace before the colon of a header")
    }

    func testHeaderSyntaxErrorsAre400() {
        assertMalformed("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "bad header line")
        assertMalformed("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", "header without a name")
        assertMalformed("GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", "bad header line")
        assertMalformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n", "invalid byte in a header value")
        assertMalformed("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7F}\r\n\r\n", "invalid byte in a header value")
    }

    func testNonASCIIHeaderValueBytesAreKept() {
        var requests: [HTTPRequest] = []
        _ = decode([bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\u{E9}\r\n\r\n")], requests: &requests)
        XCTAssertEqual(requests.first?.headers["x-name"], "caf\u{E9}")
    }

    func testBadRequestLinesAre400() {
        assertMalformed("GET\r\nHost: h\r\n\r\n", "bad request line")
        assertMalformed("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "bad request line")
        assertMalformed("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "bad HTTP version")
        assertMalformed("GET /\r\n\r\n", "bad request line")
        assertMalformed("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", "bad request line")
        assertMalformed("GET / http/1.1\r\nHost: h\r\n\r\n", "bad HTTP version")
        assertMalformed("GET / HTTP/1\r\nHost: h\r\n\r\n", "bad HTTP version")
        assertMalformed("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", "bad request target")
        assertMalformed("GET /caf\u{E9} HTTP/1.1\r\nHost: h\r\n\r\n", "invalid byte in request target")
        assertMalformed("GET /a\u{1}b HTTP/1.1\r\nHost: h\r\n\r\n", "invalid byte in request target")
    }

    func testOtherMajorVersionsAre505() {
        XCTAssertEqual(refusal("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), .unsupportedVersion)
        XCTAssertEqual(refusal("GET / HTTP/0.9\r\n\r\n"), .unsupportedVersion)
        XCTAssertEqual(HTTPRefusal.unsupportedVersion.status, 505)
    }

    func testHostIsRequiredOnceInHTTP11() {
        assertMalformed("GET / HTTP/1.1\r\n\r\n", "no Host header")
        assertMalformed("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "more than one Host header")
    }

    // MARK: Content-Length

    func testContentLengthRefusals() {
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                        "conflicting Content-Length values")
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd", "conflicting Content-Length values")
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", "Content-Length is not a number")
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc", "Content-Length is not a number")
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", "Content-Length is not a number")
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", "Content-Length too large")
    }

    func testIdenticalDuplicateContentLengthsAreOneValue() {
        XCTAssertEqual(decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc"),
                       [.request(method: "POST", target: "/", body: bytes("abc"), closeAfter: false)])
    }

    func testContentLengthOverTheLimitIs413WithTheDeclaredSize() {
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", limits: limits(maxBody: 100)),
                       .bodyTooLarge(declared: 101))
        XCTAssertEqual(decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + String(repeating: "z", count: 100),
                              limits: limits(maxBody: 100)).count, 1)
    }

    func testLargeBodyArrivesThroughTheFixedBuffer() {
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var requests: [HTTPRequest] = []
        let events = decode([bytes("PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.count)\r\n\r\n"), body],
                            requests: &requests)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(requests.first?.body, body)
    }

    // MARK: chunked

    func testChunkedBodyWithExtensionsAndTrailersIsDechunked() {
        var requests: [HTTPRequest] = []
        let text = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4;name=value;flag\r\nWiki\r\n5 ; x=\"quoted\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\n"
        let events = decode([bytes(text)], requests: &requests)
        XCTAssertEqual(events, [.request(method: "POST", target: "/c", body: bytes("Wikipedia in\r\n\r\nchunks."), closeAfter: false)])
        XCTAssertEqual(requests.first?.wireBody, bytes("Wikipedia in\r\n\r\nchunks."))
        XCTAssertNil(requests.first?.headers["Expires"], "trailers are dropped")
    }

    func testChunkFramingErrorsAre400() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertMalformed(head + "zz\r\n", "bad chunk size")
        assertMalformed(head + "\r\n", "bad chunk size")
        assertMalformed(head + "5x\r\nhello\r\n", "bad chunk size")
        assertMalformed(head + "5\nhello\r\n", "chunk size line not ended by CR LF")
        assertMalformed(head + "3\r\nabcX\r\n", "chunk data not followed by CR LF")
        assertMalformed(head + "3\r\nabc\rX", "chunk data not followed by CR LF")
        assertMalformed(head + "1;a\u{1}\r\nx\r\n", "invalid byte in a chunk extension")
        assertMalformed(head + "0\r\nBad Trailer\r\n\r\n", "whitespace before the colon of a header")
        assertMalformed(head + "0\r\nX: y\n", "trailer line not ended by CR LF")
    }

    func testChunkSizeOverflowIs400() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertMalformed(head + "FFFFFFFFFFFFFFFFFF\r\n", "chunk size too large")
        assertMalformed(head + "1" + String(repeating: "0", count: 30) + "\r\n", "chunk size too large")
    }

    func testChunkLineWithoutEndIs400OncePastItsLimit() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertMalformed(head + "1;" + String(repeating: "e", count: 5000), "chunk size line too long")
    }

    func testChunkedBodyOverTheLimitIs413() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        XCTAssertEqual(refusal(head + "40\r\n" + String(repeating: "a", count: 64) + "\r\n41\r\n", limits: limits(maxBody: 100)),
                       .bodyTooLarge(declared: nil))
    }

    func testTrailersOverTheHeaderLimitAre431() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        let trailers = (0..<100).map { "X-T\($0): " + String(repeating: "v", count: 20) + "\r\n" }.joined()
        XCTAssertEqual(refusal(head + "0\r\n" + trailers + "\r\n", limits: limits(maxHeader: 1024)), .headersTooLarge)
    }

    func testTransferEncodingRefusals() {
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
                       .unsupportedTransferEncoding("gzip"))
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"),
                       .unsupportedTransferEncoding("identity"))
        XCTAssertEqual(HTTPRefusal.unsupportedTransferEncoding("x").status, 501)
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "chunked applied more than once")
        assertMalformed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n", "empty Transfer-Encoding")
        assertMalformed("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in an HTTP/1.0 request")
    }

    func testContentLengthWithChunkedUsesChunkedAndClosesAfter() {
        XCTAssertEqual(decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                       [.request(method: "POST", target: "/", body: bytes("abc"), closeAfter: true)])
    }

    // MARK: 100-continue

    func testExpectContinueAsksForContinueBeforeTheBody() {
        let decoder = HTTPRequestDecoder()
        decoder.append(bytes("PUT /o HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n"))
        guard case .sendContinue = decoder.next() else { return XCTFail("no 100-continue") }
        guard case .needMoreBytes = decoder.next() else { return XCTFail("should wait for the body") }
        decoder.append(bytes("abc"))
        guard case .request(let request, _) = decoder.next() else { return XCTFail("no request") }
        XCTAssertEqual(request.body, bytes("abc"))
    }

    func testExpectContinueIsNotAskedWhenTheBodyAlreadyCameOrThereIsNone() {
        XCTAssertEqual(decode("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"),
                       [.request(method: "PUT", target: "/", body: bytes("x"), closeAfter: false)])
        XCTAssertEqual(decode("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"),
                       [.request(method: "GET", target: "/", body: [], closeAfter: false)])
        XCTAssertEqual(decode("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"), [])
    }

    func testExpectContinueWithChunkedBodyAsksForContinue() {
        XCTAssertEqual(decode("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"),
                       [.sendContinue])
    }

    func testExpectContinueOverTheLimitIs413WithoutContinue() {
        XCTAssertEqual(decode("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n",
                              limits: limits(maxBody: 999)),
                       [.refused(.bodyTooLarge(declared: 1000))])
    }

    // MARK: content codings

    func testGzipBodyIsInflatedAndWireBodyKeepsTheCompressedBytes() throws {
        let plain = bytes(String(repeating: "{\"TableName\":\"Music\"}", count: 100))
        for coding in ["gzip", "x-gzip", "identity, gzip"] {
            let wire = try Gzip.compress(plain)
            var requests: [HTTPRequest] = []
            let events = decode([bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: \(coding)\r\nContent-Length: \(wire.count)\r\n\r\n"), wire],
                                requests: &requests)
            XCTAssertEqual(events.count, 1, coding)
            XCTAssertEqual(requests.first?.body, plain, coding)
            XCTAssertEqual(requests.first?.wireBody, wire, coding)
        }
    }

    func testChunkedGzipBodyIsInflated() throws {
        let plain = bytes("hello gzip over chunks")
        let wire = try Gzip.compress(plain)
        let half = wire.count / 2
        var text = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
        text += bytes(String(half, radix: 16) + "\r\n") + wire[..<half] + bytes("\r\n")
        text += bytes(String(wire.count - half, radix: 16) + "\r\n") + wire[half...] + bytes("\r\n0\r\n\r\n")
        var requests: [HTTPRequest] = []
        _ = decode([text], requests: &requests)
        XCTAssertEqual(requests.first?.body, plain)
    }

    func testGzipBombIs413WithoutInflatingPastTheLimit() throws {
        let wire = try Gzip.compress([UInt8](repeating: 0, count: 20 * 1024 * 1024))
        XCTAssertLessThan(wire.count, 100 * 1024)
        var requests: [HTTPRequest] = []
        let events = decode([bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: \(wire.count)\r\n\r\n"), wire],
                            limits: limits(maxBody: 1024 * 1024), requests: &requests)
        XCTAssertEqual(events, [.refused(.bodyTooLarge(declared: nil))])
    }

    func testGzipBodyThatDoesNotInflateIs400() throws {
        let wire = try Gzip.compress(bytes("some text to squeeze"))
        let cut = Array(wire[..<(wire.count - 4)])
        var requests: [HTTPRequest] = []
        XCTAssertEqual(decode([bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: \(cut.count)\r\n\r\n"), cut],
                              requests: &requests),
                       [.refused(.malformedRequest("gzip body ends early"))])
        let events = decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!")
        guard case .refused(.malformedRequest(let why))? = events.first else { return XCTFail("\(events)") }
        XCTAssertTrue(why.hasPrefix("gzip body is corrupt"), why)
    }

    func testEmptyGzipBodyIsAnEmptyBody() {
        XCTAssertEqual(decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n"),
                       [.request(method: "POST", target: "/", body: [], closeAfter: false)])
    }

    func testOtherContentCodingsAre415() {
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx"),
                       .unsupportedContentEncoding("br"))
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip, gzip\r\nContent-Length: 1\r\n\r\nx"),
                       .unsupportedContentEncoding("gzip applied more than once"))
        XCTAssertEqual(HTTPRefusal.unsupportedContentEncoding("br").status, 415)
    }

    func testContentCodingsAreLeftAloneWhenDecodingIsOff() {
        var noDecoding = HTTPServerLimits()
        noDecoding.decodeContentEncoding = false
        var requests: [HTTPRequest] = []
        let events = decode([bytes("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Encoding: aws-chunked, gzip\r\nContent-Length: 4\r\n\r\nGZIP")],
                            limits: noDecoding, requests: &requests)
        XCTAssertEqual(events, [.request(method: "PUT", target: "/b/k", body: bytes("GZIP"), closeAfter: false)])
        XCTAssertEqual(requests.first?.wireBody, bytes("GZIP"))
    }

    // MARK: refusals

    func testEveryRefusalHasItsStatusAndOneLineMessage() {
        let cases: [(HTTPRefusal, Int)] = [
            (.malformedRequest("x"), 400), (.headersTooLarge, 431), (.bodyTooLarge(declared: 5), 413),
            (.bodyTooLarge(declared: nil), 413), (.requestTimeout, 408), (.unsupportedVersion, 505),
            (.unsupportedTransferEncoding("gzip"), 501), (.unsupportedContentEncoding("br"), 415), (.tooManyConnections, 503),
        ]
        for (refusal, status) in cases {
            XCTAssertEqual(refusal.status, status, "\(refusal)")
            XCTAssertFalse(refusal.description.contains("\n"))
        }
        XCTAssertEqual(HTTPRefusal.headersTooLarge.description, "431 Request Header Fields Too Large: request header fields too large")
        XCTAssertEqual(HTTPRefusal.malformedRequest("bad chunk size").description, "400 Bad Request: malformed request: bad chunk size")
    }

    func testMangledRequestsNeverCrashAndNeverBufferPastTheLimits() throws {
        let seeds = [
            "POST /p?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
            "PUT /z HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n5;e\r\nhello\r\n0\r\nT: v\r\n\r\n",
            "GET http://a/b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        ].map(bytes)
        let alphabet = bytes("\r\n :;,0123456789abcdefABCDEF\t\u{0}\u{7F}") + [0xFF, 0x80]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(max(n, 1)))
        }
        var small = HTTPServerLimits()
        small.maxHeaderBytes = 256
        small.maxBodyBytes = 64
        for _ in 0..<3000 {
            var message = seeds[random(seeds.count)]
            for _ in 0..<(1 + random(4)) {
                let at = random(message.count)
                switch random(4) {
                case 0: message[at] = alphabet[random(alphabet.count)]
                case 1: message.insert(alphabet[random(alphabet.count)], at: at)
                case 2: message.remove(at: at)
                default: message.insert(contentsOf: [UInt8](repeating: alphabet[random(alphabet.count)], count: random(300)), at: at)
                }
            }
            let cut = random(message.count)
            var requests: [HTTPRequest] = []
            let events = decode([Array(message[..<cut]), Array(message[cut...])], limits: small, requests: &requests)
            for request in requests { XCTAssertLessThanOrEqual(request.body.count, 64) }
            XCTAssertLessThanOrEqual(events.count, message.count)
        }
    }

    func testDecoderStaysFailedAfterARefusal() {
        let decoder = HTTPRequestDecoder()
        decoder.append(bytes("BAD\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        guard case .refused = decoder.next() else { return XCTFail("not refused") }
        guard case .refused = decoder.next() else { return XCTFail("not still refused") }
    }
}
