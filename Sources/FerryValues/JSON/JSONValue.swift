import FerryIO

/// A JSON document as a tree. Numbers keep their exact text; object members keep their
/// order. Used for control lines, table descriptions and CLI parameters; items have
/// their own faster decoders (ItemDecoder).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
    /// JSON text already written (an item the item encoder made for a response): copied
    /// as it is by `write`, parsed only when something looks inside (the accessors
    /// below, `expanded`), so a server's responses do not build a tree per item.
    case encoded([UInt8])

    /// The tree of an `.encoded` value (itself otherwise). Encoded text is the item
    /// encoder's, so it parses; `.null` if it somehow does not.
    public var expanded: JSONValue {
        guard case let .encoded(bytes) = self else { return self }
        return (try? JSONValue.parse(bytes)) ?? .null
    }

    /// `expanded` all the way down (for code that pattern-matches trees).
    public var expandedDeep: JSONValue {
        switch expanded {
        case let .array(items): return .array(items.map(\.expandedDeep))
        case let .object(members): return .object(members.map { JSONMember($0.key, $0.value.expandedDeep) })
        case let other: return other
        }
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        case let (.encoded(x), .encoded(y)): return x == y
        case (.encoded, _), (_, .encoded): return a.expanded == b.expanded
        default: return false
        }
    }

    /// Nesting limit of the generic parser: deep enough for any real document, shallow
    /// enough that hostile input cannot exhaust the stack.
    public static let maxDepth = 512

    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = expanded else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var stringValue: String? { if case let .string(s) = expanded { return s }; return nil }
    public var numberText: String? { if case let .number(n) = expanded { return n }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = expanded { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = expanded { return a }; return nil }
    public var objectValue: [JSONMember]? { if case let .object(o) = expanded { return o }; return nil }

    /// Parses one JSON text (any value at the top, whitespace around it).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONValue.maxDepth) throws -> JSONValue {
        var scanner = JSONScanner(bytes)
        let value = try scanner.parseValue(depth: 0, maxDepth: maxDepth)
        try scanner.expectEnd()
        return value
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0) }
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Compact JSON text.
    public func write(into out: ByteBuffer) {
        switch self {
        case .null: out.append("null")
        case let .bool(b): out.append(b ? "true" : "false")
        case let .number(n): out.append(n)
        case let .string(s): JSONWriter.writeString(s, into: out)
        case let .encoded(bytes): bytes.withUnsafeBytes { out.append($0) }
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(member.key, into: out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Indented text as the aws CLI prints responses (Python's `json.dumps(indent=4)`):
    /// one member or element per line, `": "` after keys, empty containers as `{}` / `[]`.
    public func prettyText(indent: Int = 4) -> String {
        let out = ByteBuffer()
        writePretty(into: out, indent: indent, level: 0)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    private func writePretty(into out: ByteBuffer, indent: Int, level: Int) {
        func newline(_ level: Int) {
            out.append(UInt8(ascii: "\n"))
            for _ in 0..<(indent * level) { out.append(UInt8(ascii: " ")) }
        }
        switch expanded {
        case let .array(items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                item.writePretty(into: out, indent: indent, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case let .object(members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSONWriter.writeString(member.key, into: out)
                out.append(": ")
                member.value.writePretty(into: out, indent: indent, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        default:
            write(into: out)
        }
    }

    public var jsonText: String {
        let out = ByteBuffer()
        write(into: out)
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONScanner {
    mutating func parseValue(depth: Int, maxDepth: Int) throws -> JSONValue {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            pos += 1
            var members: [JSONMember] = []
            if consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                skipWhitespace()
                let key = try readString()
                try expect(UInt8(ascii: ":"), "':' after object key")
                members.append(JSONMember(key, try parseValue(depth: depth + 1, maxDepth: maxDepth)))
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "',' or '}' after object member")
            return .object(members)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            pos += 1
            var items: [JSONValue] = []
            if consume(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                items.append(try parseValue(depth: depth + 1, maxDepth: maxDepth))
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']' after array element")
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(String(decoding: try readNumberSpan(), as: UTF8.self))
        default:
            guard let literal = try readLiteral() else { return .null }
            return .bool(literal)
        }
    }
}
