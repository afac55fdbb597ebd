/// Bucket names by S3's rules for general purpose buckets.
public enum BucketName {
    /// Throws `invalidBucketName` with the rule that `name` breaks.
    public static func validate(_ name: String) throws {
        func refuse(_ reason: String) -> ObjectStoreError { .invalidBucketName(name, reason: reason) }
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { throw refuse("must be 3 to 63 characters long") }
        for c in bytes {
            let ok = (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
            if !ok { throw refuse("only lowercase letters, digits, dots and hyphens are allowed") }
        }
        func alnum(_ c: UInt8) -> Bool { c != UInt8(ascii: ".") && c != UInt8(ascii: "-") }
        guard alnum(bytes.first!), alnum(bytes.last!) else { throw refuse("must begin and end with a letter or digit") }
        if name.contains("..") { throw refuse("must not contain two adjacent dots") }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) && $0.count <= 3 }) {
            throw refuse("must not be formatted as an IP address")
        }
        for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(prefix) {
            throw refuse("must not start with '\(prefix)'")
        }
        for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(suffix) {
            throw refuse("must not end with '\(suffix)'")
        }
    }
}

/// Object keys that can be stored as a path inside a bucket folder.
public enum ObjectKey {
    public static let maxBytes = 1024
    /// NAME_MAX on Linux file systems.
    public static let maxSegmentBytes = 255

    /// The key's path segments, or an error saying why the key cannot be a safe path.
    public static func segments(_ key: String, bucket: String) throws -> [String] {
        func refuse(_ reason: String) -> ObjectStoreError { .unsafeKey(bucket: bucket, key: key, reason: reason) }
        let size = key.utf8.count
        if size == 0 { throw refuse("the key is empty") }
        if size > maxBytes { throw ObjectStoreError.keyTooLong(bucket: bucket, key: key) }
        if key.utf8.contains(0) { throw refuse("it contains a NUL byte") }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            if part.isEmpty { throw refuse("it has an empty path segment (a leading, trailing or doubled '/')") }
            if part == "." || part == ".." { throw refuse("it has a '.' or '..' segment") }
            if part.utf8.count > maxSegmentBytes { throw refuse("a segment is longer than \(maxSegmentBytes) bytes") }
            if part.hasPrefix(".ferry-tmp-") { throw refuse("'.ferry-tmp-' is reserved for temporary files") }
        }
        return parts
    }
}

/// UTF-8 byte order, which is S3's listing order (Swift's String `<` is not).
@inline(__always)
func bytesLess(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in b.withUTF8 { y in x.lexicographicallyPrecedes(y) } }
}

/// S3 matches prefixes by bytes; Swift's `hasPrefix` works on characters, so a prefix
/// "e" would not match a key starting with "e" plus a combining accent.
@inline(__always)
func hasBytePrefix(_ s: String, _ prefix: String) -> Bool {
    var s = s, prefix = prefix
    return s.withUTF8 { x in prefix.withUTF8 { p in x.count >= p.count && x.starts(with: p) } }
}

/// The common prefix `key` rolls up to: `prefix` plus the key's bytes after it up to and
/// including the first `delimiter`; nil when the rest of the key has no delimiter.
func rolledUpPrefix(_ key: String, prefix: String, delimiter: String) -> String? {
    let k = Array(key.utf8), d = Array(delimiter.utf8)
    let start = prefix.utf8.count
    guard !d.isEmpty, k.count >= start + d.count else { return nil }
    var i = start
    while i + d.count <= k.count {
        if k[i] == d[0] && k[i..<(i + d.count)].elementsEqual(d) {
            return String(decoding: k[..<(i + d.count)], as: UTF8.self)
        }
        i += 1
    }
    return nil
}
