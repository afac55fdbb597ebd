import FerryIO

/// What the object store refuses or fails at. Each renders as one line: the S3 error
/// name where S3 has one, the s3:// path, and S3's message (docs/object-store.md).
public enum ObjectStoreError: Error, CustomStringConvertible, Equatable {
    case noSuchBucket(String)
    case noSuchKey(bucket: String, key: String)
    case bucketAlreadyExists(String)
    case bucketNotEmpty(String)
    case invalidBucketName(String, reason: String)
    case keyTooLong(bucket: String, key: String)
    /// A key that cannot be a safe path on disk (S3 itself would accept it).
    case unsafeKey(bucket: String, key: String, reason: String)
    /// A key that is also the "folder" of another key, or the reverse.
    case keyConflict(bucket: String, key: String, existing: String)
    case invalidRange(bucket: String, key: String, range: String)
    case invalidArgument(String)
    case io(IOError)
    /// The bytes on disk no longer match the CRC32 recorded when the object was put.
    case checksumMismatch(bucket: String, key: String, expected: String, actual: String)

    /// S3's error code, or Ferry's where S3 has none.
    public var code: String {
        switch self {
        case .noSuchBucket: return "NoSuchBucket"
        case .noSuchKey: return "NoSuchKey"
        case .bucketAlreadyExists: return "BucketAlreadyExists"
        case .bucketNotEmpty: return "BucketNotEmpty"
        case .invalidBucketName: return "InvalidBucketName"
        case .keyTooLong: return "KeyTooLongError"
        case .unsafeKey: return "UnsafeKey"
        case .keyConflict: return "KeyConflict"
        case .invalidRange: return "InvalidRange"
        case .invalidArgument: return "InvalidArgument"
        case .io: return "InternalError"
        case .checksumMismatch: return "BadDigest"
        }
    }

    public var description: String {
        switch self {
        case let .noSuchBucket(b): return "\(code): s3://\(b): The specified bucket does not exist"
        case let .noSuchKey(b, k): return "\(code): s3://\(b)/\(k): The specified key does not exist."
        case let .bucketAlreadyExists(b): return "\(code): s3://\(b): The requested bucket name is not available."
        case let .bucketNotEmpty(b): return "\(code): s3://\(b): The bucket you tried to delete is not empty"
        case let .invalidBucketName(b, reason): return "\(code): \(b): The specified bucket is not valid: \(reason)"
        case let .keyTooLong(b, k): return "\(code): s3://\(b)/\(k.prefix(64))...: Your key is too long (over 1024 bytes)"
        case let .unsafeKey(b, k, reason): return "\(code): s3://\(b)/\(k): the key cannot be stored as a file: \(reason)"
        case let .keyConflict(b, k, existing):
            return "\(code): s3://\(b)/\(k): conflicts with s3://\(b)/\(existing): a key cannot also be the folder of another key"
        case let .invalidRange(b, k, range): return "\(code): s3://\(b)/\(k): The requested range is not satisfiable: \(range)"
        case let .invalidArgument(text): return "\(code): \(text)"
        case let .io(error): return "\(code): \(error)"
        case let .checksumMismatch(b, k, expected, actual):
            return "\(code): s3://\(b)/\(k): the stored bytes do not match the object's CRC32 (\(actual), recorded \(expected)): the object is damaged on disk"
        }
    }
}

/// Runs `body`, turning file-system errors into `ObjectStoreError.io`.
@inline(__always)
func storeIO<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as IOError { throw ObjectStoreError.io(error) }
}
