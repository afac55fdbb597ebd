import FerryIO

/// The type of a key attribute: DynamoDB allows only S, N and B.
/// DO NOT CHANGE THE RAW VALUES: they are written in table descriptions on disk.
public enum KeyType: String, Sendable, Equatable, CaseIterable {
    case s = "S"
    case n = "N"
    case b = "B"
}

public struct KeyAttribute: Sendable, Equatable {
    public var name: String
    public var type: KeyType
    public init(name: String, type: KeyType) {
        self.name = name
        self.type = type
    }
}

/// A table's (or index's) primary key: a partition (HASH) key and an optional sort
/// (RANGE) key. A global secondary index may have up to four attributes in each
/// (DynamoDB's multi-attribute keys, 2025): the partition is all of the first ones,
/// the sort order the rest, each in turn.
public struct KeySchema: Sendable, Equatable {
    public static let maxPartitionKeyBytes = 2048
    public static let maxSortKeyBytes = 1024
    /// Attributes a multi-attribute partition or sort key may have.
    public static let maxAttributesPerKey = 4

    /// The HASH attributes, at least one.
    public private(set) var partitionAttributes: [KeyAttribute]
    /// The RANGE attributes, possibly none.
    public private(set) var sortAttributes: [KeyAttribute]

    public init(partition: KeyAttribute, sort: KeyAttribute? = nil) {
        partitionAttributes = [partition]
        sortAttributes = sort.map { [$0] } ?? []
    }

    /// A multi-attribute key; nil unless there are 1 to 4 partition attributes and at
    /// most 4 sort attributes.
    public init?(partitions: [KeyAttribute], sorts: [KeyAttribute]) {
        guard (1...Self.maxAttributesPerKey).contains(partitions.count), sorts.count <= Self.maxAttributesPerKey else { return nil }
        partitionAttributes = partitions
        sortAttributes = sorts
    }

    /// The first partition attribute (the only one of a table's or a local index's key).
    public var partition: KeyAttribute { partitionAttributes[0] }
    /// The first sort attribute (the only one of a table's or a local index's key).
    public var sort: KeyAttribute? { sortAttributes.first }
    public var isMultiAttribute: Bool { partitionAttributes.count > 1 || sortAttributes.count > 1 }

    public var attributes: [KeyAttribute] { partitionAttributes + sortAttributes }

    /// Checks the item carries each key attribute with the right type, non-empty and
    /// within DynamoDB's key size limits.
    public func validateKey(of item: Item) throws {
        for key in attributes {
            guard let value = item[key.name] else { throw ItemError(.missingKey(key.name)) }
            let size: Int
            switch (key.type, value) {
            case let (.s, .s(s)):
                if s.isEmpty { throw ItemError(.emptyKeyValue(name: key.name, binary: false)) }
                size = s.utf8.count
            case let (.n, .n(n)):
                size = n.storageSize
            case let (.b, .b(b)):
                if b.isEmpty { throw ItemError(.emptyKeyValue(name: key.name, binary: true)) }
                size = b.count
            default:
                throw ItemError(.keyTypeMismatch(name: key.name, expected: key.type.rawValue, actual: value.typeName))
            }
            if key == partition && size > Self.maxPartitionKeyBytes { throw ItemError(.hashKeyTooLarge) }
            if key != partition && size > Self.maxSortKeyBytes { throw ItemError(.rangeKeyTooLarge) }
        }
    }

    /// The order-preserving encoding of the item's key (partition then sort), for an item
    /// that passed `validateKey`.
    public func encodeKey(of item: Item, into out: ByteBuffer) {
        for key in attributes {
            if let value = item[key.name] { KeyEncoding.encode(value, into: out) }
        }
    }
}

/// Encodes key values (S, N, B) as bytes whose `memcmp` order is DynamoDB's key order:
/// numbers numerically, strings and binaries bytewise. Every encoding is self-delimiting,
/// so a partition key and a sort key can be concatenated. Layout: docs/key-encoding.md.
/// DO NOT CHANGE: these bytes are the sort order of files on disk.
public enum KeyEncoding {
    /// Number classes, in order.
    static let negative: UInt8 = 0x01, zero: UInt8 = 0x02, positive: UInt8 = 0x03

    /// Appends the encoding of an S, N or B value; other types append nothing and
    /// return false.
    @discardableResult
    public static func encode(_ value: AttributeValue, into out: ByteBuffer) -> Bool {
        switch value {
        case let .s(s):
            var s = s
            s.withUTF8 { encodeBytes(UnsafeRawBufferPointer($0), into: out) }
        case let .b(b):
            b.withUnsafeBytes { encodeBytes($0, into: out) }
        case let .n(n):
            encodeNumber(n, into: out)
        default:
            return false
        }
        return true
    }

    /// Bytes with 0x00 escaped as 0x00 0xFF, then the terminator 0x00 0x01: the
    /// terminator sorts below any continuation, so a prefix sorts first.
    static func encodeBytes(_ bytes: UnsafeRawBufferPointer, into out: ByteBuffer) {
        out.reserve(bytes.count + 2)
        for b in bytes {
            out.append(b)
            if b == 0 { out.append(0xFF) }
        }
        out.append(0x00)
        out.append(0x01)
    }

    /// Class byte; for non-zero numbers the leading digit's exponent + 130 (one byte, as
    /// DynamoDB's range is -130...125), then one byte per digit (digit + 1), then 0x00.
    /// Negative numbers invert every byte after the class, reversing their order.
    static func encodeNumber(_ n: DynamoNumber, into out: ByteBuffer) {
        if n.isZero { out.append(zero); return }
        let flip: UInt8 = n.isNegative ? 0xFF : 0x00
        out.append(n.isNegative ? negative : positive)
        out.append(UInt8(n.adjustedExponent + 130) ^ flip)
        for d in n.digits { out.append((d + 1) ^ flip) }
        out.append(0x00 ^ flip)
    }
}
