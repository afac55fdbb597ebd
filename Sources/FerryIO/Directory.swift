#if canImport(Glibc)
import Glibc
#endif

/// What a directory entry is.
public enum EntryKind: Sendable, Equatable {
    case file, directory, symbolicLink, other
}

public struct FileStatus: Sendable, Equatable {
    public var kind: EntryKind
    public var size: Int
    /// Modification time in nanoseconds since the epoch.
    public var modified: Int64
}

/// An open directory. Every operation is relative to it (`openat` and friends) and
/// never follows a symbolic link, so a path built from untrusted names cannot leave
/// the directory it started in. Not thread-safe; cheap to open.
public final class Directory {
    public let path: String
    let fd: Int32

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = Syscall.close(fd) }

    /// Opens `path`; nil when it does not exist. Unless `followLinks` (for a user's own
    /// paths), `path` itself must not be a symbolic link.
    public static func open(_ path: String, followLinks: Bool = false) throws -> Directory? {
        let fd = Syscall.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
        if fd == -ENOENT { return nil }
        guard fd >= 0 else { throw IOError.openFailed(path: path, errno: -fd) }
        return Directory(fd: fd, path: path)
    }

    /// Opens `path`, creating it and its parents as needed (mkdir -p).
    public static func create(_ path: String) throws -> Directory {
        if let existing = try open(path) { return existing }
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            built += "/" + part
            let failure = Syscall.mkdir(built)
            if failure != 0 && failure != EEXIST { throw IOError.failed(operation: "mkdir", path: built, errno: failure) }
        }
        guard let made = try open(path) else { throw IOError.openFailed(path: path, errno: ENOENT) }
        return made
    }

    /// Opens a user's folder, following links, creating it and its parents as needed.
    public static func createFollowingLinks(_ path: String) throws -> Directory {
        if let existing = try open(path, followLinks: true) { return existing }
        _ = try create(path)
        guard let made = try open(path, followLinks: true) else { throw IOError.openFailed(path: path, errno: ENOENT) }
        return made
    }

    public func child(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    /// The subdirectory `name`; nil when missing (and not created). Throws when `name`
    /// is a file or a symbolic link.
    public func subdirectory(_ name: String, create: Bool = false) throws -> Directory? {
        var fd = Syscall.openat(self.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd == -ENOENT && create {
            let failure = Syscall.mkdir(in: self.fd, name)
            if failure != 0 && failure != EEXIST {
                throw IOError.failed(operation: "mkdir", path: child(name), errno: failure)
            }
            fd = Syscall.openat(self.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if fd == -ENOENT { return nil }
        guard fd >= 0 else { throw IOError.openFailed(path: child(name), errno: -fd) }
        return Directory(fd: fd, path: child(name))
    }

    /// Status of this directory itself.
    public func ownStatus() throws -> FileStatus {
        var st = stat()
        if fstat(fd, &st) != 0 { throw IOError.failed(operation: "stat", path: path, errno: errno) }
        return Self.status(st)
    }

    /// Status of `name` without following a symbolic link; nil when missing.
    public func status(_ name: String) throws -> FileStatus? {
        var st = stat()
        if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw IOError.failed(operation: "stat", path: child(name), errno: errno)
        }
        return Self.status(st)
    }

    static func status(_ st: stat) -> FileStatus {
        let kind: EntryKind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        let modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return FileStatus(kind: kind, size: Int(st.st_size), modified: modified)
    }

    /// Opens the regular file `name` for reading; nil when missing.
    public func openForReading(_ name: String) throws -> FileSource? {
        let fd = Syscall.openat(self.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd == -ENOENT { return nil }
        guard fd >= 0 else { throw IOError.openFailed(path: child(name), errno: -fd) }
        return FileSource(ownedDescriptor: fd, name: child(name))
    }

    /// Names in this directory (not "." and ".."), with their kinds.
    public func entries() throws -> [(name: String, kind: EntryKind)] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            throw IOError.failed(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var out: [(name: String, kind: EntryKind)] = []
        while let entry = readdir(stream) {
            let bytes = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)))) }
            }
            // A name that is not UTF-8 cannot be a key, a table or a path Ferry can name
            // again: refused (naming it, escaped) rather than read as U+FFFD.
            if UTF8Text.firstInvalidByte(bytes) != nil {
                let shown = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(Character(Unicode.Scalar($0))) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
                throw IOError.failed(operation: "list (a name that is not UTF-8)", path: child(shown), errno: EILSEQ)
            }
            let name = String(decoding: bytes, as: UTF8.self)
            if name == "." || name == ".." { continue }
            let kind: EntryKind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symbolicLink
            case Int32(DT_UNKNOWN): kind = try status(name)?.kind ?? .other
            default: kind = .other
            }
            out.append((name, kind))
        }
        return out
    }

    /// Writes a file atomically: `body` writes a temporary file in this directory, which
    /// is synced and renamed over `name`, and the directory is synced. Readers see the
    /// old file or the new one, never part of one; on any error the temporary file is
    /// removed and `name` is untouched. Without `durable` the syncs are skipped: still
    /// atomic for readers, but a crash may lose the file (for caches that are rebuilt).
    public func writeAtomically(_ name: String, mode: mode_t = 0o644, durable: Bool = true,
                                _ body: (FileSink) throws -> Void) throws {
        let file = try createAtomically(name, mode: mode)
        do {
            try body(file.sink)
            try file.commit(durable: durable)
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Writes `bytes` as the file at `path` atomically and durably (the folder must exist).
    public static func writeAtomically(path: String, _ bytes: [UInt8]) throws {
        let slash = path.lastIndex(of: "/")
        let folderPath = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let folder = try Directory.open(folderPath, followLinks: true) else {
            throw IOError.openFailed(path: folderPath, errno: ENOENT)
        }
        try folder.writeAtomically(name) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    /// The incremental form of `writeAtomically`, for files written over time (sorted
    /// runs): write to `sink`, then `commit()` or `abandon()`.
    public func createAtomically(_ name: String, mode: mode_t = 0o644) throws -> AtomicFile {
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<100 {
            temporary = Directory.temporaryPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            fd = Syscall.openat(self.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd != -EEXIST { break }
        }
        guard fd >= 0 else { throw IOError.openFailed(path: child(temporary), errno: -fd) }
        return AtomicFile(directory: self, temporary: temporary, name: name,
                          sink: FileSink(ownedDescriptor: fd, name: child(name)))
    }

    /// Temporary files made by `writeAtomically` start with this; listings skip them.
    public static let temporaryPrefix = ".ferry-tmp-"

    /// Removes the file `name`; false when it was not there.
    @discardableResult
    public func removeFile(_ name: String) throws -> Bool {
        let failure = Syscall.unlink(in: fd, name)
        if failure == 0 { return true }
        if failure == ENOENT { return false }
        throw IOError.failed(operation: "unlink", path: child(name), errno: failure)
    }

    /// Removes the empty directory `name`; false when missing or not empty.
    @discardableResult
    public func removeEmptyDirectory(_ name: String) throws -> Bool {
        let failure = Syscall.unlink(in: fd, name, directory: true)
        if failure == 0 { return true }
        if failure == ENOENT || failure == ENOTEMPTY || failure == EEXIST { return false }
        throw IOError.failed(operation: "rmdir", path: child(name), errno: failure)
    }

    /// Removes `name` and everything below it (rm -r), never following links.
    public func removeTree(_ name: String) throws {
        guard let status = try status(name) else { return }
        if status.kind == .directory, let sub = try subdirectory(name) {
            for entry in try sub.entries() { try sub.removeTree(entry.name) }
            try removeEmptyDirectory(name)
        } else {
            try removeFile(name)
        }
    }

    /// Renames `name` to `newName` in this directory. With `replace: false` an existing
    /// `newName` is an error (EEXIST), checked in the same step (RENAME_NOREPLACE).
    public func rename(_ name: String, to newName: String, replace: Bool = false) throws {
        let failure = replace ? Syscall.rename(in: fd, name, newName) : Syscall.renameNoReplace(in: fd, name, newName)
        if failure != 0 { throw IOError.failed(operation: "rename", path: child(newName), errno: failure) }
    }

    /// Swaps the names `a` and `b` in one step (renameat2's RENAME_EXCHANGE): each then
    /// names what the other did. False when the file system cannot; nothing changed then.
    public func exchange(_ a: String, _ b: String) throws -> Bool {
        if FaultInjection.exchangeDisabled { return false }
        let failure = Syscall.exchange(in: fd, a, b)
        if failure == 0 { return true }
        if failure == EINVAL || failure == ENOSYS || failure == ENOTSUP { return false }
        throw IOError.failed(operation: "rename (exchange)", path: child(b), errno: failure)
    }

    /// fsync(2) of the directory, so renames and removals in it survive a crash.
    public func sync() throws {
        let failure = Syscall.fsync(fd)
        if failure != 0 && failure != EINVAL { throw IOError.syncFailed(path: path, errno: failure) }
    }
}

/// A file being written under a temporary name in its directory; it appears under its
/// real name only on `commit`. Not thread-safe.
public final class AtomicFile {
    public let sink: FileSink
    private let directory: Directory
    private let temporary: String
    private let name: String
    private var done = false

    init(directory: Directory, temporary: String, name: String, sink: FileSink) {
        self.directory = directory
        self.temporary = temporary
        self.name = name
        self.sink = sink
    }

    /// Syncs the file (unless `durable` is false), renames it over its name and syncs the
    /// directory. On error the temporary file is removed.
    public func commit(durable: Bool = true) throws {
        do {
            if durable { try sink.sync() }
            try sink.finish()
            let failure = Syscall.rename(in: directory.fd, temporary, name)
            if failure != 0 {
                throw IOError.renameFailed(from: directory.child(temporary), to: directory.child(name), errno: failure)
            }
            done = true
            if durable { try directory.sync() }
        } catch {
            abandon()
            throw error
        }
    }

    /// Removes the temporary file; the real name is untouched.
    public func abandon() {
        guard !done else { return }
        done = true
        try? sink.finish()
        _ = Syscall.unlink(in: directory.fd, temporary)
    }

    deinit { abandon() }
}
