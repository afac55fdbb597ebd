// Reads items from JSON text in both spellings (docs/item-json.md):
//   typed: {"Item":{"id":{"S":"1"},"n":{"N":"3"}}}, or the bare map {"id":{"S":"1"}}
//   plain: {"id":"1","n":3}, mapped as boto3's TypeSerializer maps Python values.
// One pass over the bytes, no intermediate JSON tree.

/// Which spelling a line is in. `auto` decides per line: `{"Item":...}` is typed; a bare
/// map is typed when its first attribute's value is an object whose first key is a type
/// descriptor (`{"a":{"S":...}`), else plain.
public enum ItemSpelling: String, Sendable, CaseIterable {
    case auto, typed, plain
}

/// One line of the stream: an item, or a control record (a one-member object whose key
/// is one of `StreamControl.names`, such as barriers and backup headers), which stages
/// pass on unchanged.
public enum StreamRecord: Sendable {
    case item(Item)
    case control(name: String, body: JSONValue)
}

/// The control lines of the stream (docs/stream-format.md), recognised by their exact
/// names only: an item whose first attribute merely starts with `ferry:` is an item.
public enum StreamControl {
    public static let names: Set<String> = [
        "ferry:barrier", "ferry:delete", "ferry:backup", "ferry:end", "ferry:reject", "ferry:checkpoint",
    ]
}

/// Decodes items and stream records. Keeps scratch between records (recent attribute
/// names), so reuse one decoder for a stream. Not thread-safe: one per thread.
public final class ItemDecoder {
    public let spelling: ItemSpelling
    private let scratch = DecoderScratch()

    public init(spelling: ItemSpelling = .auto) { self.spelling = spelling }

    /// Decodes one record. Throws `JSONError` for malformed JSON and `ItemError` for JSON
    /// that is not a valid item.
    public func decodeRecord(_ bytes: UnsafeRawBufferPointer) throws -> StreamRecord {
        var scanner = JSONScanner(bytes, names: scratch)
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else {
            if scanner.atEnd { throw scanner.unexpected("a JSON object") }
            // Valid JSON that is not an object is an item error; anything else a JSON error.
            var check = JSONScanner(bytes)
            _ = try check.parseValue(depth: 0, maxDepth: JSONValue.maxDepth)
            try check.expectEnd()
            throw ItemError(.notAnObject)
        }
        scanner.pos += 1
        if scanner.consume(UInt8(ascii: "}")) {
            try scanner.expectEnd()
            return .item(Item())
        }
        scanner.skipWhitespace()
        let firstKey = try scanner.readString()
        if firstKey.hasPrefix("ferry:") && StreamControl.names.contains(firstKey) {
            let body = try JSONValue.parse(bytes)
            guard case let .object(members) = body, members.count == 1 else {
                throw ItemError(.controlWithOtherMembers(firstKey, other: body.objectValue?.dropFirst().first?.key ?? ""))
            }
            return .control(name: firstKey, body: body)
        }
        if firstKey == "Item" && spelling != .plain {
            try scanner.expect(UInt8(ascii: ":"), "':' after object key")
            scanner.skipWhitespace()
            guard scanner.peek() == UInt8(ascii: "{") else {
                throw ItemError(.wrongJSONType(typeName: "Item", expected: "a JSON object"))
            }
            scanner.pos += 1
            let item = try scanner.mapBody(typed: true, depth: 1)
            if scanner.consume(UInt8(ascii: ",")) {
                scanner.skipWhitespace()
                throw ItemError(.unexpectedKeyBesideItem(try scanner.readString()))
            }
            try scanner.expect(UInt8(ascii: "}"), "'}' after the item")
            try scanner.expectEnd()
            return .item(item)
        }
        var typed = spelling == .typed
        if spelling == .auto {
            try scanner.expect(UInt8(ascii: ":"), "':' after object key")
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "{") {
                scanner.pos += 1
                scanner.skipWhitespace()
                if scanner.peek() == UInt8(ascii: "\"") {
                    typed = try scanner.withString { TypeTag($0) != nil }
                }
            }
        }
        var body = JSONScanner(bytes, names: scratch)
        try body.expect(UInt8(ascii: "{"), "'{'")
        let item = try body.mapBody(typed: typed, depth: 1)
        try body.expectEnd()
        return .item(item)
    }

    public func decodeRecord(_ bytes: [UInt8]) throws -> StreamRecord {
        try bytes.withUnsafeBytes { try decodeRecord($0) }
    }

    /// Decodes an item; a control line is an error here.
    public func decodeItem(_ bytes: UnsafeRawBufferPointer) throws -> Item {
        switch try decodeRecord(bytes) {
        case let .item(item): return item
        case .control: throw ItemError(.notAnObject)
        }
    }

    public func decodeItem(_ text: String) throws -> Item {
        try Array(text.utf8).withUnsafeBytes { try decodeItem($0) }
    }

    /// Decodes one typed attribute value such as `{"S":"x"}` (as in ExpressionAttributeValues).
    public static func decodeTypedValue(_ bytes: UnsafeRawBufferPointer) throws -> AttributeValue {
        var scanner = JSONScanner(bytes)
        let value = try scanner.typedValue(depth: 1)
        try scanner.expectEnd()
        return value
    }
}

/// DynamoDB's type descriptors, as they appear in typed JSON.
enum TypeTag {
    case s, n, b, bool, null, m, l, ss, ns, bs

    init?(_ bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 1:
            switch bytes[0] {
            case UInt8(ascii: "S"): self = .s
            case UInt8(ascii: "N"): self = .n
            case UInt8(ascii: "B"): self = .b
            case UInt8(ascii: "M"): self = .m
            case UInt8(ascii: "L"): self = .l
            default: return nil
            }
        case 2:
            guard bytes[1] == UInt8(ascii: "S") else { return nil }
            switch bytes[0] {
            case UInt8(ascii: "S"): self = .ss
            case UInt8(ascii: "N"): self = .ns
            case UInt8(ascii: "B"): self = .bs
            default: return nil
            }
        case 4:
            if bytes.elementsEqual("BOOL".utf8) { self = .bool } else if bytes.elementsEqual("NULL".utf8) { self = .null } else { return nil }
        default:
            return nil
        }
    }
}

extension JSONScanner {
    /// Members of an object whose `{` was consumed, through its `}`. Values are at
    /// `depth` (top-level attributes are at depth 1).
    mutating func mapBody(typed: Bool, depth: Int) throws -> AttributeMap {
        var entries: [(name: String, value: AttributeValue)] = []
        if consume(UInt8(ascii: "}")) { return AttributeMap(uniqueEntries: entries) }
        entries.reserveCapacity(depth == 1 ? 16 : 4)
        // Duplicate names are found by a cheap hash of the key bytes first; strings are
        // compared only when hashes match. Hashes of enclosing maps sit below `base`.
        let base = hashTop
        defer { hashTop = base }
        var seen: UInt64 = 0   // one bit per name hash: most names need no comparison at all
        repeat {
            skipWhitespace()
            var hash: UInt64 = 0
            let names = self.names
            let name = try withString { bytes -> String in
                hash = Self.keyHash(bytes)
                return names?.name(bytes, hash: hash) ?? String(decoding: bytes, as: UTF8.self)
            }
            try expect(UInt8(ascii: ":"), "':' after object key")
            let value: AttributeValue
            do {
                value = typed ? try typedValue(depth: depth) : try plainValue(depth: depth)
            } catch let e as ItemError {
                throw e.inside(.name(name))
            }
            try pushNameHash(hash, from: base, seen: &seen, name: name, entries: entries)
            entries.append((name, value))
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"), "',' or '}' after object member")
        return AttributeMap(uniqueEntries: entries)
    }

    /// Checks `name` against the names of this map so far (hashes from `base` up), then
    /// records its hash.
    @inline(__always)
    mutating func pushNameHash(_ hash: UInt64, from base: Int, seen: inout UInt64,
                               name: String, entries: [(name: String, value: AttributeValue)]) throws {
        if let names {
            let bit: UInt64 = 1 << (hash >> 58)
            if seen & bit != 0 {
                var i = base
                while i < hashTop {
                    if names.hashes[i] == hash && utf8Equal(entries[i - base].name, name) { throw ItemError(.duplicateName(name)) }
                    i += 1
                }
            }
            seen |= bit
            names.reserveHashes(hashTop + 1)
            names.hashes[hashTop] = hash
            hashTop += 1
        } else {
            for entry in entries where utf8Equal(entry.name, name) { throw ItemError(.duplicateName(name)) }
        }
    }

    /// Length and the first and last eight bytes, mixed: distinct for almost all names.
    @inline(__always) static func keyHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var head: UInt64 = 0, tail: UInt64 = 0
        if n >= 8 {
            head = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            tail = bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else {
            for i in 0..<n { head = head << 8 | UInt64(bytes[i]) }
        }
        return (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(n)
    }

    /// A value in plain JSON: string S, number N, true/false BOOL, null NULL, object M,
    /// array L.
    mutating func plainValue(depth: Int) throws -> AttributeValue {
        if depth > ItemRules.maxNestingDepth { throw ItemError(.nestingTooDeep) }
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""):
            return .s(try readString())
        case UInt8(ascii: "{"):
            pos += 1
            return .m(try mapBody(typed: false, depth: depth + 1))
        case UInt8(ascii: "["):
            pos += 1
            var list: [AttributeValue] = []
            if consume(UInt8(ascii: "]")) { return .l(list) }
            repeat {
                do { list.append(try plainValue(depth: depth + 1)) } catch let e as ItemError { throw e.inside(.index(list.count)) }
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']' after array element")
            return .l(list)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .n(try Self.number(readNumberSpan()))
        default:
            guard let flag = try readLiteral() else { return .null }
            return .bool(flag)
        }
    }

    @inline(__always) static func number(_ text: UnsafeRawBufferPointer) throws -> DynamoNumber {
        do { return try DynamoNumber(bytes: text) } catch let e as NumberError { throw ItemError(.number(e)) }
    }

    /// A value in typed JSON: an object with exactly one type descriptor.
    mutating func typedValue(depth: Int) throws -> AttributeValue {
        if depth > ItemRules.maxNestingDepth { throw ItemError(.nestingTooDeep) }
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            throw ItemError(.wrongJSONType(typeName: "attribute", expected: "a typed value such as {\"S\":\"text\"}"))
        }
        pos += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { throw ItemError(.emptyAttributeValue) }
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("a type descriptor") }
        let tag = try withString { bytes -> TypeTag in
            guard let tag = TypeTag(bytes) else { throw ItemError(.unknownType(String(decoding: bytes, as: UTF8.self))) }
            return tag
        }
        try expect(UInt8(ascii: ":"), "':' after object key")
        skipWhitespace()
        let value: AttributeValue
        switch tag {
        case .s:
            try require(UInt8(ascii: "\""), "S", "a JSON string")
            value = .s(try readString())
        case .n:
            try require(UInt8(ascii: "\""), "N", "a number in a JSON string")
            value = .n(try withString { try Self.number($0) })
        case .b:
            try require(UInt8(ascii: "\""), "B", "a base64 JSON string")
            value = .b(try withString { try Self.binary($0) })
        case .bool:
            guard peek() == UInt8(ascii: "t") || peek() == UInt8(ascii: "f"), let flag = try readLiteral() else {
                throw ItemError(.wrongJSONType(typeName: "BOOL", expected: "true or false"))
            }
            value = .bool(flag)
        case .null:
            guard peek() == UInt8(ascii: "t") || peek() == UInt8(ascii: "f"), let flag = try readLiteral() else {
                throw ItemError(.wrongJSONType(typeName: "NULL", expected: "true"))
            }
            if !flag { throw ItemError(.nullMustBeTrue) }
            value = .null
        case .m:
            try require(UInt8(ascii: "{"), "M", "a JSON object")
            pos += 1
            value = .m(try mapBody(typed: true, depth: depth + 1))
        case .l:
            try require(UInt8(ascii: "["), "L", "a JSON array")
            pos += 1
            var list: [AttributeValue] = []
            if !consume(UInt8(ascii: "]")) {
                repeat {
                    do { list.append(try typedValue(depth: depth + 1)) } catch let e as ItemError { throw e.inside(.index(list.count)) }
                } while consume(UInt8(ascii: ","))
                try expect(UInt8(ascii: "]"), "',' or ']' after array element")
            }
            value = .l(list)
        case .ss:
            let set = try stringArray("SS", "an array of JSON strings") { String(decoding: $0, as: UTF8.self) }
            try ItemRules.checkSet(set.map(UTF8Key.init), typeName: "string") { String(decoding: $0.bytes, as: UTF8.self) }
            value = .ss(set)
        case .ns:
            let set = try stringArray("NS", "an array of numbers in JSON strings") { try Self.number($0) }
            try ItemRules.checkSet(set, typeName: "number") { $0.description }
            value = .ns(set)
        case .bs:
            let set = try stringArray("BS", "an array of base64 JSON strings") { try Self.binary($0) }
            try ItemRules.checkSet(set, typeName: "binary") { Base64.encode($0) }
            value = .bs(set)
        }
        if consume(UInt8(ascii: ",")) { throw ItemError(.multipleDataTypes) }
        try expect(UInt8(ascii: "}"), "'}' after the typed value")
        return value
    }

    @inline(__always) func require(_ c: UInt8, _ typeName: String, _ expected: String) throws {
        if peek() != c { throw ItemError(.wrongJSONType(typeName: typeName, expected: expected)) }
    }

    static func binary(_ text: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let bytes = Base64.decode(text) else { throw ItemError(.invalidBase64) }
        return bytes
    }

    mutating func stringArray<T>(_ typeName: String, _ expected: String,
                                 _ convert: (UnsafeRawBufferPointer) throws -> T) throws -> [T] {
        try require(UInt8(ascii: "["), typeName, expected)
        pos += 1
        var out: [T] = []
        if consume(UInt8(ascii: "]")) { return out }
        repeat {
            skipWhitespace()
            do {
                try require(UInt8(ascii: "\""), typeName, expected)
                out.append(try withString(convert))
            } catch let e as ItemError {
                throw e.inside(.index(out.count))
            }
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"), "',' or ']' after array element")
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension ItemDecoder {
    /// This thread's typed-spelling decoder, made once per thread and kept: a server
    /// decodes a few small items per request on each connection's thread, and a fresh
    /// decoder's name cache costs more to build and free than the items do. Not for a
    /// decode nested inside another on the same thread (there is none).
    public static var forThisThread: ItemDecoder {
        if let p = pthread_getspecific(ThreadDecoderKey.key) {
            return Unmanaged<ItemDecoder>.fromOpaque(p).takeUnretainedValue()
        }
        let decoder = ItemDecoder(spelling: .typed)
        pthread_setspecific(ThreadDecoderKey.key, Unmanaged.passRetained(decoder).toOpaque())
        return decoder
    }
}

private enum ThreadDecoderKey {
    /// Released with the thread.
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { p in
            if let p { Unmanaged<ItemDecoder>.fromOpaque(p).release() }
        }
        return key
    }()
}
