// The HTTP/1.1 request codec: bytes in, request heads and whole bodies out. It knows
// nothing of sockets or of what a request means. Grammar and limits: docs/http.md.
#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// Decodes the requests of one connection from the bytes it receives, in order
/// (pipelined requests included: bytes past the end of one request are kept for the
/// next). Memory is bounded: one fixed receive buffer of `maxHeaderBytes + 64 KiB`, and
/// the body being read, which never grows past `maxBodyBytes`.
///
/// Use: put received bytes in with `withReceiveSpace` (or `append`), then call `next()`
/// until it answers `.needMoreBytes`. After `.refused` the decoder stays failed: answer
/// and close. Not thread-safe: one connection thread owns it.
public final class HTTPRequestDecoder {
    public enum Event {
        /// Nothing complete yet: receive more bytes.
        case needMoreBytes
        /// The client sent `Expect: 100-continue` and the body may come: write
        /// `HTTP/1.1 100 Continue\r\n\r\n`, then go on receiving.
        case sendContinue
        /// One whole request. `closeAfter`: the connection must close after the answer
        /// (`Connection: close`, HTTP/1.0 without keep-alive, or Content-Length with
        /// Transfer-Encoding).
        case request(HTTPRequest, closeAfter: Bool)
        /// The request is refused; answer it and close the connection.
        case refused(HTTPRefusal)
    }

    /// Where the connection stands, for choosing the timeout that applies.
    public enum Phase: Sendable, Equatable {
        /// Between requests: no byte of the next one has arrived.
        case idle
        /// Some of a request head has arrived.
        case head
        /// The head is complete; the body is arriving.
        case body
    }

    /// The longest chunk-size line (size, extensions and CR LF) accepted.
    public static let maxChunkLineBytes = 4096
    /// Empty lines ignored before a request line (RFC 9112 section 2.2); more are refused.
    static let maxLeadingEmptyLines = 8
    /// Receive space always available after compaction, beyond a maximal head.
    static let receiveSlack = 64 * 1024

    public let limits: HTTPServerLimits
    public let remoteAddress: String

    private let storage: UnsafeMutableRawPointer
    private let capacity: Int
    private var readIndex = 0
    private var writeIndex = 0

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed(HTTPRefusal)
    }
    private var state = State.head
    /// Bytes after `readIndex` already searched for LF without finding one (head:
    /// searched up to here, whatever the lines).
    private var scanned = 0
    /// Head: start of the current line, after `readIndex`.
    private var lineStart = 0
    private var leadingEmptyLines = 0
    private var trailerBytes = 0
    private var head: ParsedHead?
    private var body: [UInt8] = []

    public init(limits: HTTPServerLimits = HTTPServerLimits(), remoteAddress: String = "") {
        self.limits = limits
        self.remoteAddress = remoteAddress
        capacity = max(limits.maxHeaderBytes, 0) + HTTPRequestDecoder.receiveSlack
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    public var phase: Phase {
        switch state {
        case .head: return writeIndex > readIndex || leadingEmptyLines > 0 ? .head : .idle
        case .failed: return .head
        default: return .body
        }
    }

    /// Bytes received and not yet consumed by a request.
    public var bufferedByteCount: Int { writeIndex - readIndex }

    /// Hands `receive` the free space at the end of the buffer (at least 64 KiB whenever
    /// `next()` last answered `.needMoreBytes`); it returns how many bytes it wrote there,
    /// or 0 or less for none. Returns what `receive` returned.
    @discardableResult
    public func withReceiveSpace(_ receive: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        if capacity - writeIndex < HTTPRequestDecoder.receiveSlack { compact() }
        // Cannot happen while the limits hold (see the type's comment); never a 0-byte
        // receive, which would look like the end of the stream.
        guard writeIndex < capacity else { return -Int(ENOBUFS) }
        let n = receive(UnsafeMutableRawBufferPointer(start: storage + writeIndex, count: capacity - writeIndex))
        if n > 0 { writeIndex += min(n, capacity - writeIndex) }
        return n
    }

    /// Copies as many of `bytes` as fit into the buffer; returns how many. (For tests and
    /// for callers that do not receive from a socket: call `next()` between appends.)
    @discardableResult
    public func append(_ bytes: some Collection<UInt8>) -> Int {
        if capacity - writeIndex < bytes.count { compact() }
        let n = min(bytes.count, capacity - writeIndex)
        let copied = bytes.withContiguousStorageIfAvailable { source -> Bool in
            if let base = source.baseAddress, n > 0 { (storage + writeIndex).copyMemory(from: base, byteCount: n) }
            return true
        }
        if copied == nil {
            var i = writeIndex
            for b in bytes.prefix(n) {
                storage.storeBytes(of: b, toByteOffset: i, as: UInt8.self)
                i += 1
            }
        }
        writeIndex += n
        return n
    }

    private func compact() {
        guard readIndex > 0 else { return }
        let unread = writeIndex - readIndex
        if unread > 0 { memmove(storage, storage + readIndex, unread) }
        readIndex = 0
        writeIndex = unread
    }

    @inline(__always)
    private func consume(_ n: Int) {
        readIndex += n
        if readIndex == writeIndex { readIndex = 0; writeIndex = 0 }
    }

    private func fail(_ refusal: HTTPRefusal) -> Event {
        state = .failed(refusal)
        head = nil
        body = []
        return .refused(refusal)
    }

    /// Decodes as far as the buffered bytes go.
    public func next() -> Event {
        while true {
            switch state {
            case .failed(let refusal):
                return .refused(refusal)

            case .head:
                let scan = scanHead()
                switch scan {
                case .needMore: return .needMoreBytes
                case .refused(let refusal): return fail(refusal)
                case .complete(let length): 
                    let parsed: ParsedHead
                    do {
                        parsed = try HTTPHeadParser.parse(UnsafeRawBufferPointer(start: storage + readIndex, count: length),
                                                          decodeContentEncoding: limits.decodeContentEncoding)
                    } catch {
                        return fail(error.refusal)
                    }
                    consume(length)
                    scanned = 0
                    lineStart = 0
                    trailerBytes = 0
                    head = parsed
                    switch parsed.framing {
                    case .none:
                        return finish()
                    case .length(let n):
                        if n > limits.maxBodyBytes { return fail(.bodyTooLarge(declared: n)) }
                        if n == 0 { return finish() }
                        body = []
                        body.reserveCapacity(min(n, 1 << 20))
                        state = .fixedBody(remaining: n)
                    case .chunked:
                        body = []
                        state = .chunkSize
                    }
                    if parsed.expectsContinue && writeIndex == readIndex { return .sendContinue }
                }

            case .fixedBody(let remaining):
                let n = min(remaining, writeIndex - readIndex)
                if n == 0 { return .needMoreBytes }
                HTTPSyntax.append(UnsafeRawBufferPointer(start: storage + readIndex, count: n), to: &body,
                                  cap: body.count + remaining)
                consume(n)
                if n == remaining { return finish() }
                state = .fixedBody(remaining: remaining - n)

            case .chunkSize:
                guard let lf = findLF() else {
                    if writeIndex - readIndex > HTTPRequestDecoder.maxChunkLineBytes {
                        return fail(.malformedRequest("chunk size line too long"))
                    }
                    return .needMoreBytes
                }
                if lf + 1 > HTTPRequestDecoder.maxChunkLineBytes { return fail(.malformedRequest("chunk size line too long")) }
                let line = UnsafeRawBufferPointer(start: storage + readIndex, count: lf + 1)
                let size: Int
                switch HTTPHeadParser.chunkSize(line) {
                case .success(let value): size = value
                case .failure(let error): return fail(error.refusal)
                }
                consume(lf + 1)
                scanned = 0
                if size == 0 {
                    state = .trailers
                } else {
                    if size > limits.maxBodyBytes - body.count { return fail(.bodyTooLarge(declared: nil)) }
                    state = .chunkData(remaining: size)
                }

            case .chunkData(let remaining):
                let n = min(remaining, writeIndex - readIndex)
                if n == 0 { return .needMoreBytes }
                HTTPSyntax.append(UnsafeRawBufferPointer(start: storage + readIndex, count: n), to: &body,
                                  cap: limits.maxBodyBytes)
                consume(n)
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)

            case .chunkDataEnd:
                if writeIndex - readIndex < 2 {
                    if writeIndex > readIndex && storage.load(fromByteOffset: readIndex, as: UInt8.self) != ASCII.cr {
                        return fail(.malformedRequest("chunk data not followed by CR LF"))
                    }
                    return .needMoreBytes
                }
                guard storage.load(fromByteOffset: readIndex, as: UInt8.self) == ASCII.cr,
                      storage.load(fromByteOffset: readIndex + 1, as: UInt8.self) == ASCII.lf else {
                    return fail(.malformedRequest("chunk data not followed by CR LF"))
                }
                consume(2)
                state = .chunkSize

            case .trailers:
                guard let lf = findLF() else {
                    if trailerBytes + (writeIndex - readIndex) > limits.maxHeaderBytes { return fail(.headersTooLarge) }
                    return .needMoreBytes
                }
                trailerBytes += lf + 1
                if trailerBytes > limits.maxHeaderBytes { return fail(.headersTooLarge) }
                let line = UnsafeRawBufferPointer(start: storage + readIndex, count: lf + 1)
                if lf == 0 || line[lf - 1] != ASCII.cr { return fail(.malformedRequest("trailer line not ended by CR LF")) }
                if lf > 1 {
                    // A trailer field: checked like a header field, then dropped.
                    do { try HTTPHeadParser.checkFieldLine(line, 0..<(lf - 1)) } catch { return fail(error.refusal) }
                    consume(lf + 1)
                    scanned = 0
                } else {
                    consume(lf + 1)
                    scanned = 0
                    return finish()
                }
            }
        }
    }

    /// Offset after `readIndex` of the next LF, searching only bytes not searched before.
    private func findLF() -> Int? {
        let unread = writeIndex - readIndex
        guard scanned < unread else { return nil }
        let base = storage + readIndex
        guard let found = memchr(base + scanned, Int32(ASCII.lf), unread - scanned) else {
            scanned = unread
            return nil
        }
        return UnsafeMutableRawPointer(found) - base
    }

    private enum HeadScan { case needMore, complete(Int), refused(HTTPRefusal) }

    /// Looks for the empty line that ends a head, checking that every line ends in CR LF
    /// as it goes (bare LF is refused at once, not waited on). Drops empty lines before
    /// the request line.
    private func scanHead() -> HeadScan {
        while true {
            let unread = writeIndex - readIndex
            let base = storage + readIndex
            guard scanned < unread,
                  let found = memchr(base + scanned, Int32(ASCII.lf), unread - scanned) else {
                scanned = unread
                if unread > limits.maxHeaderBytes { return .refused(.headersTooLarge) }
                return .needMore
            }
            let lf = UnsafeMutableRawPointer(found) - base
            guard lf > lineStart, base.load(fromByteOffset: lf - 1, as: UInt8.self) == ASCII.cr else {
                return .refused(.malformedRequest("line not ended by CR LF"))
            }
            scanned = lf + 1
            if lf - 1 == lineStart {
                // An empty line: the end of the head, or one before the request line.
                if lineStart == 0 {
                    leadingEmptyLines += 1
                    if leadingEmptyLines > HTTPRequestDecoder.maxLeadingEmptyLines {
                        return .refused(.malformedRequest("empty lines instead of a request line"))
                    }
                    consume(lf + 1)
                    scanned = 0
                    continue
                }
                let length = lf + 1
                if length > limits.maxHeaderBytes { return .refused(.headersTooLarge) }
                return .complete(length)
            }
            lineStart = lf + 1
        }
    }

    /// The request is whole: hand it out and get ready for the next one.
    private func finish() -> Event {
        guard let parsed = head else { return fail(.malformedRequest("no request head")) }
        let wire = body
        body = []
        head = nil
        state = .head
        leadingEmptyLines = 0
        var decoded = wire
        if parsed.gzip && !wire.isEmpty {
            do {
                decoded = try HTTPHeadParser.inflate(wire, limit: limits.maxBodyBytes)
            } catch {
                return fail(error.refusal)
            }
        }
        let request = HTTPRequest(method: parsed.method, target: parsed.target, path: parsed.path, query: parsed.query,
                                  version: parsed.version, headers: parsed.headers, body: decoded, wireBody: wire,
                                  remoteAddress: remoteAddress)
        return .request(request, closeAfter: parsed.closeAfter)
    }
}
