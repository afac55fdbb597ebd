// One client connection on its own thread: receive, decode, call the handler, answer,
// until the client closes, a timeout, a refusal or shutdown. Timeouts: docs/http.md.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// State shared by the server, its accept loop and its connection threads. Thread-safe:
/// the atomics and the wake pipe are the only state that changes after init.
final class ServerCore: @unchecked Sendable {
    let handler: any HTTPHandler
    let limits: HTTPServerLimits
    /// Readable once shutdown began (one byte written, never read), so every poll that
    /// includes it wakes, at once and for good.
    let wakeRead: Int32
    let wakeWrite: Int32
    private let stopping = Atomic<Bool>(false)
    private let active = Atomic<Int>(0)
    /// Entered per connection thread; run() waits on it at shutdown.
    let connections = DispatchGroup()

    /// Seconds a refused or closing connection is drained before it is closed.
    static let lingerSeconds = 0.5
    static let lingerBytes = 1 << 20

    init(handler: any HTTPHandler, limits: HTTPServerLimits, wakeRead: Int32, wakeWrite: Int32) {
        self.handler = handler
        self.limits = limits
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
    }

    deinit {
        Socket.close(wakeRead)
        Socket.close(wakeWrite)
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    var activeConnections: Int { active.load(ordering: .relaxed) }

    /// Sets the flag and wakes every poller. Async-signal-safe (an atomic and a write).
    func stop() {
        if !stopping.exchange(true, ordering: .acquiringAndReleasing) {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    func connectionStarted() {
        active.wrappingAdd(1, ordering: .relaxed)
        connections.enter()
    }

    func connectionEnded() {
        active.wrappingSubtract(1, ordering: .relaxed)
        connections.leave()
    }
}

/// One accepted connection. Runs on its own thread; not shared.
final class HTTPConnection {
    private let fd: Int32
    private let core: ServerCore
    private let acceptedAt: Double
    private let remoteAddress: String

    init(fd: Int32, core: ServerCore, acceptedAt: Double, remoteAddress: String) {
        self.fd = fd
        self.core = core
        self.acceptedAt = acceptedAt
        self.remoteAddress = remoteAddress
    }

    /// Serves the connection to its end, closes it and tells the core.
    func run() {
        serve()
        core.connectionEnded()
    }

    private func serve() {
        Socket.setReceiveTimeout(fd, seconds: Socket.receiveTick)
        let limits = core.limits
        let handler = core.handler
        let decoder = HTTPRequestDecoder(limits: limits, remoteAddress: remoteAddress)
        let encoder = HTTPResponseEncoder()
        var lastPhase = HTTPRequestDecoder.Phase.idle
        var phaseStart = acceptedAt
        var served = 0

        while true {
            switch decoder.next() {
            case .request(let request, let closeAfter):
                let response = handler.respond(to: request)
                let closing = closeAfter || core.isStopping || HTTPResponseEncoder.asksToClose(response)
                let sendBody = encoder.encode(response, headRequest: request.method == "HEAD",
                                              http10: request.version == "HTTP/1.0", closing: closing)
                let deadline = Socket.now() + limits.writeTimeout
                let sent = response.body.withUnsafeBytes { body in
                    Socket.sendAll(fd, encoder.head, sendBody ? body : UnsafeRawBufferPointer(start: nil, count: 0),
                                   deadline: deadline)
                }
                guard sent else { Socket.close(fd); return }
                if closing { lingeringClose(decoder); return }
                served += 1
                lastPhase = .idle
                phaseStart = Socket.now()

            case .sendContinue:
                let line = HTTPResponseEncoder.continueLine
                let sent = Socket.sendAll(fd, UnsafeRawBufferPointer(start: line.utf8Start, count: line.utf8CodeUnitCount),
                                          UnsafeRawBufferPointer(start: nil, count: 0), deadline: Socket.now() + limits.writeTimeout)
                guard sent else { Socket.close(fd); return }

            case .refused(let refusal):
                refuse(refusal, decoder: decoder, encoder: encoder)
                return

            case .needMoreBytes:
                let phase = decoder.phase
                if phase != lastPhase {
                    // A head's clock starts with its first byte, except on a new
                    // connection, where it started at the accept.
                    if !(lastPhase == .idle && served == 0) { phaseStart = Socket.now() }
                    lastPhase = phase
                }
                let stopping = core.isStopping
                if stopping && phase == .idle { Socket.close(fd); return }
                let deadline: Double
                switch phase {
                case .idle: deadline = phaseStart + (served == 0 ? limits.headerTimeout : limits.idleTimeout)
                case .head: deadline = phaseStart + limits.headerTimeout
                case .body: deadline = phaseStart + limits.bodyTimeout
                }
                // A blocking receive that wakes every `Socket.receiveTick` seconds (no
                // poll per request: a syscall saved on the hot path) to look at the
                // deadline and at shutdown. Once stopping, a connection in the middle of
                // a request waits for the rest of it only.
                // Checked before every receive, not only when one times out: a client
                // trickling a byte per tick must still meet its deadline.
                if Socket.now() >= deadline {
                    if phase == .idle { Socket.close(fd); return }
                    refuse(.requestTimeout, decoder: decoder, encoder: encoder)
                    return
                }
                let n = decoder.withReceiveSpace { Socket.receiveWaiting(fd, $0) }
                if n > 0 { continue }
                if n == 0 || (n != -Int(EAGAIN) && n != -Int(EWOULDBLOCK)) {
                    // The client closed or the connection broke: nobody to answer.
                    Socket.close(fd)
                    return
                }
            }
        }
    }

    /// Answers a refusal with the handler's response and `Connection: close`, then closes.
    private func refuse(_ refusal: HTTPRefusal, decoder: HTTPRequestDecoder, encoder: HTTPResponseEncoder) {
        let response = core.handler.response(for: refusal)
        let sendBody = encoder.encode(response, headRequest: false, http10: false, closing: true)
        let sent = response.body.withUnsafeBytes { body in
            Socket.sendAll(fd, encoder.head, sendBody ? body : UnsafeRawBufferPointer(start: nil, count: 0),
                           deadline: Socket.now() + core.limits.writeTimeout)
        }
        if sent { lingeringClose(decoder) } else { Socket.close(fd) }
    }

    private func lingeringClose(_ decoder: HTTPRequestDecoder) {
        decoder.withReceiveSpace { scratch in
            Socket.lingeringClose(fd, seconds: ServerCore.lingerSeconds, maxBytes: ServerCore.lingerBytes, scratch: scratch)
            return 0
        }
    }
}
