// The raw socket calls the server makes, each retrying EINTR; nothing else in FerryHTTP
// calls socket/bind/listen/accept/poll/recv/send directly.
#if canImport(Glibc)
import Glibc
#endif

enum Socket {
    /// Seconds on a clock that only moves forward.
    @inline(__always)
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func close(_ fd: Int32) {
        // close(2) is not retried on EINTR on Linux: the descriptor is gone either way.
        _ = Glibc.close(fd)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setNoDelay(_ fd: Int32) {
        setOption(fd, Int32(IPPROTO_TCP), Int32(TCP_NODELAY), 1)
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Milliseconds for poll(2) from seconds left: rounded up, never negative.
    @inline(__always)
    static func pollMilliseconds(_ seconds: Double) -> Int32 {
        guard seconds > 0 else { return 0 }  // also NaN
        let ms = (seconds * 1000).rounded(.up)
        return ms >= Double(Int32.max) ? Int32.max : Int32(ms)
    }

    enum Readiness { case ready, woken, timedOut, failed }

    /// Waits until `fd` is readable (or writable with `forWriting`), `wake` is readable,
    /// or `deadline` passes. EINTR resumes the wait with the time left.
    static func wait(_ fd: Int32, forWriting: Bool = false, wake: Int32?, deadline: Double) -> Readiness {
        var fds = (pollfd(fd: fd, events: Int16(forWriting ? POLLOUT : POLLIN), revents: 0),
                   pollfd(fd: wake ?? -1, events: Int16(POLLIN), revents: 0))
        while true {
            let timeout = pollMilliseconds(deadline - now())
            let n = withUnsafeMutablePointer(to: &fds) { pair in
                pair.withMemoryRebound(to: pollfd.self, capacity: 2) { poll($0, wake == nil ? 1 : 2, timeout) }
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed
            }
            if n == 0 {
                if deadline - now() > 0 { continue }
                return .timedOut
            }
            if wake != nil && fds.1.revents != 0 { return .woken }
            // POLLERR / POLLHUP also count as ready: the next call reports what happened.
            if fds.0.revents != 0 { return .ready }
        }
    }

    /// How often a connection blocked in `receiveWaiting` wakes to check its deadline and
    /// shutdown: the granularity of the timeouts, and the longest an idle connection
    /// lingers after shutdown began.
    static let receiveTick = 0.2

    static func setReceiveTimeout(_ fd: Int32, seconds: Double) {
        var t = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
    }

    /// recv(2) that blocks up to the socket's receive timeout (SO_RCVTIMEO): bytes
    /// received, 0 at end of stream, -EAGAIN when the timeout passed with nothing, or
    /// another -errno. EINTR returns -EAGAIN too, so the caller looks at its clock.
    @inline(__always)
    static func receiveWaiting(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = recv(fd, buffer.baseAddress, buffer.count, 0)
        if n >= 0 { return n }
        return errno == EINTR ? -Int(EAGAIN) : -Int(errno)
    }

    /// recv(2) without blocking: bytes received, 0 at end of stream, -EAGAIN when nothing
    /// is there, or another -errno.
    @inline(__always)
    static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            return -Int(errno)
        }
    }

    /// Sends `first` then `second` as one stream, with one sendmsg(2) call when the socket
    /// takes it all (the usual case), otherwise resuming after partial sends until
    /// `deadline`. True when everything was sent; false on an error, a peer that closed,
    /// or the deadline (what was sent may be partial; the caller closes).
    static func sendAll(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, deadline: Double) -> Bool {
        var sent = 0
        let total = first.count + second.count
        let flags = Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)
        while sent < total {
            var vectors = (iovec(), iovec())
            var count = 0
            withUnsafeMutablePointer(to: &vectors) { pair in
                pair.withMemoryRebound(to: iovec.self, capacity: 2) { iov in
                    if sent < first.count, let base = first.baseAddress {
                        iov[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + sent), iov_len: first.count - sent)
                        count += 1
                    }
                    let intoSecond = max(0, sent - first.count)
                    if intoSecond < second.count, let base = second.baseAddress {
                        iov[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + intoSecond), iov_len: second.count - intoSecond)
                        count += 1
                    }
                }
            }
            let n = withUnsafeMutablePointer(to: &vectors) { pair in
                pair.withMemoryRebound(to: iovec.self, capacity: 2) { iov -> Int in
                    var message = msghdr()
                    message.msg_iov = iov
                    message.msg_iovlen = count
                    return sendmsg(fd, &message, flags)
                }
            }
            if n > 0 { sent += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(fd, forWriting: true, wake: nil, deadline: deadline) == .ready else { return false }
                continue
            }
            return false
        }
        return true
    }

    /// "127.0.0.1:54321" or "[::1]:54321" for a peer or local address.
    static func describe(_ address: UnsafePointer<sockaddr_storage>) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(address.pointee.ss_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { a -> String in
                var addr = a.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                return "\(cText(text)):\(UInt16(bigEndian: a.pointee.sin_port))"
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { a -> String in
                var addr = a.pointee.sin6_addr
                inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                return "[\(cText(text))]:\(UInt16(bigEndian: a.pointee.sin6_port))"
            }
        default:
            return "unknown"
        }
    }

    private static func cText(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Half-closes, then reads and drops what the client still sends until it closes,
    /// `seconds` pass, or `maxBytes` were dropped; then closes. Closing a socket with unread
    /// bytes makes the kernel send a reset, which can destroy the answer just written
    /// before the client reads it (Go's net/http waits the same way).
    static func lingeringClose(_ fd: Int32, seconds: Double, maxBytes: Int, scratch: UnsafeMutableRawBufferPointer) {
        _ = shutdown(fd, Int32(SHUT_WR))
        let deadline = now() + seconds
        var dropped = 0
        while dropped < maxBytes {
            let n = receive(fd, scratch)
            if n > 0 { dropped += n; continue }
            if n == 0 { break }
            if n != -Int(EAGAIN) && n != -Int(EWOULDBLOCK) { break }
            if wait(fd, wake: nil, deadline: deadline) != .ready { break }
        }
        close(fd)
    }
}
