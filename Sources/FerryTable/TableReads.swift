import FerryExpressions
import FerryIO
import FerryValues

/// What a Query or Scan asks for (one page).
public struct ReadRequest: Sendable {
    public enum Select: String, Sendable {
        case allAttributes = "ALL_ATTRIBUTES"
        case allProjected = "ALL_PROJECTED_ATTRIBUTES"
        case specific = "SPECIFIC_ATTRIBUTES"
        case count = "COUNT"
    }

    public var indexName: String? = nil
    /// Query only.
    public var keyCondition: KeyConditionExpression? = nil
    public var filter: ConditionExpression? = nil
    public var projection: ProjectionExpression? = nil
    public var select: Select? = nil
    public var forward = true
    public var limit: Int? = nil
    public var exclusiveStartKey: Item? = nil
    /// Scan only: (segment, totalSegments).
    public var segment: (Int, Int)? = nil
    /// Page size cap in bytes of items read (DynamoDB's 1 MB).
    public var pageBytes = 1 << 20
    /// Whether the page's `bytesRead` must be exact (ReturnConsumedCapacity). Without it
    /// a page that returns stored bytes sizes its items only when their stored length
    /// could reach `pageBytes`; the page ends where it would either way.
    public var countsBytesRead = false

    public init() {}
}

/// One page of a Query or Scan.
public struct ReadPage: Sendable {
    /// The page's items as typed JSON maps: the stored bytes themselves when no filter,
    /// projection or table fetch needed their values.
    public var encodedItems: [[UInt8]] = []
    /// The items, decoded (tests and tools; responses use `encodedItems`).
    public var items: [Item] {
        encodedItems.compactMap { bytes in try? bytes.withUnsafeBytes { try ItemDecoder.forThisThread.decodeItem($0) } }
    }
    public var count = 0
    public var scannedCount = 0
    public var lastEvaluatedKey: Item? = nil
    /// DynamoDB's size of every entry read (items, or index entries), for capacity units:
    /// exact when the request `countsBytesRead` or needed the values (a filter, a
    /// projection, COUNT); otherwise at most the exact figure.
    public var bytesRead = 0
}

extension Table {
    /// Query (with a key condition) or Scan (without), one page, as DynamoDB pages:
    /// at most `limit` items evaluated and about 1 MB read; `lastEvaluatedKey` says where
    /// to go on.
    public func read(_ request: ReadRequest, in snapshot: StoreSnapshot? = nil) throws -> ReadPage {
        let view = snapshot ?? self.snapshot()
        var index: TableDescription.Index? = nil
        if let name = request.indexName {
            guard let found = description.index(named: name) else {
                throw DynamoDBError.validation("The table does not have the specified index: \(name)")
            }
            index = found
        }
        let keyspace = index?.keyspace ?? ItemKeys.tableKeyspace
        let keys = index?.keySchema ?? schema
        let select = request.select ?? (request.projection != nil ? .specific : (index != nil ? .allProjected : .allAttributes))
        if select == .allProjected && index == nil {
            throw DynamoDBError.validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
        }
        if select == .count && request.projection != nil {
            throw DynamoDBError.validation("Cannot specify the ProjectionExpression when choosing to get only the Count")
        }
        if select == .specific && request.projection == nil {
            // DynamoDB's words (its Query adds the prefix of its member checks).
            throw DynamoDBError.validation((request.keyCondition != nil ? "1 validation error detected: " : "")
                                           + "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
        }
        if let index, index.isGlobal, select == .allAttributes, index.projection.kind != .all {
            throw DynamoDBError.invalidParameter("Select type ALL_ATTRIBUTES is not supported for global secondary index \(index.name) because its projection type is not ALL")
        }
        // An LSI reads missing attributes from the table, as DynamoDB does.
        let fetchFromTable = index.map { !$0.isGlobal && $0.projection.kind != .all && (select == .allAttributes || select == .specific) } ?? false

        var lower: [UInt8] = [keyspace]
        var upper: [UInt8]? = keyspace == 255 ? nil : [keyspace + 1]
        if let condition = request.keyCondition {
            (lower, upper) = try queryRange(condition, keyspace: keyspace, keys: keys, indexName: index?.name)
            // A query's filter runs after the key condition: keys in it would be a second,
            // slower key condition, which DynamoDB refuses.
            if let filter = request.filter, let key = keys.attributes.first(where: { filter.attributeNames.contains($0.name) }) {
                throw DynamoDBError.validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: \(key.name)")
            }
        } else if let (segment, total) = request.segment {
            lower = ItemKeys.segmentBound(keyspace, segment, of: total) ?? lower
            upper = ItemKeys.segmentBound(keyspace, segment + 1, of: total)
        }
        if let start = request.exclusiveStartKey {
            let startKey = try exclusiveStart(start, index: index)
            if request.forward {
                let after = startKey + [0]
                if KeyOrder.compare(after, lower) > 0 { lower = after }
            } else if upper == nil || KeyOrder.compare(startKey, upper!) < 0 {
                upper = startKey
            }
        }
        var page = ReadPage()
        if let upper, KeyOrder.compare(lower, upper) >= 0 { return page }
        let reader = ItemDecoder.forThisThread
        var bytesRead = 0
        var lastBytes: [UInt8]? = nil
        var stoppedEarly = false
        // Nothing needs the values: the stored bytes go out as they are, and only the
        // size is worked out from them (the last item of a cut page is decoded for its key).
        let copiesBytes = request.filter == nil && request.projection == nil && !fetchFromTable
        // Items returned as stored bytes are sized lazily: an item's stored JSON is never
        // shorter than its DynamoDB size (names and strings are there whole, with quotes
        // and type tags; numbers, binary and literals take more text than size), so while
        // the exact sizes so far plus the stored lengths since stay under `pageBytes`, the
        // page cannot end and nothing needs sizing. When they could reach it, the items
        // since are sized once each; by the same rule only the item just read can bring
        // the total to the cap, so the page ends after it exactly where sizing every item
        // would have ended it (ReadPageTests compares both).
        let sizesLazily = copiesBytes && select != .count
        var sized = 0            // page.encodedItems[..<sized] are counted in bytesRead
        var unsizedBytes = 0     // stored length of those after
        /// Sizes the items not sized yet; true when the page has reached its cap.
        func sizeItems() throws -> Bool {
            for bytes in page.encodedItems[sized...] {
                bytesRead += try bytes.withUnsafeBytes(StoredItemSize.of) ?? ItemRules.size(of: try decodeStored(bytes, decoder: reader))
            }
            sized = page.encodedItems.count
            unsizedBytes = 0
            return bytesRead >= request.pageBytes
        }
        try view.scanStored(lower: lower, upper: upper, forward: request.forward) { _, value in
            page.scannedCount += 1
            var stop = false
            if sizesLazily {
                let bytes = Array(value)
                page.encodedItems.append(bytes)
                page.count += 1
                unsizedBytes += bytes.count
                if bytesRead + unsizedBytes >= request.pageBytes, try sizeItems() {
                    lastBytes = bytes
                    stoppedEarly = true
                    return false
                }
                if request.limit.map({ page.scannedCount >= $0 }) ?? false {
                    lastBytes = bytes
                    stop = true
                }
            } else if copiesBytes, let size = StoredItemSize.of(value) {
                bytesRead += size
                page.count += 1
                stop = (request.limit.map { page.scannedCount >= $0 } ?? false) || bytesRead >= request.pageBytes
                if select != .count || stop {
                    let bytes = Array(value)
                    if select != .count { page.encodedItems.append(bytes) }
                    if stop { lastBytes = bytes }
                }
            } else {
                let stored = Array(value)
                var item = try decodeStored(stored, decoder: reader)
                bytesRead += ItemRules.size(of: item)
                lastBytes = stored
                if fetchFromTable, let full = try getItem(keyOf(item), in: view) { item = full }
                if try request.filter?.evaluate(item) ?? true {
                    page.count += 1
                    if select != .count {
                        if let projection = request.projection {
                            page.encodedItems.append(Self.encodeItem(projection.apply(to: item)))
                        } else {
                            page.encodedItems.append(fetchFromTable ? Self.encodeItem(item) : stored)
                        }
                    }
                }
                stop = (request.limit.map { page.scannedCount >= $0 } ?? false) || bytesRead >= request.pageBytes
            }
            if stop { stoppedEarly = true; return false }
            return true
        }
        if sizesLazily && request.countsBytesRead { _ = try sizeItems() }
        if stoppedEarly, let lastBytes { page.lastEvaluatedKey = keyOf(try decodeStored(lastBytes, decoder: reader), index: index) }
        page.bytesRead = bytesRead
        return page
    }

    /// [lower, upper) of the entries a key condition selects.
    private func queryRange(_ condition: KeyConditionExpression, keyspace: UInt8, keys: KeySchema,
                            indexName: String?) throws -> ([UInt8], [UInt8]?) {
        let resolved: (values: [AttributeValue], equalSorts: [AttributeValue], last: KeyConditionExpression.SortCondition?)
        do {
            resolved = try condition.resolve(partitions: keys.partitionAttributes.map(\.name), sorts: keys.sortAttributes.map(\.name))
        } catch let e as ExpressionError {
            throw DynamoDBError.validation(e.message)
        }
        for (value, attribute) in zip(resolved.values, keys.partitionAttributes) where value.typeName != attribute.type.rawValue {
            throw DynamoDBError.invalidParameter("Condition parameter type does not match schema type")
        }
        var prefix = ItemKeys.partitionPrefix(keyspace, resolved.values)
        // Sort attributes fixed by equality narrow the range to their prefix.
        for (value, attribute) in zip(resolved.equalSorts, keys.sortAttributes) {
            guard value.typeName == attribute.type.rawValue else {
                throw DynamoDBError.invalidParameter("Condition parameter type does not match schema type")
            }
            prefix += ItemKeys.encode(value)
        }
        let end = KeyOrder.successor(ofPrefix: prefix)
        guard let sort = resolved.last, keys.sortAttributes.count > resolved.equalSorts.count else { return (prefix, end) }
        let sortKey = keys.sortAttributes[resolved.equalSorts.count]
        func encoded(_ v: AttributeValue) throws -> [UInt8] {
            guard v.typeName == sortKey.type.rawValue else {
                throw DynamoDBError.invalidParameter("Condition parameter type does not match schema type")
            }
            return prefix + ItemKeys.encode(v)
        }
        switch sort {
        case let .equal(v): let k = try encoded(v); return (k, KeyOrder.successor(ofPrefix: k))
        case let .less(v): return (prefix, try encoded(v))
        case let .lessOrEqual(v): return (prefix, KeyOrder.successor(ofPrefix: try encoded(v)))
        case let .greater(v): return (KeyOrder.successor(ofPrefix: try encoded(v)) ?? prefix, end)
        case let .greaterOrEqual(v): return (try encoded(v), end)
        case let .between(a, b): return (try encoded(a), KeyOrder.successor(ofPrefix: try encoded(b)))
        case let .beginsWith(v):
            guard sortKey.type != .n else {
                throw DynamoDBError.validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
            }
            // The encoding without its two-byte terminator: every value with this prefix.
            var k = try encoded(v)
            k.removeLast(2)
            return (k, KeyOrder.successor(ofPrefix: k))
        }
    }

    /// The stored key an ExclusiveStartKey names.
    private func exclusiveStart(_ start: Item, index: TableDescription.Index?) throws -> [UInt8] {
        let invalid = DynamoDBError.validation("The provided starting key is invalid: The provided key element does not match the schema")
        var names = Set(schema.attributes.map(\.name))
        if let index { names.formUnion(index.keySchema.attributes.map(\.name)) }
        guard Set(start.names) == names else { throw invalid }
        let key: [UInt8]?
        if let index {
            key = ItemKeys.key(index.keyspace, index.keySchema, of: start, then: schema)
        } else {
            key = tableKey(start)
        }
        guard let key, (try? schema.validateKey(of: start)) != nil else { throw invalid }
        return key
    }
}

extension Table {
    /// Every item of the table (or entry of index `indexName`) in scan segment `segment`
    /// of `total`, as stored: the typed JSON map (`{"a":{"S":"x"}}`), in key order, valid
    /// during the call only. The exporter and backups copy these bytes without decoding them.
    public func forEachStored(indexName: String? = nil, segment: Int = 0, of total: Int = 1, in snapshot: StoreSnapshot,
                              _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var keyspace = ItemKeys.tableKeyspace
        if let indexName {
            guard let index = description.index(named: indexName) else {
                throw DynamoDBError.validation("The table does not have the specified index: \(indexName)")
            }
            keyspace = index.keyspace
        }
        let lower = ItemKeys.segmentBound(keyspace, segment, of: total) ?? [keyspace]
        let upper = ItemKeys.segmentBound(keyspace, segment + 1, of: total)
        try snapshot.scanStored(lower: lower, upper: upper) { _, value in
            try body(value)
            return true
        }
    }
}
