// Ferry's HTTP/1.1 client for plain-HTTP endpoints (ferry-serve, moto, a compatible
// service on a private network): keep-alive connections in a pool, bounded waits for
// every connect, write and read. HTTPS goes through URLSessionTransport. docs/http.md.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A TCP connection as an `HTTPByteStream`. Not thread-safe: the pool hands it to one
/// request at a time.
final class SocketStream: HTTPByteStream {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { Socket.close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Double) throws(HTTPClientError) -> Int {
        while true {
            let n = Socket.receive(fd, buffer)
            if n >= 0 { return n }
            if n == -Int(EAGAIN) || n == -Int(EWOULDBLOCK) {
                switch Socket.wait(fd, wake: nil, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut(phase: "waiting for the response")
                case .woken, .failed: throw .connectionLost(Socket.errorText(Int32(errno)), afterResponseStarted: false)
                }
            }
            throw .connectionLost(Socket.errorText(Int32(-n)), afterResponseStarted: false)
        }
    }

    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, deadline: Double) throws(HTTPClientError) {
        guard Socket.sendAll(fd, first, second, deadline: deadline) else {
            let e = errno
            if Socket.now() >= deadline { throw .timedOut(phase: "sending the request") }
            throw .connectionLost(Socket.errorText(e), afterResponseStarted: false)
        }
    }

    /// True when the server has closed (or sent something unasked) while the connection
    /// sat in the pool: it must not be reused.
    var isStale: Bool {
        var probe: UInt8 = 0
        let n = withUnsafeMutableBytes(of: &probe) { Socket.receive(fd, $0) }
        return n != -Int(EAGAIN) && n != -Int(EWOULDBLOCK)
    }
}

/// Sends requests to one `http://` endpoint over pooled keep-alive connections.
/// Thread-safe: any number of threads may send at once; each request takes an idle
/// connection or opens one, and gives it back after a complete response.
public final class HTTPClient: HTTPTransport, Sendable {
    public struct Timeouts: Sendable {
        /// Seconds to establish a connection.
        public var connect: Double = 10
        /// Seconds the server may stay silent while a request is sent or its answer read.
        public var idle: Double = 60
        public init(connect: Double = 10, idle: Double = 60) {
            self.connect = connect
            self.idle = idle
        }
    }

    public let endpoint: HTTPEndpoint
    public let timeouts: Timeouts
    /// Idle connections kept for reuse; more are closed when returned.
    public let maxIdleConnections: Int

    private struct Idle: @unchecked Sendable {
        // Each SocketStream in here is owned by the pool alone (rule 15, docs/concurrency.md).
        var connections: [(stream: SocketStream, reader: HTTPResponseReader)] = []
    }
    private let idle = Mutex(Idle())
    private let opened = Atomic<Int>(0)

    public init(endpoint: HTTPEndpoint, timeouts: Timeouts = Timeouts(), maxIdleConnections: Int = 64) {
        self.endpoint = endpoint
        self.timeouts = timeouts
        self.maxIdleConnections = maxIdleConnections
    }

    /// Connections opened so far (tests check reuse with it).
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    public func send(_ request: HTTPClientRequest, maxBodyBytes: Int,
                     sink: ((UnsafeRawBufferPointer) throws -> Void)?) throws(HTTPClientError) -> HTTPClientResponse {
        let head = encodeHead(request)
        // A pooled connection the server closed meanwhile fails before any response byte;
        // that one failure is retried once on a new connection (the request never reached
        // a live server), as curl and the SDKs' HTTP clients do.
        var reused = true
        while true {
            let connection: (stream: SocketStream, reader: HTTPResponseReader)
            if let pooled = takeIdle() {
                connection = pooled
            } else {
                reused = false
                connection = try connect()
            }
            do {
                return try exchange(connection, request, head: head, maxBodyBytes: maxBodyBytes, sink: sink)
            } catch let error {
                if reused, case .connectionLost(_, afterResponseStarted: false) = error, connection.reader.receivedThisResponse == 0 {
                    reused = false
                    continue
                }
                throw error
            }
        }
    }

    private func exchange(_ connection: (stream: SocketStream, reader: HTTPResponseReader), _ request: HTTPClientRequest,
                          head: [UInt8], maxBodyBytes: Int,
                          sink: ((UnsafeRawBufferPointer) throws -> Void)?) throws(HTTPClientError) -> HTTPClientResponse {
        let deadline = Socket.now() + timeouts.idle
        try HTTPClientError.typed {
            try head.withUnsafeBytes { h in
                try request.body.withUnsafeBytes { b in try connection.stream.write(h, b, deadline: deadline) }
            }
        }
        let responseHead = try connection.reader.readHead(requestMethod: request.method)
        let framing = try HTTPResponseReader.framing(responseHead, requestMethod: request.method)
        var body: [UInt8] = []
        let reusable = try connection.reader.readBody(framing) { (piece) throws(HTTPClientError) in
            if let sink {
                do { try sink(piece) } catch { throw .sinkFailed("\(error)") }
            } else {
                guard body.count + piece.count <= maxBodyBytes else { throw .responseTooLarge(limit: maxBodyBytes) }
                body.append(contentsOf: piece)
            }
        }
        if reusable && responseHead.keepAlive { giveBack(connection) }
        return HTTPClientResponse(status: responseHead.status, headers: responseHead.headers, body: body)
    }

    private func encodeHead(_ request: HTTPClientRequest) -> [UInt8] {
        var text = "\(request.method) \(endpoint.basePath)\(request.target) HTTP/1.1\r\n"
        if !request.headers.contains("host") { text += "Host: \(endpoint.hostHeader)\r\n" }
        for field in request.headers.fields { text += "\(field.name): \(field.value)\r\n" }
        if !request.headers.contains("content-length") && !request.headers.contains("transfer-encoding")
            && (!request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method)) {
            text += "Content-Length: \(request.body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    private func takeIdle() -> (stream: SocketStream, reader: HTTPResponseReader)? {
        while let candidate = idle.withLock({ $0.connections.popLast() }) {
            if !candidate.stream.isStale { return candidate }
        }
        return nil
    }

    private func giveBack(_ connection: (stream: SocketStream, reader: HTTPResponseReader)) {
        idle.withLock { pool in
            if pool.connections.count < maxIdleConnections { pool.connections.append(connection) }
        }
    }

    private func connect() throws(HTTPClientError) -> (stream: SocketStream, reader: HTTPResponseReader) {
        let fd = try Socket.connect(host: endpoint.host, port: endpoint.port, timeout: timeouts.connect)
        opened.add(1, ordering: .relaxed)
        let stream = SocketStream(fd: fd)
        return (stream, HTTPResponseReader(stream: stream, idleTimeout: timeouts.idle))
    }
}

extension Socket {
    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// Resolves `host` and connects to the first address that answers within `timeout`
    /// seconds; the socket is non-blocking, close-on-exec, with TCP_NODELAY.
    static func connect(host: String, port: Int, timeout: Double) throws(HTTPClientError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let why = rc == EAI_SYSTEM ? errorText(errno) : String(cString: gai_strerror(rc))
            throw .cannotResolve(host: host, why)
        }
        defer { freeaddrinfo(list) }
        let deadline = now() + timeout
        var lastError = "no address for \(host)"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let a = entry {
            entry = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), a.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errorText(errno); continue }
            var result = Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen)
            if result < 0 && (errno == EINPROGRESS || errno == EINTR) {
                switch wait(fd, forWriting: true, wake: nil, deadline: deadline) {
                case .ready:
                    var soError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                    if soError == 0 { result = 0 } else { errno = soError }
                case .timedOut:
                    errno = ETIMEDOUT
                case .woken, .failed:
                    break
                }
            }
            if result == 0 {
                setNoDelay(fd)
                return fd
            }
            lastError = "\(host) port \(port): \(errorText(errno))"
            close(fd)
        }
        throw .cannotConnect(lastError)
    }
}
