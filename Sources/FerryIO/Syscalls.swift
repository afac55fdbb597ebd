// The raw system calls FerryIO makes, each retrying EINTR. Nothing else in Ferry calls
// read/write/open directly, so a fault-injection layer has one place to hook in.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Syscall {
    /// read(2), retried on EINTR. Returns bytes read (0 at end of file) or -errno.
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            return -Int(errno)
        }
    }

    /// write(2) of the whole range, retried on EINTR and short writes.
    /// Either writes everything or returns the errno of the failing call.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int32 {
        var done = 0
        while done < count {
            let n = Glibc.write(fd, buffer + done, count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? errno : EIO
        }
        return 0
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags, mode)
            if fd >= 0 || errno != EINTR { return fd >= 0 ? fd : -errno }
        }
    }

    static func openat(_ dir: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
        while true {
            let fd = Glibc.openat(dir, name, flags, mode)
            if fd >= 0 || errno != EINTR { return fd >= 0 ? fd : -errno }
        }
    }

    static func close(_ fd: Int32) -> Int32 {
        Glibc.close(fd) == 0 ? 0 : errno
    }

    static func fsync(_ fd: Int32) -> Int32 {
        while true {
            if Glibc.fsync(fd) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }
}

/// The text of an errno value, e.g. "No such file or directory".
public func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
