// RFC 9110/9112 byte classes and small scanners the request decoder uses. Bytes only:
// nothing here makes a String. Grammar choices: docs/http.md, "Parsing".

enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let dot: UInt8 = 0x2E
    static let asterisk: UInt8 = 0x2A
}

enum HTTPSyntax {
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
    //         "`" / "|" / "~" / DIGIT / ALPHA, as bit sets over 0-63 and 64-127.
    static let tokenLow: UInt64 = 0x03FF_6CFA_0000_0000
    static let tokenHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        if b < 64 { return (tokenLow >> UInt64(b)) & 1 == 1 }
        if b < 128 { return (tokenHigh >> UInt64(b - 64)) & 1 == 1 }
        return false
    }

    /// A byte allowed in a field value: HTAB, SP, VCHAR, obs-text. Not CR, LF, NUL, other
    /// controls or DEL.
    @inline(__always)
    static func isFieldValueByte(_ b: UInt8) -> Bool {
        b == ASCII.tab || (b >= 0x20 && b != 0x7F)
    }

    /// A byte allowed in a request-target: visible ASCII only (RFC 3986 characters and a
    /// few more clients send unescaped, such as '"' or '{'). Space, controls, DEL and
    /// bytes over 0x7F are refused.
    @inline(__always)
    static func isTargetByte(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F
    }

    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool { b == ASCII.space || b == ASCII.tab }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return nil
        }
    }

    /// Index ranges of the path and query within a request-target. An absolute-form
    /// target ("http://host:80/p?q") yields the path after the authority ("/" when none).
    static func splitTarget(_ t: UnsafeRawBufferPointer) -> (path: Range<Int>, query: Range<Int>) {
        var pathStart = 0
        if t.count > 0 && t[0] != ASCII.slash && t[0] != ASCII.asterisk {
            // absolute-form: scheme "://" authority, then the path
            var i = 0
            while i + 2 < t.count && !(t[i] == ASCII.colon && t[i + 1] == ASCII.slash && t[i + 2] == ASCII.slash) { i += 1 }
            if i + 2 < t.count {
                i += 3
                while i < t.count && t[i] != ASCII.slash && t[i] != ASCII.question { i += 1 }
                pathStart = i
            }
        }
        var q = pathStart
        while q < t.count && t[q] != ASCII.question { q += 1 }
        let queryRange = q < t.count ? (q + 1)..<t.count : t.count..<t.count
        return (pathStart..<q, queryRange)
    }

    /// Trims SP and HTAB from both ends of `range` in `bytes`.
    @inline(__always)
    static func trim(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi && isWhitespace(bytes[lo]) { lo += 1 }
        while hi > lo && isWhitespace(bytes[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// Calls `body` with each trimmed, non-empty element of a comma-separated list
    /// (RFC 9110 section 5.6.1: empty elements are ignored). Stops when `body` returns false.
    static func forEachListElement(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>,
                                   _ body: (Range<Int>) -> Bool) {
        var start = range.lowerBound
        var i = range.lowerBound
        while i <= range.upperBound {
            if i == range.upperBound || bytes[i] == ASCII.comma {
                let element = trim(bytes, start..<i)
                if !element.isEmpty && !body(element) { return }
                start = i + 1
            }
            i += 1
        }
    }

    /// True when `bytes[range]` equals `lower` (an ASCII lower-case literal) ignoring case.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lower: StaticString) -> Bool {
        guard range.count == lower.utf8CodeUnitCount else { return false }
        let literal = lower.utf8Start
        var i = 0
        while i < range.count {
            let b = bytes[range.lowerBound + i]
            let l = literal[i]
            if b != l && !(b | 0x20 == l && l >= 0x61 && l <= 0x7A) { return false }
            i += 1
        }
        return true
    }

    /// Appends `bytes`, growing the array's storage by doubling but never past `cap`
    /// bytes (Array's own growth could reserve up to twice what a body needs).
    @inline(__always)
    static func append(_ bytes: UnsafeRawBufferPointer, to array: inout [UInt8], cap: Int) {
        let needed = array.count + bytes.count
        if needed > array.capacity {
            array.reserveCapacity(max(needed, min(cap, array.capacity * 2)))
        }
        array.append(contentsOf: bytes)
    }

    enum Decimal { case value(Int), notANumber, tooLarge }

    /// 1*DIGIT. More than 18 digits' worth (over 999,999,999,999,999,999) is `tooLarge`:
    /// no body is that large, and the value would not fit every platform's Int.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Decimal {
        guard !range.isEmpty else { return .notANumber }
        var value = 0
        var overflow = false
        for i in range {
            let b = bytes[i]
            guard b >= ASCII.zero && b <= ASCII.nine else { return .notANumber }
            if value >= 100_000_000_000_000_000 { overflow = true; continue }
            value = value * 10 + Int(b - ASCII.zero)
        }
        return overflow ? .tooLarge : .value(value)
    }
}
