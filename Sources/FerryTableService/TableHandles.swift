#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryTable

/// How the service reaches its tables (docs/concurrency.md, rules 8-11).
public enum TableAccess: Sendable {
    /// A command-line process: a writer is opened for each write request and closed
    /// after it, so the lock is held only while a command writes; readers are cached
    /// for the life of the process (one scan's pages share a snapshot).
    case perRequest
    /// A server: each table's writer is opened once and held (the lock names the
    /// server), writes from concurrent requests share commits (group commit), reads
    /// use the writer's snapshots. Tables another process holds are read from their
    /// files and refuse writes naming the holder.
    case held
}

/// A reader-writer lock (pthread's, writer-preferring so table changes are not starved
/// by a stream of item requests). Thread-safe.
final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func shared<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// The service's open tables. Thread-safe: the maps sit behind a reader-writer lock; a
/// table is opened at most once, under it alone.
final class TableHandles: @unchecked Sendable {
    let catalog: TableCatalog
    let program: String
    let access: TableAccess

    /// A held writer and the committer its requests share.
    final class Writer: Sendable {
        let table: Table
        let committer: GroupCommitter
        init(_ table: Table) {
            self.table = table
            committer = GroupCommitter(table: table)
        }
    }

    // A reader-writer lock, not a mutex: every request looks its table up, and with
    // 64 connections on two cores a mutex here (Synchronization's is a PI futex) was a
    // convoy taking a fifth of the server's time. Lookups share it; opening and
    // forgetting take it alone.
    private let lock = ReadWriteLock()
    nonisolated(unsafe) private var writers: [String: Writer] = [:]
    nonisolated(unsafe) private var readers: [String: Table] = [:]

    init(catalog: TableCatalog, program: String, access: TableAccess) {
        self.catalog = catalog
        self.program = program
        self.access = access
    }

    /// The held writer of `name`, opened now if need be; throws ResourceInUse when
    /// another process holds the table.
    private func heldWriter(_ name: String) throws -> Writer {
        if let w = lock.shared({ writers[name] }) { return w }
        return try lock.exclusive {
            if let w = writers[name] { return w }
            do {
                let w = Writer(try catalog.openForWriting(name, program: program))
                writers[name] = w
                heldElsewhere[name] = nil
                return w
            } catch let e as TableLock.LockError {
                throw DynamoDBError(.resourceInUse, "Attempt to change a resource which is still in use: \(e)")
            }
        }
    }

    /// Tables another process held when last tried, and when: reads of them go to
    /// their files without retrying the lock (under the exclusive lock) each time.
    nonisolated(unsafe) private var heldElsewhere: [String: Double] = [:]
    private static let retryHeldAfter = 1.0

    /// A table to read: the held writer (latest commits), or a reader.
    func reader(_ name: String) throws -> Table {
        switch access {
        case .held:
            let now = Date().timeIntervalSince1970
            if let since = lock.shared({ heldElsewhere[name] }), now - since < Self.retryHeldAfter {
                return try catalog.openForReading(name)
            }
            do { return try heldWriter(name).table } catch let e as DynamoDBError where e.kind == .resourceInUse {
                // Another process writes it: read its files, fresh each time.
                lock.exclusive { heldElsewhere[name] = now }
                return try catalog.openForReading(name)
            }
        case .perRequest:
            if let t = lock.shared({ readers[name] }) { return t }
            return try lock.exclusive {
                if let t = readers[name] { return t }
                let t = try catalog.openForReading(name)
                readers[name] = t
                return t
            }
        }
    }

    /// Runs `body` with a writer of `name` (held, or opened and closed around it).
    func withWriter<T>(_ name: String, _ body: (Table) throws -> T) throws -> T {
        switch access {
        case .held:
            return try body(heldWriter(name).table)
        case .perRequest:
            forget(name)
            // A lock error stays itself: the command line prints who holds the table.
            let table = try catalog.openForWriting(name, program: program)
            do {
                let result = try body(table)
                try table.close()
                return result
            } catch {
                try? table.close()
                throw error
            }
        }
    }

    /// Runs `body` with writers of every table in `names` (distinct), in the order given:
    /// held ones, or opened in name order and closed after. A table another process
    /// holds refuses the whole call before `body` runs.
    func withWriters<T>(_ names: [String], _ body: ([Table]) throws -> T) throws -> T {
        switch access {
        case .held:
            return try body(names.map { try heldWriter($0).table })
        case .perRequest:
            for name in names { forget(name) }
            var opened: [String: Table] = [:]
            defer { for table in opened.values { try? table.close() } }
            for name in names.sorted() { opened[name] = try catalog.openForWriting(name, program: program) }
            let result = try body(names.compactMap { opened[$0] })
            for name in names.sorted() { try opened.removeValue(forKey: name)?.close() }
            return result
        }
    }

    /// Makes sure `name` can be written (a server holds its writer): throws
    /// ResourceInUse naming the holder otherwise. The command line opens per write.
    func ensureWritable(_ name: String) throws {
        if case .held = access { _ = try heldWriter(name) }
    }

    /// Commits one request's writes to `name`, sharing the commit with concurrent
    /// requests when the writer is held. `prepare` runs on this thread with the table.
    func commit(_ name: String, atomic: Bool, _ prepare: (Table) throws -> [Result<Table.PreparedWrite, Error>]) throws -> [WriteOutcome] {
        switch access {
        case .held:
            let w = try heldWriter(name)
            return try w.committer.write(WriteGroup(try prepare(w.table), atomic: atomic))
        case .perRequest:
            return try withWriter(name) { table in
                try table.write(groups: [WriteGroup(try prepare(table), atomic: atomic)])[0]
            }
        }
    }

    /// Closes and drops what is open of `name` (before it is deleted or replaced).
    func forget(_ name: String) {
        let writer = lock.exclusive { () -> Writer? in
            readers[name] = nil
            return writers.removeValue(forKey: name)
        }
        try? writer?.table.close()
    }

    /// Opens every table's writer now (a server holds its tables from the start);
    /// returns the tables that could not be held, with why.
    func holdAll() -> [(String, Error)] {
        var failed: [(String, Error)] = []
        for name in (try? catalog.names()) ?? [] {
            do { _ = try heldWriter(name) } catch { failed.append((name, error)) }
        }
        return failed
    }

    /// Group commit so far, over every held writer: commits and the requests they carried.
    func commitStats() -> (commits: Int, requests: Int) {
        lock.shared {
            writers.values.reduce((0, 0)) { total, w in
                let s = w.committer.stats
                return (total.0 + s.commits, total.1 + s.requests)
            }
        }
    }

    /// Closes every held writer (the server's shutdown); returns the failures.
    func closeAll() -> [(String, Error)] {
        let held = lock.exclusive { () -> [String: Writer] in
            defer { writers = [:]; readers = [:] }
            return writers
        }
        var failed: [(String, Error)] = []
        for (name, w) in held.sorted(by: { $0.key < $1.key }) {
            do { try w.table.close() } catch { failed.append((name, error)) }
        }
        return failed
    }
}
