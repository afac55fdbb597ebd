/// Reads the members of one JSON object strictly, for Ferry's own files and headers
/// (table.json, backup headers and trailers, manifests): each member is read by name with
/// the type it must have, and an error names it by its path (`table.KeySchema[1].KeyType`).
/// `finish()` refuses members nothing read and names given twice, so a tampered or
/// mistyped file is refused by name instead of read as a default. Not thread-safe.
public struct JSONFields {
    public let path: String
    private let members: [JSONMember]
    private var read: Set<String> = []

    /// Fails unless `value` is an object (`what` names it when it is missing).
    public init(_ value: JSONValue?, path: String) throws {
        self.path = path
        guard let value else { throw JSONFieldError(path: path, problem: "is missing") }
        guard case let .object(members) = value else { throw JSONFieldError(path: path, problem: "is not an object") }
        self.members = members
        var seen: Set<String> = []
        for member in members where !seen.insert(member.key).inserted {
            throw JSONFieldError(path: child(member.key), problem: "is given twice")
        }
    }

    public func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// The member's value, or nil when absent (marks it read).
    public mutating func value(_ name: String) -> JSONValue? {
        read.insert(name)
        return members.first { $0.key == name }?.value
    }

    public func error(_ name: String, _ problem: String) -> JSONFieldError {
        JSONFieldError(path: child(name), problem: problem)
    }

    public mutating func string(_ name: String) throws -> String {
        guard let text = try optionalString(name) else { throw error(name, "is missing") }
        return text
    }

    public mutating func optionalString(_ name: String) throws -> String? {
        guard let v = value(name) else { return nil }
        guard let text = v.stringValue else { throw error(name, "is not a string") }
        return text
    }

    public mutating func bool(_ name: String) throws -> Bool {
        guard let flag = try optionalBool(name) else { throw error(name, "is missing") }
        return flag
    }

    public mutating func optionalBool(_ name: String) throws -> Bool? {
        guard let v = value(name) else { return nil }
        guard let flag = v.boolValue else { throw error(name, "is not true or false") }
        return flag
    }

    /// The largest count a Ferry file may hold (2^53): sums of counts cannot overflow.
    public static let maxCount = 1 << 53

    /// A whole number in `range`.
    public mutating func int(_ name: String, in range: ClosedRange<Int> = 0...JSONFields.maxCount) throws -> Int {
        guard let n = try optionalInt(name, in: range) else { throw error(name, "is missing") }
        return n
    }

    public mutating func optionalInt(_ name: String, in range: ClosedRange<Int> = 0...JSONFields.maxCount) throws -> Int? {
        guard let v = value(name) else { return nil }
        guard let text = v.numberText, let n = Int(text) else { throw error(name, "is not a whole number") }
        guard range.contains(n) else { throw error(name, "is \(n), not in \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    /// A number of seconds since 1970 (a time, as DynamoDB's JSON gives them), from 0 to
    /// 1e11 (the year 5138): a time past that is no time, and would overflow milliseconds.
    public mutating func optionalSeconds(_ name: String) throws -> Double? {
        guard let v = value(name) else { return nil }
        guard let text = v.numberText, let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= 1e11 else {
            throw error(name, "is not a time in seconds (0 to 1e11)")
        }
        return seconds
    }

    public mutating func optionalArray(_ name: String) throws -> [JSONValue]? {
        guard let v = value(name) else { return nil }
        guard let list = v.arrayValue else { throw error(name, "is not a list") }
        return list
    }

    public mutating func array(_ name: String) throws -> [JSONValue] {
        guard let list = try optionalArray(name) else { throw error(name, "is missing") }
        return list
    }

    /// One of `allowed`.
    public mutating func choice(_ name: String, _ allowed: [String]) throws -> String {
        let text = try string(name)
        guard allowed.contains(text) else { throw error(name, "is '\(text)', not one of \(allowed.joined(separator: ", "))") }
        return text
    }

    /// Refuses members nothing read.
    public func finish() throws {
        if let unknown = members.first(where: { !read.contains($0.key) }) {
            throw JSONFieldError(path: child(unknown.key), problem: "is not a member this format has")
        }
    }
}

/// A member of a Ferry file that is missing, mistyped or out of range.
public struct JSONFieldError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var problem: String
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path) \(problem)" }
}
