/// Why an item, or one of its values, is refused. Texts follow DynamoDB's
/// ValidationException messages where DynamoDB has one; `path` names the attribute
/// (`address.zip`, `tags[2]`) when the fault is inside one.
public struct ItemError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        case number(NumberError)
        case emptySet(typeName: String)
        case duplicateInSet(members: [String])
        case nestingTooDeep
        case itemTooLarge
        case nullMustBeTrue
        case emptyAttributeValue
        case multipleDataTypes
        case unknownType(String)
        case invalidBase64
        case wrongJSONType(typeName: String, expected: String)
        case duplicateName(String)
        case notAnObject
        case unexpectedKeyBesideItem(String)
        case missingKey(String)
        case keyTypeMismatch(name: String, expected: String, actual: String)
        case emptyKeyValue(name: String, binary: Bool)
        case hashKeyTooLarge
        case rangeKeyTooLarge
        case emptyAttributeName
        /// DynamoDB's limit on an attribute name: 65535 bytes.
        case attributeNameTooLong(bytes: Int)
        case controlWithOtherMembers(String, other: String)
    }

    public var kind: Kind
    /// Attribute path from the top of the item, outermost first.
    public var path: [PathComponent]

    public init(_ kind: Kind, path: [PathComponent] = []) {
        self.kind = kind
        self.path = path
    }

    public enum PathComponent: Equatable, Sendable {
        case name(String)
        case index(Int)
    }

    /// `a.b[2].c`
    public var pathText: String {
        var out = ""
        for component in path {
            switch component {
            case let .name(n): out += out.isEmpty ? n : ".\(n)"
            case let .index(i): out += "[\(i)]"
            }
        }
        return out
    }

    public var description: String {
        path.isEmpty ? message : "attribute \(pathText): \(message)"
    }

    /// DynamoDB's wording (ours where DynamoDB has none).
    public var message: String {
        let invalid = "One or more parameter values were invalid: "
        switch kind {
        case let .number(e): return e.description
        case let .emptySet(typeName): return invalid + "An \(typeName) set  may not be empty"
        case let .duplicateInSet(members):
            return invalid + "Input collection [\(members.joined(separator: ", "))] contains duplicates."
        case .nestingTooDeep:
            return "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
        case .itemTooLarge: return "Item size has exceeded the maximum allowed size"
        case .nullMustBeTrue: return invalid + "Null attribute value types must have the value of true"
        case .emptyAttributeValue:
            return "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        case .multipleDataTypes:
            return "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        case let .unknownType(tag):
            return "unknown DynamoDB type '\(tag)' (expected one of S, N, B, BOOL, NULL, M, L, SS, NS, BS)"
        case .invalidBase64: return "Invalid Base64 value in a binary attribute"
        case let .wrongJSONType(typeName, expected): return "\(typeName) value must be \(expected)"
        case let .duplicateName(name): return "duplicate attribute name '\(name)'"
        case .notAnObject: return "an item must be a JSON object"
        case let .unexpectedKeyBesideItem(key): return "unexpected key '\(key)' beside 'Item'"
        case let .missingKey(name): return invalid + "Missing the key \(name) in the item"
        case let .keyTypeMismatch(name, expected, actual):
            return invalid + "Type mismatch for key \(name) expected: \(expected) actual: \(actual)"
        case let .emptyKeyValue(name, binary):
            return "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty \(binary ? "binary" : "string") value. Key: \(name)"
        case .hashKeyTooLarge:
            // DynamoDB's text, missing space included.
            return invalid + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
        case .rangeKeyTooLarge:
            return invalid + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
        case .emptyAttributeName: return invalid + "An attribute name may not be empty"
        case let .attributeNameTooLong(bytes):
            // DynamoDB's own text for this is not documented.
            return invalid + "An attribute name is \(bytes) bytes, over DynamoDB's limit of \(ItemRules.maxAttributeNameBytes)"
        case let .controlWithOtherMembers(name, other): return "a \(name) line must hold nothing beside its \"\(name)\" member, not \"\(other)\""
        }
    }

    /// The same error one level further out.
    func inside(_ component: PathComponent) -> ItemError {
        var copy = self
        copy.path.insert(component, at: 0)
        return copy
    }
}
