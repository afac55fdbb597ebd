#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// Turns a plain JSON item line (`{"id":"a","n":3}`) into its typed line
/// (`{"Item":{"id":{"S":"a"},"n":{"N":"3"}}}`) in one pass over the bytes, without
/// building the item: strings are copied through, numbers checked and written in
/// DynamoNumber's form, the size counted as it goes. The output is byte for byte what
/// decoding the line and `ItemEncoder.writeTyped` give.
///
/// Conservative: a line it is not sure of (escapes in a string, a repeated name, an
/// empty name, a first value that is an object (it may be typed), a control line,
/// anything over DynamoDB's limits) gives false with nothing written, and the caller
/// decodes it as before, so errors and rejects do not change. Nesting is bounded by
/// DynamoDB's 32 levels. Not thread-safe: one per thread.
public final class PlainItemTranscoder {
    /// Names of the maps being walked, kept between lines for their capacity.
    private var names: [Range<Int>] = []

    public init() {}

    /// Appends the typed line (no newline) to `out` and returns true, or returns false
    /// with `out` as it was.
    public func transcode(_ line: UnsafeRawBufferPointer, into out: ByteBuffer) -> Bool {
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let mark = out.count
        names.removeAll(keepingCapacity: true)
        var walker = PlainWalker(base: base, end: line.count, out: out, names: names)
        names = []
        out.append("{\"Item\":")
        let size = walker.item()
        walker.skipWhitespace()
        let complete = walker.pos == walker.end
        names = walker.names
        guard let size, complete, size <= ItemRules.maxItemSize else {
            out.truncate(to: mark)
            return false
        }
        out.append(UInt8(ascii: "}"))
        return true
    }
}

private struct PlainWalker {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos = 0
    let out: ByteBuffer
    var names: [Range<Int>]

    init(base: UnsafePointer<UInt8>, end: Int, out: ByteBuffer, names: [Range<Int>]) {
        self.base = base
        self.end = end
        self.out = out
        self.names = names
    }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos &+= 1 } else { return }
        }
    }

    @inline(__always) mutating func take(_ c: UInt8) -> Bool {
        skipWhitespace()
        if pos < end && base[pos] == c { pos &+= 1; return true }
        return false
    }

    /// A string without escapes or control characters, valid UTF-8 (the cursor on its
    /// quote): its byte range, quotes excluded.
    mutating func plainString() -> Range<Int>? {
        skipWhitespace()
        return PlainJSONBytes.string(base, &pos, end: end)
    }

    @inline(__always) func copy(_ range: Range<Int>) {
        out.append(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// The top-level object; its first value must not be an object (a typed line's is).
    mutating func item() -> Int? {
        guard take(UInt8(ascii: "{")) else { return nil }
        let save = pos
        guard let first = plainString(), take(UInt8(ascii: ":")) else { return nil }
        skipWhitespace()
        guard pos < end, base[pos] != UInt8(ascii: "{") else { return nil }
        // Control lines and typed lines (`{"Item":...}`) are the decoder's.
        if first.count >= 6 && memcmp(base + first.lowerBound, "ferry:", 6) == 0 { return nil }
        if first.count == 4 && memcmp(base + first.lowerBound, "Item", 4) == 0 { return nil }
        pos = save - 1
        return map(depth: 0, top: true)
    }

    /// `{"name":value,...}` written as a typed map; names within one map must differ.
    mutating func map(depth: Int, top: Bool) -> Int? {
        guard depth <= ItemRules.maxNestingDepth, take(UInt8(ascii: "{")) else { return nil }
        out.append(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) {
            out.append(UInt8(ascii: "}"))
            return top ? nil : 3
        }
        let firstName = names.count
        defer { names.removeSubrange(firstName...) }
        var total = top ? 0 : 3
        var first = true
        while true {
            guard let name = plainString(), !name.isEmpty, name.count <= ItemRules.maxAttributeNameBytes,
                  take(UInt8(ascii: ":")) else { return nil }
            if PlainJSONBytes.repeats(name, in: names[firstName...], base) { return nil }
            names.append(name)
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            copy(name)
            out.append("\":")
            guard let value = self.value(depth: depth + 1) else { return nil }
            total += (top ? 0 : 1) + name.count + value
            if take(UInt8(ascii: "}")) {
                out.append(UInt8(ascii: "}"))
                return total
            }
            guard take(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// One plain value written typed; its DynamoDB size.
    mutating func value(depth: Int) -> Int? {
        guard depth <= ItemRules.maxNestingDepth else { return nil }
        skipWhitespace()
        guard pos < end else { return nil }
        switch base[pos] {
        case UInt8(ascii: "\""):
            guard let text = plainString() else { return nil }
            out.append("{\"S\":\"")
            copy(text)
            out.append("\"}")
            return text.count
        case UInt8(ascii: "{"):
            out.append("{\"M\":")
            guard let size = map(depth: depth, top: false) else { return nil }
            out.append(UInt8(ascii: "}"))
            return size
        case UInt8(ascii: "["):
            pos += 1
            out.append("{\"L\":[")
            var total = 3
            if !take(UInt8(ascii: "]")) {
                var first = true
                while true {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    guard let inner = value(depth: depth + 1) else { return nil }
                    total += 1 + inner
                    if take(UInt8(ascii: "]")) { break }
                    guard take(UInt8(ascii: ",")) else { return nil }
                }
            }
            out.append("]}")
            return total
        case UInt8(ascii: "t"):
            guard literal("true") else { return nil }
            out.append("{\"BOOL\":true}")
            return 1
        case UInt8(ascii: "f"):
            guard literal("false") else { return nil }
            out.append("{\"BOOL\":false}")
            return 1
        case UInt8(ascii: "n"):
            guard literal("null") else { return nil }
            out.append("{\"NULL\":true}")
            return 1
        default:
            return number()
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        PlainJSONBytes.literal(word, base, &pos, end: end)
    }

    /// A JSON number (RFC 8259's grammar), checked by DynamoNumber and written in its form.
    mutating func number() -> Int? {
        let start = pos
        let isDigit = { (c: UInt8) in c &- UInt8(ascii: "0") < 10 }
        if pos < end && base[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < end else { return nil }
        if base[pos] == UInt8(ascii: "0") {
            pos += 1
        } else {
            guard isDigit(base[pos]) else { return nil }
            while pos < end && isDigit(base[pos]) { pos += 1 }
        }
        if pos < end && base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < end, isDigit(base[pos]) else { return nil }
            while pos < end && isDigit(base[pos]) { pos += 1 }
        }
        if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard pos < end, isDigit(base[pos]) else { return nil }
            while pos < end && isDigit(base[pos]) { pos += 1 }
        }
        guard let n = try? DynamoNumber(bytes: UnsafeRawBufferPointer(start: base + start, count: pos - start)) else { return nil }
        out.append("{\"N\":\"")
        n.write(into: out)
        out.append("\"}")
        return n.storageSize
    }
}
