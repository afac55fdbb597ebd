// Request line, header fields, chunk-size lines and gzip bodies, parsed on bytes for
// HTTPRequestDecoder. Grammar choices (RFC 9112) and what each refusal means: docs/http.md.
#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// A refusal thrown inside the parser (typed throws, so no existential boxing).
struct Refused: Error {
    let refusal: HTTPRefusal
    init(_ refusal: HTTPRefusal) { self.refusal = refusal }
    static func malformed(_ why: String) -> Refused { Refused(.malformedRequest(why)) }
}

/// How the body of a request is delimited.
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// A request head, parsed and checked.
struct ParsedHead {
    var method: String
    var target: String
    var path: String
    var query: String
    var version: String
    var headers: HTTPHeaders
    var framing: BodyFraming
    var closeAfter: Bool
    var expectsContinue: Bool
    var gzip: Bool
}

enum HTTPHeadParser {
    /// Parses a head: the request line and header lines, each ending in CR LF, then the
    /// empty line (the scanner has already checked the line endings).
    static func parse(_ h: UnsafeRawBufferPointer, decodeContentEncoding: Bool) throws(Refused) -> ParsedHead {
        guard let firstLF = indexOfLF(h, from: 0), firstLF >= 1 else { throw .malformed("no request line") }
        let lineEnd = firstLF - 1  // the CR

        // request-line = method SP request-target SP HTTP-version
        var i = 0
        while i < lineEnd && HTTPSyntax.isToken(h[i]) { i += 1 }
        guard i > 0, i < lineEnd, h[i] == ASCII.space else { throw .malformed("bad request line") }
        let method = 0..<i
        i += 1
        let targetStart = i
        while i < lineEnd && HTTPSyntax.isTargetByte(h[i]) { i += 1 }
        guard i < lineEnd, h[i] == ASCII.space else {
            if i < lineEnd && i > targetStart && h[i] != ASCII.space { throw .malformed("invalid byte in request target") }
            throw .malformed("bad request line")
        }
        guard i > targetStart else { throw .malformed("bad request line") }
        let target = targetStart..<i
        i += 1
        let version = try parseVersion(h, i..<lineEnd)
        try checkTargetForm(h, target)

        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(16)
        var hostCount = 0
        var contentLength: Int?
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
        var transferEncodingSeen = false
        var chunkedCount = 0
        var unsupportedTransfer: String?
        var gzipCount = 0
        var unsupportedContent: String?

        var start = firstLF + 1
        while start < h.count {
            guard let lf = indexOfLF(h, from: start) else { throw .malformed("line not ended by CR LF") }
            let end = lf - 1
            if end == start { break }  // the empty line
            let (nameRange, valueRange) = try fieldLine(h, start..<end)
            start = lf + 1
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: h[nameRange]), as: UTF8.self)
            let value = String(decoding: UnsafeRawBufferPointer(rebasing: h[valueRange]), as: UTF8.self)
            headers.append((name: name, value: value))

            switch nameRange.count {
            case 4 where HTTPSyntax.equalsLowercase(h, nameRange, "host"):
                hostCount += 1
            case 6 where HTTPSyntax.equalsLowercase(h, nameRange, "expect"):
                if HTTPSyntax.equalsLowercase(h, valueRange, "100-continue") { expectsContinue = true }
            case 10 where HTTPSyntax.equalsLowercase(h, nameRange, "connection"):
                HTTPSyntax.forEachListElement(h, valueRange) { element in
                    if HTTPSyntax.equalsLowercase(h, element, "close") { connectionClose = true }
                    if HTTPSyntax.equalsLowercase(h, element, "keep-alive") { connectionKeepAlive = true }
                    return true
                }
            case 14 where HTTPSyntax.equalsLowercase(h, nameRange, "content-length"):
                // A list of identical values is one value (RFC 9110 section 8.6).
                var failure: Refused?
                var sawElement = false
                HTTPSyntax.forEachListElement(h, valueRange) { element in
                    sawElement = true
                    switch HTTPSyntax.decimal(h, element) {
                    case .value(let n):
                        if let previous = contentLength, previous != n {
                            failure = .malformed("conflicting Content-Length values")
                            return false
                        }
                        contentLength = n
                    case .notANumber:
                        failure = .malformed("Content-Length is not a number")
                        return false
                    case .tooLarge:
                        failure = .malformed("Content-Length too large")
                        return false
                    }
                    return true
                }
                if let failure { throw failure }
                if !sawElement { throw .malformed("Content-Length is not a number") }
            case 16 where HTTPSyntax.equalsLowercase(h, nameRange, "content-encoding"):
                guard decodeContentEncoding else { break }
                HTTPSyntax.forEachListElement(h, valueRange) { element in
                    if HTTPSyntax.equalsLowercase(h, element, "gzip") || HTTPSyntax.equalsLowercase(h, element, "x-gzip") {
                        gzipCount += 1
                    } else if !HTTPSyntax.equalsLowercase(h, element, "identity") {
                        if unsupportedContent == nil {
                            unsupportedContent = String(decoding: UnsafeRawBufferPointer(rebasing: h[element]), as: UTF8.self)
                        }
                    }
                    return true
                }
            case 17 where HTTPSyntax.equalsLowercase(h, nameRange, "transfer-encoding"):
                transferEncodingSeen = true
                HTTPSyntax.forEachListElement(h, valueRange) { element in
                    // A coding may carry parameters: "name;param=value".
                    var nameEnd = element.lowerBound
                    while nameEnd < element.upperBound && h[nameEnd] != ASCII.semicolon { nameEnd += 1 }
                    let coding = HTTPSyntax.trim(h, element.lowerBound..<nameEnd)
                    if HTTPSyntax.equalsLowercase(h, coding, "chunked") {
                        chunkedCount += 1
                    } else if unsupportedTransfer == nil {
                        unsupportedTransfer = String(decoding: UnsafeRawBufferPointer(rebasing: h[coding]), as: UTF8.self)
                    }
                    return true
                }
            default:
                break
            }
        }

        let isHTTP10 = version == .http10
        if !isHTTP10 && hostCount == 0 { throw .malformed("no Host header") }
        if hostCount > 1 { throw .malformed("more than one Host header") }

        var framing = BodyFraming.length(contentLength ?? 0)
        var closeAfter = isHTTP10 ? !connectionKeepAlive || connectionClose : connectionClose
        if contentLength == nil { framing = .none }
        if transferEncodingSeen {
            if isHTTP10 { throw .malformed("Transfer-Encoding in an HTTP/1.0 request") }
            if let unsupportedTransfer { throw Refused(.unsupportedTransferEncoding(unsupportedTransfer)) }
            if chunkedCount == 0 { throw .malformed("empty Transfer-Encoding") }
            if chunkedCount > 1 { throw .malformed("chunked applied more than once") }
            framing = .chunked
            // Both framings: chunked wins, and the connection is not trusted further.
            if contentLength != nil { closeAfter = true }
        }
        if let unsupportedContent { throw Refused(.unsupportedContentEncoding(unsupportedContent)) }
        if gzipCount > 1 { throw Refused(.unsupportedContentEncoding("gzip applied more than once")) }

        let targetBytes = UnsafeRawBufferPointer(rebasing: h[target])
        let parts = HTTPSyntax.splitTarget(targetBytes)
        return ParsedHead(
            method: String(decoding: UnsafeRawBufferPointer(rebasing: h[method]), as: UTF8.self),
            target: String(decoding: targetBytes, as: UTF8.self),
            path: parts.path.isEmpty ? "/" : String(decoding: UnsafeRawBufferPointer(rebasing: targetBytes[parts.path]), as: UTF8.self),
            query: String(decoding: UnsafeRawBufferPointer(rebasing: targetBytes[parts.query]), as: UTF8.self),
            version: isHTTP10 ? "HTTP/1.0" : "HTTP/1.1",
            headers: HTTPHeaders(headers),
            framing: framing,
            closeAfter: closeAfter,
            expectsContinue: expectsContinue && !isHTTP10 && framing != .none && framing != .length(0),
            gzip: gzipCount == 1)
    }

    @inline(__always)
    static func indexOfLF(_ h: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = h.baseAddress, start < h.count,
              let found = memchr(base + start, Int32(ASCII.lf), h.count - start) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    enum Version { case http10, http11 }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT. Major 1 is served (a minor over 1 as 1.1);
    /// another major is 505.
    static func parseVersion(_ h: UnsafeRawBufferPointer, _ r: Range<Int>) throws(Refused) -> Version {
        let isDigit = { (b: UInt8) in b >= ASCII.zero && b <= ASCII.nine }
        guard r.count == 8, h[r.lowerBound] == 0x48, h[r.lowerBound + 1] == 0x54, h[r.lowerBound + 2] == 0x54,
              h[r.lowerBound + 3] == 0x50, h[r.lowerBound + 4] == ASCII.slash, isDigit(h[r.lowerBound + 5]),
              h[r.lowerBound + 6] == ASCII.dot, isDigit(h[r.lowerBound + 7]) else {
            throw .malformed("bad HTTP version")
        }
        guard h[r.lowerBound + 5] == 0x31 else { throw Refused(.unsupportedVersion) }
        return h[r.lowerBound + 7] == ASCII.zero ? .http10 : .http11
    }

    /// origin-form ("/p?q"), asterisk-form ("*") or absolute-form ("http://h/p").
    static func checkTargetForm(_ h: UnsafeRawBufferPointer, _ t: Range<Int>) throws(Refused) {
        let first = h[t.lowerBound]
        if first == ASCII.slash { return }
        if first == ASCII.asterisk && t.count == 1 { return }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
        var i = t.lowerBound
        while i < t.upperBound && h[i] != ASCII.colon {
            let b = h[i]
            let letter = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A
            let other = (b >= ASCII.zero && b <= ASCII.nine) || b == 0x2B || b == 0x2D || b == ASCII.dot
            guard letter || (i > t.lowerBound && other) else { throw .malformed("bad request target") }
            i += 1
        }
        guard i > t.lowerBound, i + 2 < t.upperBound, h[i + 1] == ASCII.slash, h[i + 2] == ASCII.slash else {
            throw .malformed("bad request target")
        }
    }

    /// field-line = field-name ":" OWS field-value OWS. No whitespace before the colon,
    /// no obs-fold, no control bytes but HTAB in the value. Returns name and trimmed value.
    static func fieldLine(_ h: UnsafeRawBufferPointer, _ line: Range<Int>) throws(Refused) -> (Range<Int>, Range<Int>) {
        var i = line.lowerBound
        if HTTPSyntax.isWhitespace(h[i]) { throw .malformed("obs-fold (a header line starting with whitespace)") }
        while i < line.upperBound && HTTPSyntax.isToken(h[i]) { i += 1 }
        guard i < line.upperBound, h[i] == ASCII.colon else {
            if i < line.upperBound && HTTPSyntax.isWhitespace(h[i]) { throw .malformed("whitespace before the colon of a header") }
            throw .malformed("bad header line")
        }
        guard i > line.lowerBound else { throw .malformed("header without a name") }
        let name = line.lowerBound..<i
        var j = i + 1
        while j < line.upperBound {
            guard HTTPSyntax.isFieldValueByte(h[j]) else { throw .malformed("invalid byte in a header value") }
            j += 1
        }
        return (name, HTTPSyntax.trim(h, (i + 1)..<line.upperBound))
    }

    /// Checks one trailer field line (without its CR LF).
    static func checkFieldLine(_ h: UnsafeRawBufferPointer, _ line: Range<Int>) throws(Refused) {
        _ = try fieldLine(h, line)
    }

    /// chunk-size [ chunk-ext ] CRLF: the size in hex; extensions are checked for stray
    /// control bytes and ignored. `line` ends with its LF.
    static func chunkSize(_ line: UnsafeRawBufferPointer) -> Result<Int, Refused> {
        let end = line.count - 1  // the LF
        guard end >= 1, line[end - 1] == ASCII.cr else { return .failure(.malformed("chunk size line not ended by CR LF")) }
        let contentEnd = end - 1
        var i = 0
        var size = 0
        while i < contentEnd, let digit = HTTPSyntax.hexValue(line[i]) {
            guard size <= (Int.max - 15) >> 4 else { return .failure(.malformed("chunk size too large")) }
            size = size << 4 | digit
            i += 1
        }
        guard i > 0 else { return .failure(.malformed("bad chunk size")) }
        while i < contentEnd && HTTPSyntax.isWhitespace(line[i]) { i += 1 }
        if i < contentEnd {
            guard line[i] == ASCII.semicolon else { return .failure(.malformed("bad chunk size")) }
            while i < contentEnd {
                guard HTTPSyntax.isFieldValueByte(line[i]) else { return .failure(.malformed("invalid byte in a chunk extension")) }
                i += 1
            }
        }
        return .success(size)
    }

    /// Inflates a gzip body, refusing (413) as soon as the output would pass `limit`, so a
    /// small bomb never allocates more than `limit` plus one 64 KiB piece.
    static func inflate(_ wire: [UInt8], limit: Int) throws(Refused) -> [UInt8] {
        var out: [UInt8] = []
        do {
            let source = try GzipSource(MemorySource(wire, name: "request body"),
                                        inputBufferSize: max(1, min(wire.count, 64 * 1024)))
            out.reserveCapacity(max(0, min(limit, 4096 + wire.count * 4)))
            let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { piece.deallocate() }
            while true {
                let n = try source.read(into: piece)
                if n == 0 { break }
                if n > limit - out.count { throw Refused(.bodyTooLarge(declared: nil)) }
                HTTPSyntax.append(UnsafeRawBufferPointer(rebasing: piece[..<n]), to: &out, cap: limit)
            }
        } catch let refused as Refused {
            throw refused
        } catch let error as GzipError {
            switch error {
            case .truncated: throw .malformed("gzip body ends early")
            case .corrupt(_, _, let reason): throw .malformed("gzip body is corrupt: \(reason)")
            case .trailingGarbage: throw .malformed("gzip body is followed by bytes that are not gzip")
            case .zlibFailure(_, let code): throw .malformed("gzip body: zlib failed with code \(code)")
            }
        } catch {
            throw .malformed("gzip body does not inflate")
        }
        return out
    }
}
