// A raw-socket HTTP client and a server harness for the socket tests. Talks to
// 127.0.0.1 only; every read and write is bounded by a socket timeout.
@testable import FerryHTTP
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

struct TestResponse {
    var status: Int
    var reason: String
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

struct TestClientError: Error, CustomStringConvertible {
    let description: String
}

/// One TCP connection to 127.0.0.1:port, with a 5 s receive and send timeout.
final class TestHTTPClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw TestClientError(description: "connect failed: errno \(errno)")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends everything; false when the connection broke.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads more into the buffer; false at end of stream, reset or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        if n <= 0 { return false }
        buffer += chunk[..<n]
        return true
    }

    /// Reads one response (Content-Length framing; HEAD responses with `head: true`).
    func readResponse(head: Bool = false) throws -> TestResponse {
        var end: Int?
        while end == nil {
            if let range = findHeadEnd() { end = range; break }
            guard fill() else { throw TestClientError(description: "connection ended before a response head (\(buffer.count) bytes)") }
        }
        guard let headEnd = end else { throw TestClientError(description: "no head") }
        let headText = String(decoding: buffer[..<headEnd], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw TestClientError(description: "bad status line \(statusLine)")
        }
        var headers = HTTPHeaders()
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        buffer.removeFirst(headEnd + 4)
        var length = Int(headers["Content-Length"] ?? "0") ?? 0
        if head || status == 100 || status == 204 || status == 304 { length = 0 }
        while buffer.count < length {
            guard fill() else { throw TestClientError(description: "connection ended inside a body") }
        }
        let body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return TestResponse(status: status, reason: parts.count > 2 ? parts[2] : "", headers: headers, body: body)
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// True when the server closes the connection (end of stream or reset) within the
    /// receive timeout, with nothing more sent.
    func isClosedByServer() -> Bool {
        guard buffer.isEmpty else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
        return false
    }

    /// Bytes the client holds that no response has used.
    var leftover: Int { buffer.count }
}

/// Echoes what it got: method, path, query, body sizes in headers, the body as the body.
/// "/slow" waits 0.4 s first; "/close" asks for the connection to close.
struct EchoHandler: HTTPHandler {
    func respond(to request: HTTPRequest) -> HTTPResponse {
        if request.path == "/slow" { usleep(400_000) }
        var headers: HTTPHeaders = ["Content-Type": "application/octet-stream"]
        headers.add("X-Method", request.method)
        headers.add("X-Path", request.path)
        headers.add("X-Query", request.query)
        headers.add("X-Wire-Length", String(request.wireBody.count))
        headers.add("X-Remote", request.remoteAddress)
        if request.path == "/close" { headers.add("Connection", "close") }
        return HTTPResponse(status: 200, headers: headers, body: request.body)
    }
}

/// A server running `run()` on a background thread.
final class RunningServer {
    let server: HTTPServer
    private let finished = DispatchSemaphore(value: 0)
    private var returned = false

    init(limits: HTTPServerLimits = HTTPServerLimits(), handler: any HTTPHandler = EchoHandler()) throws {
        server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: handler)
        let server = self.server
        let finished = self.finished
        let thread = Thread {
            server.run()
            finished.signal()
        }
        thread.start()
    }

    var port: Int { server.port }

    func client() throws -> TestHTTPClient { try TestHTTPClient(port: server.port) }

    /// Shuts down and waits for run() to return; false if it did not within `timeout`.
    @discardableResult
    func stop(timeout: Double = 5) -> Bool {
        server.shutdown()
        return waitForRunToReturn(timeout: timeout)
    }

    /// Waits for run() to return without asking it to.
    func waitForRunToReturn(timeout: Double) -> Bool {
        if returned { return true }
        returned = finished.wait(timeout: .now() + timeout) == .success
        return returned
    }

    deinit { _ = stop() }
}
