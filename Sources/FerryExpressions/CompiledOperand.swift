import FerryValues
import Synchronization

/// A top-level attribute name with the position it was last found at. The hint is a
/// relaxed atomic: compiled expressions are shared by worker threads, and a stale hint
/// only costs a search.
final class NameSlot: @unchecked Sendable {
    let name: String
    private let hint = Atomic<Int>(0)
    init(_ name: String) { self.name = name }

    @inline(__always)
    func index(in item: Item) -> Int? {
        guard let i = item.index(of: name, hint: hint.load(ordering: .relaxed)) else { return nil }
        hint.store(i, ordering: .relaxed)
        return i
    }
}

/// An operand compiled for evaluation: a tree of final classes. Evaluating reads each
/// node's fields at +0, where walking the `Operand` enum copies (retains and releases)
/// payloads at every step, which measured half the cost of an update.
class OperandNode: @unchecked Sendable {
    func value(_ item: Item, _ evaluator: Evaluator) throws -> AttributeValue? { nil }

    static func compile(_ operand: Operand) -> OperandNode {
        switch operand {
        case let .value(v):
            return ConstantNode(v)
        case let .path(p):
            if p.elements.count == 1, case let .name(name) = p.elements[0] { return TopLevelNode(name) }
            return GeneralNode(operand)
        case let .plus(a, b):
            return ArithmeticNode(compile(a), compile(b), subtract: false)
        case let .minus(a, b):
            return ArithmeticNode(compile(a), compile(b), subtract: true)
        default:
            return GeneralNode(operand)
        }
    }
}

final class ConstantNode: OperandNode, @unchecked Sendable {
    let constant: AttributeValue
    init(_ constant: AttributeValue) { self.constant = constant }
    override func value(_ item: Item, _ evaluator: Evaluator) throws -> AttributeValue? { constant }
}

final class TopLevelNode: OperandNode, @unchecked Sendable {
    let slot: NameSlot
    init(_ name: String) { slot = NameSlot(name) }
    override func value(_ item: Item, _ evaluator: Evaluator) throws -> AttributeValue? {
        slot.index(in: item).map { item.value(at: $0) }
    }
}

final class ArithmeticNode: OperandNode, @unchecked Sendable {
    let left: OperandNode
    let right: OperandNode
    let subtract: Bool
    init(_ left: OperandNode, _ right: OperandNode, subtract: Bool) {
        self.left = left
        self.right = right
        self.subtract = subtract
    }

    override func value(_ item: Item, _ evaluator: Evaluator) throws -> AttributeValue? {
        guard let x = try left.value(item, evaluator), let y = try right.value(item, evaluator) else {
            throw ExpressionError("The provided expression refers to an attribute that does not exist in the item")
        }
        guard case let .n(l) = x, case let .n(r) = y else {
            throw ExpressionError("An operand in the update expression has an incorrect data type")
        }
        do { return .n(subtract ? try l.subtracting(r) : try l.adding(r)) } catch let error as NumberError {
            throw ExpressionError(error.description)
        }
    }
}

/// Everything else goes through the enum evaluator.
final class GeneralNode: OperandNode, @unchecked Sendable {
    let operand: Operand
    init(_ operand: Operand) { self.operand = operand }
    override func value(_ item: Item, _ evaluator: Evaluator) throws -> AttributeValue? {
        try evaluator.value(operand, item)
    }
}

/// A condition compiled for evaluation (see OperandNode on why classes).
class ConditionNode: @unchecked Sendable {
    func holds(_ item: Item, _ evaluator: Evaluator) throws -> Bool { false }

    static func compile(_ condition: Condition) -> ConditionNode {
        switch condition {
        case let .and(a, b): return AndNode(compile(a), compile(b))
        case let .or(a, b): return OrNode(compile(a), compile(b))
        case let .not(a): return NotNode(compile(a))
        case let .compare(a, comparator, b): return CompareNode(OperandNode.compile(a), comparator, OperandNode.compile(b))
        default: return GeneralConditionNode(condition)
        }
    }
}

final class AndNode: ConditionNode, @unchecked Sendable {
    let left: ConditionNode, right: ConditionNode
    init(_ left: ConditionNode, _ right: ConditionNode) { self.left = left; self.right = right }
    override func holds(_ item: Item, _ evaluator: Evaluator) throws -> Bool {
        try left.holds(item, evaluator) && right.holds(item, evaluator)
    }
}

final class OrNode: ConditionNode, @unchecked Sendable {
    let left: ConditionNode, right: ConditionNode
    init(_ left: ConditionNode, _ right: ConditionNode) { self.left = left; self.right = right }
    override func holds(_ item: Item, _ evaluator: Evaluator) throws -> Bool {
        try left.holds(item, evaluator) || right.holds(item, evaluator)
    }
}

final class NotNode: ConditionNode, @unchecked Sendable {
    let inner: ConditionNode
    init(_ inner: ConditionNode) { self.inner = inner }
    override func holds(_ item: Item, _ evaluator: Evaluator) throws -> Bool { try !inner.holds(item, evaluator) }
}

final class CompareNode: ConditionNode, @unchecked Sendable {
    let left: OperandNode, right: OperandNode
    let comparator: Comparator
    init(_ left: OperandNode, _ comparator: Comparator, _ right: OperandNode) {
        self.left = left
        self.comparator = comparator
        self.right = right
    }

    override func holds(_ item: Item, _ evaluator: Evaluator) throws -> Bool {
        guard let x = try left.value(item, evaluator), let y = try right.value(item, evaluator) else {
            return comparator == .notEqual
        }
        return Evaluator.compare(x, comparator, y)
    }
}

final class GeneralConditionNode: ConditionNode, @unchecked Sendable {
    let condition: Condition
    init(_ condition: Condition) { self.condition = condition }
    override func holds(_ item: Item, _ evaluator: Evaluator) throws -> Bool { try evaluator.evaluate(condition, item) }
}
