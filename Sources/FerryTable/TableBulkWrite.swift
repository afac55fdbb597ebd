#if canImport(Glibc)
import Glibc
#endif
import FerryValues

extension Table {
    /// Whether `writeBulk` can take `prepared`: puts and deletes without conditions
    /// (and refused records), the writes whose outcome needs no current item but for
    /// the counts and index entries.
    public static func bulkEligible(_ prepared: [Result<PreparedWrite, Error>]) -> Bool {
        prepared.allSatisfy { result in
            guard case let .success(p) = result else { return true }
            guard p.condition == nil else { return false }
            switch p.kind {
            case .put, .delete: return true
            case .check, .update, .merge: return false
            }
        }
    }

    /// A loader's group as one bulk commit (docs/table-storage.md, "Bulk commits"): the
    /// same outcome, counts and index entries as `write(prepared:metadata:)`, written as
    /// one sorted run instead of a log record and memtable inserts. The current item is
    /// read only for keys a run's bloom filter cannot rule out (a new table: about 1%),
    /// as exact counts and index entries need it. Writes that are not `bulkEligible` go
    /// through `write(prepared:metadata:)`. Applied outcomes carry no items.
    public func writeBulk(prepared: [Result<PreparedWrite, Error>],
                          metadata: [(name: String, value: [UInt8]?)] = []) throws -> [WriteOutcome] {
        guard Self.bulkEligible(prepared) else { return try write(prepared: prepared, metadata: metadata) }
        let store = try writer()
        writeLock.lock()
        defer { writeLock.unlock() }

        var outcomes = [WriteOutcome](repeating: .applied(old: nil, new: nil), count: prepared.count)
        var writes: [PreparedWrite] = []
        var positions: [Int] = []
        writes.reserveCapacity(prepared.count)
        positions.reserveCapacity(prepared.count)
        for (i, result) in prepared.enumerated() {
            switch result {
            case let .failure(error): outcomes[i] = .rejected(error)
            case let .success(p):
                writes.append(p)
                positions.append(i)
            }
        }
        let order = Self.keyOrder(writes)
        var changes: [TableStore.Change] = []
        changes.reserveCapacity(writes.count * (1 + description.indexes.count) + metadata.count)
        var delta = StoreStats()
        var indexed = false
        do {
            // The snapshot must be gone before the commit drains the memtable.
            let snapshot = store.snapshot()
            var i = 0
            while i < order.count {
                let key = writes[order[i].position].key
                var end = i + 1
                // Equal keys have equal prefixes: most neighbours differ there, without
                // a visit to their keys (a cache miss each, in key order).
                while end < order.count && order[end].prefix == order[i].prefix && writes[order[end].position].key == key { end += 1 }
                // Only the last write of a key decides what is stored; the earlier ones
                // are applied and overwritten within the commit.
                let last = writes[order[end - 1].position]
                let oldBytes = try snapshot.get(key)
                if oldBytes == nil, case .put = last.kind, last.lean {
                    // The common case: a new item. Its bytes and index entries are ready.
                    changes.append((key, last.encoded))
                    delta.add(ItemKeys.tableKeyspace, items: 1, bytes: last.size)
                    for entry in last.indexEntries {
                        changes.append((entry.key, entry.value))
                        delta.add(entry.keyspace, items: 1, bytes: entry.size)
                        indexed = true
                    }
                } else {
                    let old = try oldBytes.map { try decodeStored($0, decoder: ItemDecoder.forThisThread) }
                    var new: Item? = nil
                    if case .put = last.kind {
                        new = try last.item ?? last.encoded.map { try decodeStored($0, decoder: ItemDecoder.forThisThread) }
                    }
                    if old != nil || new != nil {
                        let before = changes.count
                        stage(key: key, old: old, new: new, newSize: last.size, encoded: last.encoded, into: &changes, delta: &delta)
                        if changes.count - before > 1 { indexed = true }
                    }
                }
                i = end
            }
        }
        // Metadata keys sort after every item and index entry (key space 255).
        let records: [TableStore.Change] = metadata.map { (ItemKeys.metadataKey($0.name), $0.value) }
        changes.append(contentsOf: records.sorted { KeyOrder.compare($0.key, $1.key) < 0 })
        if indexed {
            // Index entries were appended beside their items: put the run in key order.
            changes.sort { KeyOrder.compare($0.key, $1.key) < 0 }
        }
        try store.commitRun(changes, delta: delta)
        return outcomes
    }

    /// A write's place in key order: its key's first 8 bytes as one integer, and its
    /// position in the group.
    struct KeyOrderSlot { var prefix: UInt64; var position: Int }

    /// The writes' positions in key order, stream order within a key. Sorted by each
    /// key's first 8 bytes (key space, hash, the key's start) as one integer first: in a
    /// hashed key space those nearly always decide, without touching the keys.
    static func keyOrder(_ writes: [PreparedWrite]) -> [KeyOrderSlot] {
        typealias Slot = KeyOrderSlot
        var slots = writes.enumerated().map { i, w -> Slot in
            var prefix: UInt64 = 0
            for (n, byte) in w.key.prefix(8).enumerated() { prefix |= UInt64(byte) << (56 - 8 * UInt64(n)) }
            return Slot(prefix: prefix, position: i)
        }
        writes.withUnsafeBufferPointer { w in
            slots.sort { a, b in
                if a.prefix != b.prefix { return a.prefix < b.prefix }
                let c = KeyOrder.compare(w[a.position].key, w[b.position].key)
                return c != 0 ? c < 0 : a.position < b.position
            }
        }
        return slots
    }
}

/// The parts of a table's description that preparing a write reads, fixed when the
/// description is set (immutable, so shared by every loader thread).
final class WritePlan: Sendable {
    struct IndexPlan: Sendable {
        let index: TableDescription.Index
        /// The attributes an index that does not project everything keeps.
        let keep: Set<String>?
    }
    let schema: KeySchema
    /// The description's indexes, held apart: a method of the description called per
    /// item copied the whole description.
    let allIndexes: [TableDescription.Index]
    /// The key attributes of the table and its indexes, by name bytes: what a canonical
    /// put has to decode.
    let keyNames: [(name: [UInt8], attribute: KeyAttribute)]
    let indexes: [IndexPlan]

    init(_ description: TableDescription) {
        allIndexes = description.indexes
        schema = description.keySchema
        var names: [(name: [UInt8], attribute: KeyAttribute)] = []
        for attribute in description.keySchema.attributes + description.indexes.flatMap(\.keySchema.attributes)
        where !names.contains(where: { $0.attribute.name == attribute.name }) {
            names.append((Array(attribute.name.utf8), attribute))
        }
        keyNames = names
        indexes = description.indexes.map { IndexPlan(index: $0, keep: Self.kept(by: $0, schema: description.keySchema)) }
    }

    /// The attributes `index` keeps of an item: its keys and the table's, plus the
    /// projection's own; nil when it keeps everything.
    static func kept(by index: TableDescription.Index, schema: KeySchema) -> Set<String>? {
        guard index.projection.kind != .all else { return nil }
        var keep = Set(schema.attributes.map(\.name)).union(index.keySchema.attributes.map(\.name))
        if index.projection.kind == .include { keep.formUnion(index.projection.nonKeyAttributes) }
        return keep
    }
}

extension Table {
    /// A put of a typed item map already in canonical form (`CanonicalTypedItem`), for a
    /// bulk group: the map's bytes are stored as they are and only the key attributes are
    /// decoded. Nil when the map is not canonical or the write would be refused: then
    /// `prepare` decodes it and reports the same error as always.
    /// `require`: a further check of the key attributes (a backup's own description).
    public func prepareCanonicalPut(_ map: UnsafeRawBufferPointer, scanner: CanonicalTypedItem,
                                    require: ((Item) -> Bool)? = nil) -> PreparedWrite? {
        guard scanner.scan(map), let base = map.baseAddress else { return nil }
        var keyItem = Item()
        let plan = writePlan
        let schema = plan.schema
        for attribute in scanner.attributes {
            guard let key = plan.keyNames.first(where: { $0.name.count == attribute.name.count
                && memcmp($0.name, base + attribute.name.lowerBound, attribute.name.count) == 0 }) else { continue }
            // `{"S":"` or `{"N":"`, the text, `"}`; other types go the long way.
            let text = UnsafeRawBufferPointer(rebasing: map[(attribute.value.lowerBound + 6)..<(attribute.value.upperBound - 2)])
            switch (map[attribute.value.lowerBound + 2], key.attribute.type) {
            case (UInt8(ascii: "S"), .s): keyItem[key.attribute.name] = .s(String(decoding: text, as: UTF8.self))
            case (UInt8(ascii: "N"), .n):
                guard let n = try? DynamoNumber(bytes: text) else { return nil }
                keyItem[key.attribute.name] = .n(n)
            default: return nil
            }
        }
        guard (try? schema.validateKey(of: keyItem)) != nil, (try? TableDescription.checkIndexKeys(of: keyItem, plan.allIndexes)) != nil,
              require?(keyItem) ?? true, let key = ItemKeys.key(ItemKeys.tableKeyspace, schema, of: keyItem) else { return nil }
        let encoded = Array(map)
        var write = PreparedWrite(kind: .put, key: key, size: scanner.size, encoded: encoded, condition: nil)
        write.lean = true
        for indexPlan in plan.indexes {
            let index = indexPlan.index
            guard let indexKey = ItemKeys.key(index.keyspace, index.keySchema, of: keyItem, then: schema) else { continue }
            guard let keep = indexPlan.keep else {
                write.indexEntries.append((index.keyspace, indexKey, encoded, scanner.size))
                continue
            }
            // The projection: the kept attributes' bytes, in the item's order.
            var projected: [UInt8] = [UInt8(ascii: "{")]
            var size = 0
            for attribute in scanner.attributes {
                let name = String(decoding: UnsafeRawBufferPointer(rebasing: map[attribute.name]), as: UTF8.self)
                guard keep.contains(name) else { continue }
                if projected.count > 1 { projected.append(UInt8(ascii: ",")) }
                projected.append(contentsOf: map[(attribute.name.lowerBound - 1)..<attribute.value.upperBound])
                size += attribute.size
            }
            projected.append(UInt8(ascii: "}"))
            write.indexEntries.append((index.keyspace, indexKey, projected, size))
        }
        return write
    }
}
