import FerryValues

/// Capacity units as DynamoDB counts them for ReturnConsumedCapacity (docs/ferry-serve.md,
/// "Consumed capacity"): reads in 4 KB units (half for eventually consistent reads),
/// writes in 1 KB units, each at least one; a write is sized by the larger of the item
/// before and after; each index whose entry changes costs its own units (a key that
/// moves, two: the old entry's delete and the new one's put). Ferry consumes nothing
/// (no throttling); these are the figures a client budgets by.
public struct ConsumedUnits: Sendable, Equatable {
    public var table: Double = 0
    /// Per index name: (global, units).
    public var indexes: [String: (global: Bool, units: Double)] = [:]

    public init(table: Double = 0) { self.table = table }

    public var total: Double { table + indexes.values.reduce(0) { $0 + $1.units } }

    public static func == (a: ConsumedUnits, b: ConsumedUnits) -> Bool {
        a.table == b.table && a.indexes.count == b.indexes.count
            && a.indexes.allSatisfy { b.indexes[$0.key]?.units == $0.value.units && b.indexes[$0.key]?.global == $0.value.global }
    }

    public static func + (a: ConsumedUnits, b: ConsumedUnits) -> ConsumedUnits {
        var out = a
        out.table += b.table
        for (name, arm) in b.indexes { out.indexes[name] = (arm.global, (out.indexes[name]?.units ?? 0) + arm.units) }
        return out
    }

    public static func readUnits(bytes: Int, consistent: Bool) -> Double {
        let units = Double(max(1, (bytes + 4095) / 4096))
        return consistent ? units : units / 2
    }

    public static func writeUnits(bytes: Int) -> Double { Double(max(1, (bytes + 1023) / 1024)) }
}

extension Table {
    /// The write units of taking the item at a key from `old` to `new` (nil: absent), the
    /// table's and each index's. `factor` doubles the table's in a transaction (DynamoDB
    /// prepares and commits), not the indexes'.
    public func writeCapacity(old: Item?, new: Item?, factor: Double = 1) -> ConsumedUnits {
        let size = max(old.map { ItemRules.size(of: $0) } ?? 0, new.map { ItemRules.size(of: $0) } ?? 0)
        var units = ConsumedUnits(table: ConsumedUnits.writeUnits(bytes: size) * factor)
        for index in description.indexes {
            let oldKey = old.flatMap { description.indexKeyAcceptable($0, index) ? ItemKeys.key(index.keyspace, index.keySchema, of: $0, then: schema) : nil }
            let newKey = new.flatMap { ItemKeys.key(index.keyspace, index.keySchema, of: $0, then: schema) }
            var cost = 0.0
            if let oldKey, let old {
                let oldSize = ItemRules.size(of: project(old, for: index))
                if let newKey, let new, newKey == oldKey {
                    let newProjected = project(new, for: index)
                    // An entry left as it was costs nothing; one rewritten, its larger size.
                    if newProjected != project(old, for: index) {
                        cost = ConsumedUnits.writeUnits(bytes: max(oldSize, ItemRules.size(of: newProjected)))
                    }
                } else {
                    cost = ConsumedUnits.writeUnits(bytes: oldSize)
                    if let new, newKey != nil { cost += ConsumedUnits.writeUnits(bytes: ItemRules.size(of: project(new, for: index))) }
                }
            } else if newKey != nil, let new {
                cost = ConsumedUnits.writeUnits(bytes: ItemRules.size(of: project(new, for: index)))
            }
            if cost > 0 { units.indexes[index.name] = (index.isGlobal, cost) }
        }
        return units
    }
}

extension Table {
    /// DynamoDB's size of an item collection: the partition's items and their local
    /// index entries (ReturnItemCollectionMetrics).
    public func collectionBytes(partition value: AttributeValue) throws -> Int {
        let view = snapshot()
        var total = 0
        let reader = ItemDecoder.forThisThread
        for keyspace in [ItemKeys.tableKeyspace] + description.localIndexes.map(\.keyspace) {
            let prefix = ItemKeys.partitionPrefix(keyspace, value)
            try view.scan(lower: prefix, upper: KeyOrder.successor(ofPrefix: prefix)) { _, stored in
                total += ItemRules.size(of: try decodeStored(stored, decoder: reader))
                return true
            }
        }
        return total
    }
}
