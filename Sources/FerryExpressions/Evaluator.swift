import FerryValues
import Foundation

/// Evaluation of operands and conditions against one item (docs/expressions.md).
/// Comparisons of different types are false, not errors; a missing attribute makes a
/// comparison false, except `<>`, which is then true.
struct Evaluator {
    let kind: ExpressionKind

    // MARK: Paths

    static func resolve(_ path: DocumentPath, in item: Item) -> AttributeValue? {
        // Most paths are one top-level name.
        if path.elements.count == 1, case let .name(name) = path.elements[0] { return item[name] }
        var current: AttributeValue? = nil
        for (i, element) in path.elements.enumerated() {
            switch element {
            case let .name(name):
                if i == 0 {
                    current = item[name]
                } else if case let .m(map)? = current {
                    current = map[name]
                } else {
                    return nil
                }
            case let .index(index):
                guard case let .l(list)? = current, index < list.count else { return nil }
                current = list[index]
            }
            if current == nil { return nil }
        }
        return current
    }

    // MARK: Operands

    func value(_ operand: Operand, _ item: Item) throws -> AttributeValue? {
        switch operand {
        case let .value(v):
            return v
        case let .path(p):
            return Self.resolve(p, in: item)
        case let .size(inner):
            guard let v = try value(inner, item) else { return nil }
            let n: Int
            switch v {
            case let .s(s): n = s.utf8.count
            case let .b(b): n = b.count
            case let .ss(set): n = set.count
            case let .ns(set): n = set.count
            case let .bs(set): n = set.count
            case let .l(list): n = list.count
            case let .m(map): n = map.count
            default: throw ExpressionError.operandType(kind, "size", v.typeName)
            }
            return .n(DynamoNumber(n))
        case let .ifNotExists(p, fallback):
            return try Self.resolve(p, in: item) ?? value(fallback, item)
        case let .listAppend(a, b):
            guard let x = try value(a, item), let y = try value(b, item) else {
                throw ExpressionError("The provided expression refers to an attribute that does not exist in the item")
            }
            guard case let .l(first) = x else { throw ExpressionError.operandType(kind, "list_append", x.typeName) }
            guard case let .l(second) = y else { throw ExpressionError.operandType(kind, "list_append", y.typeName) }
            return .l(first + second)
        case let .plus(a, b), let .minus(a, b):
            guard let x = try value(a, item), let y = try value(b, item) else {
                throw ExpressionError("The provided expression refers to an attribute that does not exist in the item")
            }
            guard case let .n(l) = x, case let .n(r) = y else {
                throw ExpressionError("An operand in the update expression has an incorrect data type")
            }
            do {
                if case .plus = operand { return .n(try l.adding(r)) }
                return .n(try l.subtracting(r))
            } catch let error as NumberError {
                throw ExpressionError(error.description)
            }
        case let .etl(function, args):
            return try ETLFunctions.call(function, try args.map { try value($0, item) }, kind: kind)
        }
    }

    // MARK: Conditions

    func evaluate(_ condition: Condition, _ item: Item) throws -> Bool {
        switch condition {
        case let .and(a, b): return try evaluate(a, item) && evaluate(b, item)
        case let .or(a, b): return try evaluate(a, item) || evaluate(b, item)
        case let .not(a): return try !evaluate(a, item)
        case let .exists(p): return Self.resolve(p, in: item) != nil
        case let .notExists(p): return Self.resolve(p, in: item) == nil
        case let .type(p, t):
            guard let v = Self.resolve(p, in: item), case let .s(name)? = try value(t, item) else { return false }
            return v.typeName == name
        case let .compare(a, comparator, b):
            let x = try value(a, item), y = try value(b, item)
            guard let x, let y else { return comparator == .notEqual }
            return Self.compare(x, comparator, y)
        case let .between(a, low, high):
            guard let x = try value(a, item), let l = try value(low, item), let h = try value(high, item),
                  let lower = Self.order(x, l), let upper = Self.order(x, h) else { return false }
            return lower >= 0 && upper <= 0
        case let .isIn(a, options):
            guard let x = try value(a, item) else { return false }
            for option in options where try value(option, item) == x { return true }
            return false
        case let .beginsWith(a, b):
            guard let x = try value(a, item), let y = try value(b, item) else { return false }
            switch (x, y) {
            case let (.s(s), .s(p)): return Array(s.utf8).starts(with: Array(p.utf8))
            case let (.b(s), .b(p)): return s.starts(with: p)
            default: return false
            }
        case let .contains(a, b):
            guard let x = try value(a, item), let y = try value(b, item) else { return false }
            switch (x, y) {
            case let (.s(s), .s(part)): return part.isEmpty || Self.containsBytes(Array(s.utf8), Array(part.utf8))
            // Binary is searched for a subsequence too: DynamoDB does so, though its guide
            // names only strings, sets and lists (legacy CONTAINS documents it).
            case let (.b(s), .b(part)): return part.isEmpty || Self.containsBytes(s, part)
            case let (.ss(set), .s(member)): return set.contains { AttributeValue.s($0) == .s(member) }
            case let (.ns(set), .n(member)): return set.contains(member)
            case let (.bs(set), .b(member)): return set.contains(member)
            case let (.l(list), _): return list.contains(y)
            default: return false
            }
        }
    }

    static func compare(_ x: AttributeValue, _ comparator: Comparator, _ y: AttributeValue) -> Bool {
        switch comparator {
        case .equal: return x == y
        case .notEqual: return x != y
        case .less: return order(x, y).map { $0 < 0 } ?? false
        case .lessOrEqual: return order(x, y).map { $0 <= 0 } ?? false
        case .greater: return order(x, y).map { $0 > 0 } ?? false
        case .greaterOrEqual: return order(x, y).map { $0 >= 0 } ?? false
        }
    }

    /// Order of two scalar values of the same type (N numerically, S and B by bytes);
    /// nil when they cannot be ordered.
    static func order(_ a: AttributeValue, _ b: AttributeValue) -> Int? {
        switch (a, b) {
        case let (.n(x), .n(y)): return x == y ? 0 : (x < y ? -1 : 1)
        case let (.s(x), .s(y)): return compareUTF8(x, y)
        case let (.b(x), .b(y)): return compareBytes(x, y)
        default: return nil
        }
    }

    /// Byte order of two strings' UTF-8, without copying them.
    static func compareUTF8(_ x: String, _ y: String) -> Int {
        var x = x, y = y
        return x.withUTF8 { a in
            y.withUTF8 { b in
                let n = min(a.count, b.count)
                if n > 0 {
                    let c = memcmp(a.baseAddress!, b.baseAddress!, n)
                    if c != 0 { return c < 0 ? -1 : 1 }
                }
                return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
            }
        }
    }

    static func compareBytes(_ x: [UInt8], _ y: [UInt8]) -> Int {
        x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
    }

    static func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}

/// A compiled ConditionExpression or FilterExpression: parse once, evaluate per item.
public struct ConditionExpression: Sendable {
    let root: Condition
    let compiled: ConditionNode
    let kind: ExpressionKind
    /// Placeholders the expression used (to report unused ones across a request).
    public let usedNames: Set<String>
    public let usedValues: Set<String>
    /// The top-level attributes the expression reads.
    public let attributeNames: Set<String>

    public init(_ text: String, context: ExpressionContext, kind: ExpressionKind = .condition) throws {
        var parser = try Parser(text, kind: kind, context: context)
        if parser.current.kind == .end { throw ExpressionError.invalid(kind, "The expression can not be empty;") }
        root = try parser.condition()
        try parser.expectEnd()
        compiled = ConditionNode.compile(root)
        self.kind = kind
        usedNames = parser.usedNames
        usedValues = parser.usedValues
        attributeNames = parser.topLevelNames
    }

    /// True when `item` satisfies the condition. Throws only for run-time faults (such
    /// as `size` of a number, or an ETL function on a bad value).
    public func evaluate(_ item: Item) throws -> Bool {
        try compiled.holds(item, Evaluator(kind: kind))
    }
}

/// Ferry's ETL-mode functions (docs/expressions.md).
enum ETLFunctions {
    static func call(_ function: ETLFunction, _ args: [AttributeValue?], kind: ExpressionKind) throws -> AttributeValue? {
        func fail(_ why: String) -> ExpressionError { ExpressionError("\(function.rawValue): \(why)") }
        func string(_ i: Int) throws -> String? {
            guard i < args.count else { throw fail("needs \(i + 1) argument(s)") }
            guard let v = args[i] else { return nil }
            guard case let .s(s) = v else { throw fail("argument \(i + 1) must be a string, not \(v.typeName)") }
            return s
        }
        switch function {
        case .lower: return try string(0).map { .s($0.lowercased()) }
        case .upper: return try string(0).map { .s($0.uppercased()) }
        case .trim: return try string(0).map { .s($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        case .concat:
            var out = ""
            for (i, v) in args.enumerated() {
                guard let v else { return nil }
                switch v {
                case let .s(s): out += s
                case let .n(n): out += n.description
                default: throw fail("argument \(i + 1) must be a string or number, not \(v.typeName)")
                }
            }
            return .s(out)
        case .substr:
            guard let s = try string(0) else { return nil }
            guard args.count >= 2, case let .n(startNumber)? = args[1], let start = Int(startNumber.description), start >= 0 else {
                throw fail("argument 2 must be a whole number of characters from 0")
            }
            var length = Int.max
            if args.count >= 3 {
                guard case let .n(lengthNumber)? = args[2], let l = Int(lengthNumber.description), l >= 0 else {
                    throw fail("argument 3 must be a whole number of characters from 0")
                }
                length = l
            }
            let characters = Array(s)
            guard start < characters.count else { return .s("") }
            return .s(String(characters[start..<min(characters.count, start + min(length, characters.count))]))
        case .to_number:
            guard args.count == 1 else { throw fail("needs 1 argument") }
            guard let v = args[0] else { return nil }
            switch v {
            case .n: return v
            case let .s(s):
                do { return .n(try DynamoNumber(s.trimmingCharacters(in: .whitespaces))) } catch { throw fail("\"\(s)\" is not a number") }
            case let .bool(b): return .n(DynamoNumber(b ? 1 : 0))
            default: throw fail("cannot convert \(v.typeName) to a number")
            }
        case .to_string:
            guard args.count == 1 else { throw fail("needs 1 argument") }
            guard let v = args[0] else { return nil }
            switch v {
            case .s: return v
            case let .n(n): return .s(n.description)
            case let .bool(b): return .s(b ? "true" : "false")
            case .null: return .s("null")
            default: throw fail("cannot convert \(v.typeName) to a string")
            }
        case .coalesce:
            for v in args { if let v, v != .null { return v } }
            return args.isEmpty ? nil : .null
        case .now:
            guard args.isEmpty else { throw fail("takes no arguments") }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            formatter.timeZone = TimeZone(identifier: "UTC")
            return .s(formatter.string(from: Date()))
        case .uuid:
            guard args.isEmpty else { throw fail("takes no arguments") }
            return .s(UUID().uuidString.lowercased())
        }
    }
}
