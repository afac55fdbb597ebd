/// One DynamoDB attribute value: the ten types of DynamoDB's data model.
///
/// Equality follows DynamoDB: strings and names compare by UTF-8 bytes (not Unicode
/// equivalence), numbers numerically, sets and maps ignore order.
/// Not `indirect`: lists and maps already live in arrays, and boxing every scalar cost
/// an allocation per value on the parse path.
public enum AttributeValue: Sendable {
    case s(String)
    case n(DynamoNumber)
    case b([UInt8])
    case bool(Bool)
    case null
    case m(AttributeMap)
    case l([AttributeValue])
    case ss([String])
    case ns([DynamoNumber])
    case bs([[UInt8]])

    /// The type's descriptor as DynamoDB spells it: "S", "N", "B", "BOOL", "NULL", "M",
    /// "L", "SS", "NS", "BS".
    public var typeName: String {
        switch self {
        case .s: return "S"
        case .n: return "N"
        case .b: return "B"
        case .bool: return "BOOL"
        case .null: return "NULL"
        case .m: return "M"
        case .l: return "L"
        case .ss: return "SS"
        case .ns: return "NS"
        case .bs: return "BS"
        }
    }
}

extension AttributeValue: Equatable {
    public static func == (a: AttributeValue, b: AttributeValue) -> Bool {
        switch (a, b) {
        case let (.s(x), .s(y)): return utf8Equal(x, y)
        case let (.n(x), .n(y)): return x == y
        case let (.b(x), .b(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        case let (.m(x), .m(y)): return x == y
        case let (.l(x), .l(y)): return x == y
        case let (.ss(x), .ss(y)): return x.count == y.count && Set(x.map(UTF8Key.init)) == Set(y.map(UTF8Key.init))
        case let (.ns(x), .ns(y)): return x.count == y.count && Set(x) == Set(y)
        case let (.bs(x), .bs(y)): return x.count == y.count && Set(x) == Set(y)
        default: return false
        }
    }
}

/// A DynamoDB map, and an item: attribute names to values, in the order they were read
/// (so output mirrors input), with unique names.
///
/// Kept as an array of pairs, not a dictionary: items have a handful of attributes, and
/// building pairs measured twice as fast as hashing into a dictionary.
public struct AttributeMap: Sendable, Equatable {
    public private(set) var entries: [(name: String, value: AttributeValue)]

    public init() { entries = [] }

    /// Pairs whose names are known to be unique (the decoders check as they read; a CSV
    /// header is checked once): no search per name, so wide items build in linear time.
    public init(uniqueEntries: [(name: String, value: AttributeValue)]) { entries = uniqueEntries }

    /// Builds a map from pairs; a repeated name keeps the last value.
    public init(_ pairs: [(String, AttributeValue)]) {
        entries = []
        entries.reserveCapacity(pairs.count)
        for (name, value) in pairs { self[name] = value }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var names: [String] { entries.map(\.name) }

    public subscript(name: String) -> AttributeValue? {
        get {
            // Scan in place: iterating `entries` by value would copy (retain and release)
            // every pair passed over.
            for entry in entries where utf8Equal(entry.name, name) { return entry.value }
            return nil
        }
        set {
            var index = 0
            while index < entries.count && !utf8Equal(entries[index].name, name) { index += 1 }
            if index < entries.count {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((name, newValue))
            }
        }
    }

    /// Position of `name` in `entries`, for reading and writing it without a second search.
    public func index(of name: String) -> Int? {
        var i = 0
        for entry in entries {
            if utf8Equal(entry.name, name) { return i }
            i += 1
        }
        return nil
    }

    /// `index(of:)` that first tries position `hint` (items of one stream usually share
    /// their attribute order, so the position found last time is usually right).
    @inline(__always)
    public func index(of name: String, hint: Int) -> Int? {
        if hint < entries.count && utf8Equal(entries[hint].name, name) { return hint }
        return index(of: name)
    }

    /// The value at a position found with `index(of:)`.
    public func value(at index: Int) -> AttributeValue { entries[index].value }

    /// Replaces the value at a position found with `index(of:)`.
    public mutating func setValue(_ value: AttributeValue, at index: Int) {
        entries[index].value = value
    }

    public static func == (a: AttributeMap, b: AttributeMap) -> Bool {
        guard a.count == b.count else { return false }
        for (name, value) in a.entries {
            guard let other = b[name], other == value else { return false }
        }
        return true
    }
}

/// A DynamoDB item: a map of top-level attributes.
public typealias Item = AttributeMap
