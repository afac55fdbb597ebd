import FerryExpressions
import FerryIO
import FerryTable
import FerryValues

/// Reading DynamoDB request JSON: typed members with DynamoDB's validation messages.
struct RequestReader {
    let json: JSONValue
    let operation: String

    init(_ json: JSONValue, operation: String) throws {
        guard case .object = json else { throw DynamoDBError(.serialization, "Start of structure or map found where not expected") }
        self.json = json
        self.operation = operation
    }

    subscript(_ key: String) -> JSONValue? {
        if case .null? = json[key] { return nil }
        return json[key]
    }

    func string(_ key: String) throws -> String? {
        guard let v = self[key] else { return nil }
        guard let s = v.stringValue else { throw DynamoDBError(.serialization, "NUMBER_VALUE cannot be converted to String") }
        return s
    }

    func requiredString(_ key: String, field: String) throws -> String {
        guard let s = try string(key) else {
            throw DynamoDBError.validation("1 validation error detected: Value null at '\(field)' failed to satisfy constraint: Member must not be null")
        }
        return s
    }

    func int(_ key: String) throws -> Int? {
        guard let v = self[key] else { return nil }
        if let n = v.numberText, let i = Int(n) { return i }
        if let s = v.stringValue, let i = Int(s) { return i }
        throw DynamoDBError(.serialization, "STRING_VALUE can not be converted to an Integer")
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = self[key] else { return nil }
        if let b = v.boolValue { return b }
        throw DynamoDBError(.serialization, "Unexpected token received from parser")
    }

    func tableName() throws -> String {
        let name = try requiredString("TableName", field: "tableName")
        try TableCatalog.validateName(name)
        return name
    }

    /// A map of attribute values (Item, Key, ExclusiveStartKey).
    func item(_ key: String) throws -> Item? {
        guard let v = self[key] else { return nil }
        return try Self.item(from: v)
    }

    static func item(from v: JSONValue) throws -> Item {
        guard case .object = v else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        let bytes = ByteBuffer(capacity: 256)
        v.write(into: bytes)
        do {
            return try ItemDecoder.forThisThread.decodeItem(bytes.bytes)
        } catch let e as ItemError {
            throw DynamoDBError.validation(e.message)
        } catch {
            throw DynamoDBError(.serialization, "\(error)")
        }
    }

    static func value(from v: JSONValue) throws -> AttributeValue {
        let bytes = ByteBuffer(capacity: 64)
        v.write(into: bytes)
        do {
            return try ItemDecoder.decodeTypedValue(bytes.bytes)
        } catch let e as ItemError {
            throw DynamoDBError.validation(e.message)
        } catch {
            throw DynamoDBError(.serialization, "\(error)")
        }
    }

    /// ExpressionAttributeNames and ExpressionAttributeValues.
    func expressionContext() throws -> ExpressionContext {
        var context = ExpressionContext()
        if let names = self["ExpressionAttributeNames"] {
            guard let members = names.objectValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
            if members.isEmpty { throw DynamoDBError.validation("ExpressionAttributeNames must not be empty") }
            for m in members {
                guard let s = m.value.stringValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
                context.names[m.key] = s
            }
        }
        if let values = self["ExpressionAttributeValues"] {
            guard let members = values.objectValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
            if members.isEmpty { throw DynamoDBError.validation("ExpressionAttributeValues must not be empty") }
            for m in members {
                guard m.key.hasPrefix(":") else {
                    throw DynamoDBError.validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"\(m.key)\"")
                }
                do { context.values[m.key] = try Self.value(from: m.value) } catch let e as DynamoDBError {
                    throw DynamoDBError.validation("ExpressionAttributeValues contains invalid value: \(e.message) for key \(m.key)")
                }
            }
        }
        return context
    }

    func expressionText(_ key: String) throws -> String? { try string(key) }
}

/// Turns expression faults into DynamoDB's ValidationException.
func validating<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ExpressionError {
        throw DynamoDBError.validation(e.description)
    } catch let e as ItemError {
        throw DynamoDBError.validation(e.message)
    }
}

/// Items as response JSON.
func itemJSON(_ item: Item) -> JSONValue {
    let out = ByteBuffer(capacity: 256)
    ItemEncoder.writeTypedMap(item, into: out)
    return .encoded(out.array)
}
