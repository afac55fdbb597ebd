import FerryExpressions
import FerryValues

/// Time to live (docs/ferry-serve.md, "Time to live"): an item expires when its TTL
/// attribute is a top-level Number of epoch seconds before now, but not five years or
/// more before (DynamoDB's guard against values in other units). Expired items are
/// deleted by a sweep (ferry-serve's background thread, `ferry-table sweep-ttl`), each
/// with a condition that it is still expired when its delete commits, so an item
/// updated meanwhile stays; until then reads still return them, as DynamoDB's do.
public enum TimeToLiveRule {
    public static let fiveYears = 5 * 365 * 86_400

    /// The condition a sweep's delete carries: the attribute still says "expired".
    public static func stillExpired(attribute: String, now: Double) throws -> ConditionExpression {
        let seconds = Int(now.rounded(.down))
        let context = ExpressionContext(names: ["#ttl": attribute],
                                        values: [":now": .n(DynamoNumber(seconds)), ":floor": .n(DynamoNumber(seconds - fiveYears))])
        return try ConditionExpression("#ttl < :now AND #ttl >= :floor", context: context)
    }
}

extension Table {
    /// The keys of the items expired at `now` under the table's time to live (none when
    /// it is disabled), at most `limit`, and how many items were looked at.
    public func expiredKeys(now: Double, limit: Int = 100_000) throws -> (scanned: Int, keys: [Item]) {
        guard let ttl = description.timeToLive else { return (0, []) }
        let expired = try TimeToLiveRule.stillExpired(attribute: ttl.attributeName, now: now)
        var scanned = 0
        var keys: [Item] = []
        let reader = ItemDecoder.forThisThread
        try snapshot().scan(lower: [ItemKeys.tableKeyspace], upper: [ItemKeys.tableKeyspace + 1]) { _, value in
            scanned += 1
            let item = try decodeStored(value, decoder: reader)
            if item[ttl.attributeName] != nil, try expired.evaluate(item) { keys.append(keyOf(item)) }
            return keys.count < limit
        }
        return (scanned, keys)
    }
}
