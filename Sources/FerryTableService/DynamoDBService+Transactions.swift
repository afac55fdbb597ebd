import FerryExpressions
import FerryIO
import FerryTable
import FerryValues

/// TransactWriteItems and TransactGetItems (docs/transactions.md): DynamoDB's checks in
/// its order (members, then each action's expressions, then tables, duplicates and
/// keys), then one `TableTransaction` over every table named.
extension DynamoDBService {
    /// One action of a TransactWriteItems request.
    struct TransactAction {
        let table: String
        let operation: WriteOperation
        let returnOldOnFailure: Bool
    }

    static let transactionLimit = 100
    static let transactionBytes = 4 << 20
    static let tokenLifetime = 600.0

    func transactWriteItems(_ r: RequestReader) throws -> JSONValue {
        let reporting = try reporting(r)
        let entries = try transactItems(r)
        var token: TableTransaction.Token? = nil
        if let text = try r.string("ClientRequestToken") {
            let length = text.utf16.count
            guard (1...36).contains(length) else {
                throw DynamoDBError.validation("1 validation error detected: Value '\(text)' at 'clientRequestToken' failed to satisfy constraint: Member must have length \(length < 1 ? "greater than or equal to 1" : "less than or equal to 36")")
            }
            // The request without its token identifies it: the same token on another
            // request is a mismatch.
            let rest = JSONValue.object((r.json.objectValue ?? []).filter { $0.key != "ClientRequestToken" })
            token = TableTransaction.Token(id: text, fingerprint: Hex.encode(SHA256.digest(Array(rest.jsonText.utf8))),
                                           now: WallClock.now(), lifetime: Self.tokenLifetime)
        }
        // Each action's members and expressions, in request order: the first bad one wins.
        var actions: [TransactAction] = []
        var bytes = 0
        for (i, entry) in entries.enumerated() {
            let (action, size) = try transactAction(entry, position: i + 1)
            actions.append(action)
            bytes += size
        }
        if bytes > Self.transactionBytes {
            throw DynamoDBError.validation("Transaction request size cannot exceed 4 MB: its items, keys and values are \(bytes) bytes")
        }
        var names: [String] = []
        for a in actions where !names.contains(a.table) { names.append(a.table) }
        try requireTables(names)
        return try handles.withWriters(names) { tables in
            let byName = Dictionary(uniqueKeysWithValues: zip(names, tables))
            // Keys against each table's schema; a key that does not fit cancels the
            // transaction with a ValidationError reason (DynamoDB's), later actions None.
            var prepared: [Result<Table.PreparedWrite, Error>] = []
            var seen = Set<[UInt8]>()
            var keyFailure: Int? = nil
            for (i, a) in actions.enumerated() {
                guard let table = byName[a.table] else { throw DynamoDBError.notFound }
                do {
                    let p = try validating { try table.prepare(a.operation) }
                    if !seen.insert(Array(a.table.utf8) + [0] + p.key).inserted {
                        throw DynamoDBError.validation("Transaction request cannot include multiple operations on one item")
                    }
                    prepared.append(.success(p))
                } catch let e as DynamoDBError where Self.cancelsTransaction(e) {
                    if keyFailure == nil { keyFailure = i }
                    prepared.append(.failure(e))
                }
            }
            if let keyFailure {
                throw Self.cancelled(actions.indices.map { i -> JSONValue in
                    guard i == keyFailure, case let .failure(e as DynamoDBError) = prepared[i] else { return Self.reason("None") }
                    return Self.reason("ValidationError", e.message)
                })
            }
            var shares: [TableTransaction.Share] = []
            var positions: [[Int]] = []
            for (name, table) in zip(names, tables) {
                let mine = actions.indices.filter { actions[$0].table == name }
                shares.append(TableTransaction.Share(table: table, operations: mine.map { prepared[$0] }))
                positions.append(mine)
            }
            switch try TableTransaction.run(shares, log: catalog.transactions, token: token) {
            case .repeated:
                return .object([])
            case let .committed(outcomes):
                // Each item costs twice (DynamoDB prepares, then commits); indexes once.
                var consumed: [(String, ConsumedUnits)] = []
                var collections: [JSONMember] = []
                for (i, table) in tables.enumerated() {
                    var units = ConsumedUnits()
                    var metrics: [JSONValue] = []
                    for case let .applied(old, new) in outcomes[i] {
                        units = units + table.writeCapacity(old: old, new: new, factor: 2)
                        if reporting.collections, let key = new ?? old, let m = try collectionMetrics(table, key: key) { metrics.append(m) }
                    }
                    consumed.append((names[i], units))
                    if !metrics.isEmpty { collections.append(JSONMember(names[i], .array(metrics))) }
                }
                let response = JSONValue.object(reporting.collections ? [JSONMember("ItemCollectionMetrics", .object(collections))] : [])
                return Self.withCapacity(response, reporting, consumed, list: true, split: "WriteCapacityUnits")
            case let .cancelled(outcomes):
                var perAction = [WriteOutcome?](repeating: nil, count: actions.count)
                for (s, list) in outcomes.enumerated() {
                    for (j, outcome) in list.enumerated() { perAction[positions[s][j]] = outcome }
                }
                var reasons: [JSONValue] = []
                var validationSeen = false
                for (i, outcome) in perAction.enumerated() {
                    switch outcome {
                    case let .conditionFailed(old)? where !validationSeen:
                        var members = [JSONMember("Code", .string("ConditionalCheckFailed"))]
                        if actions[i].returnOldOnFailure, let old { members.append(JSONMember("Item", itemJSON(old))) }
                        members.append(JSONMember("Message", .string(DynamoDBError.conditionFailed.message)))
                        reasons.append(.object(members))
                    case let .rejected(error)? where !validationSeen:
                        validationSeen = true
                        reasons.append(Self.reason("ValidationError", (error as? DynamoDBError)?.message ?? "\(error)"))
                    default:
                        reasons.append(Self.reason("None"))
                    }
                }
                throw Self.cancelled(reasons)
            }
        }
    }

    func transactGetItems(_ r: RequestReader) throws -> JSONValue {
        let reporting = try reporting(r)
        let entries = try transactItems(r)
        var gets: [(table: String, key: Item, projection: ProjectionExpression?)] = []
        for (i, entry) in entries.enumerated() {
            try RequestMembers.checkTransactGetItem(entry)
            let e = try RequestReader(entry, operation: r.operation)
            guard let getJSON = e["Get"] else {
                throw DynamoDBError.validation("1 validation error detected: Value null at 'transactItems.\(i + 1).member.get' failed to satisfy constraint: Member must not be null")
            }
            try RequestMembers.checkTransactAction(getJSON, "Get")
            let g = try RequestReader(getJSON, operation: r.operation)
            let table = try g.requiredString("TableName", field: "transactItems.\(i + 1).member.get.tableName")
            try TableCatalog.validateName(table)
            guard let key = try g.item("Key") else {
                throw DynamoDBError.validation("1 validation error detected: Value null at 'transactItems.\(i + 1).member.get.key' failed to satisfy constraint: Member must not be null")
            }
            let context = try g.expressionContext()
            var projection: ProjectionExpression? = nil
            if let text = try g.expressionText("ProjectionExpression") {
                projection = try validating { try ProjectionExpression(text, context: context) }
            }
            try checkPlaceholders(context, (projection?.usedNames ?? [], []))
            gets.append((table, key, projection))
        }
        var names: [String] = []
        for g in gets where !names.contains(g.table) { names.append(g.table) }
        try requireTables(names)
        let tables = try names.map { try handles.reader($0) }
        let byName = Dictionary(uniqueKeysWithValues: zip(names, tables))
        var seen = Set<[UInt8]>()
        var keys: [[UInt8]] = []
        for (i, g) in gets.enumerated() {
            guard let table = byName[g.table] else { throw DynamoDBError.notFound }
            do {
                try table.validateKey(g.key)
            } catch let e as DynamoDBError {
                throw Self.cancelled(gets.indices.map { $0 == i ? Self.reason("ValidationError", e.message) : Self.reason("None") })
            }
            let encoded = ByteBuffer(capacity: 64)
            table.schema.encodeKey(of: g.key, into: encoded)
            if !seen.insert(Array(g.table.utf8) + [0] + encoded.array).inserted {
                throw DynamoDBError.validation("Transaction request cannot include multiple operations on one item")
            }
            keys.append(encoded.array)
        }
        let snapshots = try TableTransaction.snapshots(of: tables, log: catalog.transactions) { name in
            try catalog.openForReading(name).snapshot()
        }
        let snapshotOf = Dictionary(uniqueKeysWithValues: zip(names, snapshots))
        var responses: [JSONValue] = []
        var units: [String: ConsumedUnits] = [:]
        for g in gets {
            guard let table = byName[g.table], let snapshot = snapshotOf[g.table] else { throw DynamoDBError.notFound }
            let item = try table.getItem(g.key, in: snapshot)
            // Two strongly consistent reads per item, found or not.
            units[g.table, default: ConsumedUnits()].table += 2 * ConsumedUnits.readUnits(bytes: item.map { ItemRules.size(of: $0) } ?? 0, consistent: true)
            guard let item else {
                responses.append(.object([]))
                continue
            }
            let shown = g.projection?.apply(to: item) ?? item
            responses.append(shown.isEmpty ? .object([]) : .object([JSONMember("Item", itemJSON(shown))]))
        }
        return Self.withCapacity(.object([JSONMember("Responses", .array(responses))]), reporting,
                                 names.map { ($0, units[$0] ?? ConsumedUnits()) }, list: true, split: "ReadCapacityUnits")
    }

    // MARK: Pieces

    /// TransactItems: present, 1 to 100 entries.
    private func transactItems(_ r: RequestReader) throws -> [JSONValue] {
        guard let value = r["TransactItems"] else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null")
        }
        guard let entries = value.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        if entries.isEmpty {
            throw DynamoDBError.validation("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        if entries.count > Self.transactionLimit {
            // DynamoDB's older wording echoes the whole list as Java prints it; Ferry
            // uses its newer one, which does not.
            throw DynamoDBError.validation("1 validation error detected: Value at 'TransactItems' failed to satisfy constraint: Member must have length less than or equal to \(Self.transactionLimit)")
        }
        return entries
    }

    /// One TransactWriteItem: its operation and the bytes it brings (for the 4 MB limit).
    private func transactAction(_ entry: JSONValue, position: Int) throws -> (TransactAction, Int) {
        try RequestMembers.checkTransactWriteItem(entry)
        let e = try RequestReader(entry, operation: "TransactWriteItems")
        let kinds = ["ConditionCheck", "Put", "Delete", "Update"].filter { e[$0] != nil }
        guard let kind = kinds.first else {
            throw DynamoDBError.validation("Invalid Request: TransactWriteRequest should contain Delete or Put or Update request")
        }
        if kinds.count > 1 { throw DynamoDBError.validation("TransactItems can only contain one of Check, Put, Update or Delete") }
        guard let body = e[kind] else { throw DynamoDBError.notFound }
        try RequestMembers.checkTransactAction(body, kind)
        let a = try RequestReader(body, operation: "TransactWriteItems")
        let field = "transactItems.\(position).member.\(kind.prefix(1).lowercased() + kind.dropFirst())"
        func required(_ v: Item?, _ member: String) throws -> Item {
            guard let v else {
                throw DynamoDBError.validation("1 validation error detected: Value null at '\(field).\(member)' failed to satisfy constraint: Member must not be null")
            }
            return v
        }
        let table = try a.requiredString("TableName", field: "\(field).tableName")
        try TableCatalog.validateName(table)
        let onFailure = try a.string("ReturnValuesOnConditionCheckFailure") ?? "NONE"
        guard ["NONE", "ALL_OLD"].contains(onFailure) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(onFailure)' at '\(field).returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]")
        }
        let context = try a.expressionContext()
        var used: (Set<String>, Set<String>) = ([], [])
        var size = context.values.values.reduce(0) { $0 + ItemRules.size(of: $1) }
        let operation: WriteOperation
        switch kind {
        case "Put":
            let item = try required(try a.item("Item"), "item")
            size += ItemRules.size(of: item)
            operation = .put(item, condition: try condition(a, context, &used))
        case "Delete":
            let key = try required(try a.item("Key"), "key")
            size += ItemRules.size(of: key)
            operation = .delete(key: key, condition: try condition(a, context, &used))
        case "Update":
            let key = try required(try a.item("Key"), "key")
            size += ItemRules.size(of: key)
            guard let text = try a.expressionText("UpdateExpression") else {
                throw DynamoDBError.validation("1 validation error detected: Value null at '\(field).updateExpression' failed to satisfy constraint: Member must not be null")
            }
            let update = try validating { try UpdateExpression(text, context: context) }
            used.0.formUnion(update.usedNames)
            used.1.formUnion(update.usedValues)
            operation = .update(key: key, update: update, condition: try condition(a, context, &used))
        default:
            let key = try required(try a.item("Key"), "key")
            size += ItemRules.size(of: key)
            guard let c = try condition(a, context, &used) else {
                throw DynamoDBError.validation("1 validation error detected: Value null at '\(field).conditionExpression' failed to satisfy constraint: Member must not be null")
            }
            operation = .conditionCheck(key: key, condition: c)
        }
        try checkPlaceholders(context, used)
        return (TransactAction(table: table, operation: operation, returnOldOnFailure: onFailure == "ALL_OLD"), size)
    }

    /// Every table exists; DynamoDB's transactions name none in the error.
    private func requireTables(_ names: [String]) throws {
        for name in names {
            do { _ = try handles.reader(name) } catch let e as DynamoDBError where e.kind == .resourceNotFound {
                throw DynamoDBError.notFound
            }
        }
    }

    /// Key faults that DynamoDB reports as a cancellation reason rather than refusing
    /// the request: a key of the wrong type or shape.
    static func cancelsTransaction(_ e: DynamoDBError) -> Bool {
        e == .keyMismatch || e.message.hasPrefix("One or more parameter values were invalid: Type mismatch for key")
            || e.message.hasPrefix("One or more parameter values were invalid: Missing the key")
    }

    static func reason(_ code: String, _ message: String? = nil) -> JSONValue {
        var members = [JSONMember("Code", .string(code))]
        if let message { members.append(JSONMember("Message", .string(message))) }
        return .object(members)
    }

    static func cancelled(_ reasons: [JSONValue]) -> DynamoDBError {
        let codes = reasons.map { $0["Code"]?.stringValue ?? "None" }
        return DynamoDBError(.transactionCanceled,
                             "Transaction cancelled, please refer cancellation reasons for specific reasons [\(codes.joined(separator: ", "))]",
                             details: [JSONMember("CancellationReasons", .array(reasons))])
    }
}
