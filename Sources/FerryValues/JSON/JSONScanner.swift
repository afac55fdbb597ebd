// A cursor over JSON text in memory: the shared lexer of the generic JSON parser and the
// item decoders. Works on bytes; strings are validated UTF-8 before they become String.
// Grammar: RFC 8259. See docs/json.md.

@usableFromInline
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos: Int = 0
    /// Reused for strings that contain escapes.
    var scratch: [UInt8] = []
    /// The item decoders' name cache and hash stack (nil for generic JSON).
    let names: DecoderScratch?
    var hashTop = 0

    init(_ bytes: UnsafeRawBufferPointer, names: DecoderScratch? = nil) {
        self.names = names
        // An empty buffer may have no base address; point at a static byte instead.
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? JSONScanner.emptyBase
        end = bytes.count
    }

    nonisolated(unsafe) private static let emptyBase: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.initialize(to: 0)
        return UnsafePointer(p)
    }()

    // MARK: Errors

    /// An error at `offset`, with line and column worked out from the text.
    func error(_ reason: String, at offset: Int? = nil) -> JSONError {
        let at = min(offset ?? pos, end)
        var line = 1, lineStart = 0
        for i in 0..<at where base[i] == 0x0A { line += 1; lineStart = i + 1 }
        return JSONError(reason: reason, offset: at, line: line, column: at - lineStart + 1)
    }

    func unexpected(_ expected: String) -> JSONError {
        if pos >= end { return error("unexpected end of input, expected \(expected)") }
        let c = base[pos]
        if c >= 0x20 && c < 0x7F {
            return error("unexpected character '\(Character(Unicode.Scalar(c)))', expected \(expected)")
        }
        return error("unexpected byte 0x\(String(c, radix: 16, uppercase: true)), expected \(expected)")
    }

    // MARK: Cursor

    @inline(__always) var atEnd: Bool { pos >= end }

    /// The current byte, or 0 at the end (NUL is never valid outside a string).
    @inline(__always) func peek() -> UInt8 { pos < end ? base[pos] : 0 }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos &+= 1 } else { return }
        }
    }

    @inline(__always) mutating func expect(_ c: UInt8, _ what: String) throws {
        skipWhitespace()
        guard pos < end && base[pos] == c else { throw unexpected(what) }
        pos &+= 1
    }

    /// Consumes `c` after optional whitespace if it is next.
    @inline(__always) mutating func consume(_ c: UInt8) -> Bool {
        skipWhitespace()
        if pos < end && base[pos] == c { pos &+= 1; return true }
        return false
    }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws {
        skipWhitespace()
        if pos < end { throw error("unexpected data after the JSON value") }
    }

    // MARK: Literals

    mutating func readLiteral() throws -> Bool? {
        // true / false / null; returns nil for null.
        func matches(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard end - pos >= n else { return false }
            for i in 0..<n where base[pos + i] != word.utf8Start[i] { return false }
            return true
        }
        if matches("true") { pos += 4; return true }
        if matches("false") { pos += 5; return false }
        if matches("null") { pos += 4; return nil }
        throw unexpected("a JSON value")
    }

    // MARK: Numbers

    /// Reads a number by RFC 8259's grammar and returns its exact text.
    mutating func readNumberSpan() throws -> UnsafeRawBufferPointer {
        let start = pos
        if peek() == UInt8(ascii: "-") { pos += 1 }
        let first = peek()
        if first == UInt8(ascii: "0") {
            pos += 1
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            pos += 1
            while isDigit(peek()) { pos += 1 }
        } else {
            throw unexpected("a digit")
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(peek()) else { throw unexpected("a digit after the decimal point") }
            while isDigit(peek()) { pos += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(peek()) else { throw unexpected("a digit in the exponent") }
            while isDigit(peek()) { pos += 1 }
        }
        return UnsafeRawBufferPointer(start: base + start, count: pos - start)
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    // MARK: Strings

    /// Reads a string (the cursor is on its opening quote) and hands its decoded UTF-8
    /// bytes to `body`. No allocation unless the string has escapes.
    @inline(__always)
    mutating func withString<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("a string") }
        pos &+= 1
        let start = pos
        if try scanPlainString() {
            let span = UnsafeRawBufferPointer(start: base + start, count: pos - start)
            pos &+= 1
            return try body(span)
        }
        try decodeEscapedString(from: start)
        return try scratch.withUnsafeBytes { try body($0) }
    }

    mutating func readString() throws -> String {
        try withString { String(decoding: $0, as: UTF8.self) }
    }

    /// Advances over string bytes until the closing quote (true) or a backslash (false),
    /// validating UTF-8 and rejecting control characters.
    @inline(__always)
    private mutating func scanPlainString() throws -> Bool {
        while true {
            PlainJSONBytes.skipPlainASCII(base, &pos, end: end)
            guard pos < end else { throw error("unterminated string") }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { return true }
            if c == UInt8(ascii: "\\") { return false }
            if c < 0x20 { throw error("control character in string must be escaped") }
            if c < 0x80 { pos &+= 1 } else { try skipUTF8Sequence() }
        }
    }

    /// Checks one multi-byte UTF-8 sequence at the cursor (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF) and steps over it.
    private mutating func skipUTF8Sequence() throws {
        guard let (count, lo, hi) = UTF8Lead.of(base[pos]) else { throw error("invalid UTF-8 in string") }
        var need = count
        guard end - pos > need else { throw error("invalid UTF-8 in string") }
        var i = pos + 1
        let b1 = base[i]
        guard b1 >= lo && b1 <= hi else { throw error("invalid UTF-8 in string", at: i) }
        need -= 1
        while need > 0 {
            i += 1
            guard base[i] & 0xC0 == 0x80 else { throw error("invalid UTF-8 in string", at: i) }
            need -= 1
        }
        pos = i + 1
    }

    /// Decodes a string with escapes into `scratch`; `start` is just after the quote.
    private mutating func decodeEscapedString(from start: Int) throws {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: pos - start))
        while true {
            guard pos < end else { throw error("unterminated string") }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { pos += 1; return }
            if c == UInt8(ascii: "\\") {
                try decodeEscape()
                continue
            }
            let runStart = pos
            if c < 0x20 { throw error("control character in string must be escaped") }
            if c < 0x80 { pos += 1 } else { try skipUTF8Sequence() }
            scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: pos - runStart))
        }
    }

    private mutating func decodeEscape() throws {
        let escapeStart = pos
        pos += 1
        guard pos < end else { throw error("unterminated string") }
        let c = base[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                // A high surrogate must be followed by an escaped low one.
                guard end - pos >= 6, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate in \\u escape", at: escapeStart)
                }
                pos += 2
                let low = try readHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw error("unpaired surrogate in \\u escape", at: escapeStart)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw error("unpaired surrogate in \\u escape", at: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw error("invalid escape sequence in string", at: escapeStart)
        }
    }

    private mutating func readHex4() throws -> UInt32 {
        guard end - pos >= 4 else { throw error("incomplete \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = base[pos]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    private mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | v >> 6)); scratch.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | v >> 12)); scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | v >> 18)); scratch.append(UInt8(0x80 | v >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F)); scratch.append(UInt8(0x80 | v & 0x3F))
        }
    }
}
