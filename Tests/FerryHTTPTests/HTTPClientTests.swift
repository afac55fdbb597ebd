#if canImport(Glibc)
import Glibc
#endif
@testable import FerryHTTP
import Foundation
import XCTest

/// Bytes handed out in the pieces given (one read each), then end of stream.
final class MemoryStream: HTTPByteStream {
    var pieces: [[UInt8]]
    var written: [UInt8] = []
    init(_ pieces: [[UInt8]]) { self.pieces = pieces }
    func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Double) throws(HTTPClientError) -> Int {
        guard !pieces.isEmpty else { return 0 }
        var piece = pieces.removeFirst()
        let n = min(piece.count, buffer.count)
        for i in 0..<n { buffer[i] = piece[i] }
        if n < piece.count { piece.removeFirst(n); pieces.insert(piece, at: 0) }
        return n
    }
    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, deadline: Double) throws(HTTPClientError) {
        written += first
        written += second
    }
}

/// Reads one response from `text` split into pieces of `pieceSize` bytes.
private func readResponse(_ text: String, method: String = "GET", pieceSize: Int = 1 << 20) throws -> (HTTPResponseHead, [UInt8], Bool) {
    let bytes = Array(text.utf8)
    let pieces = stride(from: 0, to: bytes.count, by: pieceSize).map { Array(bytes[$0..<min($0 + pieceSize, bytes.count)]) }
    let reader = HTTPResponseReader(stream: MemoryStream(pieces), idleTimeout: 1, bufferBytes: 16)
    let head = try reader.readHead(requestMethod: method)
    var body: [UInt8] = []
    let reusable = try reader.readBody(try HTTPResponseReader.framing(head, requestMethod: method)) { body += $0 }
    return (head, body, reusable)
}

private func failure(_ text: String, method: String = "GET") -> HTTPClientError? {
    do {
        _ = try readResponse(text, method: method)
        return nil
    } catch let error as HTTPClientError {
        return error
    } catch {
        return .transport("\(error)")
    }
}

final class HTTPClientTests: XCTestCase {
    // MARK: the response reader, on bytes

    func testAContentLengthBodyIsReadWhateverPiecesItArrivesIn() throws {
        for size in [1, 2, 3, 7, 64] {
            let (head, body, reusable) = try readResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b \r\n\r\nhello", pieceSize: size)
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.headers["x-a"], "b")
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "hello", "pieces of \(size)")
            XCTAssertTrue(reusable && head.keepAlive)
        }
    }

    func testAChunkedBodyIsJoinedAndItsTrailersSkipped() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
        for size in [1, 4, 1000] {
            let (_, body, reusable) = try readResponse(text, pieceSize: size)
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "hello world")
            XCTAssertTrue(reusable)
        }
    }

    func testABodyWithoutLengthRunsToTheCloseAndTheConnectionIsNotReused() throws {
        let (head, body, reusable) = try readResponse("HTTP/1.0 200 OK\r\n\r\nall of it")
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "all of it")
        XCTAssertFalse(reusable)
        XCTAssertFalse(head.keepAlive)
    }

    func testHeadAnd204And304AnswersHaveNoBodyWhateverTheirLength() throws {
        XCTAssertEqual(try readResponse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", method: "HEAD").1, [])
        XCTAssertEqual(try readResponse("HTTP/1.1 204 No Content\r\n\r\n").1, [])
        XCTAssertEqual(try readResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n").1, [])
    }

    func testAContinueBeforeTheAnswerIsSkipped() throws {
        let (head, body, _) = try readResponse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(head.status, 201)
        XCTAssertEqual(body, Array("ok".utf8))
    }

    func testConnectionCloseIsHonoured() throws {
        let (head, _, _) = try readResponse("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n")
        XCTAssertFalse(head.keepAlive)
    }

    func testMalformedAnswersAreRefusedByName() {
        XCTAssertEqual(failure("HTTP/2 200 OK\r\n\r\n"), .malformedResponse("not an HTTP/1.x status line"))
        XCTAssertEqual(failure("HTTP/1.1 2x0 OK\r\n\r\n"), .malformedResponse("bad status code"))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nbad header\r\n\r\n"), .malformedResponse("bad header line"))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
                       .malformedResponse("bad Content-Length 3, 4"))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), .malformedResponse("bad Content-Length -1"))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), .malformedResponse("bad chunk size"))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef"),
                       .malformedResponse("chunk data not followed by CR LF"))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
                       .malformedResponse("transfer coding gzip, chunked is not supported"))
    }

    func testATruncatedAnswerIsALostConnectionSayingWhere() {
        XCTAssertEqual(failure(""), .connectionLost("closed by the server", afterResponseStarted: false))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-Le"),
                       .connectionLost("closed by the server inside the response head", afterResponseStarted: true))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
                       .connectionLost("closed with 7 body bytes still to come", afterResponseStarted: true))
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
                       .connectionLost("closed inside a chunk", afterResponseStarted: true))
    }

    func testAHeadOverTheLimitIsRefused() {
        let huge = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: HTTPResponseReader.maxHeadBytes) + "\r\n\r\n"
        XCTAssertEqual(failure(huge), .malformedResponse("response head over \(HTTPResponseReader.maxHeadBytes) bytes"))
    }

    // MARK: endpoints

    func testEndpointsParseAsTheAwsCLIAcceptsThem() throws {
        let a = try HTTPEndpoint(parsing: "http://127.0.0.1:8000")
        XCTAssertEqual([a.scheme.rawValue, a.host, String(a.port), a.basePath, a.hostHeader], ["http", "127.0.0.1", "8000", "", "127.0.0.1:8000"])
        let b = try HTTPEndpoint(parsing: "HTTPS://DynamoDB.us-east-1.amazonaws.com/")
        XCTAssertEqual([b.scheme.rawValue, b.host, String(b.port), b.basePath, b.hostHeader],
                       ["https", "dynamodb.us-east-1.amazonaws.com", "443", "", "dynamodb.us-east-1.amazonaws.com"])
        let c = try HTTPEndpoint(parsing: "http://[::1]:9000/prefix/")
        XCTAssertEqual([c.host, String(c.port), c.basePath, c.description], ["::1", "9000", "/prefix", "http://[::1]:9000/prefix"])
    }

    func testBadEndpointsAreRefusedSayingWhy() {
        func why(_ url: String) -> String {
            do { _ = try HTTPEndpoint(parsing: url); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(why("127.0.0.1:8000"), "invalid endpoint 127.0.0.1:8000: expected http://host[:port] or https://host[:port]")
        XCTAssertEqual(why("ftp://h"), "invalid endpoint ftp://h: the scheme must be http or https")
        XCTAssertEqual(why("http://h:0"), "invalid endpoint http://h:0: the port must be a number from 1 to 65535")
        XCTAssertEqual(why("http://h:80x"), "invalid endpoint http://h:80x: the port must be a number from 1 to 65535")
        XCTAssertEqual(why("http://:80"), "invalid endpoint http://:80: the host is missing")
        XCTAssertEqual(why("http://u:p@h"), "invalid endpoint http://u:p@h: user info does not belong in an endpoint; use credentials")
        XCTAssertEqual(why("http://h/?x=1"), "invalid endpoint http://h/?x=1: an endpoint has no query or fragment")
        XCTAssertEqual(why("http://h st"), "invalid endpoint http://h st: the host has characters a host name cannot have")
    }

    // MARK: the client against Ferry's server and a canned one

    func testKeepAliveReusesOneConnectionForManyRequests() throws {
        let server = try RunningServer()
        let client = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: server.port))
        for i in 0..<20 {
            let body = Array("body \(i)".utf8)
            let r = try client.send(HTTPClientRequest(method: "POST", target: "/p?q=\(i)", body: body))
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.body, body)
            XCTAssertEqual(r.headers["x-query"], "q=\(i)")
        }
        XCTAssertEqual(client.connectionsOpened, 1)
        XCTAssertTrue(server.stop())
    }

    func testManyThreadsShareThePoolAndEachGetsItsOwnAnswer() throws {
        let server = try RunningServer()
        let client = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: server.port))
        let wrong = Counter(0)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<25 {
                let body = Array("\(t)-\(i)".utf8)
                let r = try? client.send(HTTPClientRequest(method: "PUT", target: "/x", body: body))
                if r?.body != body { wrong.add() }
            }
        }
        XCTAssertEqual(wrong.value, 0)
        XCTAssertLessThanOrEqual(client.connectionsOpened, 8)
        XCTAssertTrue(server.stop())
    }

    func testAConnectionTheServerClosedIsReplacedWithoutFailingTheRequest() throws {
        let server = try RunningServer()
        let client = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: server.port))
        // "/close" answers with Connection: close, so the next request needs a new connection.
        _ = try client.send(HTTPClientRequest(method: "GET", target: "/close"))
        XCTAssertEqual(try client.send(HTTPClientRequest(method: "GET", target: "/a")).status, 200)
        XCTAssertEqual(client.connectionsOpened, 2)
        XCTAssertTrue(server.stop())
    }

    func testABodyGoesToTheSinkPieceByPiece() throws {
        let server = try RunningServer()
        let client = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: server.port))
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var received: [UInt8] = []
        var pieces = 0
        let r = try client.send(HTTPClientRequest(method: "PUT", target: "/big", body: payload), maxBodyBytes: 10) { piece in
            received += piece
            pieces += 1
        }
        XCTAssertTrue(r.body.isEmpty)
        XCTAssertEqual(received, payload)
        XCTAssertGreaterThan(pieces, 1)
        XCTAssertThrowsError(try client.send(HTTPClientRequest(method: "PUT", target: "/big", body: payload), maxBodyBytes: 1000, sink: nil)) {
            XCTAssertEqual($0 as? HTTPClientError, .responseTooLarge(limit: 1000))
        }
        XCTAssertTrue(server.stop())
    }

    func testARefusedConnectionAndAnUnknownHostAreNamed() throws {
        let port = try unusedPort()
        let client = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: port))
        XCTAssertThrowsError(try client.send(HTTPClientRequest(method: "GET", target: "/"))) {
            XCTAssertEqual($0 as? HTTPClientError, .cannotConnect("127.0.0.1 port \(port): Connection refused"))
        }
        let unknown = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "no-such-host.invalid", port: 80))
        XCTAssertThrowsError(try unknown.send(HTTPClientRequest(method: "GET", target: "/"))) {
            guard case .cannotResolve(host: "no-such-host.invalid", _)? = $0 as? HTTPClientError else { return XCTFail("\($0)") }
        }
    }

    func testASilentServerTimesOut() throws {
        // A listening socket that never answers: connect succeeds (the backlog), the read times out.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }, 0)
        XCTAssertEqual(listen(fd, 4), 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = HTTPClient(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: port),
                                timeouts: HTTPClient.Timeouts(connect: 2, idle: 0.3))
        let started = Date()
        XCTAssertThrowsError(try client.send(HTTPClientRequest(method: "GET", target: "/"))) {
            XCTAssertEqual($0 as? HTTPClientError, .timedOut(phase: "waiting for the response"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    private func unusedPort() throws -> Int {
        let server = try RunningServer()
        let port = server.port
        XCTAssertTrue(server.stop())
        return port
    }
}
