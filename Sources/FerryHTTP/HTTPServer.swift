// The HTTP/1.1 server: listening socket, accept loop, a thread per connection, the
// connection cap and graceful shutdown. What it serves and refuses: docs/http.md.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import FerryIO

/// A listening socket that could not be set up: "cannot listen on 127.0.0.1:8000:
/// Address already in use".
public struct HTTPServerError: Error, CustomStringConvertible, Equatable {
    public let host: String
    public let port: Int
    /// What failed, e.g. "Address already in use".
    public let reason: String
    /// The errno of the failing call (EINVAL for an address that is not one).
    public let code: Int32

    public init(host: String, port: Int, reason: String, code: Int32) {
        self.host = host
        self.port = port
        self.reason = reason
        self.code = code
    }

    public var description: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "cannot listen on \(shown):\(port): \(reason)"
    }
}

/// An HTTP/1.1 server on one listening socket (docs/http.md).
///
/// Thread safety (docs/http.md, "Threading"):
/// 1. `port`, `url`, `host`, `limits`, `activeConnections` and `isShuttingDown` may be
///    read from any thread at any time.
/// 2. `run()` is called once, on the thread that is to run the accept loop; it blocks
///    until shutdown is over. A second call returns at once.
/// 3. `shutdown()` may be called from any thread, any number of times, before, during or
///    after `run()` (it only sets a flag and writes one byte to a pipe, so even a signal
///    handler may call it).
/// 4. The handler is called concurrently, from one thread per connection (see
///    `HTTPHandler`).
public final class HTTPServer: @unchecked Sendable {
    /// The host as given to init.
    public let host: String
    /// The bound port (the one the kernel picked when init was given 0).
    public let port: Int
    /// "http://127.0.0.1:8000" ("http://[::1]:8000" for IPv6).
    public let url: String
    public let limits: HTTPServerLimits

    private let core: ServerCore
    private let listener: Int32
    private enum RunState { case notStarted, running, finished }
    private let runState = Mutex(RunState.notStarted)

    /// Binds and listens at once (so the port is known). `host` is an IP address
    /// ("127.0.0.1", "0.0.0.0", "::1", "::") or "localhost" (127.0.0.1); no name is looked
    /// up. Port 0 picks a free port. Throws `HTTPServerError`.
    public init(host: String, port: Int, limits: HTTPServerLimits = HTTPServerLimits(), handler: any HTTPHandler) throws {
        self.host = host
        self.limits = limits
        guard (0...65535).contains(port) else {
            throw HTTPServerError(host: host, port: port, reason: "port out of range (0-65535)", code: EINVAL)
        }
        var address = sockaddr_storage()
        var length: socklen_t
        var family: Int32
        var literal = host == "localhost" ? "127.0.0.1" : host
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            family = AF_INET
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &address) { storage in
                storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { a in
                    a.pointee.sin_family = sa_family_t(AF_INET)
                    a.pointee.sin_port = UInt16(port).bigEndian
                    a.pointee.sin_addr = v4
                }
            }
        } else if inet_pton(AF_INET6, literal, &v6) == 1 {
            family = AF_INET6
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutablePointer(to: &address) { storage in
                storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { a in
                    a.pointee.sin6_family = sa_family_t(AF_INET6)
                    a.pointee.sin6_port = UInt16(port).bigEndian
                    a.pointee.sin6_addr = v6
                }
            }
        } else {
            throw HTTPServerError(host: host, port: port,
                                  reason: "not an IP address (use 127.0.0.1, 0.0.0.0, ::1 or localhost)", code: EINVAL)
        }

        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw HTTPServerError(host: host, port: port, reason: errnoDescription(errno), code: errno)
        }
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        let bound = withUnsafePointer(to: &address) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, SOMAXCONN) == 0 else {
            let code = errno
            Socket.close(fd)
            throw HTTPServerError(host: host, port: port, reason: errnoDescription(code), code: code)
        }
        Socket.setNonBlocking(fd)

        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
        }
        var boundPort = port
        if family == AF_INET {
            boundPort = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        } else {
            boundPort = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        }

        var pipeFDs: (Int32, Int32) = (-1, -1)
        let piped = withUnsafeMutablePointer(to: &pipeFDs) { $0.withMemoryRebound(to: Int32.self, capacity: 2) { pipe($0) } }
        guard piped == 0 else {
            let code = errno
            Socket.close(fd)
            throw HTTPServerError(host: host, port: port, reason: "cannot make the shutdown pipe: \(errnoDescription(code))", code: code)
        }
        for end in [pipeFDs.0, pipeFDs.1] { Socket.setCloseOnExec(end); Socket.setNonBlocking(end) }

        listener = fd
        self.port = boundPort
        url = family == AF_INET6 ? "http://[\(literal)]:\(boundPort)" : "http://\(host):\(boundPort)"
        core = ServerCore(handler: handler, limits: limits, wakeRead: pipeFDs.0, wakeWrite: pipeFDs.1)
    }

    deinit {
        let neverRan = runState.withLock { $0 == .notStarted }
        if neverRan { Socket.close(listener) }
    }

    /// Connections being served now (not counting ones refused with 503).
    public var activeConnections: Int { core.activeConnections }

    /// True once `shutdown()` was called.
    public var isShuttingDown: Bool { core.isStopping }

    /// Stops accepting, lets in-flight requests finish (each is answered with
    /// `Connection: close`, then its connection closes) and closes idle keep-alive
    /// connections at once. Returns immediately; `run()` returns when it is over.
    /// Thread-safe and async-signal-safe.
    public func shutdown() {
        core.stop()
    }

    /// Accepts connections until `shutdown()`, each served on its own thread; then closes
    /// the listening socket and returns once every connection has closed (a handler
    /// that never returns keeps it waiting). Runs once: a second call returns at once.
    public func run() {
        let first = runState.withLock { state -> Bool in
            guard state == .notStarted else { return false }
            state = .running
            return true
        }
        guard first else { return }
        acceptLoop()
        Socket.close(listener)
        core.connections.wait()
        runState.withLock { $0 = .finished }
    }

    /// A connection refused with 503 at the cap: drained a moment before it is closed, so
    /// the client reads the answer instead of a reset.
    private struct Refused {
        let fd: Int32
        let deadline: Double
    }
    private static let maxLingering = 64

    private func acceptLoop() {
        var refused: [Refused] = []
        var fds: [pollfd] = []
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
        defer {
            scratch.deallocate()
            for r in refused { Socket.close(r.fd) }
        }
        let encoder = HTTPResponseEncoder()
        while !core.isStopping {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: core.wakeRead, events: Int16(POLLIN), revents: 0))
            for r in refused { fds.append(pollfd(fd: r.fd, events: Int16(POLLIN), revents: 0)) }
            var timeout: Int32 = -1
            if let soonest = refused.map(\.deadline).min() { timeout = Socket.pollMilliseconds(soonest - Socket.now()) }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 {
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if fds[1].revents != 0 { break }

            // Refused connections: drop what they send; close at their end or deadline.
            let now = Socket.now()
            var index = refused.count - 1
            while index >= 0 {
                var done = now >= refused[index].deadline
                if fds[2 + index].revents != 0 {
                    let got = Socket.receive(refused[index].fd, scratch)
                    if got == 0 || (got < 0 && got != -Int(EAGAIN) && got != -Int(EWOULDBLOCK)) { done = true }
                }
                if done {
                    Socket.close(refused[index].fd)
                    refused.remove(at: index)
                }
                index -= 1
            }

            if fds[0].revents != 0 { acceptPending(&refused, encoder: encoder) }
        }
    }

    /// Accepts every connection waiting (the listener is non-blocking).
    private func acceptPending(_ refused: inout [Refused], encoder: HTTPResponseEncoder) {
        for _ in 0..<256 {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) { storage in
                storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listener, $0, &length)
                }
            }
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN, EWOULDBLOCK: return
                default:
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: out of descriptors or memory. Back off
                    // a moment instead of spinning; the kernel keeps the connection queued.
                    usleep(10_000)
                    return
                }
            }
            Socket.setCloseOnExec(fd)
            Socket.setNoDelay(fd)
            let acceptedAt = Socket.now()
            if core.activeConnections >= limits.maxConnections || !startConnection(fd, address: &address, at: acceptedAt) {
                refuseAtCap(fd, refused: &refused, encoder: encoder)
            }
        }
    }

    /// Starts the connection's thread; false when the thread could not be made.
    private func startConnection(_ fd: Int32, address: inout sockaddr_storage, at acceptedAt: Double) -> Bool {
        let remote = withUnsafePointer(to: &address) { Socket.describe($0) }
        let connection = HTTPConnection(fd: fd, core: core, acceptedAt: acceptedAt, remoteAddress: remote)
        core.connectionStarted()
        if ConnectionThread.start(stackBytes: limits.connectionStackBytes, connection) { return true }
        core.connectionEnded()
        return false
    }

    /// 503 without blocking the accept loop: one non-blocking send, a half-close, and a
    /// short drain in the accept loop's poll set (or an immediate close past 64 of those).
    private func refuseAtCap(_ fd: Int32, refused: inout [Refused], encoder: HTTPResponseEncoder) {
        let response = core.handler.response(for: .tooManyConnections)
        let sendBody = encoder.encode(response, headRequest: false, http10: false, closing: true)
        let sent = response.body.withUnsafeBytes { body in
            Socket.sendAll(fd, encoder.head, sendBody ? body : UnsafeRawBufferPointer(start: nil, count: 0), deadline: 0)
        }
        guard sent, refused.count < HTTPServer.maxLingering else {
            Socket.close(fd)
            return
        }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        refused.append(Refused(fd: fd, deadline: Socket.now() + ServerCore.lingerSeconds))
    }
}

/// Detached pthreads with a chosen stack size, one per connection.
enum ConnectionThread {
    static func start(stackBytes: Int, _ connection: HTTPConnection) -> Bool {
        var attributes = pthread_attr_t()
        guard pthread_attr_init(&attributes) == 0 else { return false }
        defer { pthread_attr_destroy(&attributes) }
        _ = pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        _ = pthread_attr_setstacksize(&attributes, max(stackBytes, 256 * 1024))
        let context = Unmanaged.passRetained(connection).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            guard let context else { return nil }
            Unmanaged<HTTPConnection>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        if status != 0 {
            Unmanaged<HTTPConnection>.fromOpaque(context).release()
            return false
        }
        return true
    }
}
