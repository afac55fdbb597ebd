import Foundation
import FerryIO
import FerryValues

/// What the aws CLI does around a call: automatic pagination of Query, Scan and
/// ListTables, and its JSON output (4-space indent, timestamps as ISO 8601).
public enum AWSCLIOutput {
    /// Pages through `operation` as the aws CLI's paginator does, unless the request
    /// names a page itself (Limit or the start key), and merges the pages: lists
    /// concatenated, counts summed, `ConsumedCapacity` the first page's (null without one),
    /// as botocore keeps its non-aggregate keys.
    public static func call(_ service: any DynamoDBAPI, _ operation: String, _ request: JSONValue,
                            paginate: Bool = true, pageSize: Int? = nil) throws -> JSONValue {
        let (inputToken, outputToken, resultKeys, nonAggregate): (String, String, [String], [String])
        switch operation {
        case "Query", "Scan": (inputToken, outputToken, resultKeys, nonAggregate) = ("ExclusiveStartKey", "LastEvaluatedKey", ["Items", "Count", "ScannedCount"], ["ConsumedCapacity"])
        case "ListTables": (inputToken, outputToken, resultKeys, nonAggregate) = ("ExclusiveStartTableName", "LastEvaluatedTableName", ["TableNames"], [])
        default: return try service.call(operation, request).expandedDeep
        }
        guard paginate, request[inputToken] == nil, request["Limit"] == nil else {
            return try service.call(operation, request).expandedDeep
        }
        var current = request
        if let pageSize { current = with(current, "Limit", .number(String(pageSize))) }
        var lists: [String: [JSONValue]] = [:]
        var sums: [String: Int] = [:]
        var first: JSONValue? = nil
        while true {
            let page = try service.call(operation, current).expandedDeep
            if first == nil { first = page }
            for key in resultKeys {
                switch page[key] {
                case let .array(items)?: lists[key, default: []] += items
                case let .number(n)?: sums[key, default: 0] += Int(n) ?? 0
                default: break
                }
            }
            guard let next = page[outputToken] else { break }
            current = with(current, inputToken, next)
        }
        var members: [JSONMember] = []
        for key in resultKeys {
            if let list = lists[key] { members.append(JSONMember(key, .array(list))) }
            if let sum = sums[key] { members.append(JSONMember(key, .number(String(sum)))) }
        }
        if operation == "ListTables" && lists["TableNames"] == nil { members.append(JSONMember("TableNames", .array([]))) }
        for key in nonAggregate { members.append(JSONMember(key, first?[key] ?? .null)) }
        return .object(members)
    }

    static func with(_ object: JSONValue, _ key: String, _ value: JSONValue) -> JSONValue {
        var members = object.objectValue ?? []
        if let i = members.firstIndex(where: { $0.key == key }) { members[i].value = value } else { members.append(JSONMember(key, value)) }
        return .object(members)
    }

    static let timestampKeys: Set<String> = ["CreationDateTime", "LastIncreaseDateTime", "LastDecreaseDateTime",
                                             "LastUpdateToPayPerRequestDateTime", "LastUpdateDateTime"]

    /// The text the aws CLI prints for a response: nothing for an empty one.
    public static func text(_ response: JSONValue) -> String {
        if case let .object(members) = response, members.isEmpty { return "" }
        return isoTimes(response).prettyText(indent: 4) + "\n"
    }

    static func isoTimes(_ v: JSONValue) -> JSONValue {
        switch v {
        case let .object(members):
            return .object(members.map { m in
                if timestampKeys.contains(m.key), let n = m.value.numberText, let t = Double(n) { return JSONMember(m.key, .string(isoTime(t))) }
                return JSONMember(m.key, isoTimes(m.value))
            })
        case let .array(items): return .array(items.map(isoTimes))
        default: return v
        }
    }

    /// As Python's `datetime.isoformat()` in UTC: microseconds only when non-zero.
    public static func isoTime(_ t: Double) -> String {
        let micros = Int64((t * 1_000_000).rounded())
        let seconds = micros / 1_000_000, fraction = Int(micros % 1_000_000)
        let days = Int(seconds / 86400), rest = Int(seconds % 86400)
        let (year, month, day) = CivilDate.date(days: Int64(days))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
        if fraction != 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: 6 - f.count) + f
        }
        return text + "+00:00"
    }
}
