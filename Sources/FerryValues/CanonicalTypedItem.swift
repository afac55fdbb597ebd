#if canImport(Glibc)
import Glibc
#endif
/// A typed item map checked in place, for loads of Ferry's own stream (ferry-extract's
/// output, a backup, an export): when the bytes are exactly what `ItemEncoder` writes
/// for the item they spell, and the item keeps every rule of `ItemRules`, they can be
/// stored as they are, without building the item and encoding it again.
///
/// `scan` is conservative: anything it is not sure of (whitespace, escapes, numbers not
/// in canonical form, binary values, sets, a repeated name, a rule broken) gives nil, and
/// the caller decodes the line as before, so errors and their texts do not change.
/// Nesting is bounded (DynamoDB's 32 levels). Not thread-safe (one per thread).
public final class CanonicalTypedItem {
    /// One top-level attribute: where its name (without quotes) and its value (the
    /// `{"T":...}` object) are in the map, and its DynamoDB size (name plus value).
    public struct Attribute {
        public var name: Range<Int>
        public var value: Range<Int>
        public var size: Int
    }

    public private(set) var attributes: [Attribute] = []
    /// The item's DynamoDB size, after a successful `scan`.
    public private(set) var size = 0
    /// Names of the maps being walked, kept between scans for their capacity.
    private var names: [Range<Int>] = []

    public init() {}

    /// True when `map` is a canonical, valid item map; then `attributes` and `size` describe it.
    public func scan(_ map: UnsafeRawBufferPointer) -> Bool {
        guard let start = map.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        // The walk runs on a local value: no dynamic exclusivity checks per byte.
        attributes.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
        var walker = Walker(base: start, end: map.count, attributes: attributes, names: names)
        attributes = []
        names = []
        let total = walker.map(depth: 0, top: true)
        let complete = walker.pos == walker.end
        attributes = walker.attributes
        names = walker.names
        guard let total, complete, total <= ItemRules.maxItemSize else { return false }
        size = total
        return true
    }
}

private struct Walker {
    typealias Attribute = CanonicalTypedItem.Attribute
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos = 0
    var attributes: [Attribute]
    /// Names of the maps being walked (for the repeated-name check), outermost first.
    var names: [Range<Int>]

    init(base: UnsafePointer<UInt8>, end: Int, attributes: [Attribute], names: [Range<Int>]) {
        self.base = base
        self.end = end
        self.attributes = attributes
        self.names = names
    }

    @inline(__always) mutating func take(_ c: UInt8) -> Bool {
        if pos < end && base[pos] == c { pos &+= 1; return true }
        return false
    }

    /// A string without escapes or control characters, valid UTF-8: its byte range
    /// (without the quotes).
    mutating func plainString() -> Range<Int>? {
        PlainJSONBytes.string(base, &pos, end: end)
    }

    /// `{"name":value,...}`; the names of one map must differ.
    mutating func map(depth: Int, top: Bool) -> Int? {
        guard depth <= ItemRules.maxNestingDepth, take(UInt8(ascii: "{")) else { return nil }
        if take(UInt8(ascii: "}")) { return top ? nil : 3 }   // an item has attributes
        let firstName = names.count
        defer { names.removeSubrange(firstName...) }
        var total = top ? 0 : 3
        while true {
            guard let name = plainString(), !name.isEmpty, name.count <= ItemRules.maxAttributeNameBytes,
                  take(UInt8(ascii: ":")) else { return nil }
            if PlainJSONBytes.repeats(name, in: names[firstName...], base) { return nil }
            names.append(name)
            let valueStart = pos
            guard let value = self.value(depth: depth + 1) else { return nil }
            if top {
                attributes.append(Attribute(name: name, value: valueStart..<pos, size: name.count + value))
                total += name.count + value
            } else {
                total += 1 + name.count + value
            }
            if take(UInt8(ascii: "}")) { return total }
            guard take(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// `{"T":...}`: its size, for the types Ferry's loads carry (S, N, BOOL, NULL, M, L).
    mutating func value(depth: Int) -> Int? {
        guard depth <= ItemRules.maxNestingDepth, take(UInt8(ascii: "{")), let type = plainString(),
              take(UInt8(ascii: ":")) else { return nil }
        var size: Int?
        switch (type.count, base[type.lowerBound]) {
        case (1, UInt8(ascii: "S")):
            size = plainString()?.count
        case (1, UInt8(ascii: "N")):
            size = number()
        case (4, UInt8(ascii: "B")) where memcmp(base + type.lowerBound, "BOOL", 4) == 0:
            size = literal("true") || literal("false") ? 1 : nil
        case (4, UInt8(ascii: "N")) where memcmp(base + type.lowerBound, "NULL", 4) == 0:
            size = literal("true") ? 1 : nil
        case (1, UInt8(ascii: "M")):
            size = map(depth: depth, top: false)
        case (1, UInt8(ascii: "L")):
            guard take(UInt8(ascii: "[")) else { return nil }
            var total = 3
            if !take(UInt8(ascii: "]")) {
                while true {
                    guard let inner = value(depth: depth + 1) else { return nil }
                    total += 1 + inner
                    if take(UInt8(ascii: "]")) { break }
                    guard take(UInt8(ascii: ",")) else { return nil }
                }
            }
            size = total
        default:
            return nil
        }
        guard let size, take(UInt8(ascii: "}")) else { return nil }
        return size
    }

    mutating func literal(_ word: StaticString) -> Bool {
        PlainJSONBytes.literal(word, base, &pos, end: end)
    }

    /// A number string in the form DynamoNumber writes (no exponent, no leading or
    /// trailing zeros, no "-0") within DynamoDB's range: its size.
    mutating func number() -> Int? {
        guard let text = plainString(), !text.isEmpty else { return nil }
        var i = text.lowerBound
        let negative = base[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < text.upperBound else { return nil }
        let isDigit = { (c: UInt8) in c &- UInt8(ascii: "0") < 10 }
        if base[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            guard isDigit(base[i]) else { return nil }
            while i < text.upperBound && isDigit(base[i]) { i += 1 }
        }
        let integerEnd = i
        if i < text.upperBound {
            guard base[i] == UInt8(ascii: "."), i + 1 < text.upperBound else { return nil }
            i += 1
            while i < text.upperBound && isDigit(base[i]) { i += 1 }
            guard i == text.upperBound, base[i - 1] != UInt8(ascii: "0") else { return nil }
        } else if negative && integerEnd - text.lowerBound == 2 && base[integerEnd - 1] == UInt8(ascii: "0") {
            return nil   // "-0"
        }
        return (try? DynamoNumber(bytes: UnsafeRawBufferPointer(start: base + text.lowerBound, count: text.count)))?.storageSize
    }
}
