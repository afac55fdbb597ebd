/// Why ferry-extract could not read a source, or a record of one.
public enum ExtractError: Error, CustomStringConvertible {
    /// A source argument that is not `s3://bucket/…`, a path or `-`.
    case badSource(String, reason: String)
    /// Nothing at `s3://bucket/prefix` or the path.
    case noObjects(String)
    case badOption(String)
    /// One line that cannot be read (the caller adds the source and line).
    case badLine(String)
    /// One CSV record that cannot be read.
    case badRecord(line: Int, reason: String, text: [UInt8])
    /// A manifest that cannot be used: its object and why.
    case badManifest(String, reason: String)
    /// A data file whose MD5 or item count is not what its manifest says.
    case checksumMismatch(String, expected: String, actual: String)
    case countMismatch(String, expected: Int, actual: Int)
    /// An object that failed part way (corrupt gzip, truncated, unreadable).
    case objectFailed(String, reason: String)

    public var description: String {
        switch self {
        case let .badSource(source, reason): return "\(source): \(reason)"
        case let .noObjects(source): return "\(source): no objects or files found"
        case let .badOption(message): return message
        case let .badLine(reason): return reason
        case let .badRecord(_, reason, _): return reason
        case let .badManifest(source, reason): return "\(source): bad manifest: \(reason)"
        case let .checksumMismatch(source, expected, actual):
            return "\(source): MD5 \(actual) does not match the manifest's \(expected); the object was not read"
        case let .countMismatch(source, expected, actual):
            return "\(source): \(actual) items read but the manifest's itemCount says \(expected); the object was not marked complete"
        case let .objectFailed(source, reason): return "\(source): \(reason)"
        }
    }
}
