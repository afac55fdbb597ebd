// The raw system calls Ferry makes, each retrying EINTR. Nothing else in Ferry calls
// read/write/open/rename/unlink/mkdir/fsync/ftruncate directly (docs/architecture.md,
// rule 1), so fault injection (FaultInjection) has one place to hook in.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemCalls

public enum Syscall {
    /// read(2), retried on EINTR. Returns bytes read (0 at end of file) or -errno.
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            return -Int(errno)
        }
    }

    /// write(2) of the whole range, retried on EINTR and short writes.
    /// Either writes everything or returns the errno of the failing call.
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int32 {
        let injected = FaultInjection.check("write", descriptor: fd)
        if injected != 0 { return injected }
        var done = 0
        while done < count {
            let n = Glibc.write(fd, buffer + done, count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? errno : EIO
        }
        return 0
    }

    /// pwrite(2) of the whole range at `offset`; 0 or the errno.
    public static func pwriteAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, at offset: Int) -> Int32 {
        let injected = FaultInjection.check("write", descriptor: fd)
        if injected != 0 { return injected }
        var done = 0
        while done < count {
            let n = Glibc.pwrite(fd, buffer + done, count - done, off_t(offset + done))
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? errno : EIO
        }
        return 0
    }

    /// open(2); the descriptor or -errno. An open that may create a file counts as a
    /// mutating call.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
        if flags & O_CREAT != 0 {
            let injected = FaultInjection.check("create", path: path)
            if injected != 0 { return -injected }
        }
        while true {
            let fd = Glibc.open(path, flags, mode)
            if fd >= 0 { FaultInjection.opened(fd, path: path); return fd }
            if errno != EINTR { return -errno }
        }
    }

    public static func openat(_ dir: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
        if flags & O_CREAT != 0 {
            let injected = FaultInjection.check("create", path: name)
            if injected != 0 { return -injected }
        }
        while true {
            let fd = Glibc.openat(dir, name, flags, mode)
            if fd >= 0 { FaultInjection.opened(fd, path: name); return fd }
            if errno != EINTR { return -errno }
        }
    }

    public static func close(_ fd: Int32) -> Int32 {
        Glibc.close(fd) == 0 ? 0 : errno
    }

    /// Allocations of `bytes` and more get pages of their own, returned when freed
    /// (glibc's M_MMAP_THRESHOLD); false where the C library has no such setting.
    @discardableResult
    public static func setMmapThreshold(_ bytes: Int) -> Bool {
        ferry_set_mmap_threshold(Int32(clamping: bytes)) == 1
    }

    /// Starts writeback of `fd`'s dirty pages and returns at once (sync_file_range's
    /// WRITE): not a durability point, so not a fault point either; errors are ignored.
    public static func startWriteback(_ fd: Int32) {
        _ = ferry_start_writeback(fd)
    }

    public static func fsync(_ fd: Int32) -> Int32 {
        let injected = FaultInjection.check("fsync", descriptor: fd)
        if injected != 0 { return injected }
        while true {
            if Glibc.fsync(fd) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// ftruncate(2); 0 or the errno.
    public static func ftruncate(_ fd: Int32, _ length: Int) -> Int32 {
        let injected = FaultInjection.check("truncate", descriptor: fd)
        if injected != 0 { return injected }
        while true {
            if Glibc.ftruncate(fd, off_t(length)) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// renameat(2) inside one directory; 0 or the errno.
    public static func rename(in dir: Int32, _ from: String, _ to: String) -> Int32 {
        let injected = FaultInjection.check("rename", path: to)
        if injected != 0 { return injected }
        return renameat(dir, from, dir, to) == 0 ? 0 : errno
    }

    /// renameat2(2) with RENAME_EXCHANGE: swaps two names in one step. 0 or the errno;
    /// EINVAL or ENOSYS where the file system or kernel cannot.
    public static func exchange(in dir: Int32, _ a: String, _ b: String) -> Int32 {
        let injected = FaultInjection.check("rename", path: b)
        if injected != 0 { return injected }
        return ferry_renameat2(dir, a, dir, b, UInt32(FERRY_RENAME_EXCHANGE)) == 0 ? 0 : errno
    }

    /// renameat2(2) with RENAME_NOREPLACE: fails with EEXIST instead of replacing. Falls
    /// back to a check and a plain rename where the file system lacks it.
    public static func renameNoReplace(in dir: Int32, _ from: String, _ to: String) -> Int32 {
        let injected = FaultInjection.check("rename", path: to)
        if injected != 0 { return injected }
        if ferry_renameat2(dir, from, dir, to, UInt32(FERRY_RENAME_NOREPLACE)) == 0 { return 0 }
        let code = errno
        guard code == EINVAL || code == ENOSYS else { return code }
        var st = stat()
        if fstatat(dir, to, &st, AT_SYMLINK_NOFOLLOW) == 0 { return EEXIST }
        return renameat(dir, from, dir, to) == 0 ? 0 : errno
    }

    /// unlinkat(2) (with AT_REMOVEDIR for an empty directory); 0 or the errno.
    public static func unlink(in dir: Int32, _ name: String, directory: Bool = false) -> Int32 {
        let injected = FaultInjection.check("unlink", path: name)
        if injected != 0 { return injected }
        return unlinkat(dir, name, directory ? AT_REMOVEDIR : 0) == 0 ? 0 : errno
    }

    /// unlink(2) of a path; 0 or the errno.
    @discardableResult
    public static func unlink(_ path: String) -> Int32 {
        let injected = FaultInjection.check("unlink", path: path)
        if injected != 0 { return injected }
        return Glibc.unlink(path) == 0 ? 0 : errno
    }

    /// mkdirat(2); 0 or the errno (EEXIST when it is there).
    public static func mkdir(in dir: Int32, _ name: String, _ mode: mode_t = 0o755) -> Int32 {
        let injected = FaultInjection.check("mkdir", path: name)
        if injected != 0 { return injected }
        return mkdirat(dir, name, mode) == 0 ? 0 : errno
    }

    /// mkdir(2) of a path; 0 or the errno.
    public static func mkdir(_ path: String, _ mode: mode_t = 0o755) -> Int32 {
        let injected = FaultInjection.check("mkdir", path: path)
        if injected != 0 { return injected }
        return Glibc.mkdir(path, mode) == 0 ? 0 : errno
    }
}

/// The text of an errno value, e.g. "No such file or directory".
public func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
