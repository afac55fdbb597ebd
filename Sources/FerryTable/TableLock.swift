#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// One writer process per table (docs/concurrency.md, rule 1): an exclusive `flock` on
/// `<table>/LOCK`, which also records who holds it ("<pid> <program>\n") so a second
/// writer can be told. The kernel releases the lock when the holder exits, however it
/// exits, so a crashed writer never leaves a table locked.
public final class TableLock {
    public enum LockError: Error, CustomStringConvertible, Equatable {
        case held(table: String, pid: Int32, program: String)
        case failed(table: String, path: String, errno: Int32)

        public var description: String {
            switch self {
            case let .held(table, pid, program):
                // A server holds its tables for its whole life: say where to send writes.
                if program.hasPrefix("ferry-serve at ") {
                    let url = program.dropFirst("ferry-serve at ".count)
                    return "table '\(table)' is held by ferry-serve at \(url) (pid \(pid)): send writes to that endpoint (aws dynamodb --endpoint-url \(url) ...), or stop the server first"
                }
                return "table '\(table)' is locked by pid \(pid) (\(program))"
            case let .failed(table, path, e):
                return "table '\(table)': cannot lock \(path): \(errnoDescription(e))"
            }
        }
    }

    public let path: String
    private let fd: Int32

    /// Takes the lock for `table` in `folder`, or throws `held` naming the holder.
    public init(table: String, folder: String, program: String) throws {
        path = folder + "/LOCK"
        let fd = Syscall.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw LockError.failed(table: table, path: path, errno: -fd) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            defer { close(fd) }
            guard code == EWOULDBLOCK else { throw LockError.failed(table: table, path: path, errno: code) }
            let (pid, holder) = Self.holder(fd)
            throw LockError.held(table: table, pid: pid, program: holder)
        }
        // Record the holder; readers of this file only look while the lock is held.
        let record = "\(getpid()) \(program)\n"
        _ = Syscall.ftruncate(fd, 0)
        record.withCString { _ = Syscall.pwriteAll(fd, $0, strlen($0), at: 0) }
        self.fd = fd
    }

    private var released = false

    /// Gives the lock up (also done on deinit).
    public func release() {
        guard !released else { return }
        released = true
        _ = Syscall.ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }

    deinit { release() }

    private static func holder(_ fd: Int32) -> (Int32, String) {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = pread(fd, &buffer, buffer.count, 0)
        let text = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
        let parts = text.split(separator: "\n").first.map { $0.split(separator: " ", maxSplits: 1) } ?? []
        let pid = parts.first.flatMap { Int32($0) } ?? 0
        return (pid, parts.count > 1 ? String(parts[1]) : "unknown program")
    }
}
