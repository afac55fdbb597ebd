import FerryValues

/// A compiled ProjectionExpression: the attributes (or nested parts) to return.
public struct ProjectionExpression: Sendable {
    public let paths: [DocumentPath]
    public let usedNames: Set<String>

    public init(_ text: String, context: ExpressionContext) throws {
        var parser = try Parser(text, kind: .projection, context: context)
        if parser.current.kind == .end { throw ExpressionError.invalid(.projection, "The expression can not be empty;") }
        var paths = [try parser.path()]
        while parser.current.isSymbol(",") {
            parser.advance()
            paths.append(try parser.path())
        }
        try parser.expectEnd()
        do { try UpdateExpression.checkOverlaps(paths) } catch let error as ExpressionError {
            throw ExpressionError(error.message.replacingOccurrences(of: "Invalid UpdateExpression", with: "Invalid ProjectionExpression"))
        }
        self.paths = paths
        usedNames = parser.usedNames
    }

    /// The item with only the projected parts, nested structure kept; list elements
    /// keep their order (DynamoDB returns them compacted in index order).
    public func apply(to item: Item) -> Item {
        var out = AttributeValue.m(Item())
        for path in paths {
            guard let value = Evaluator.resolve(path, in: item) else { continue }
            Self.place(value, at: path.elements[...], into: &out, source: .m(item))
        }
        guard case let .m(result) = out else { return Item() }
        return result
    }

    /// Copies `value` to `path` in `node`, creating maps and lists along the way.
    private static func place(_ value: AttributeValue, at path: ArraySlice<DocumentPath.Element>,
                              into node: inout AttributeValue, source: AttributeValue) {
        guard let first = path.first else { node = value; return }
        let rest = path.dropFirst()
        switch first {
        case let .name(name):
            guard case var .m(map) = node, case let .m(sourceMap) = source, let sourceChild = sourceMap[name] else { return }
            var child = map[name] ?? (rest.first.map { if case .index = $0 { return .l([]) } else { return .m(Item()) } } ?? value)
            place(value, at: rest, into: &child, source: sourceChild)
            map[name] = child
            node = .m(map)
        case let .index(index):
            guard case var .l(list) = node, case let .l(sourceList) = source, index < sourceList.count else { return }
            var child = rest.isEmpty ? value : (rest.first.map { if case .index = $0 { return .l([]) } else { return .m(Item()) } }!)
            place(value, at: rest, into: &child, source: sourceList[index])
            list.append(child)
            node = .l(list)
        }
    }
}

/// A compiled KeyConditionExpression: equality on the partition key, and optionally one
/// condition on the sort key.
public struct KeyConditionExpression: Sendable {
    public enum SortCondition: Sendable, Equatable {
        case equal(AttributeValue), less(AttributeValue), lessOrEqual(AttributeValue)
        case greater(AttributeValue), greaterOrEqual(AttributeValue)
        case between(AttributeValue, AttributeValue)
        case beginsWith(AttributeValue)
    }

    /// Each condition's key attribute and test, in the order written: which is the
    /// partition key is up to the table or index queried (`resolve`).
    public let conditions: [(name: String, test: SortCondition)]
    public let usedNames: Set<String>
    public let usedValues: Set<String>

    public init(_ text: String, context: ExpressionContext) throws {
        var parser = try Parser(text, kind: .keyCondition, context: context)
        if parser.current.kind == .end { throw ExpressionError.invalid(.keyCondition, "The expression can not be empty;") }
        var conditions: [(String, SortCondition)] = []
        try parser.keyConjunction(into: &conditions)
        try parser.expectEnd()
        var seen = Set<String>()
        for (name, _) in conditions where !seen.insert(name).inserted {
            throw ExpressionError("KeyConditionExpressions must only contain one condition per key")
        }
        // Without an equality there can be no partition key, whatever the schema.
        guard conditions.contains(where: { if case .equal = $0.1 { return true }; return false }) else {
            throw ExpressionError("Query key condition not supported")
        }
        self.conditions = conditions.map { (name: $0.0, test: $0.1) }
        usedNames = parser.usedNames
        usedValues = parser.usedValues
    }

    /// The partition key's value and the sort key's condition (if any) for a key schema
    /// of `partition` and `sort`, with DynamoDB's messages when the conditions do not
    /// fit it: in either order, as DynamoDB accepts them.
    public func resolve(partition: String, sort: String?) throws -> (value: AttributeValue, sort: SortCondition?) {
        let keyCount = sort == nil ? 1 : 2
        if conditions.count > keyCount {
            throw ExpressionError("The number of query conditions (\(conditions.count)) exceeds the number of key attributes defined in the schema (\(keyCount))")
        }
        guard let p = conditions.first(where: { $0.name == partition }) else {
            throw ExpressionError("Query condition missed key schema element: \(partition)")
        }
        guard case let .equal(value) = p.test else { throw ExpressionError("Query key condition not supported") }
        guard let other = conditions.first(where: { $0.name != partition }) else { return (value, nil) }
        guard let sort, other.name == sort else {
            throw ExpressionError("Query condition missed key schema element: \(sort ?? other.name)")
        }
        return (value, other.test)
    }

    /// True when a sort key value satisfies the sort condition (or there is none).
    public static func sortMatches(_ value: AttributeValue, _ sort: SortCondition?) -> Bool {
        guard let sort else { return true }
        switch sort {
        case let .equal(v): return value == v
        case let .less(v): return Evaluator.order(value, v).map { $0 < 0 } ?? false
        case let .lessOrEqual(v): return Evaluator.order(value, v).map { $0 <= 0 } ?? false
        case let .greater(v): return Evaluator.order(value, v).map { $0 > 0 } ?? false
        case let .greaterOrEqual(v): return Evaluator.order(value, v).map { $0 >= 0 } ?? false
        case let .between(low, high):
            return (Evaluator.order(value, low).map { $0 >= 0 } ?? false) && (Evaluator.order(value, high).map { $0 <= 0 } ?? false)
        case let .beginsWith(prefix):
            switch (value, prefix) {
            case let (.s(s), .s(p)): return Array(s.utf8).starts(with: Array(p.utf8))
            case let (.b(s), .b(p)): return s.starts(with: p)
            default: return false
            }
        }
    }
}

extension Parser {
    /// `name = :v`, `name < :v` ..., `name BETWEEN :a AND :b`, `begins_with(name, :v)`,
    /// optionally in parentheses.
    /// Conditions joined by AND, in parentheses or not, as boto3's `Key(...) & Key(...)`
    /// writes them (`(#n0 = :v0 AND #n1 < :v1)`): with AND alone, any grouping means the
    /// same. Nesting is bounded by `descend`.
    mutating func keyConjunction(into conditions: inout [(String, KeyConditionExpression.SortCondition)]) throws {
        while true {
            if current.isSymbol("(") {
                advance()
                try descend()
                try keyConjunction(into: &conditions)
                ascend()
                try expectSymbol(")")
            } else {
                conditions.append(try keyCondition())
            }
            if current.isKeyword("AND") { advance(); continue }
            if current.kind == .name, ["OR", "NOT"].contains(current.text.uppercased()) {
                throw ExpressionError("Invalid operator used in KeyConditionExpression: \(current.text.uppercased())")
            }
            return
        }
    }

    mutating func keyCondition() throws -> (String, KeyConditionExpression.SortCondition) {
        if current.isSymbol("(") {
            advance()
            try descend()
            defer { ascend() }
            let inner = try keyCondition()
            try expectSymbol(")")
            return inner
        }
        if current.kind == .name && current.text == "begins_with" && peek().isSymbol("(") {
            advance()
            try expectSymbol("(")
            let name = try keyName()
            try expectSymbol(",")
            let prefix = try keyValue()
            try expectSymbol(")")
            guard prefix.typeName == "S" || prefix.typeName == "B" else {
                throw ExpressionError.operandType(kind, "begins_with", prefix.typeName)
            }
            return (name, .beginsWith(prefix))
        }
        // `:v = key` and `:v < key`, as DynamoDB accepts them: the comparison turned round.
        if current.kind == .valuePlaceholder {
            let value = try keyValue()
            guard current.kind == .symbol, let comparator = Comparator(rawValue: current.text) else { throw syntaxError() }
            if comparator == .notEqual { throw ExpressionError("Unsupported operator in KeyConditionExpression: <>") }
            advance()
            let name = try keyName()
            switch comparator {
            case .equal: return (name, .equal(value))
            case .less: return (name, .greater(value))
            case .lessOrEqual: return (name, .greaterOrEqual(value))
            case .greater: return (name, .less(value))
            case .greaterOrEqual: return (name, .lessOrEqual(value))
            case .notEqual: throw syntaxError()
            }
        }
        let name = try keyName()
        if current.isKeyword("BETWEEN") {
            advance()
            let low = try keyValue()
            guard current.isKeyword("AND") else { throw syntaxError() }
            advance()
            let high = try keyValue()
            if let order = Evaluator.order(low, high), order > 0 {
                throw ExpressionError.invalid(kind, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
            }
            return (name, .between(low, high))
        }
        guard current.kind == .symbol, let comparator = Comparator(rawValue: current.text) else { throw syntaxError() }
        if comparator == .notEqual { throw ExpressionError("Unsupported operator in KeyConditionExpression: <>") }
        advance()
        let value = try keyValue()
        switch comparator {
        case .equal: return (name, .equal(value))
        case .less: return (name, .less(value))
        case .lessOrEqual: return (name, .lessOrEqual(value))
        case .greater: return (name, .greater(value))
        case .greaterOrEqual: return (name, .greaterOrEqual(value))
        case .notEqual: throw syntaxError()
        }
    }

    mutating func keyName() throws -> String {
        let path = try path()
        guard path.elements.count == 1, case let .name(name) = path.elements[0] else {
            throw ExpressionError.invalid(kind, "KeyConditionExpressions cannot have conditions on nested attributes")
        }
        return name
    }

    mutating func keyValue() throws -> AttributeValue {
        guard case let .value(v) = try operand() else { throw syntaxError() }
        return v
    }
}

/// The unused-placeholder check DynamoDB makes across all the expressions of a request.
public enum PlaceholderUse {
    public static func check(context: ExpressionContext, usedNames: Set<String>, usedValues: Set<String>) throws {
        let unusedNames = context.names.keys.filter { !usedNames.contains($0) }
        if !unusedNames.isEmpty { throw ExpressionError.unusedNames(Array(unusedNames)) }
        let unusedValues = context.values.keys.filter { !usedValues.contains($0) }
        if !unusedValues.isEmpty { throw ExpressionError.unusedValues(Array(unusedValues)) }
    }
}
