import Foundation
import FerryTable
import FerryValues

/// The table options CreateTable and UpdateTable take besides keys and indexes (tags,
/// streams, encryption, table class, on-demand limits), and the tag operations, with
/// DynamoDB's checks and messages (docs/ferry-serve.md, "Table options").
extension DynamoDBService {
    static let maxTags = 50

    // MARK: Tags

    /// A Tags list (CreateTable, TagResource): each key 1-128 and value 0-256 characters
    /// of letters, digits, spaces and `+ - = . _ : / @`; no `aws:` prefix.
    func tags(_ v: JSONValue?, field: String) throws -> [TableDescription.Tag] {
        guard let v else { return [] }
        guard let list = v.arrayValue else { throw DynamoDBError(.serialization, "Unexpected value type in payload") }
        var out: [TableDescription.Tag] = []
        for entry in list {
            let e = try RequestReader(entry, operation: "")
            guard let key = try e.string("Key") else { throw DynamoDBError.validation("The Tag Key provided is invalid, Key: null") }
            let value = try e.string("Value") ?? ""
            try Self.checkTag(key: key, value: value)
            if out.contains(where: { $0.key == key }) {
                throw DynamoDBError.validation("Duplicate tag keys found in the request: \(key)")
            }
            out.append(.init(key: key, value: value))
        }
        return out
    }

    static func checkTag(key: String, value: String) throws {
        if key.hasPrefix("aws:") { throw DynamoDBError.validation("Tag Key cannot be prefixed with aws:, Key: \(key)") }
        // Lengths as DynamoDB counts them (UTF-16 code units, Java's), not graphemes: one
        // grapheme can be megabytes.
        guard (1...128).contains(key.utf16.count), tagCharactersAllowed(key) else {
            throw DynamoDBError.validation("The Tag Key provided is invalid, Key: \(key)")
        }
        guard value.utf16.count <= 256, tagCharactersAllowed(value) else {
            throw DynamoDBError.validation("The Tag Value provided is invalid, Value: \(value)")
        }
    }

    /// Letters and digits of any script, white space, and `+ - = . _ : / @`.
    static func tagCharactersAllowed(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { c in
            c.properties.isAlphabetic || c.properties.numericType != nil || c.properties.isWhitespace || "+-=._:/@".unicodeScalars.contains(c)
        }
    }

    /// The table a tag operation's ResourceArn names.
    private func taggedTable(_ r: RequestReader) throws -> String {
        guard let arn = try r.string("ResourceArn") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
        }
        guard let name = ResourceNames.table(fromArn: arn), (try? TableCatalog.validateName(name)) != nil else {
            throw DynamoDBError.validation("Invalid TableArn: Invalid ResourceArn provided as input \(arn)")
        }
        guard try catalog.names().contains(name) else {
            throw DynamoDBError(.resourceNotFound, "Requested resource not found: ResourceArn: \(arn) not found")
        }
        return name
    }

    func tagResource(_ r: RequestReader) throws -> JSONValue {
        let name = try taggedTable(r)
        guard r["Tags"] != nil else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
        }
        let new = try tags(r["Tags"], field: "tags")
        if new.isEmpty { throw DynamoDBError.validation("Atleast one Tag needs to be provided as Input.") }
        return try withWriter(name) { table in
            var d = table.description
            for tag in new {
                if let i = d.tags.firstIndex(where: { $0.key == tag.key }) { d.tags[i] = tag } else { d.tags.append(tag) }
            }
            if d.tags.count > Self.maxTags {
                throw DynamoDBError.validation("Number of Tags exceed the current limit for the provided ResourceArn")
            }
            try table.replace(description: d)
            return .object([])
        }
    }

    func untagResource(_ r: RequestReader) throws -> JSONValue {
        let name = try taggedTable(r)
        guard let keys = r["TagKeys"] else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
        }
        guard let list = keys.arrayValue?.compactMap(\.stringValue), list.count == keys.arrayValue?.count else {
            throw DynamoDBError(.serialization, "Unexpected value type in payload")
        }
        if list.isEmpty { throw DynamoDBError.validation("Atleast one Tag Key needs to be provided as Input.") }
        return try withWriter(name) { table in
            var d = table.description
            d.tags.removeAll { list.contains($0.key) }
            if d.tags != table.description.tags { try table.replace(description: d) }
            return .object([])
        }
    }

    func listTagsOfResource(_ r: RequestReader) throws -> JSONValue {
        let name = try taggedTable(r)
        // A NextToken is accepted; at 50 tags at most, every answer is one page.
        _ = try r.string("NextToken")
        let d = try reader(name).description
        return .object([JSONMember("Tags", .array(d.tags.map {
            .object([JSONMember("Key", .string($0.key)), JSONMember("Value", .string($0.value))])
        }))])
    }

    // MARK: Streams, encryption, class, on-demand limits

    /// StreamSpecification. Creating: nil for none. Updating: `.some(nil)` disables.
    func streamSpecification(_ v: JSONValue?, table: String, current: TableDescription.StreamSettings??) throws -> TableDescription.StreamSettings?? {
        guard let v else { return nil }
        let s = try RequestReader(v, operation: "")
        guard let enabled = try s.bool("StreamEnabled") else {
            throw DynamoDBError.validation("1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null")
        }
        let view = try s.string("StreamViewType")
        if let view, !TableDescription.streamViewTypes.contains(view) {
            throw DynamoDBError.validation("1 validation error detected: Value '\(view)' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [\(TableDescription.streamViewTypes.joined(separator: ", "))]")
        }
        guard let current else {
            // CreateTable.
            if enabled, view == nil {
                throw DynamoDBError.invalidParameter("Table is being created with a stream enabled, UpdateViewType is required")
            }
            if !enabled, view != nil {
                throw DynamoDBError.invalidParameter("Table is being created with a stream disabled, UpdateViewType should not be specified")
            }
            return .some(view.map { .init(viewType: $0) })
        }
        if enabled {
            if current != nil { throw DynamoDBError.validation("Table already has an enabled stream: TableName: \(table)") }
            guard let view else { throw DynamoDBError.invalidParameter("If stream is being enabled then UpdateViewType is required") }
            return .some(.init(viewType: view))
        }
        if view != nil { throw DynamoDBError.invalidParameter("If stream is being disabled, then UpdateViewType must not be specified") }
        if current == nil { throw DynamoDBError.validation("Table has no stream to disable: TableName: \(table)") }
        return .some(nil)
    }

    /// SSESpecification: `.some(nil)` for the default (AWS-owned) key, `.some(key)` for KMS.
    func sseSpecification(_ v: JSONValue?) throws -> TableDescription.EncryptionSettings?? {
        guard let v else { return nil }
        let s = try RequestReader(v, operation: "")
        let enabled = try s.bool("Enabled")
        let type = try s.string("SSEType")
        let key = try s.string("KMSMasterKeyId")
        if let type, !["AES256", "KMS"].contains(type) {
            throw DynamoDBError.validation("1 validation error detected: Value '\(type)' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]")
        }
        if enabled == false {
            if type != nil { throw DynamoDBError.invalidParameter("SSEType can not be specified if Enabled is false") }
            if key != nil { throw DynamoDBError.invalidParameter("KMSMasterKeyId can not be specified if Enabled is false") }
            return .some(nil)
        }
        if type == "AES256" { throw DynamoDBError.invalidParameter("SSEType AES256 is not supported") }
        if key != nil, type == nil { throw DynamoDBError.invalidParameter("SSEType KMS is required if KMSMasterKeyId is specified") }
        if enabled == nil, type == nil { return nil }
        let (region, account) = ResourceNames.current
        let arn: String
        switch key {
        case nil: arn = "arn:aws:kms:\(region):\(account):alias/aws/dynamodb"
        case let k? where k.hasPrefix("arn:"): arn = k
        case let k? where k.hasPrefix("alias/"): arn = "arn:aws:kms:\(region):\(account):\(k)"
        case let k?: arn = "arn:aws:kms:\(region):\(account):key/\(k)"
        }
        return .some(.init(kmsKeyArn: arn))
    }

    func tableClass(_ r: RequestReader) throws -> String? {
        guard let text = try r.string("TableClass") else { return nil }
        guard TableDescription.tableClasses.contains(text) else {
            throw DynamoDBError.validation("1 validation error detected: Value '\(text)' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [\(TableDescription.tableClasses.joined(separator: ", "))]")
        }
        return text
    }

    func onDemandThroughput(_ v: JSONValue?, current: (maxRead: Int, maxWrite: Int)?) throws -> (maxRead: Int, maxWrite: Int)? {
        guard let v else { return nil }
        let o = try RequestReader(v, operation: "")
        func limit(_ member: String, _ old: Int) throws -> Int {
            guard let n = try o.int(member) else { return old }
            guard n == -1 || n >= 1 else {
                throw DynamoDBError.invalidParameter("\(member) must be at least 1, or -1 for no limit; got \(n)")
            }
            return n
        }
        let out = (maxRead: try limit("MaxReadRequestUnits", current?.maxRead ?? -1),
                   maxWrite: try limit("MaxWriteRequestUnits", current?.maxWrite ?? -1))
        return out
    }

    /// Applies the options of a CreateTable or UpdateTable request to `d`; true when
    /// anything changed.
    func applyOptions(_ r: RequestReader, to d: inout TableDescription, creating: Bool) throws -> Bool {
        var changed = false
        if let stream = try streamSpecification(r["StreamSpecification"], table: d.name, current: creating ? nil : .some(d.stream)) {
            d.stream = stream
            changed = true
        }
        if let encryption = try sseSpecification(r["SSESpecification"]) {
            d.encryption = encryption
            changed = true
        }
        if let name = try tableClass(r) {
            // STANDARD on a table that never changed its class leaves no summary, as in DynamoDB.
            if !(name == "STANDARD" && d.tableClass == nil) { d.tableClass = (name, Date().timeIntervalSince1970) }
            changed = true
        }
        if let limits = try onDemandThroughput(r["OnDemandThroughput"], current: d.onDemand) {
            d.onDemand = limits
            changed = true
        }
        return changed
    }
}
