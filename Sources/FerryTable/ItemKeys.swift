import FerryIO
import FerryValues

/// Where items and index entries live in a table's one key space (docs/table-storage.md):
///
/// ```
/// item:        0x00     | hash(pk) | enc(pk) | enc(sk)?
/// index entry: keyspace | hash(ipk) | enc(ipk) | enc(isk)? | enc(pk) | enc(sk)?
/// ```
///
/// `enc` is the order-preserving key encoding (docs/key-encoding.md) and `hash` the high
/// 32 bits, big-endian, of FNV-1a 64 over enc(partition key). Leading with the hash
/// spreads partitions evenly, so a scan segment is a hash range, as in DynamoDB, while
/// all items of one partition stay together in sort-key order for queries.
/// DO NOT CHANGE: this is the order of sorted runs on disk.
enum ItemKeys {
    static let tableKeyspace: UInt8 = 0
    /// Ferry's own records kept beside the items (the loader's checkpoints): never
    /// counted, scanned or exported as items, and written in the same commits as them.
    static let metadataKeyspace: UInt8 = 255

    static func metadataKey(_ name: String) -> [UInt8] { [metadataKeyspace] + Array(name.utf8) }

    static func hash(_ encodedPartition: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: SortedRunFormat.bloomHash(encodedPartition) >> 32)
    }

    /// keyspace | hash | enc(pk), the prefix of a partition's entries.
    static func partitionPrefix(_ keyspace: UInt8, _ value: AttributeValue) -> [UInt8] {
        partitionPrefix(keyspace, [value])
    }

    /// The same for a multi-attribute partition key: the hash is over all the values'
    /// encodings in order, then the encodings follow (each self-delimiting). One value
    /// gives exactly the single-attribute bytes.
    static func partitionPrefix(_ keyspace: UInt8, _ values: [AttributeValue]) -> [UInt8] {
        let encoded = ByteBuffer(capacity: 64)
        for value in values { KeyEncoding.encode(value, into: encoded) }
        let out = ByteBuffer(capacity: encoded.count + 5)
        out.append(keyspace)
        withUnsafeBytes(of: hash(encoded.bytes).bigEndian) { out.append($0) }
        out.append(encoded.bytes)
        return out.array
    }

    /// The item's key in `keyspace` under `schema` (partition then sort attributes); nil
    /// when the item lacks one of the attributes or holds a non-key type (sparse indexes).
    static func key(_ keyspace: UInt8, _ schema: KeySchema, of item: Item, then tableSchema: KeySchema? = nil) -> [UInt8]? {
        var out: [UInt8]
        if schema.partitionAttributes.count == 1 {
            guard let pk = item[schema.partition.name], pk.typeName == schema.partition.type.rawValue else { return nil }
            out = partitionPrefix(keyspace, pk)
        } else {
            var values: [AttributeValue] = []
            for attribute in schema.partitionAttributes {
                guard let v = item[attribute.name], v.typeName == attribute.type.rawValue else { return nil }
                values.append(v)
            }
            out = partitionPrefix(keyspace, values)
        }
        let buffer = ByteBuffer(capacity: 64)
        for sort in schema.sortAttributes {
            guard let sk = item[sort.name], sk.typeName == sort.type.rawValue else { return nil }
            KeyEncoding.encode(sk, into: buffer)
        }
        if let tableSchema {
            for attribute in tableSchema.attributes {
                guard let v = item[attribute.name] else { return nil }
                KeyEncoding.encode(v, into: buffer)
            }
        }
        out.append(contentsOf: buffer.bytes)
        return out
    }

    static func encode(_ value: AttributeValue) -> [UInt8] {
        let buffer = ByteBuffer(capacity: 64)
        KeyEncoding.encode(value, into: buffer)
        return buffer.array
    }

    /// The first key of `keyspace`'s hash range `segment` of `total`, big-endian.
    static func segmentBound(_ keyspace: UInt8, _ segment: Int, of total: Int) -> [UInt8]? {
        if segment >= total { return keyspace == 255 ? nil : [keyspace + 1] }
        let start = UInt32((UInt64(segment) << 32) / UInt64(total))
        var out: [UInt8] = [keyspace]
        withUnsafeBytes(of: start.bigEndian) { out.append(contentsOf: $0) }
        return out
    }
}

/// The order a table stores (and scans, exports and backs up) its items in, for checks
/// of streams that must be in it (backups, docs/backup-format.md).
public enum StorageOrder {
    /// The item's key as the table orders it; nil when the item lacks a key attribute.
    public static func key(of item: Item, schema: KeySchema) -> [UInt8]? {
        ItemKeys.key(ItemKeys.tableKeyspace, schema, of: item)
    }
}
