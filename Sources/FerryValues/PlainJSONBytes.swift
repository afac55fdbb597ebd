#if canImport(Glibc)
import Glibc
#endif

/// The byte-level steps the in-place walkers share (`CanonicalTypedItem`,
/// `PlainItemTranscoder`): they take only what needs no decoding, and say nil to the rest
/// (the decoder then reports it with JSONScanner's errors).
enum PlainJSONBytes {
    /// A string at `pos` (on its opening quote) with no escapes or control characters,
    /// valid UTF-8: its bytes' range, quotes excluded; `pos` moves past the closing quote.
    static func string(_ base: UnsafePointer<UInt8>, _ pos: inout Int, end: Int) -> Range<Int>? {
        guard pos < end, base[pos] == UInt8(ascii: "\"") else { return nil }
        pos &+= 1
        let start = pos
        while pos < end {
            skipPlainASCII(base, &pos, end: end)
            guard pos < end else { return nil }
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                pos &+= 1
                return start..<(pos - 1)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            if c < 0x80 { pos &+= 1; continue }
            guard utf8Sequence(base, &pos, end: end) else { return nil }
        }
        return nil
    }

    /// Steps over plain ASCII string bytes eight at a time (SWAR) to the first that may
    /// need a look: a quote, a backslash, a control character or non-ASCII. A byte is
    /// flagged when it is one of those; borrows only run upward from a truly flagged
    /// byte, so the lowest flag is exact and the cursor can jump to it.
    @inline(__always)
    static func skipPlainASCII(_ base: UnsafePointer<UInt8>, _ pos: inout Int, end: Int) {
        while end - pos >= 8 {
            let v = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
            let quote = v ^ 0x2222_2222_2222_2222
            let slash = v ^ 0x5C5C_5C5C_5C5C_5C5C
            let special = (((quote &- 0x0101_0101_0101_0101) & ~quote)
                | ((slash &- 0x0101_0101_0101_0101) & ~slash)
                | (v &- 0x2020_2020_2020_2020)   // below 0x20 (borrows into the high bit)
                | v) & 0x8080_8080_8080_8080     // non-ASCII
            if special != 0 {
                pos &+= special.trailingZeroBitCount >> 3
                return
            }
            pos &+= 8
        }
    }

    /// One multi-byte UTF-8 sequence at `pos` (RFC 3629: no overlongs, surrogates or
    /// values past U+10FFFF), stepped over.
    static func utf8Sequence(_ base: UnsafePointer<UInt8>, _ pos: inout Int, end: Int) -> Bool {
        guard let (need, lo, hi) = UTF8Lead.of(base[pos]) else { return false }
        guard end - pos > need, base[pos + 1] >= lo, base[pos + 1] <= hi else { return false }
        var i = 2
        while i <= need {
            if base[pos + i] & 0xC0 != 0x80 { return false }
            i += 1
        }
        pos += need + 1
        return true
    }

    /// `word` at `pos`, stepped over.
    static func literal(_ word: StaticString, _ base: UnsafePointer<UInt8>, _ pos: inout Int, end: Int) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - pos >= n, memcmp(base + pos, word.utf8Start, n) == 0 else { return false }
        pos += n
        return true
    }

    /// Whether the name at `name` repeats one of `names` (the names of the same map).
    static func repeats(_ name: Range<Int>, in names: ArraySlice<Range<Int>>, _ base: UnsafePointer<UInt8>) -> Bool {
        for other in names where other.count == name.count {
            if memcmp(base + other.lowerBound, base + name.lowerBound, name.count) == 0 { return true }
        }
        return false
    }
}

/// What a UTF-8 lead byte says (RFC 3629): how many continuation bytes follow and the
/// range the first of them must fall in (no overlongs, surrogates or values past U+10FFFF).
enum UTF8Lead {
    @inline(__always)
    static func of(_ c: UInt8) -> (continuations: Int, low: UInt8, high: UInt8)? {
        switch c {
        case 0xC2...0xDF: return (1, 0x80, 0xBF)
        case 0xE0: return (2, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: return (2, 0x80, 0xBF)
        case 0xED: return (2, 0x80, 0x9F)
        case 0xF0: return (3, 0x90, 0xBF)
        case 0xF1...0xF3: return (3, 0x80, 0xBF)
        case 0xF4: return (3, 0x80, 0x8F)
        default: return nil
        }
    }
}
