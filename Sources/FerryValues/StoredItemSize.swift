/// DynamoDB's size of an item (`ItemRules.size`) worked out from its typed JSON map
/// (`{"a":{"S":"x"}}`, how Ferry stores items) without building the item: a scan or a
/// query that returns stored bytes still counts 1 MB pages and capacity units exactly.
/// Returns nil for anything it does not expect (the caller then decodes the item);
/// nesting is bounded (DynamoDB's 32 levels), so input cannot drive the recursion deep.
/// Thread-safe (no state).
public enum StoredItemSize {
    public static func of(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // Stored items are compact and rarely escaped: a strict walk over the bytes first,
        // the JSON scanner (whitespace, escapes) when that walk is not sure.
        if let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            var walk = CompactSizeWalk(base: base, end: bytes.count)
            if let size = walk.map(depth: 0, perEntry: 0), walk.pos == walk.end { return size }
        }
        var scanner = JSONScanner(bytes)
        do {
            scanner.skipWhitespace()
            guard let size = try map(&scanner, depth: 0, perEntry: 0) else { return nil }
            try scanner.expectEnd()
            return size
        } catch {
            return nil
        }
    }

    /// `{name: typed value, ...}`: each entry's name and value, plus `perEntry`.
    private static func map(_ s: inout JSONScanner, depth: Int, perEntry: Int) throws -> Int? {
        guard depth <= ItemRules.maxNestingDepth, s.consume(UInt8(ascii: "{")) else { return nil }
        var total = 0
        s.skipWhitespace()
        if s.consume(UInt8(ascii: "}")) { return 0 }
        while true {
            s.skipWhitespace()
            let name = try decodedLength(&s)
            s.skipWhitespace()
            guard s.consume(UInt8(ascii: ":")) else { return nil }
            s.skipWhitespace()
            guard let value = try typed(&s, depth: depth + 1) else { return nil }
            total += perEntry + name + value
            s.skipWhitespace()
            if s.consume(UInt8(ascii: "}")) { return total }
            guard s.consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// `{"T": value}`: the value's size.
    private static func typed(_ s: inout JSONScanner, depth: Int) throws -> Int? {
        guard s.consume(UInt8(ascii: "{")) else { return nil }
        s.skipWhitespace()
        let type = try s.withString { t -> UInt32 in
            var code: UInt32 = 0
            for byte in t.prefix(4) { code = code << 8 | UInt32(byte) }
            return t.count <= 4 ? code : 0
        }
        s.skipWhitespace()
        guard s.consume(UInt8(ascii: ":")) else { return nil }
        s.skipWhitespace()
        let size: Int?
        switch type {
        case 0x53: size = try decodedLength(&s)                                  // S
        case 0x4E: size = try numberSize(&s)                                     // N
        case 0x42: size = try binaryLength(&s)                                   // B
        case 0x424F_4F4C, 0x4E55_4C4C: size = try s.readLiteral() != nil ? 1 : nil   // BOOL, NULL
        case 0x4D: size = try map(&s, depth: depth, perEntry: 1).map { $0 + 3 }  // M
        case 0x4C:                                                               // L
            size = try list(&s) { s in try typed(&s, depth: depth + 1).map { $0 + 1 } }.map { $0 + 3 }
        case 0x5353: size = try list(&s) { s in try decodedLength(&s) }          // SS
        case 0x4E53: size = try list(&s) { s in try numberSize(&s) }             // NS
        case 0x4253: size = try list(&s) { s in try binaryLength(&s) }           // BS
        default: size = nil
        }
        guard let size else { return nil }
        s.skipWhitespace()
        return s.consume(UInt8(ascii: "}")) ? size : nil
    }

    private static func list(_ s: inout JSONScanner, _ element: (inout JSONScanner) throws -> Int?) throws -> Int? {
        guard s.consume(UInt8(ascii: "[")) else { return nil }
        var total = 0
        s.skipWhitespace()
        if s.consume(UInt8(ascii: "]")) { return 0 }
        while true {
            s.skipWhitespace()
            guard let size = try element(&s) else { return nil }
            total += size
            s.skipWhitespace()
            if s.consume(UInt8(ascii: "]")) { return total }
            guard s.consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    private static func decodedLength(_ s: inout JSONScanner) throws -> Int {
        try s.withString { $0.count }
    }

    private static func numberSize(_ s: inout JSONScanner) throws -> Int? {
        try s.withString { text in (try? DynamoNumber(bytes: text))?.storageSize }
    }

    /// Base64's decoded length from its text (padded, as Ferry writes it).
    private static func binaryLength(_ s: inout JSONScanner) throws -> Int? {
        try s.withString { text in
            guard text.count % 4 == 0 else { return nil }
            var padding = 0
            if text.count >= 1 && text[text.count - 1] == UInt8(ascii: "=") { padding += 1 }
            if text.count >= 2 && text[text.count - 2] == UInt8(ascii: "=") { padding += 1 }
            return text.count / 4 * 3 - padding
        }
    }
}

/// The strict walk: no whitespace, no escapes (nil for either, and the scanner decides).
private struct CompactSizeWalk {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos = 0

    @inline(__always) mutating func take(_ c: UInt8) -> Bool {
        if pos < end && base[pos] == c { pos &+= 1; return true }
        return false
    }

    @inline(__always) mutating func string() -> Range<Int>? { PlainJSONBytes.string(base, &pos, end: end) }

    mutating func map(depth: Int, perEntry: Int) -> Int? {
        guard depth <= ItemRules.maxNestingDepth, take(UInt8(ascii: "{")) else { return nil }
        if take(UInt8(ascii: "}")) { return 0 }
        var total = 0
        while true {
            guard let name = string(), take(UInt8(ascii: ":")), let value = typed(depth: depth + 1) else { return nil }
            total += perEntry + name.count + value
            if take(UInt8(ascii: "}")) { return total }
            guard take(UInt8(ascii: ",")) else { return nil }
        }
    }

    mutating func typed(depth: Int) -> Int? {
        guard take(UInt8(ascii: "{")), let type = string(), take(UInt8(ascii: ":")) else { return nil }
        var code: UInt32 = 0
        guard type.count <= 4 else { return nil }
        for i in type { code = code << 8 | UInt32(base[i]) }
        let size: Int?
        switch code {
        case 0x53: size = string()?.count                                           // S
        case 0x4E: size = number()                                                  // N
        case 0x42: size = binary()                                                  // B
        case 0x424F_4F4C: size = literal("true") || literal("false") ? 1 : nil      // BOOL
        case 0x4E55_4C4C: size = literal("true") ? 1 : nil                          // NULL
        case 0x4D: size = map(depth: depth, perEntry: 1).map { $0 + 3 }             // M
        case 0x4C: size = list { w in w.typed(depth: depth + 1).map { $0 + 1 } }.map { $0 + 3 }   // L
        case 0x5353: size = list { w in w.string()?.count }                         // SS
        case 0x4E53: size = list { w in w.number() }                                // NS
        case 0x4253: size = list { w in w.binary() }                                // BS
        default: size = nil
        }
        guard let size, take(UInt8(ascii: "}")) else { return nil }
        return size
    }

    mutating func list(_ element: (inout CompactSizeWalk) -> Int?) -> Int? {
        guard take(UInt8(ascii: "[")) else { return nil }
        if take(UInt8(ascii: "]")) { return 0 }
        var total = 0
        while true {
            guard let size = element(&self) else { return nil }
            total += size
            if take(UInt8(ascii: "]")) { return total }
            guard take(UInt8(ascii: ",")) else { return nil }
        }
    }

    mutating func literal(_ word: StaticString) -> Bool { PlainJSONBytes.literal(word, base, &pos, end: end) }

    mutating func number() -> Int? {
        guard let text = string() else { return nil }
        return (try? DynamoNumber(bytes: UnsafeRawBufferPointer(start: base + text.lowerBound, count: text.count)))?.storageSize
    }

    /// Base64's decoded length from its padded text.
    mutating func binary() -> Int? {
        guard let text = string(), text.count % 4 == 0 else { return nil }
        var padding = 0
        if text.count >= 1 && base[text.upperBound - 1] == UInt8(ascii: "=") { padding += 1 }
        if text.count >= 2 && base[text.upperBound - 2] == UInt8(ascii: "=") { padding += 1 }
        return text.count / 4 * 3 - padding
    }
}
