// Response heads as the server writes them: status line, what it adds and drops.
@testable import FerryHTTP
import XCTest

final class HTTPResponseEncoderTests: XCTestCase {
    private func head(_ response: HTTPResponse, headRequest: Bool = false, http10: Bool = false,
                      closing: Bool = false) -> (String, Bool) {
        let encoder = HTTPResponseEncoder()
        let sendBody = encoder.encode(response, headRequest: headRequest, http10: http10, closing: closing)
        return (String(decoding: encoder.head, as: UTF8.self), sendBody)
    }

    func testStatusLineReasonAndContentLengthAreWritten() {
        let (text, sendBody) = head(HTTPResponse(status: 404, headers: ["Content-Type": "text/plain"], body: Array("nope".utf8)))
        XCTAssertEqual(text, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\n")
        XCTAssertTrue(sendBody)
    }

    func testHandlersFramingHeadersAreReplaced() {
        var headers: HTTPHeaders = ["Content-Length": "999", "Transfer-Encoding": "chunked"]
        headers.add("Connection", "keep-alive")
        headers.add("X-A", "1")
        let (text, _) = head(HTTPResponse(status: 200, headers: headers, body: [1, 2]), closing: true)
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
    }

    func testHeadKeepsTheHandlersContentLengthAndSendsNoBody() {
        let (text, sendBody) = head(HTTPResponse(status: 200, headers: ["Content-Length": "12345"]), headRequest: true)
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n")
        XCTAssertFalse(sendBody)
        let (withBody, _) = head(HTTPResponse(status: 200, body: [1, 2, 3]), headRequest: true)
        XCTAssertEqual(withBody, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
    }

    func testNoContentHasNoLengthAndNoBody() {
        let (text, sendBody) = head(HTTPResponse(status: 204, body: [1]))
        XCTAssertEqual(text, "HTTP/1.1 204 No Content\r\n\r\n")
        XCTAssertFalse(sendBody)
    }

    func testStatusOutsideTheFinalRangeIsSentAs500() {
        XCTAssertTrue(head(HTTPResponse(status: 42)).0.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
        XCTAssertTrue(head(HTTPResponse(status: 101)).0.hasPrefix("HTTP/1.1 500 "))
        XCTAssertTrue(head(HTTPResponse(status: 599)).0.hasPrefix("HTTP/1.1 599 \r\n"))
    }

    func testControlBytesInHandlerValuesCannotSplitTheResponse() {
        var headers = HTTPHeaders()
        headers.add("X-Evil", "a\r\nSet-Cookie: x")
        headers.add("Bad Name", "dropped")
        let (text, _) = head(HTTPResponse(status: 200, headers: headers))
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\nX-Evil: a  Set-Cookie: x\r\nContent-Length: 0\r\n\r\n")
    }

    func testHTTP10KeepAliveIsAnnounced() {
        XCTAssertEqual(head(HTTPResponse(status: 200), http10: true).0,
                       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
    }

    func testHandlerAskingToCloseIsNoticed() {
        XCTAssertTrue(HTTPResponseEncoder.asksToClose(HTTPResponse(status: 200, headers: ["connection": "Close"])))
        XCTAssertFalse(HTTPResponseEncoder.asksToClose(HTTPResponse(status: 200, headers: ["Connection": "keep-alive"])))
    }

    func testLargeHeadGrowsTheBuffer() {
        var headers = HTTPHeaders()
        for i in 0..<200 { headers.add("X-\(i)", String(repeating: "v", count: 100)) }
        let (text, _) = head(HTTPResponse(status: 200, headers: headers))
        XCTAssertTrue(text.hasSuffix("X-199: " + String(repeating: "v", count: 100) + "\r\nContent-Length: 0\r\n\r\n"))
    }

    func testHeadersLookUpWithoutCaseAndSetReplacesEveryCopy() {
        var headers: HTTPHeaders = ["A": "1", "b": "2"]
        headers.add("a", "3")
        XCTAssertEqual(headers.values("a"), ["1", "3"])
        headers.set("A", "9")
        XCTAssertEqual(headers.fields.map(\.name), ["A", "b"])
        XCTAssertEqual(headers["a"], "9")
        headers.remove("B")
        XCTAssertEqual(headers.count, 1)
        XCTAssertEqual(HTTPResponse.reasonPhrase(431), "Request Header Fields Too Large")
    }
}
