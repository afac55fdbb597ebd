import FerryExpressions
import FerryTable
import FerryValues

/// DynamoDB's legacy (non-expression) request members: `Expected` with
/// `ConditionalOperator`, `AttributesToGet`, `AttributeUpdates`, `KeyConditions`,
/// `QueryFilter` and `ScanFilter` (docs/legacy-parameters.md).
///
/// Each member is checked with DynamoDB's messages, then written as expression text over
/// placeholders of its own context (`#legacy0`, `:legacy0`, ...) and parsed by the
/// expression parsers, so it is evaluated exactly as expressions are. The own context
/// keeps Ferry's placeholders apart from the caller's: the one request that may carry
/// both kinds is a Query with `KeyConditions` beside a `FilterExpression` or
/// `ProjectionExpression` (RequestMembers.checkExpressionMixing refuses the rest). Where
/// the legacy meaning differs from the nearest expression, the text says the legacy one
/// (`NOT_CONTAINS` needs the attribute; `ADD` of a list appends).
struct LegacyParameters {
    /// `Expected` (joined by `ConditionalOperator`): PutItem, UpdateItem, DeleteItem.
    private(set) var condition: ConditionExpression? = nil
    /// `AttributeUpdates`: UpdateItem.
    private(set) var update: UpdateExpression? = nil
    /// `AttributesToGet`: GetItem, BatchGetItem, Query, Scan.
    private(set) var projection: ProjectionExpression? = nil
    /// `QueryFilter` or `ScanFilter`, checked; made an expression by `filter(query:keys:)`, since
    /// a Query's filter must first be checked against the key schema.
    private var filterConditions: [Comparison] = []
    private var filterJoinsWithOr = false
    /// `KeyConditions`, checked; made an expression by `keyCondition(keys:)`.
    private var keyConditions: [Comparison]? = nil

    /// True when the update came from `AttributeUpdates`, whose type errors DynamoDB
    /// words as its own.
    var updatesAttributes: Bool { update != nil }

    /// The legacy members of request `r` (an operation's request, or BatchGetItem's
    /// KeysAndAttributes of table `table`).
    init(_ r: RequestReader, batchTable table: String? = nil) throws {
        if let table {
            projection = try Self.attributesToGet(r["AttributesToGet"], field: "requestItems.\(table).member.attributesToGet")
            return
        }
        switch r.operation {
        case "PutItem", "DeleteItem", "UpdateItem":
            let joinsWithOr = try Self.conditionalOperator(r)
            // DynamoDB checks the updates before the conditions.
            if r.operation == "UpdateItem" {
                update = try Self.attributeUpdates(r["AttributeUpdates"])
            }
            let expected = try Self.expected(r["Expected"])
            try Self.checkConditionalOperator(joinsWithOr, conditions: expected.count)
            if !expected.isEmpty {
                condition = try validating { try Self.conditionExpression(expected, or: joinsWithOr == true, kind: .condition) }
            }
        case "GetItem":
            projection = try Self.attributesToGet(r["AttributesToGet"], field: "attributesToGet")
        case "Query", "Scan":
            let query = r.operation == "Query"
            let joinsWithOr = try Self.conditionalOperator(r)
            filterConditions = try Self.conditions(r[query ? "QueryFilter" : "ScanFilter"], field: query ? "queryFilter" : "scanFilter") ?? []
            try Self.checkConditionalOperator(joinsWithOr, conditions: filterConditions.count)
            filterJoinsWithOr = joinsWithOr == true
            projection = try Self.attributesToGet(r["AttributesToGet"], field: "attributesToGet")
            if projection != nil, let select = try r.string("Select") {
                // DynamoDB's Query adds the prefix of its member checks; Scan does not.
                let prefix = query ? "1 validation error detected: " : ""
                switch select {
                case "COUNT": throw DynamoDBError.validation(prefix + "Cannot specify the AttributesToGet when choosing to get only the Count")
                case "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES":
                    throw DynamoDBError.validation(prefix + "Cannot specify the AttributesToGet when choosing to get \(select)")
                default: break   // SPECIFIC_ATTRIBUTES, or a value the Select check refuses
                }
            }
            if query {
                keyConditions = try Self.conditions(r["KeyConditions"], field: "keyConditions")
            }
        default:
            break
        }
    }

    // MARK: Query and Scan pieces that need the key schema

    /// `KeyConditions` as a key condition, checked against `keys` (the table's or the
    /// queried index's) as DynamoDB checks them; nil without `KeyConditions`.
    func keyCondition(keys: () throws -> KeySchema) throws -> KeyConditionExpression? {
        guard let conditions = keyConditions else { return nil }
        guard (1...2).contains(conditions.count) else { throw DynamoDBError.validation("Conditions can be of length 1 or 2 only") }
        let schema = try keys()
        var terms = LegacyPlaceholders()
        var text: [String] = []
        for (attribute, isPartition) in [(schema.partition, true)] + (schema.sort.map { [($0, false)] } ?? []) {
            if isPartition && schema.sort == nil && conditions.count > 1 {
                throw DynamoDBError.validation("Query key condition not supported")
            }
            guard let condition = conditions.first(where: { $0.attribute == attribute.name }) else {
                if isPartition || conditions.count > 1 {
                    throw DynamoDBError.validation("Query condition missed key schema element: \(attribute.name)")
                }
                continue
            }
            switch condition.comparison {
            case .null, .notNull, .ne, .contains, .notContains, .in:
                throw DynamoDBError.validation("Attempted conditional constraint is not an indexable operation")
            default: break
            }
            if condition.arguments.contains(where: { $0.typeName != attribute.type.rawValue }) {
                throw DynamoDBError.invalidParameter("Condition parameter type does not match schema type")
            }
            if isPartition && condition.comparison != .eq {
                throw DynamoDBError.validation("Query key condition not supported")
            }
            text.append(condition.expressionText(&terms))
        }
        let joined = text.joined(separator: " AND ")
        return try validating { try KeyConditionExpression(joined, context: terms.context) }
    }

    /// `QueryFilter` or `ScanFilter` as a filter; nil when it is absent or empty. A
    /// Query's filter may not name a key attribute of what it queries (`keys`, read only
    /// for a Query).
    func filter(query: Bool, keys: () throws -> KeySchema) throws -> ConditionExpression? {
        guard !filterConditions.isEmpty else { return nil }
        if query {
            let schema = try keys()
            // The key attributes in schema order, as DynamoDB reports the first.
            for key in schema.attributes where filterConditions.contains(where: { $0.attribute == key.name }) {
                throw DynamoDBError.validation("QueryFilter can only contain non-primary key attributes: Primary key attribute: \(key.name)")
            }
        }
        return try validating { try Self.conditionExpression(filterConditions, or: filterJoinsWithOr, kind: .filter) }
    }

    /// Runs an UpdateItem whose update came from `AttributeUpdates`, giving the type
    /// errors of its ADD and DELETE DynamoDB's legacy wording.
    func reportingTypeMismatch<T>(_ body: () throws -> T) throws -> T {
        guard updatesAttributes else { return try body() }
        do { return try body() } catch let e as DynamoDBError where e.kind == .validation && Self.updateTypeErrors.contains(e.message) {
            throw DynamoDBError.validation("Type mismatch for attribute to update")
        }
    }

    /// The messages the translated update can fail with when an attribute has the wrong
    /// type: ADD or DELETE on another type, or an appended list onto a non-list.
    static let updateTypeErrors = Set(["An operand in the update expression has an incorrect data type"])
        .union(["S", "N", "B", "BOOL", "NULL", "M", "SS", "NS", "BS"].map {
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: \($0)"
        })
}

// MARK: Conditions

/// A legacy ComparisonOperator, with the argument counts and types DynamoDB allows.
enum ComparisonOperator: String {
    case eq = "EQ", ne = "NE", le = "LE", lt = "LT", ge = "GE", gt = "GT"
    case notNull = "NOT_NULL", null = "NULL", contains = "CONTAINS", notContains = "NOT_CONTAINS"
    case beginsWith = "BEGINS_WITH", `in` = "IN", between = "BETWEEN"

    /// DynamoDB's order in its enum message.
    static let enumMessage = "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"

    func allows(count: Int) -> Bool {
        switch self {
        case .null, .notNull: return count == 0
        case .in: return count >= 1
        case .between: return count == 2
        default: return count == 1
        }
    }

    /// The argument types allowed; nil for any. EQ and NE compare any type (lists and maps
    /// too, as DynamoDB's reference says); CONTAINS takes scalars (BOOL and NULL as AWS's
    /// own DAX client accepts them; never a set, list or map).
    var argumentTypes: Set<String>? {
        switch self {
        case .eq, .ne: return nil
        case .contains, .notContains: return ["S", "N", "B", "BOOL", "NULL"]
        case .beginsWith: return ["S", "B"]
        default: return ["S", "N", "B"]
        }
    }
}

/// One checked condition on one attribute: `Expected`'s `Value` and `Exists: false` forms
/// become EQ and NULL.
struct Comparison {
    let attribute: String
    let comparison: ComparisonOperator
    let arguments: [AttributeValue]

    /// The condition as expression text, its placeholders added to `terms`.
    func expressionText(_ terms: inout LegacyPlaceholders) -> String {
        let name = terms.name(attribute)
        func value(_ i: Int) -> String { terms.value(arguments[i]) }
        switch comparison {
        case .eq: return "\(name) = \(value(0))"
        case .ne: return "\(name) <> \(value(0))"
        case .le: return "\(name) <= \(value(0))"
        case .lt: return "\(name) < \(value(0))"
        case .ge: return "\(name) >= \(value(0))"
        case .gt: return "\(name) > \(value(0))"
        case .notNull: return "attribute_exists(\(name))"
        case .null: return "attribute_not_exists(\(name))"
        case .contains: return "contains(\(name), \(value(0)))"
        // Unlike NOT contains(...), NOT_CONTAINS is false on a missing attribute (the AWS
        // DAX client writes it so, and DynamoDB answers so).
        case .notContains: return "(attribute_exists(\(name)) AND NOT contains(\(name), \(value(0))))"
        case .beginsWith: return "begins_with(\(name), \(value(0)))"
        case .between: return "\(name) BETWEEN \(value(0)) AND \(value(1))"
        case .in:
            // The expression IN takes at most 100 operands; a longer list is several INs.
            var groups: [String] = []
            var start = 0
            while start < arguments.count {
                let end = min(start + 100, arguments.count)
                groups.append("\(name) IN (" + (start..<end).map(value).joined(separator: ", ") + ")")
                start = end
            }
            return groups.count == 1 ? groups[0] : "(" + groups.joined(separator: " OR ") + ")"
        }
    }
}

/// Placeholders of one translated expression, in a context of their own.
struct LegacyPlaceholders {
    private(set) var context: ExpressionContext
    private var names: [String: String] = [:]

    init() {
        context = ExpressionContext()
        // The text is Ferry's, not the caller's: DynamoDB's limit on expression text
        // does not apply to legacy members.
        context.limitsLength = false
    }

    mutating func name(_ attribute: String) -> String {
        if let placeholder = names[attribute] { return placeholder }
        let placeholder = "#legacy\(names.count)"
        names[attribute] = placeholder
        context.names[placeholder] = attribute
        return placeholder
    }

    mutating func value(_ v: AttributeValue) -> String {
        let placeholder = ":legacy\(context.values.count)"
        context.values[placeholder] = v
        return placeholder
    }
}

extension LegacyParameters {
    static let invalid = "One or more parameter values were invalid: "

    /// Conditions joined by AND (or OR), each in parentheses.
    static func conditionExpression(_ conditions: [Comparison], or: Bool, kind: ExpressionKind) throws -> ConditionExpression {
        var terms = LegacyPlaceholders()
        let text = conditions.map { "(" + $0.expressionText(&terms) + ")" }.joined(separator: or ? " OR " : " AND ")
        return try ConditionExpression(text, context: terms.context, kind: kind)
    }

    /// `ConditionalOperator`: true for OR, false for AND, nil when absent.
    static func conditionalOperator(_ r: RequestReader) throws -> Bool? {
        guard let text = try r.string("ConditionalOperator") else { return nil }
        guard text == "AND" || text == "OR" else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(text)' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]")
        }
        return text == "OR"
    }

    /// DynamoDB allows ConditionalOperator only beside two or more conditions.
    static func checkConditionalOperator(_ joinsWithOr: Bool?, conditions: Int) throws {
        guard joinsWithOr != nil else { return }
        if conditions == 0 { throw DynamoDBError.validation("ConditionalOperator cannot be used without Filter or Expected") }
        if conditions == 1 { throw DynamoDBError.validation("ConditionalOperator can only be used when Filter or Expected has two or more elements") }
    }

    /// The members of one legacy map entry, with unknown ones refused as elsewhere.
    static func entry(_ value: JSONValue, allowed: [String], within: String) throws -> RequestReader {
        let reader = try RequestReader(value, operation: "")
        try RequestMembers.checkNested(value, Dictionary(uniqueKeysWithValues: allowed.map { ($0, RequestMembers.Rule.implemented) }), within: within)
        return reader
    }

    /// A map of legacy entries in request order; nil when absent.
    static func members(_ json: JSONValue?) throws -> [JSONMember]? {
        guard let json else { return nil }
        guard let members = json.objectValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        return members
    }

    /// An `AttributeValueList` (or `Value`): each value checked as DynamoDB checks items.
    static func attributeValues(_ json: JSONValue?) throws -> [AttributeValue]? {
        guard let json else { return nil }
        guard let list = json.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        return try list.map(RequestReader.value(from:))
    }

    static func comparisonOperator(_ text: String, field: String) throws -> ComparisonOperator {
        guard let op = ComparisonOperator(rawValue: text) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(text)' at '\(field)' failed to satisfy constraint: Member must satisfy enum value set: \(ComparisonOperator.enumMessage)")
        }
        return op
    }

    /// DynamoDB's checks of a ComparisonOperator's arguments: their number, one type for
    /// all, the types the operator takes, and BETWEEN's order.
    static func checkArguments(_ op: ComparisonOperator, _ arguments: [AttributeValue]) throws {
        guard op.allows(count: arguments.count) else {
            throw DynamoDBError.validation(invalid + "Invalid number of argument(s) for the \(op.rawValue) ComparisonOperator")
        }
        guard let first = arguments.first else { return }
        if arguments.contains(where: { $0.typeName != first.typeName }) {
            throw DynamoDBError.validation(invalid + "AttributeValues inside AttributeValueList must be of same type")
        }
        if let allowed = op.argumentTypes, !allowed.contains(first.typeName) {
            throw DynamoDBError.validation(invalid + "ComparisonOperator \(op.rawValue) is not valid for \(first.typeName) AttributeValue type")
        }
        if op == .between, let order = scalarOrder(arguments[0], arguments[1]), order > 0 {
            throw DynamoDBError.validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
        }
    }

    /// Order of two scalars of one type: N numerically, S and B by bytes.
    static func scalarOrder(_ a: AttributeValue, _ b: AttributeValue) -> Int? {
        func bytes(_ x: [UInt8], _ y: [UInt8]) -> Int { x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1) }
        switch (a, b) {
        case let (.n(x), .n(y)): return x == y ? 0 : (x < y ? -1 : 1)
        case let (.s(x), .s(y)): return bytes(Array(x.utf8), Array(y.utf8))
        case let (.b(x), .b(y)): return bytes(x, y)
        default: return nil
        }
    }

    /// `QueryFilter`, `ScanFilter` or `KeyConditions` (Condition entries); nil when absent.
    static func conditions(_ json: JSONValue?, field: String) throws -> [Comparison]? {
        guard let members = try members(json) else { return nil }
        var out: [Comparison] = []
        for member in members {
            if case .null = member.value {
                throw DynamoDBError.validation("The filter condition for an attribute cannot be null: \(member.key)")
            }
            let e = try entry(member.value, allowed: ["ComparisonOperator", "AttributeValueList"], within: "\(field).\(member.key)")
            guard let text = try e.string("ComparisonOperator") else {
                throw DynamoDBError.validation("1 validation error detected: Value null at '\(field).\(member.key).member.comparisonOperator' failed to satisfy constraint: Member must not be null")
            }
            let op = try comparisonOperator(text, field: "\(field).\(member.key).member.comparisonOperator")
            let arguments = try attributeValues(e["AttributeValueList"]) ?? []
            try checkArguments(op, arguments)
            out.append(Comparison(attribute: member.key, comparison: op, arguments: arguments))
        }
        return out
    }

    /// `Expected` entries, with DynamoDB's checks in its order; empty when absent.
    static func expected(_ json: JSONValue?) throws -> [Comparison] {
        guard let members = try members(json) else { return [] }
        var out: [Comparison] = []
        for member in members {
            let name = member.key
            if case .null = member.value {
                throw DynamoDBError.validation(invalid + "ExpectedAttributeValue must not be null for Attribute: \(name)")
            }
            let e = try entry(member.value, allowed: ["Value", "Exists", "ComparisonOperator", "AttributeValueList"], within: "Expected.\(name)")
            let exists = try e.bool("Exists")
            let opText = try e.string("ComparisonOperator")
            let op = try opText.map { try comparisonOperator($0, field: "expected.\(name).member.comparisonOperator") }
            let valueJSON = e["Value"], listJSON = e["AttributeValueList"]
            if exists != nil && op != nil {
                throw DynamoDBError.validation(invalid + "Exists and ComparisonOperator cannot be used together for Attribute: \(name)")
            }
            if valueJSON != nil && listJSON != nil {
                throw DynamoDBError.validation(invalid + "Value and AttributeValueList cannot be used together for Attribute: \(name)")
            }
            if op == nil && listJSON != nil {
                throw DynamoDBError.validation(invalid + "AttributeValueList can only be used with a ComparisonOperator for Attribute: \(name)")
            }
            if exists == false && valueJSON != nil {
                throw DynamoDBError.validation(invalid + "Value cannot be used when Exists is false for Attribute: \(name)")
            }
            if valueJSON == nil && listJSON == nil {
                if let op {
                    if op != .null && op != .notNull {
                        throw DynamoDBError.validation(invalid + "Value or AttributeValueList must be used with ComparisonOperator: \(op.rawValue) for Attribute: \(name)")
                    }
                } else if exists == nil {
                    throw DynamoDBError.validation(invalid + "Value must be provided when Exists is null for Attribute: \(name)")
                } else if exists == true {
                    throw DynamoDBError.validation(invalid + "Value must be provided when Exists is true for Attribute: \(name)")
                }
            }
            let value = try valueJSON.map(RequestReader.value(from:))
            if let op {
                // With a ComparisonOperator, Value is its one argument.
                let arguments = try value.map { [$0] } ?? attributeValues(listJSON) ?? []
                try checkArguments(op, arguments)
                out.append(Comparison(attribute: name, comparison: op, arguments: arguments))
            } else if let value {
                out.append(Comparison(attribute: name, comparison: .eq, arguments: [value]))
            } else {
                out.append(Comparison(attribute: name, comparison: .null, arguments: []))
            }
        }
        return out
    }

    // MARK: AttributesToGet

    /// `AttributesToGet` as a projection of those top-level attributes; nil when absent.
    static func attributesToGet(_ json: JSONValue?, field: String) throws -> ProjectionExpression? {
        guard let json else { return nil }
        guard let list = json.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        guard !list.isEmpty else {
            throw DynamoDBError.validation("1 validation error detected: Value '[]' at '\(field)' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        var terms = LegacyPlaceholders()
        var seen: Set<String> = []
        var placeholders: [String] = []
        for element in list {
            guard let name = element.stringValue else { throw DynamoDBError(.serialization, "NUMBER_VALUE cannot be converted to String") }
            guard seen.insert(name).inserted else {
                throw DynamoDBError.validation(invalid + "Duplicate value in attribute name: \(name)")
            }
            placeholders.append(terms.name(name))
        }
        let text = placeholders.joined(separator: ", ")
        return try validating { try ProjectionExpression(text, context: terms.context) }
    }

    // MARK: AttributeUpdates

    /// `AttributeUpdates` as an update expression: PUT is SET, DELETE without a value is
    /// REMOVE, DELETE of a set is DELETE, ADD of a number or set is ADD, and ADD of a list
    /// appends (to an empty list when the attribute is missing), which expression ADD
    /// does not do. Nil when absent or empty.
    static func attributeUpdates(_ json: JSONValue?) throws -> UpdateExpression? {
        guard let members = try members(json), !members.isEmpty else { return nil }
        var terms = LegacyPlaceholders()
        var set: [String] = [], remove: [String] = [], add: [String] = [], delete: [String] = []
        for member in members {
            let name = member.key
            if case .null = member.value {
                throw DynamoDBError.validation("Supplied AttributeValueUpdate is empty, must contain one of the supported actions: \(name) is null")
            }
            let e = try entry(member.value, allowed: ["Value", "Action"], within: "AttributeUpdates.\(name)")
            let action = try e.string("Action") ?? "PUT"
            guard ["ADD", "PUT", "DELETE"].contains(action) else {
                throw DynamoDBError.validation("1 validation error detected: Value '\(action)' at 'attributeUpdates.\(name).member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, DELETE, PUT]")
            }
            let value = try e["Value"].map(RequestReader.value(from:))
            guard let value else {
                guard action == "DELETE" else {
                    throw DynamoDBError.validation(invalid + "Only DELETE action is allowed when no attribute value is specified")
                }
                remove.append(terms.name(name))
                continue
            }
            switch action {
            case "DELETE":
                guard ["SS", "NS", "BS"].contains(value.typeName) else {
                    throw DynamoDBError.validation(invalid + "DELETE action with value is not supported for the type \(value.typeName)")
                }
                delete.append("\(terms.name(name)) \(terms.value(value))")
            case "ADD":
                guard ["N", "SS", "NS", "BS", "L"].contains(value.typeName) else {
                    throw DynamoDBError.validation(invalid + "ADD action is not supported for the type \(value.typeName)")
                }
                if case .l = value {
                    let n = terms.name(name)
                    set.append("\(n) = list_append(if_not_exists(\(n), \(terms.value(.l([])))), \(terms.value(value)))")
                } else {
                    add.append("\(terms.name(name)) \(terms.value(value))")
                }
            default:
                set.append("\(terms.name(name)) = \(terms.value(value))")
            }
        }
        var clauses: [String] = []
        for (keyword, actions) in [("SET", set), ("REMOVE", remove), ("ADD", add), ("DELETE", delete)] where !actions.isEmpty {
            clauses.append(keyword + " " + actions.joined(separator: ", "))
        }
        let text = clauses.joined(separator: " ")
        return try validating { try UpdateExpression(text, context: terms.context) }
    }
}

extension DynamoDBService {
    /// The key schema a Query reads by: its index's, or the table's.
    func legacyKeys(_ table: String, index: String?) throws -> KeySchema {
        let t = try handles.reader(table)
        guard let index else { return t.schema }
        guard let found = t.description.index(named: index) else {
            throw DynamoDBError.validation("The table does not have the specified index: \(index)")
        }
        return found.keySchema
    }
}
