// The canonical request of AWS Signature Version 4: URI, query, headers. See ../../docs/sigv4.md.

/// The canonicalization rules, on bytes. Signer and verifier both build their canonical
/// request here, so they cannot disagree.
public enum SigV4Canonical {
    /// How the path becomes the canonical URI.
    public enum PathMode: Sendable, Hashable {
        /// Every service but S3: remove `.` and `..` segments, collapse repeated slashes,
        /// then percent-encode every byte of the path as sent that is not RFC 3986
        /// unreserved or `/` (so `%20` on the wire is signed as `%2520`: the "double
        /// encoding" of the AWS test suite and botocore).
        case normalized
        /// S3: the path as sent, segment for segment; valid `%XX` escapes are kept (hex
        /// digits upper-cased), any other byte that is not unreserved or `/` is encoded.
        case s3
    }

    /// The canonical URI of a raw (as sent) path.
    public static func uri(_ rawPath: String, mode: PathMode) -> String {
        var out = [UInt8]()
        appendURI(rawPath, mode: mode, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical query string of a raw (as sent) query, without the `?`.
    public static func query(_ rawQuery: String) -> String {
        var out = [UInt8]()
        appendQuery(rawQuery, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A header value trimmed, with every inner run of white space (space, tab, CR, LF,
    /// as in folded lines) made one space.
    public static func headerValue(_ raw: String) -> String {
        var out = [UInt8]()
        appendHeaderValue(raw, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// ASCII lower case (header names are ASCII tokens).
    public static func lowercased(_ name: String) -> String {
        var bytes = Array(name.utf8)
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] |= 0x20 }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func equalsIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in equalsIgnoringASCIICase(x, y) } }
    }

    @inline(__always)
    static func equalsIgnoringASCIICase(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        guard x.count == y.count else { return false }
        for i in 0..<x.count where x[i] != y[i] {
            let lower = x[i] | 0x20
            guard lower == y[i] | 0x20, lower >= 0x61, lower <= 0x7A else { return false }
        }
        return true
    }

    /// `name` if it has no upper-case ASCII letter (the usual case: no copy), else lower-cased.
    static func lowercasedIfNeeded(_ name: String) -> String {
        var name = name
        let hasUpper = name.withUTF8 { $0.contains { $0 >= 0x41 && $0 <= 0x5A } }
        return hasUpper ? lowercased(name) : name
    }

    // MARK: - Bytes

    @inline(__always) static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: return true   // A-Z a-z 0-9 - . _ ~
        default: return false
        }
    }

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C
    }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always) static func appendEscaped(_ b: UInt8, to out: inout [UInt8]) {
        out.append(0x25)
        out.append(upperHex[Int(b >> 4)])
        out.append(upperHex[Int(b & 0x0F)])
    }

    static func appendURI(_ rawPath: String, mode: PathMode, to out: inout [UInt8]) {
        let start = out.count
        var path = rawPath
        path.withUTF8 { bytes in
            switch mode {
            case .normalized:
                for b in removeDotSegments(bytes) {
                    if isUnreserved(b) || b == 0x2F { out.append(b) } else { appendEscaped(b, to: &out) }
                }
            case .s3:
                var i = 0
                while i < bytes.count {
                    let b = bytes[i]
                    if b == 0x25, i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                        appendEscaped(hi << 4 | lo, to: &out)
                        i += 3
                        continue
                    }
                    if isUnreserved(b) || b == 0x2F { out.append(b) } else { appendEscaped(b, to: &out) }
                    i += 1
                }
            }
        }
        if out.count == start { out.append(0x2F) }
    }

    /// RFC 3986 section 5.2.4 as botocore does it, which also drops empty segments
    /// (`//a//` is `/a/`): a leading `/` is kept, a trailing `/` is kept if any segment is.
    static func removeDotSegments(_ path: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard !path.isEmpty else { return [0x2F] }
        var segments: [Range<Int>] = []
        var segmentStart = 0
        func close(_ end: Int) {
            let length = end - segmentStart
            if length == 0 || (length == 1 && path[segmentStart] == 0x2E) {
                // empty or "."
            } else if length == 2 && path[segmentStart] == 0x2E && path[segmentStart + 1] == 0x2E {
                if !segments.isEmpty { segments.removeLast() }
            } else {
                segments.append(segmentStart..<end)
            }
        }
        for i in 0..<path.count where path[i] == 0x2F {
            close(i)
            segmentStart = i + 1
        }
        close(path.count)
        var out = [UInt8]()
        out.reserveCapacity(path.count)
        if path[0] == 0x2F { out.append(0x2F) }
        for (n, range) in segments.enumerated() {
            if n > 0 { out.append(0x2F) }
            out.append(contentsOf: path[range])
        }
        if path[path.count - 1] == 0x2F && !segments.isEmpty { out.append(0x2F) }
        return out
    }

    /// Each `name=value` pair (a missing `=` means an empty value; empty pairs are
    /// skipped) is decoded (`%XX` only: `+` is a plus sign) and re-encoded with
    /// everything but RFC 3986 unreserved escaped, then the pairs are sorted by encoded
    /// name, then encoded value, byte by byte.
    static func appendQuery(_ rawQuery: String, to out: inout [UInt8]) {
        guard !rawQuery.isEmpty else { return }
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        var query = rawQuery
        query.withUTF8 { bytes in
            var start = 0
            func take(_ end: Int) {
                guard end > start else { return }
                var equals = end
                for i in start..<end where bytes[i] == 0x3D { equals = i; break }
                let name = encodeQueryComponent(bytes, start..<equals)
                let value = equals < end ? encodeQueryComponent(bytes, equals + 1..<end) : []
                pairs.append((name, value))
            }
            for i in 0..<bytes.count where bytes[i] == 0x26 {
                take(i)
                start = i + 1
            }
            take(bytes.count)
        }
        pairs.sort { a, b in
            a.name == b.name ? a.value.lexicographicallyPrecedes(b.value) : a.name.lexicographicallyPrecedes(b.name)
        }
        for (n, pair) in pairs.enumerated() {
            if n > 0 { out.append(0x26) }
            out.append(contentsOf: pair.name)
            out.append(0x3D)
            out.append(contentsOf: pair.value)
        }
    }

    private static func encodeQueryComponent(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            var b = bytes[i]
            if b == 0x25, i + 2 < range.upperBound, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                b = hi << 4 | lo
                i += 2
            }
            if isUnreserved(b) { out.append(b) } else { appendEscaped(b, to: &out) }
            i += 1
        }
        return out
    }

    static func appendHeaderValue(_ raw: String, to out: inout [UInt8]) {
        var value = raw
        value.withUTF8 { bytes in
            var pendingSpace = false
            var wroteAny = false
            for b in bytes {
                if isWhitespace(b) {
                    pendingSpace = wroteAny
                    continue
                }
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(b)
                wroteAny = true
            }
        }
    }

    /// `name:value1,value2\n` for one header name (already lower case) and its values in
    /// the order they were sent.
    static func appendHeaderLine(lowercasedName: String, values: [String], to out: inout [UInt8]) {
        out.append(contentsOf: lowercasedName.utf8)
        out.append(0x3A)
        for (n, value) in values.enumerated() {
            if n > 0 { out.append(0x2C) }
            appendHeaderValue(value, to: &out)
        }
        out.append(0x0A)
    }

    /// The whole canonical request:
    /// method, URI, query, header lines, blank, signed header names, payload hash.
    static func canonicalRequest(method: String, path: String, query: String, mode: PathMode,
                                 headers: [(lowercasedName: String, values: [String])],
                                 signedHeaders: String, payloadHash: String) -> [UInt8] {
        canonicalRequest(method: method, path: path, query: query, mode: mode, signedHeaders: signedHeaders,
                         payloadHash: payloadHash) { out in
            for header in headers { appendHeaderLine(lowercasedName: header.lowercasedName, values: header.values, to: &out) }
        }
    }

    /// The same, with the header lines written by `appendHeaderLines`.
    static func canonicalRequest(method: String, path: String, query: String, mode: PathMode, signedHeaders: String,
                                 payloadHash: String, appendHeaderLines: (inout [UInt8]) -> Void) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512 + path.utf8.count * 3 + query.utf8.count * 3)
        out.append(contentsOf: method.utf8)
        out.append(0x0A)
        appendURI(path, mode: mode, to: &out)
        out.append(0x0A)
        appendQuery(query, to: &out)
        out.append(0x0A)
        appendHeaderLines(&out)
        out.append(0x0A)
        out.append(contentsOf: signedHeaders.utf8)
        out.append(0x0A)
        out.append(contentsOf: payloadHash.utf8)
        return out
    }

    /// The canonical line of header `name` (as listed in SignedHeaders) over the
    /// request's fields: every field of that name, in order, values joined by commas.
    static func appendHeaderLine(signedName name: String, fields: [(name: String, value: String)], to out: inout [UInt8]) {
        var name = name
        name.withUTF8 { wanted in
            for b in wanted { out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
            out.append(0x3A)
            var first = true
            for field in fields {
                var fieldName = field.name
                guard fieldName.withUTF8({ equalsIgnoringASCIICase($0, wanted) }) else { continue }
                if !first { out.append(0x2C) }
                first = false
                appendHeaderValue(field.value, to: &out)
            }
            out.append(0x0A)
        }
    }

    /// `value` without leading and trailing white space (no copy when there is none).
    static func trimmed(_ value: String) -> String {
        var value = value
        let (start, end, count) = value.withUTF8 { b -> (Int, Int, Int) in
            var lo = 0, hi = b.count
            while lo < hi && isWhitespace(b[lo]) { lo += 1 }
            while hi > lo && isWhitespace(b[hi - 1]) { hi -= 1 }
            return (lo, hi, b.count)
        }
        if start == 0 && end == count { return value }
        return value.withUTF8 { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
    }

    /// `AWS4-HMAC-SHA256\n<time>\n<scope>\n<hex SHA-256 of the canonical request>`.
    static func stringToSign(amzDate: String, scope: String, canonicalRequestHash: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(140)
        out.append(contentsOf: SigV4Signer.algorithm.utf8)
        out.append(0x0A)
        out.append(contentsOf: amzDate.utf8)
        out.append(0x0A)
        out.append(contentsOf: scope.utf8)
        out.append(0x0A)
        out.append(contentsOf: canonicalRequestHash.utf8)
        return out
    }
}
