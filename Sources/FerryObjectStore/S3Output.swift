#if canImport(Glibc)
import Glibc
#endif
import FerryValues

/// What `aws s3` and `aws s3api` print, so scripts written for them read Ferry's output.
public enum S3Output {
    /// "2026-11-23T07:40:00+00:00", as the aws CLI prints S3 timestamps.
    public static func isoTimestamp(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return format(parts) { "\($0)-\($1)-\($2)T\($3):\($4):\($5)+00:00" }
    }

    /// "2026-11-23 07:40:00" in local time, as `aws s3 ls` prints it.
    public static func localTimestamp(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return format(parts) { "\($0)-\($1)-\($2) \($3):\($4):\($5)" }
    }

    private static func format(_ t: tm, _ build: (String, String, String, String, String, String) -> String) -> String {
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return build(String(t.tm_year + 1900), two(t.tm_mon + 1), two(t.tm_mday), two(t.tm_hour), two(t.tm_min), two(t.tm_sec))
    }

    /// `aws s3 ls` row of an object: time, size right-aligned in 10, then `name`.
    public static func lsObjectRow(_ info: ObjectInfo, name: String) -> String {
        let size = String(info.size)
        return localTimestamp(info.modified) + " " + String(repeating: " ", count: max(0, 10 - size.count)) + size + " " + name
    }

    /// `aws s3 ls` row of a common prefix: "PRE" right-aligned in 30, then the last
    /// segment with its "/".
    public static func lsPrefixRow(_ prefix: String) -> String {
        let segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
        let name = segments.count >= 2 ? String(segments[segments.count - 2]) : prefix
        return String(repeating: " ", count: 27) + "PRE " + name + "/"
    }

    public static func lsBucketRow(_ bucket: ObjectStore.BucketInfo) -> String {
        localTimestamp(bucket.created) + " " + bucket.name
    }

    /// The ListObjectsV2 response, members in the order of S3's response shape.
    public static func listObjectsV2(_ page: ListPage, bucket: String, request: ListRequest) -> JSONValue {
        var members: [JSONMember] = [JSONMember("IsTruncated", .bool(page.isTruncated))]
        if !page.contents.isEmpty {
            members.append(JSONMember("Contents", .array(page.contents.map { info in
                .object([
                    JSONMember("Key", .string(info.key)),
                    JSONMember("LastModified", .string(isoTimestamp(info.modified))),
                    JSONMember("ETag", .string(info.etag)),
                    JSONMember("Size", .number(String(info.size))),
                    JSONMember("StorageClass", .string("STANDARD")),
                ])
            })))
        }
        members.append(JSONMember("Name", .string(bucket)))
        members.append(JSONMember("Prefix", .string(request.prefix)))
        if let delimiter = request.delimiter { members.append(JSONMember("Delimiter", .string(delimiter))) }
        members.append(JSONMember("MaxKeys", .number(String(request.maxKeys))))
        if !page.commonPrefixes.isEmpty {
            members.append(JSONMember("CommonPrefixes", .array(page.commonPrefixes.map { .object([JSONMember("Prefix", .string($0))]) })))
        }
        members.append(JSONMember("KeyCount", .number(String(page.keyCount))))
        if let token = request.continuationToken { members.append(JSONMember("ContinuationToken", .string(token))) }
        if let next = page.nextContinuationToken { members.append(JSONMember("NextContinuationToken", .string(next))) }
        if let startAfter = request.startAfter { members.append(JSONMember("StartAfter", .string(startAfter))) }
        return .object(members)
    }

    /// The HeadObject response; ChecksumCRC32 only when asked for, as S3 does.
    public static func headObject(_ info: ObjectInfo, checksum: Bool = false, range: ClosedRange<Int>? = nil) -> JSONValue {
        var members: [JSONMember] = [
            JSONMember("AcceptRanges", .string("bytes")),
            JSONMember("LastModified", .string(isoTimestamp(info.modified))),
            JSONMember("ContentLength", .number(String(range?.count ?? info.size))),
            JSONMember("ETag", .string(info.etag)),
        ]
        if checksum && range == nil { members.append(JSONMember("ChecksumCRC32", .string(info.crc32))) }
        if let range { members.append(JSONMember("ContentRange", .string("bytes \(range.lowerBound)-\(range.upperBound)/\(info.size)"))) }
        members.append(JSONMember("ContentType", .string(info.contentType)))
        members.append(JSONMember("Metadata", .object(info.metadata.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })))
        return .object(members)
    }
}

/// Where a `ferry-s3` argument points: an object store location, a local path, or "-".
public enum Location: Equatable, Sendable {
    case s3(bucket: String, key: String)
    case local(String)
    case standardStream

    public init(_ text: String) {
        if text == "-" { self = .standardStream; return }
        guard text.hasPrefix("s3://") else { self = .local(text); return }
        let rest = text.dropFirst(5)
        if let slash = rest.firstIndex(of: "/") {
            self = .s3(bucket: String(rest[..<slash]), key: String(rest[rest.index(after: slash)...]))
        } else {
            self = .s3(bucket: String(rest), key: "")
        }
    }

    public var text: String {
        switch self {
        case let .s3(bucket, key): return "s3://\(bucket)/\(key)"
        case let .local(path): return path
        case .standardStream: return "-"
        }
    }
}
