import Dispatch
import Foundation

/// Group commit for a table written by many threads at once (ferry-serve's requests):
/// a thread that finds no commit in progress becomes the leader, takes every request
/// queued so far, and commits them as one `Table.write(groups:)` (one log record, one
/// fsync); requests that arrive meanwhile queue for the next leader. A request returns
/// only when the commit that carries it is durable (docs/concurrency.md, rules 2 and 8).
///
/// Thread-safe: `write` is called from any number of threads.
public final class GroupCommitter: @unchecked Sendable {
    public let table: Table
    /// The most requests one commit carries, so a leader's own wait stays bounded.
    public let maxGroupsPerCommit: Int

    private final class Waiter {
        let group: WriteGroup
        var result: Result<[WriteOutcome], Error>? = nil
        /// Signalled once: with the result set, or to lead the next commit.
        let wake = DispatchSemaphore(value: 0)
        init(_ group: WriteGroup) { self.group = group }
    }

    private let lock = NSLock()
    private var queue: [Waiter] = []
    /// A leader is committing, or has been chosen and woken to.
    private var committing = false
    private var commits = 0
    private var requests = 0

    /// Commits made and requests they carried (requests / commits is the mean group).
    public var stats: (commits: Int, requests: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (commits, requests)
    }

    /// The most bytes (estimated, times the index count plus one) one commit carries:
    /// well under the log's 64 MiB record limit, which would refuse the whole group.
    public let maxBytesPerCommit: Int

    public init(table: Table, maxGroupsPerCommit: Int = 1024, maxBytesPerCommit: Int = 16 << 20) {
        self.table = table
        self.maxGroupsPerCommit = maxGroupsPerCommit
        self.maxBytesPerCommit = maxBytesPerCommit
    }

    /// The oldest waiters that fit one commit (always at least one).
    private func takeBatch() -> [Waiter] {
        let copies = 1 + table.description.indexes.count
        var bytes = 0, count = 0
        for waiter in queue.prefix(maxGroupsPerCommit) {
            let size = waiter.group.estimatedBytes * copies
            if count > 0 && bytes + size > maxBytesPerCommit { break }
            bytes += size
            count += 1
        }
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }

    /// Commits `group` with whatever else is waiting; throws when the commit failed (then
    /// nothing of it was applied).
    public func write(_ group: WriteGroup) throws -> [WriteOutcome] {
        let me = Waiter(group)
        lock.lock()
        queue.append(me)
        if committing {
            // Woken alone (no broadcast: with 64 connections a broadcast woke every
            // waiter to find most of them not done), with a result or to lead.
            lock.unlock()
            me.wake.wait()
            lock.lock()
        }
        while true {
            if let result = me.result {
                lock.unlock()
                return try result.get()
            }
            committing = true
            // Leader: take the oldest requests (this one among them unless more than a
            // commit's worth wait ahead of it; then it leads again after).
            let batch = takeBatch()
            lock.unlock()

            let outcome = Result { try table.write(groups: batch.map(\.group)) }

            lock.lock()
            commits += 1
            requests += batch.count
            for (i, waiter) in batch.enumerated() {
                waiter.result = outcome.map { $0[i] }
                if waiter !== me { waiter.wake.signal() }
            }
            if me.result != nil {
                // Hand the lead to the oldest waiter, if any.
                if let next = queue.first { next.wake.signal() } else { committing = false }
            }
        }
    }
}
