import Foundation
import FerryIO
import FerryValues

/// TransactWriteItems over tables opened for writing (docs/transactions.md): every
/// action's condition is checked against the current items with every table's write
/// lock held, in table-name order (so two transactions never wait on each other in a
/// cycle); then all commit or none. One table: one commit. Several: an intent in the
/// `TransactionLog` first, then each table's share with its marker, then the intent
/// goes. Transactions on the same items therefore run one after the other, never
/// interleaved: none is cancelled for a conflict.
///
/// Thread-safe: concurrent calls on the same tables serialise on their write locks.
public enum TableTransaction {
    /// One table's actions, in the request's order.
    public struct Share: Sendable {
        public let table: Table
        public let operations: [Result<Table.PreparedWrite, Error>]
        public init(table: Table, operations: [Result<Table.PreparedWrite, Error>]) {
            self.table = table
            self.operations = operations
        }
    }

    /// `ClientRequestToken`: a request repeated with it within `lifetime` seconds is
    /// answered as the first one was, without applying it again; the token is recorded
    /// in the same commit as the transaction, so the answer survives a crash.
    public struct Token: Sendable {
        public let id: String
        /// Identifies the request's content: another request with the same token is
        /// IdempotentParameterMismatchException.
        public let fingerprint: String
        public let now: Double
        public let lifetime: Double
        public init(id: String, fingerprint: String, now: Double, lifetime: Double = 600) {
            self.id = id
            self.fingerprint = fingerprint
            self.now = now
            self.lifetime = lifetime
        }
    }

    public enum Outcome: Sendable {
        /// Every action applied; the outcomes per share, in the shares' order.
        case committed([[WriteOutcome]])
        /// An action failed; nothing was written. The outcomes per share.
        case cancelled([[WriteOutcome]])
        /// The token's transaction committed earlier; nothing was applied now.
        case repeated
    }

    /// Why a table stopped taking writes after a transaction could not finish.
    public enum TransactionError: Error, CustomStringConvertible {
        case unfinished(id: String, cause: String)
        public var description: String {
            switch self {
            case let .unfinished(id, cause):
                return "transaction \(id) could not finish (\(cause)); its tables take no writes until they are reopened, which completes it"
            }
        }
    }

    static func tokenName(_ id: String) -> String { "transaction-token/" + id }
    static let tokenPrefix = "transaction-token/"

    /// Runs the transaction. Throws only when it could not be decided or written (a
    /// token reused for another request, a table's disk); `cancelled` is an answer.
    public static func run(_ shares: [Share], log: TransactionLog, token: Token? = nil) throws -> Outcome {
        let order = shares.indices.sorted { shares[$0].table.name < shares[$1].table.name }
        guard shares.allSatisfy({ $0.table.store != nil }), Set(shares.map(\.table.name)).count == shares.count else {
            throw DynamoDBError(.internalServerError, "a transaction needs one writer per table")
        }
        for i in order { shares[i].table.writeLock.lock() }
        defer { for i in order.reversed() { shares[i].table.writeLock.unlock() } }

        if let token {
            for share in shares {
                guard let record = try share.table.metadataValue(tokenName(token.id)),
                      let (expiry, fingerprint) = parseToken(record), expiry > token.now else { continue }
                if fingerprint == token.fingerprint { return .repeated }
                throw DynamoDBError(.idempotentParameterMismatch, "Request parameters do not match the previous request with this client request token.")
            }
        }
        var staged: [Table.StagedWrites] = []
        for share in shares {
            staged.append(try share.table.stageLocked([WriteGroup(share.operations, atomic: false)]))
        }
        let outcomes = staged.map { $0.outcomes[0] }
        guard staged.allSatisfy(\.allApplied) else { return .cancelled(outcomes) }

        var metadata: [[(name: String, value: [UInt8]?)]] = Array(repeating: [], count: shares.count)
        if let token {
            for (i, share) in shares.enumerated() {
                metadata[i] = try expiredTokens(in: share.table, now: token.now)
                metadata[i].append((tokenName(token.id), Array("\(Int((token.now + token.lifetime).rounded(.up))) \(token.fingerprint)".utf8)))
            }
        }
        if shares.count == 1 {
            try shares[0].table.commitLocked(staged[0], metadata: metadata[0])
            return .committed(outcomes)
        }

        let id = TransactionLog.newID()
        let pending = try log.pendingIDs()
        var logShares: [TransactionLog.Share] = []
        for (i, share) in shares.enumerated() {
            var changes = staged[i].changes
            for (name, value) in metadata[i] { changes.append((ItemKeys.metadataKey(name), value)) }
            // Markers of finished transactions go with the next one (their intents are
            // gone, so no recovery will look for them).
            for old in try share.table.metadata(prefix: "transaction/") {
                let oldID = String(old.name.dropFirst("transaction/".count))
                if !pending.contains(oldID) { changes.append((ItemKeys.metadataKey(old.name), nil)) }
            }
            changes.append((ItemKeys.metadataKey(TransactionLog.markerName(id)), []))
            let share = TransactionLog.Share(table: share.table.name, tableId: share.table.description.tableId,
                                             changes: changes, delta: staged[i].delta)
            let bytes = ChangeBatch.encode(share.changes, delta: share.delta).count
            guard bytes <= WALFormat.maxPayload else {
                throw DynamoDBError.validation("The transaction's share of table \(share.table) is \(bytes) bytes with its index entries, over the log's \(WALFormat.maxPayload)-byte record limit")
            }
            logShares.append(share)
        }
        let intent = TransactionLog.Intent(id: id, pid: getpid(), shares: logShares)
        try log.withLock(exclusive: true) {
            do {
                try log.write(intent)
                for (i, share) in shares.enumerated() {
                    try share.table.commitLocked(changes: logShares[i].changes, delta: logShares[i].delta)
                }
            } catch {
                // The intent may be on disk (a failed directory sync after the rename, a
                // share's failed commit): then its shares are applied at the next open,
                // from the items as they are now. So none of its tables may take another
                // write in this process; every one stops, and the next open recovers.
                for share in shares { share.table.store?.stopWrites(TransactionError.unfinished(id: id, cause: "\(error)")) }
                throw error
            }
            // Every share is in: the transaction is done whatever the unlink says (an
            // intent left behind finds every marker at the next recovery, and goes).
            try? log.remove(intent)
        }
        return .committed(outcomes)
    }

    /// "<expiry seconds> <fingerprint>".
    static func parseToken(_ record: [UInt8]) -> (Double, String)? {
        let text = String(decoding: record, as: UTF8.self)
        guard let space = text.firstIndex(of: " "), let expiry = Double(text[..<space]) else { return nil }
        return (expiry, String(text[text.index(after: space)...]))
    }

    /// Deletions of the tokens past their lifetime (at most 100 a commit, so a table
    /// with many never makes one commit large).
    static func expiredTokens(in table: Table, now: Double) throws -> [(name: String, value: [UInt8]?)] {
        var out: [(name: String, value: [UInt8]?)] = []
        for record in try table.metadata(prefix: tokenPrefix) where out.count < 100 {
            if let (expiry, _) = parseToken(record.value), expiry > now { continue }
            out.append((record.name, nil))
        }
        return out
    }

    /// Snapshots of `tables` that no cross-table transaction is half-way through: taken
    /// under the tables' write locks (this process's transactions) and the log's shared
    /// lock (other processes'). TransactGetItems reads them.
    /// A table opened for reading is a snapshot of its files from when it was opened:
    /// `reopen` gives a fresh one, taken under the log's lock.
    public static func snapshots(of tables: [Table], log: TransactionLog,
                                 reopen: (String) throws -> StoreSnapshot) throws -> [StoreSnapshot] {
        let order = tables.indices.sorted { tables[$0].name < tables[$1].name }
        let writers = order.filter { tables[$0].store != nil }
        for i in writers { tables[i].writeLock.lock() }
        defer { for i in writers.reversed() { tables[i].writeLock.unlock() } }
        return try log.withSharedLockIfPresent {
            try tables.map { table in table.store != nil ? table.snapshot() : try reopen(table.name) }
        }
    }
}
