/// Failures of reading and writing bytes. Each names the file (or "-") it concerns.
public enum IOError: Error, CustomStringConvertible, Equatable {
    case openFailed(path: String, errno: Int32)
    case readFailed(path: String, errno: Int32)
    case writeFailed(path: String, errno: Int32)
    /// The reader of our output went away (EPIPE): `ferry-x | head` is normal use,
    /// so executables end quietly on this one.
    case brokenPipe(path: String)
    case lineTooLong(path: String, line: Int, limit: Int)
    /// A whole input read into memory (a document, a manifest) was over its limit.
    case tooLarge(path: String, limit: Int)
    case syncFailed(path: String, errno: Int32)
    case renameFailed(from: String, to: String, errno: Int32)
    /// Any other file-system call that failed on `path`.
    case failed(operation: String, path: String, errno: Int32)
    /// A command that only reads was given a data folder that does not exist.
    case noDataFolder(path: String)
    /// Input that is not text Ferry can read (another compression, UTF-16, binary).
    case unreadableInput(path: String, reason: String)

    public var description: String {
        switch self {
        case let .openFailed(path, e): return "\(path): cannot open: \(errnoDescription(e))"
        case let .readFailed(path, e): return "\(path): read failed: \(errnoDescription(e))"
        case let .writeFailed(path, e): return "\(path): writing output failed: \(errnoDescription(e))"
        case let .brokenPipe(path): return "\(path): broken pipe"
        case let .lineTooLong(path, line, limit):
            return "\(path):\(line): line is longer than the limit of \(limit) bytes"
        case let .tooLarge(path, limit): return "\(path): larger than the limit of \(limit) bytes for this kind of file"
        case let .syncFailed(path, e): return "\(path): fsync failed: \(errnoDescription(e))"
        case let .renameFailed(from, to, e): return "cannot rename \(from) to \(to): \(errnoDescription(e))"
        case let .failed(operation, path, e): return "\(path): \(operation) failed: \(errnoDescription(e))"
        case let .unreadableInput(path, reason): return "\(path): \(reason)"
        case let .noDataFolder(path):
            return "no data folder at \(path) (check --data or FERRY_DATA; a command that writes creates it)"
        }
    }
}
