/// DynamoDB's limits on items (docs/values.md): sets non-empty and without duplicates,
/// at most 32 levels of nesting, at most 400 KB by DynamoDB's own size formula.
public enum ItemRules {
    public static let maxItemSize = 400 * 1024
    public static let maxNestingDepth = 32
    public static let maxAttributeNameBytes = 65535

    /// Checks every rule; returns the item's size in bytes.
    @discardableResult
    public static func validate(_ item: Item) throws -> Int {
        // One walk checks the rules and adds up the size (a put used to walk its item
        // three times: these checks, the size, the encoding).
        var total = 0
        for (name, value) in item.entries {
            if name.isEmpty { throw ItemError(.emptyAttributeName) }
            let nameBytes = name.utf8.count
            if nameBytes > maxAttributeNameBytes { throw ItemError(.attributeNameTooLong(bytes: nameBytes)) }
            do { total += nameBytes + (try validatedSize(value, depth: 1)) } catch let e as ItemError { throw e.inside(.name(name)) }
        }
        if total > maxItemSize { throw ItemError(.itemTooLarge) }
        return total
    }

    /// Throws `itemTooLarge` past 400 KB; returns the size.
    @discardableResult
    public static func checkSize(_ item: Item) throws -> Int {
        let size = self.size(of: item)
        if size > maxItemSize { throw ItemError(.itemTooLarge) }
        return size
    }

    /// `size(of: value)`, checking the rules on the way (depth first: the recursion
    /// stops at DynamoDB's 32 levels).
    static func validatedSize(_ value: AttributeValue, depth: Int) throws -> Int {
        if depth > maxNestingDepth { throw ItemError(.nestingTooDeep) }
        switch value {
        case let .m(map):
            var total = 3
            for (name, inner) in map.entries {
                let nameBytes = name.utf8.count
                if nameBytes > maxAttributeNameBytes { throw ItemError(.attributeNameTooLong(bytes: nameBytes)) }
                do { total += 1 + nameBytes + (try validatedSize(inner, depth: depth + 1)) } catch let e as ItemError { throw e.inside(.name(name)) }
            }
            return total
        case let .l(list):
            var total = 3
            for (i, inner) in list.enumerated() {
                do { total += 1 + (try validatedSize(inner, depth: depth + 1)) } catch let e as ItemError { throw e.inside(.index(i)) }
            }
            return total
        case let .ss(set): try checkSet(set.map(UTF8Key.init), typeName: "string") { String(decoding: $0.bytes, as: UTF8.self) }
        case let .ns(set): try checkSet(set, typeName: "number") { $0.description }
        case let .bs(set): try checkSet(set, typeName: "binary") { Base64.encode($0) }
        default: break
        }
        return size(of: value)
    }

    /// Non-empty and no member twice.
    static func checkSet<T: Hashable>(_ members: [T], typeName: String, render: (T) -> String) throws {
        if members.isEmpty { throw ItemError(.emptySet(typeName: typeName)) }
        if members.count < 2 { return }
        var duplicate = false
        if members.count <= 8 {
            outer: for i in 1..<members.count {
                for j in 0..<i where members[i] == members[j] { duplicate = true; break outer }
            }
        } else {
            duplicate = Set(members).count != members.count
        }
        if duplicate { throw ItemError(.duplicateInSet(members: members.map(render))) }
    }

    /// The item's size as DynamoDB counts it: attribute names plus values, where a number
    /// is one byte per two significant digits plus one, BOOL and NULL one byte, and a list
    /// or map 3 bytes plus one per element plus its elements.
    public static func size(of item: Item) -> Int {
        var total = 0
        for (name, value) in item.entries { total += name.utf8.count + size(of: value) }
        return total
    }

    public static func size(of value: AttributeValue) -> Int {
        switch value {
        case let .s(s): return s.utf8.count
        case let .n(n): return n.storageSize
        case let .b(b): return b.count
        case .bool, .null: return 1
        case let .m(map):
            var total = 3
            for (name, inner) in map.entries { total += 1 + name.utf8.count + size(of: inner) }
            return total
        case let .l(list):
            var total = 3
            for inner in list { total += 1 + size(of: inner) }
            return total
        case let .ss(set): return set.reduce(0) { $0 + $1.utf8.count }
        case let .ns(set): return set.reduce(0) { $0 + $1.storageSize }
        case let .bs(set): return set.reduce(0) { $0 + $1.count }
        }
    }
}
