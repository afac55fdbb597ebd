// The server over real sockets on 127.0.0.1: keep-alive, pipelining, limits, timeouts,
// the connection cap and shutdown. Every wait is bounded (5 s socket timeouts).
@testable import FerryHTTP
import FerryIO
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class HTTPServerTests: XCTestCase {
    private func limits(_ change: (inout HTTPServerLimits) -> Void) -> HTTPServerLimits {
        var limits = HTTPServerLimits()
        change(&limits)
        return limits
    }

    /// True when the client's socket has bytes (or an end) to read now.
    private func readable(_ client: TestHTTPClient) -> Bool {
        var fd = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0
    }

    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let running = try RunningServer()
        let client = try running.client()
        var remotes = Set<String>()
        for i in 0..<5 {
            XCTAssertTrue(client.send("POST /echo/\(i)?n=\(i) HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n#\(i)"))
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.reason, "OK")
            XCTAssertEqual(response.headers["X-Path"], "/echo/\(i)")
            XCTAssertEqual(response.headers["X-Query"], "n=\(i)")
            XCTAssertEqual(response.text, "#\(i)")
            XCTAssertEqual(response.headers["Content-Length"], "2")
            XCTAssertNil(response.headers["Connection"])
            remotes.insert(response.headers["X-Remote"] ?? "")
        }
        XCTAssertEqual(remotes.count, 1, "one connection")
        XCTAssertTrue(remotes.first?.hasPrefix("127.0.0.1:") ?? false)
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let running = try RunningServer()
        let client = try running.client()
        client.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nPOST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().headers["X-Path"], "/1")
        let second = try client.readResponse()
        XCTAssertEqual(second.headers["X-Path"], "/2")
        XCTAssertEqual(second.text, "abc")
        XCTAssertEqual(try client.readResponse().headers["X-Path"], "/3")
    }

    func testHeaderOf20KBIs431AndTheConnectionCloses() throws {
        let running = try RunningServer()
        let client = try running.client()
        client.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 20 * 1024) + "\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 431)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertEqual(response.text, "431 Request Header Fields Too Large: request header fields too large\n")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testBodyOverTheLimitIs413AtOnce() throws {
        let running = try RunningServer(limits: limits { $0.maxBodyBytes = 1000 })
        let client = try running.client()
        client.send("PUT /o HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 100))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testExpectContinueGetsContinueThenTheAnswer() throws {
        let running = try RunningServer(limits: limits { $0.maxBodyBytes = 1000 })
        let client = try running.client()
        client.send("PUT /o HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let interim = try client.readResponse()
        XCTAssertEqual(interim.status, 100)
        XCTAssertEqual(interim.reason, "Continue")
        client.send("hello")
        let final = try client.readResponse()
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.text, "hello")

        // Over the limit: 413 straight away, no 100.
        let big = try running.client()
        big.send("PUT /o HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
        XCTAssertEqual(try big.readResponse().status, 413)
    }

    func testMalformedRequestLineIs400() throws {
        let running = try RunningServer()
        let client = try running.client()
        client.send("HELLO WORLD\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.text, "400 Bad Request: malformed request: bad request line\n")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testRefusalsUseTheHandlersResponse() throws {
        struct JSONRefusals: HTTPHandler {
            func respond(to request: HTTPRequest) -> HTTPResponse { HTTPResponse(status: 200) }
            func response(for refusal: HTTPRefusal) -> HTTPResponse {
                HTTPResponse(status: refusal.status, headers: ["Content-Type": "application/json"],
                             body: Array("{\"status\":\(refusal.status)}".utf8))
            }
        }
        let running = try RunningServer(handler: JSONRefusals())
        let client = try running.client()
        client.send("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: br\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 501)
        XCTAssertEqual(response.headers["Content-Type"], "application/json")
        XCTAssertEqual(response.text, "{\"status\":501}")
    }

    func testSlowClientIsCutOffByTheHeaderTimeoutWhileAnotherIsServed() throws {
        let running = try RunningServer(limits: limits { $0.headerTimeout = 0.5 })
        let slow = try running.client()
        let fast = try running.client()
        let start = Date()
        let trickle = Array("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + String(repeating: "s", count: 100)) 
        var served = 0
        for byte in trickle {
            if readable(slow) { break }
            guard slow.send([UInt8](String(byte).utf8)) else { break }
            fast.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try fast.readResponse().status, 200)
            served += 1
            usleep(50_000)
        }
        let response = try slow.readResponse()
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertGreaterThan(elapsed, 0.4)
        XCTAssertLessThan(elapsed, 2.0)
        XCTAssertGreaterThan(served, 3, "the other client was served meanwhile")
        fast.send("GET /after HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try fast.readResponse().status, 200)
    }

    func testSilentNewConnectionIsClosedByTheHeaderTimeout() throws {
        let running = try RunningServer(limits: limits { $0.headerTimeout = 0.3 })
        let client = try running.client()
        let start = Date()
        XCTAssertTrue(client.isClosedByServer())
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0)
    }

    func testIdleKeepAliveConnectionIsClosedByTheIdleTimeout() throws {
        let running = try RunningServer(limits: limits { $0.idleTimeout = 0.3 })
        let client = try running.client()
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        let start = Date()
        XCTAssertTrue(client.isClosedByServer())
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(elapsed, 0.2)
        XCTAssertLessThan(elapsed, 2.0)
    }

    func testTricklingBodyIsCutOffByTheBodyTimeout() throws {
        let running = try RunningServer(limits: limits { $0.bodyTimeout = 0.5 })
        let client = try running.client()
        client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
        let start = Date()
        for _ in 0..<100 {
            if readable(client) { break }
            guard client.send("b") else { break }
            usleep(50_000)
        }
        XCTAssertEqual(try client.readResponse().status, 408)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0)
    }

    func testConnectionCapGivesTheThirdConnection503AndServesTheOthers() throws {
        let running = try RunningServer(limits: limits { $0.maxConnections = 2 })
        let first = try running.client()
        let second = try running.client()
        for client in [first, second] {
            client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        let third = try running.client()
        third.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let refused = try third.readResponse()
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.headers["Connection"], "close")
        XCTAssertTrue(third.isClosedByServer())
        // The two keep being served.
        second.send("GET /still HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try second.readResponse().status, 200)
        // A slot freed is a slot for the next connection.
        first.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try first.readResponse().headers["Connection"], "close")
        XCTAssertTrue(first.isClosedByServer())
        let deadline = Date().addingTimeInterval(3)
        while running.server.activeConnections > 1 && Date() < deadline { usleep(10_000) }
        let fourth = try running.client()
        fourth.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try fourth.readResponse().status, 200)
    }

    func testShutdownFinishesTheInFlightRequestClosesIdleOnesAndRunReturns() throws {
        let running = try RunningServer()
        let idle = try running.client()
        idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try idle.readResponse().status, 200)
        let busy = try running.client()
        busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)  // the handler is asleep now
        let start = Date()
        running.server.shutdown()
        XCTAssertTrue(idle.isClosedByServer())
        XCTAssertFalse(readable(busy), "the idle connection closed before the in-flight request was answered")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        let response = try busy.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["X-Path"], "/slow")
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(busy.isClosedByServer())
        XCTAssertTrue(running.waitForRunToReturn(timeout: 3), "run() returns")
        XCTAssertThrowsError(try running.client(), "no longer listening")
        XCTAssertTrue(running.server.isShuttingDown)
    }

    func testShutdownBeforeRunMakesRunReturnAtOnce() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: EchoHandler())
        server.shutdown()
        server.shutdown()
        let start = Date()
        server.run()
        server.run()
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testListeningOnAPortInUseFailsWithTheReason() throws {
        let running = try RunningServer()
        XCTAssertThrowsError(try HTTPServer(host: "127.0.0.1", port: running.port, handler: EchoHandler())) { error in
            XCTAssertEqual("\(error)", "cannot listen on 127.0.0.1:\(running.port): Address already in use")
        }
        XCTAssertThrowsError(try HTTPServer(host: "example.com", port: 80, handler: EchoHandler())) { error in
            XCTAssertEqual("\(error)", "cannot listen on example.com:80: not an IP address (use 127.0.0.1, 0.0.0.0, ::1 or localhost)")
        }
        XCTAssertEqual(running.server.url, "http://127.0.0.1:\(running.port)")
        XCTAssertGreaterThan(running.port, 0)
    }

    func testBindsLocalhostAndIPv6LoopbackWithTheirURLs() throws {
        let local = try HTTPServer(host: "localhost", port: 0, handler: EchoHandler())
        XCTAssertEqual(local.url, "http://localhost:\(local.port)")
        // A machine without IPv6 loopback must refuse with the one-line error, not fail
        // otherwise; the rest of the test runs either way.
        do {
            let v6 = try HTTPServer(host: "::1", port: 0, handler: EchoHandler())
            XCTAssertEqual(v6.url, "http://[::1]:\(v6.port)")
        } catch let error as HTTPServerError where error.code == EADDRNOTAVAIL || error.code == EAFNOSUPPORT {
            XCTAssertTrue("\(error)".hasPrefix("cannot listen on [::1]:0: "), "\(error)")
        }
        XCTAssertThrowsError(try HTTPServer(host: "127.0.0.1", port: 70000, handler: EchoHandler()))
    }

    func testSlowHandlerOnOneConnectionDoesNotDelayAnother() throws {
        let running = try RunningServer()
        let slow = try running.client()
        let fast = try running.client()
        let start = Date()
        slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        fast.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try fast.readResponse().status, 200)
        XCTAssertFalse(readable(slow), "the fast answer came while the slow handler still ran")
        XCTAssertEqual(try slow.readResponse().headers["X-Path"], "/slow")
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.35)
    }

    func testHeadResponsesCarryNoBody() throws {
        struct Fixed: HTTPHandler {
            func respond(to request: HTTPRequest) -> HTTPResponse { HTTPResponse(status: 200, body: Array("hello".utf8)) }
        }
        let running = try RunningServer(handler: Fixed())
        let client = try running.client()
        client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try client.readResponse(head: true)
        XCTAssertEqual(head.headers["Content-Length"], "5")
        let get = try client.readResponse()
        XCTAssertEqual(get.text, "hello", "no body bytes were sent for HEAD")
    }

    func testGzipRequestBodyIsInflatedOverASocket() throws {
        let running = try RunningServer()
        let client = try running.client()
        let plain = Array(String(repeating: "gzip me ", count: 500).utf8)
        let wire = try Gzip.compress(plain)
        client.send(Array("POST / HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(wire.count)\r\n\r\n".utf8) + wire)
        let response = try client.readResponse()
        XCTAssertEqual(response.body, plain)
        XCTAssertEqual(response.headers["X-Wire-Length"], String(wire.count))
    }

    func testChunkedRequestOverASocket() throws {
        let running = try RunningServer()
        let client = try running.client()
        client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n")
        usleep(20_000)
        client.send("2\r\nde\r\n0\r\nTrailer: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "abcde")
    }

    func testHTTP10IsAnsweredAndClosedUnlessKeepAlive() throws {
        let running = try RunningServer()
        let keep = try running.client()
        keep.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try keep.readResponse().headers["Connection"], "keep-alive")
        keep.send("GET /b HTTP/1.0\r\n\r\n")
        let last = try keep.readResponse()
        XCTAssertEqual(last.headers["X-Path"], "/b")
        XCTAssertEqual(last.headers["Connection"], "close")
        XCTAssertTrue(keep.isClosedByServer())
    }

    func testManyClientsAtOnceAreAllServed() throws {
        let running = try RunningServer()
        let port = running.port
        let failures = Counter(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            do {
                let client = try TestHTTPClient(port: port)
                for i in 0..<50 {
                    client.send("POST /w\(worker) HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n\(String(format: "%04d", i))")
                    let response = try client.readResponse()
                    if response.text != String(format: "%04d", i) || response.headers["X-Path"] != "/w\(worker)" {
                        failures.add()
                    }
                }
            } catch {
                failures.add()
            }
        }
        XCTAssertEqual(failures.value, 0)
    }
}

/// A counter the concurrent test bumps from several threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    init(_ value: Int) { count = value }
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
