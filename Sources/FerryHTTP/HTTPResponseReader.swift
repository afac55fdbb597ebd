// Reads one HTTP/1.1 response from a byte stream: status line, header fields, then the
// body by Content-Length, chunked coding or (HTTP/1.0 style) until the peer closes.
// Grammar and limits: docs/http.md, "Client".
#if canImport(Glibc)
import Glibc
#endif

/// A connected byte stream the reader pulls from and the client writes to. Not
/// thread-safe: one request at a time uses it.
protocol HTTPByteStream: AnyObject {
    /// Reads at least one byte into `buffer` unless the peer closed (0); waits until `deadline`.
    func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Double) throws(HTTPClientError) -> Int
    /// Writes both pieces, in order, before `deadline`.
    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, deadline: Double) throws(HTTPClientError)
}

/// What was read, besides the body: whether the connection may carry another request.
struct HTTPResponseHead {
    var status: Int
    var headers: HTTPHeaders
    var keepAlive: Bool
}

/// Pulls responses off one stream; keeps bytes read past a response for the next one
/// (there are none unless the server misbehaves, since requests are not pipelined). Not
/// thread-safe.
final class HTTPResponseReader {
    static let maxHeadBytes = 64 * 1024
    static let maxChunkLineBytes = 4096

    private let stream: HTTPByteStream
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    /// Seconds the stream may stay silent before the read times out.
    var idleTimeout: Double

    init(stream: HTTPByteStream, idleTimeout: Double, bufferBytes: Int = 64 * 1024) {
        self.stream = stream
        self.idleTimeout = idleTimeout
        self.buffer = [UInt8](repeating: 0, count: bufferBytes)
    }

    /// Bytes received since the current response began (0: not a byte yet).
    private(set) var receivedThisResponse = 0

    private var available: Int { end - start }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws(HTTPClientError) -> Bool {
        if start > 0 && start == end { start = 0; end = 0 }
        if end == buffer.count {
            if start > 0 {
                buffer.withUnsafeMutableBytes { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        let deadline = Socket.now() + idleTimeout
        let s = stream, e = end
        let n = try HTTPClientError.typed {
            try buffer.withUnsafeMutableBytes { b in
                try s.read(into: UnsafeMutableRawBufferPointer(rebasing: b[e...]), deadline: deadline)
            }
        }
        end += n
        receivedThisResponse += n
        return n > 0
    }

    private func indexOfLF(from offset: Int) -> Int? {
        buffer.withUnsafeBytes { b in
            guard start + offset < end, let found = memchr(b.baseAddress! + start + offset, 0x0A, end - start - offset) else { return nil }
            return UnsafeRawPointer(found) - (b.baseAddress! + start)
        }
    }

    /// Reads the head of the next response. 1xx interim answers (100 Continue) are skipped.
    func readHead(requestMethod: String) throws(HTTPClientError) -> HTTPResponseHead {
        receivedThisResponse = 0
        while true {
            let head = try readOneHead()
            if head.status >= 100 && head.status < 200 && head.status != 101 { continue }
            return head
        }
    }

    private func readOneHead() throws(HTTPClientError) -> HTTPResponseHead {
        // Find the blank line that ends the head.
        var searched = 0
        var headLength = 0
        while true {
            if let lf = indexOfLF(from: searched) {
                // A line of just CR LF (or LF) after at least the status line ends the head.
                let lineStart = searched
                searched = lf + 1
                let lineLength = lf - lineStart
                if lineStart > 0 && (lineLength == 0 || (lineLength == 1 && buffer[start + lineStart] == 0x0D)) {
                    headLength = lf + 1
                    break
                }
                continue
            }
            guard available < Self.maxHeadBytes else { throw .malformedResponse("response head over \(Self.maxHeadBytes) bytes") }
            guard try fill() else {
                if receivedThisResponse == 0 { throw .connectionLost("closed by the server", afterResponseStarted: false) }
                throw .connectionLost("closed by the server inside the response head", afterResponseStarted: true)
            }
        }
        let s = start
        let head = try HTTPClientError.typed {
            try buffer.withUnsafeBytes { b in try Self.parseHead(UnsafeRawBufferPointer(rebasing: b[s..<(s + headLength)])) }
        }
        start += headLength
        return head
    }

    /// Parses `HTTP/1.1 200 OK` and the field lines (each ending in LF, CR optional).
    static func parseHead(_ h: UnsafeRawBufferPointer) throws(HTTPClientError) -> HTTPResponseHead {
        var lines: [Range<Int>] = []
        var i = 0
        while i < h.count {
            var j = i
            while j < h.count && h[j] != 0x0A { j += 1 }
            var lineEnd = j
            if lineEnd > i && h[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd > i { lines.append(i..<lineEnd) }
            i = j + 1
        }
        guard let statusLine = lines.first else { throw .malformedResponse("no status line") }
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]
        let s = statusLine
        guard s.count >= 12, h[s.lowerBound] == 0x48, h[s.lowerBound + 1] == 0x54, h[s.lowerBound + 2] == 0x54,
              h[s.lowerBound + 3] == 0x50, h[s.lowerBound + 4] == 0x2F, h[s.lowerBound + 5] == 0x31,
              h[s.lowerBound + 6] == 0x2E, h[s.lowerBound + 8] == 0x20 else {
            throw .malformedResponse("not an HTTP/1.x status line")
        }
        let http10 = h[s.lowerBound + 7] == 0x30
        var status = 0
        for k in (s.lowerBound + 9)..<(s.lowerBound + 12) {
            guard h[k] >= 0x30 && h[k] <= 0x39 else { throw .malformedResponse("bad status code") }
            status = status * 10 + Int(h[k] - 0x30)
        }
        guard status >= 100, s.count == 12 || h[s.lowerBound + 12] == 0x20 else { throw .malformedResponse("bad status code") }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            let parsed: (Range<Int>, Range<Int>)
            do {
                parsed = try HTTPHeadParser.fieldLine(h, line)
            } catch {
                throw .malformedResponse("bad header line")
            }
            headers.add(String(decoding: UnsafeRawBufferPointer(rebasing: h[parsed.0]), as: UTF8.self),
                        String(decoding: UnsafeRawBufferPointer(rebasing: h[parsed.1]), as: UTF8.self))
        }
        var keepAlive = !http10
        for value in headers.values("connection") {
            for token in value.split(separator: ",") {
                let t = Self.listElement(token)
                if t == "close" { keepAlive = false }
                if t == "keep-alive" && http10 { keepAlive = true }
            }
        }
        return HTTPResponseHead(status: status, headers: headers, keepAlive: keepAlive)
    }

    /// One element of a comma-separated header list, trimmed and lower-cased.
    static func listElement(_ s: Substring) -> String {
        s.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed().map { $0.lowercased() }.joined()
    }

    enum Framing: Equatable { case none, length(Int), chunked, untilClose }

    /// How the body after `head` is delimited (RFC 9112 section 6.3).
    static func framing(_ head: HTTPResponseHead, requestMethod: String) throws(HTTPClientError) -> Framing {
        if requestMethod == "HEAD" || head.status == 204 || head.status == 304 { return .none }
        if let te = head.headers["transfer-encoding"] {
            let codings = te.split(separator: ",").map { Self.listElement($0) }
            guard codings.last == "chunked" else { return .untilClose }
            guard codings.allSatisfy({ $0 == "chunked" || $0 == "identity" }) else {
                throw .malformedResponse("transfer coding \(te) is not supported")
            }
            return .chunked
        }
        let lengths = head.headers.values("content-length")
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), let n = Int(first), n >= 0, first.allSatisfy(\.isASCII) else {
                throw .malformedResponse("bad Content-Length \(lengths.joined(separator: ", "))")
            }
            return .length(n)
        }
        return .untilClose
    }

    /// Reads the body, passing each piece to `deliver`. Returns false when the connection
    /// cannot carry another request (the body ran to the close).
    func readBody(_ framing: Framing, deliver: (UnsafeRawBufferPointer) throws(HTTPClientError) -> Void) throws(HTTPClientError) -> Bool {
        switch framing {
        case .none:
            return true
        case var .length(left):
            while left > 0 {
                if available == 0 {
                    guard try fill() else { throw .connectionLost("closed with \(left) body bytes still to come", afterResponseStarted: true) }
                }
                let n = min(left, available)
                try deliverBuffered(n, deliver)
                left -= n
            }
            return true
        case .untilClose:
            while true {
                if available > 0 { try deliverBuffered(available, deliver) }
                guard try fill() else { return false }
            }
        case .chunked:
            while true {
                let size = try readChunkSize()
                if size == 0 { break }
                var left = size
                while left > 0 {
                    if available == 0 {
                        guard try fill() else { throw .connectionLost("closed inside a chunk", afterResponseStarted: true) }
                    }
                    let n = min(left, available)
                    try deliverBuffered(n, deliver)
                    left -= n
                }
                try expectLineEnd()
            }
            // Trailer fields, then the empty line; their contents are not used.
            while true {
                let line = try readLine(limit: Self.maxHeadBytes)
                if line.isEmpty { return true }
            }
        }
    }

    private func deliverBuffered(_ n: Int, _ deliver: (UnsafeRawBufferPointer) throws(HTTPClientError) -> Void) throws(HTTPClientError) {
        let s = start
        try HTTPClientError.typed {
            try buffer.withUnsafeBytes { b in try deliver(UnsafeRawBufferPointer(rebasing: b[s..<(s + n)])) }
        }
        start += n
    }

    /// One line without its CR LF (or LF).
    private func readLine(limit: Int) throws(HTTPClientError) -> [UInt8] {
        while true {
            if let lf = indexOfLF(from: 0) {
                var lineEnd = start + lf
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = Array(buffer[start..<lineEnd])
                start += lf + 1
                return line
            }
            guard available < limit else { throw .malformedResponse("chunk line over \(limit) bytes") }
            guard try fill() else { throw .connectionLost("closed inside the chunked body", afterResponseStarted: true) }
        }
    }

    private func readChunkSize() throws(HTTPClientError) -> Int {
        let line = try readLine(limit: Self.maxChunkLineBytes)
        var size = 0
        var digits = 0
        for b in line {
            guard let v = HTTPSyntax.hexValue(b) else { break }
            guard size <= (Int.max - 15) >> 4 else { throw .malformedResponse("chunk size too large") }
            size = size << 4 | v
            digits += 1
        }
        guard digits > 0 else { throw .malformedResponse("bad chunk size") }
        if digits < line.count {
            let next = line[digits]
            guard next == 0x3B || next == 0x20 || next == 0x09 else { throw .malformedResponse("bad chunk size") }
        }
        return size
    }

    /// The CR LF (or LF) after a chunk's data.
    private func expectLineEnd() throws(HTTPClientError) {
        while available < 2 {
            guard try fill() else { throw .connectionLost("closed inside the chunked body", afterResponseStarted: true) }
        }
        if buffer[start] == 0x0A { start += 1; return }
        guard buffer[start] == 0x0D, buffer[start + 1] == 0x0A else { throw .malformedResponse("chunk data not followed by CR LF") }
        start += 2
    }
}
