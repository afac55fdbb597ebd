#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The region and account in the ARNs Ferry gives its tables and indexes
/// (`arn:aws:dynamodb:us-east-1:000000000000:table/Music`): a local table has neither,
/// so they are whatever the caller says (`ferry-serve --region`, `ferry-table
/// --region`, else `AWS_REGION` or `AWS_DEFAULT_REGION`; `--account-id` or
/// `FERRY_ACCOUNT_ID`), defaulting to us-east-1 and 000000000000, so ARNs a client
/// builds or keeps look like DynamoDB's. Thread-safe.
public enum ResourceNames {
    private static let scope = Mutex<(region: String, account: String)?>(nil)

    /// Sets the region and account (nil: keep the environment's or the default).
    public static func configure(region: String?, account: String?) {
        let current = self.current
        scope.withLock { $0 = (region ?? current.region, account ?? current.account) }
    }

    public static var current: (region: String, account: String) {
        if let set = scope.withLock({ $0 }) { return set }
        func env(_ name: String) -> String? {
            guard let raw = getenv(name) else { return nil }
            let s = String(cString: raw)
            return s.isEmpty ? nil : s
        }
        return (env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1", env("FERRY_ACCOUNT_ID") ?? "000000000000")
    }

    public static func tableArn(_ table: String) -> String {
        let (region, account) = current
        return "arn:aws:dynamodb:\(region):\(account):table/\(table)"
    }

    /// The table an ARN names, when it is one of this region's and account's table ARNs.
    public static func table(fromArn arn: String) -> String? {
        let prefix = tableArn("")
        guard arn.hasPrefix(prefix) else { return nil }
        let name = String(arn.dropFirst(prefix.count))
        return name.isEmpty || name.contains("/") ? nil : name
    }
}
