import FerryValues

/// A compiled UpdateExpression: `SET`, `REMOVE`, `ADD`, `DELETE` clauses, each at most
/// once. Applying it evaluates every right-hand side against the item as it was, then
/// makes the changes, as DynamoDB does.
public struct UpdateExpression: Sendable {
    enum Action: Sendable {
        case set(DocumentPath, Operand)
        case remove(DocumentPath)
        case add(DocumentPath, Operand)
        case delete(DocumentPath, Operand)

        var path: DocumentPath {
            switch self {
            case let .set(p, _), let .remove(p), let .add(p, _), let .delete(p, _): return p
            }
        }
    }

    let actions: [Action]
    /// True when every path is a top-level name: such updates edit the item directly.
    let topLevelOnly: Bool
    /// For top-level updates: each action's attribute name and compiled value.
    let targets: [String]
    let targetSlots: [NameSlot]
    let compiled: [OperandNode?]
    public let usedNames: Set<String>
    public let usedValues: Set<String>

    /// False when every action is REMOVE or DELETE: applied to a missing item, such an
    /// update has nothing to change and DynamoDB creates no item.
    public var createsItem: Bool {
        actions.contains { action in
            switch action {
            case .set, .add: return true
            case .remove, .delete: return false
            }
        }
    }

    /// Top-level attribute names the expression changes (for key-attribute checks).
    public var changedAttributes: [String] {
        actions.compactMap { action -> String? in
            if case let .name(n)? = action.path.elements.first { return n }
            return nil
        }
    }

    public init(_ text: String, context: ExpressionContext) throws {
        var parser = try Parser(text, kind: .update, context: context)
        if parser.current.kind == .end { throw ExpressionError.invalid(.update, "The expression can not be empty;") }
        var actions: [Action] = []
        var seen: Set<String> = []
        while parser.current.kind != .end {
            guard parser.current.kind == .name else { throw parser.syntaxError() }
            let clause = parser.current.text.uppercased()
            guard ["SET", "REMOVE", "ADD", "DELETE"].contains(clause) else { throw parser.syntaxError() }
            if !seen.insert(clause).inserted {
                throw ExpressionError.invalid(.update, "The \"\(clause)\" section can only be used once in an update expression;")
            }
            parser.advance()
            repeat {
                if parser.current.isSymbol(",") { parser.advance() }
                let path = try parser.path()
                switch clause {
                case "SET":
                    try parser.expectSymbol("=")
                    actions.append(.set(path, try parser.setValue()))
                case "REMOVE":
                    actions.append(.remove(path))
                case "ADD":
                    let value = try parser.operand()
                    try Self.checkOperandType(value, allowed: ["N", "SS", "NS", "BS"], operator: "ADD")
                    actions.append(.add(path, value))
                default:
                    let value = try parser.operand()
                    try Self.checkOperandType(value, allowed: ["SS", "NS", "BS"], operator: "DELETE")
                    actions.append(.delete(path, value))
                }
            } while parser.current.isSymbol(",")
        }
        try Self.checkOverlaps(actions.map(\.path))
        self.actions = actions
        topLevelOnly = actions.allSatisfy { $0.path.elements.count == 1 }
        targets = actions.map { action -> String in
            if case let .name(n)? = action.path.elements.first { return n }
            return ""
        }
        targetSlots = targets.map(NameSlot.init)
        compiled = actions.map { action -> OperandNode? in
            switch action {
            case let .set(_, operand), let .add(_, operand), let .delete(_, operand): return OperandNode.compile(operand)
            case .remove: return nil
            }
        }
        usedNames = parser.usedNames
        usedValues = parser.usedValues
    }

    /// DynamoDB's names for types in operand-type messages.
    static func typeWord(_ value: AttributeValue) -> String {
        switch value {
        case .s: return "STRING"
        case .n: return "NUMBER"
        case .b: return "BINARY"
        case .bool: return "BOOLEAN"
        case .null: return "NULL"
        case .m: return "MAP"
        case .l: return "LIST"
        case .ss: return "STRING SET"
        case .ns: return "NUMBER SET"
        case .bs: return "BINARY SET"
        }
    }

    static func checkOperandType(_ operand: Operand, allowed: Set<String>, operator name: String) throws {
        guard case let .value(v) = operand else {
            if case .path = operand { return }
            throw ExpressionError.invalid(.update, "Syntax error; operator \(name) takes a value")
        }
        if !allowed.contains(v.typeName) {
            throw ExpressionError.invalid(.update, "Incorrect operand type for operator or function; operator: \(name), operand type: \(typeWord(v))")
        }
    }

    /// No path may be changed twice or be inside another changed path.
    static func checkOverlaps(_ paths: [DocumentPath]) throws {
        for i in paths.indices {
            for j in paths.indices where j > i {
                let a = paths[i].elements, b = paths[j].elements
                let shorter = min(a.count, b.count)
                guard Array(a[..<shorter]) == Array(b[..<shorter]) else { continue }
                let relation = a.count == b.count ? "conflict" : "overlap"
                throw ExpressionError.invalid(.update, "Two document paths \(relation) with each other; must remove or rewrite one of these paths; path one: \(paths[i].bracketed), path two: \(paths[j].bracketed)")
            }
        }
    }

    /// The item after the update. Throws DynamoDB's errors for invalid paths and operand
    /// types; the item passed in is not changed.
    public func apply(to item: Item) throws -> Item {
        var copy = item
        try apply(updating: &copy)
        return copy
    }

    /// Updates `item` in place: no copy of the item is made when the caller holds the
    /// only reference to it (an item just decoded, or read from storage). On an error the
    /// item is unchanged.
    public func apply(updating item: inout Item) throws {
        let evaluator = Evaluator(kind: .update)
        if topLevelOnly { return try applyTopLevel(to: &item, evaluator) }
        item = try applyNested(to: item, evaluator)
    }

    private func applyNested(to item: Item, _ evaluator: Evaluator) throws -> Item {
        // Right-hand sides first, all against the original item.
        var resolved: [(Action, AttributeValue?)] = []
        for action in actions {
            switch action {
            case let .set(_, operand), let .add(_, operand), let .delete(_, operand):
                guard let value = try evaluator.value(operand, item) else {
                    throw ExpressionError("The provided expression refers to an attribute that does not exist in the item")
                }
                resolved.append((action, value))
            case .remove:
                resolved.append((action, nil))
            }
        }
        var root = AttributeValue.m(item)
        // List elements are removed from the highest index down, so each index names the
        // element it named in the original list.
        let removals = resolved.filter { if case .remove = $0.0 { return true }; return false }
            .sorted { Self.descendingIndex($0.0.path, $1.0.path) }
        for (action, value) in resolved {
            switch action {
            case let .set(path, _): try Self.assign(value!, at: path.elements[...], in: &root)
            case let .add(path, _): try Self.add(value!, at: path, in: &root)
            case let .delete(path, _): try Self.delete(value!, at: path, in: &root)
            case .remove: break
            }
        }
        for (action, _) in removals { Self.remove(action.path.elements[...], from: &root) }
        guard case let .m(result) = root else { return item }
        return result
    }

    /// The common case: every path is a top-level attribute. Values are computed from the
    /// original item first, then written into one copy of it.
    private func applyTopLevel(to item: inout Item, _ evaluator: Evaluator) throws {
        // New values go to a stack buffer: no allocation per item.
        try withUnsafeTemporaryAllocation(of: AttributeValue?.self, capacity: actions.count) { values in
            var initialized = 0
            defer { values.baseAddress!.deinitialize(count: initialized) }
            for i in 0..<actions.count {
                var value: AttributeValue? = nil
                if let node = compiled[i] {
                    guard let v = try node.value(item, evaluator) else {
                        throw ExpressionError("The provided expression refers to an attribute that does not exist in the item")
                    }
                    value = v
                    // ADD and DELETE combine with the current value; they can fail on its
                    // type, so all of them run before the item is changed.
                    switch actions[i] {
                    case .add, .delete:
                        let name = targets[i]
                        var root = AttributeValue.m(Item())
                        if let current = item[name] { root = .m(Item([(name, current)])) }
                        let path = DocumentPath([.name(name)])
                        if case .add = actions[i] { try Self.add(v, at: path, in: &root) } else { try Self.delete(v, at: path, in: &root) }
                        if case let .m(m) = root { value = m[name] }
                    default:
                        break
                    }
                }
                (values.baseAddress! + initialized).initialize(to: value)
                initialized += 1
            }
            for i in 0..<actions.count {
                if let value = values[i], let index = targetSlots[i].index(in: item) {
                    item.setValue(value, at: index)
                } else {
                    item[targets[i]] = values[i]
                }
            }
        }
    }

    static func descendingIndex(_ a: DocumentPath, _ b: DocumentPath) -> Bool {
        if case let .index(x)? = a.elements.last, case let .index(y)? = b.elements.last { return x > y }
        return false
    }

    static var invalidPath: ExpressionError { ExpressionError("The document path provided in the update expression is invalid for update") }
    static var wrongType: ExpressionError { ExpressionError("An operand in the update expression has an incorrect data type") }

    /// Sets the value at `path` below `node`; parents must exist. An index past the end of
    /// a list appends.
    static func assign(_ value: AttributeValue, at path: ArraySlice<DocumentPath.Element>, in node: inout AttributeValue) throws {
        guard let first = path.first else { node = value; return }
        let rest = path.dropFirst()
        switch (first, node) {
        case let (.name(name), .m(map)):
            var map = map
            if rest.isEmpty {
                map[name] = value
            } else {
                guard var child = map[name] else { throw invalidPath }
                try assign(value, at: rest, in: &child)
                map[name] = child
            }
            node = .m(map)
        case let (.index(index), .l(list)):
            var list = list
            if rest.isEmpty {
                if index < list.count { list[index] = value } else { list.append(value) }
            } else {
                guard index < list.count else { throw invalidPath }
                try assign(value, at: rest, in: &list[index])
            }
            node = .l(list)
        default:
            throw invalidPath
        }
    }

    static func remove(_ path: ArraySlice<DocumentPath.Element>, from node: inout AttributeValue) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        switch (first, node) {
        case let (.name(name), .m(map)):
            var map = map
            if rest.isEmpty {
                map[name] = nil
            } else if var child = map[name] {
                remove(rest, from: &child)
                map[name] = child
            }
            node = .m(map)
        case let (.index(index), .l(list)) where index < list.count:
            var list = list
            if rest.isEmpty { list.remove(at: index) } else { remove(rest, from: &list[index]) }
            node = .l(list)
        default:
            return
        }
    }

    static func add(_ value: AttributeValue, at path: DocumentPath, in root: inout AttributeValue) throws {
        let current = Evaluator.resolve(path, in: { if case let .m(m) = root { return m }; return Item() }())
        let updated: AttributeValue
        switch (current, value) {
        case (nil, _): updated = value
        case let (.n(a)?, .n(b)):
            do { updated = .n(try a.adding(b)) } catch { throw ExpressionError("\(error)") }
        case let (.ss(a)?, .ss(b)): updated = .ss(a + b.filter { m in !a.contains { AttributeValue.s($0) == .s(m) } })
        case let (.ns(a)?, .ns(b)): updated = .ns(a + b.filter { !a.contains($0) })
        case let (.bs(a)?, .bs(b)): updated = .bs(a + b.filter { !a.contains($0) })
        default: throw wrongType
        }
        try assign(updated, at: path.elements[...], in: &root)
    }

    static func delete(_ value: AttributeValue, at path: DocumentPath, in root: inout AttributeValue) throws {
        guard case let .m(item) = root, let current = Evaluator.resolve(path, in: item) else { return }
        var updated: AttributeValue?
        switch (current, value) {
        case let (.ss(a), .ss(b)):
            let left = a.filter { m in !b.contains { AttributeValue.s($0) == .s(m) } }
            updated = left.isEmpty ? nil : .ss(left)
        case let (.ns(a), .ns(b)):
            let left = a.filter { !b.contains($0) }
            updated = left.isEmpty ? nil : .ns(left)
        case let (.bs(a), .bs(b)):
            let left = a.filter { !b.contains($0) }
            updated = left.isEmpty ? nil : .bs(left)
        default: throw wrongType
        }
        if let updated { try assign(updated, at: path.elements[...], in: &root) } else { remove(path.elements[...], from: &root) }
    }
}

extension Parser {
    /// The right side of `SET path = ...`: an operand, or two joined by `+` or `-`.
    mutating func setValue() throws -> Operand {
        let left = try operand(arithmetic: etl)
        if !etl && (current.isSymbol("+") || current.isSymbol("-")) {
            let plus = current.isSymbol("+")
            advance()
            let right = try operand()
            return plus ? .plus(left, right) : .minus(left, right)
        }
        return left
    }
}
