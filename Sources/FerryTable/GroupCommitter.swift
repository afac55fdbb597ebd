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
        init(_ group: WriteGroup) { self.group = group }
    }

    private let condition = NSCondition()
    private var queue: [Waiter] = []
    private var committing = false
    /// Commits made and requests carried, for the benchmark and tests.
    public private(set) var commits = 0
    public private(set) var requests = 0

    public init(table: Table, maxGroupsPerCommit: Int = 1024) {
        self.table = table
        self.maxGroupsPerCommit = maxGroupsPerCommit
    }

    /// Commits `group` with whatever else is waiting; throws when the commit failed (then
    /// nothing of it was applied).
    public func write(_ group: WriteGroup) throws -> [WriteOutcome] {
        let me = Waiter(group)
        condition.lock()
        queue.append(me)
        while true {
            while me.result == nil && committing { condition.wait() }
            if let result = me.result {
                condition.unlock()
                return try result.get()
            }
            // Leader: take the oldest requests (this one among them unless more than a
            // commit's worth wait ahead of it; then it leads again after).
            committing = true
            let batch = Array(queue.prefix(maxGroupsPerCommit))
            queue.removeFirst(batch.count)
            condition.unlock()

            let outcome = Result { try table.write(groups: batch.map(\.group)) }

            condition.lock()
            for (i, waiter) in batch.enumerated() { waiter.result = outcome.map { $0[i] } }
            commits += 1
            requests += batch.count
            committing = false
            condition.broadcast()
        }
    }
}
