// ferry-load's groups written to a DynamoDB endpoint: BatchWriteItem (25 items, 16 MB)
// with N requests in flight, UnprocessedItems and throttling retried until written,
// write units capped by a token bucket fed by ConsumedCapacity. docs/remote.md, "Loads".
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import FerryAWS
import FerryIO
import FerryPipeline
import FerryTable
import FerryValues

/// A remote table as ferry-load's target. Writes that land the same way twice (puts,
/// deletes, merges) only: the checkpoint file is then enough for exactly once, since a
/// group written again after a crash changes nothing. Thread-safe: `prepare` runs on the
/// loader's workers, `commit` fans each group out to `concurrency` threads.
public final class RemoteLoadTarget: LoadTarget {
    public struct Options: Sendable {
        /// Requests in flight at once (`--concurrency`).
        public var concurrency = 8
        /// Write units per second (`--max-wcu`), nil for no limit.
        public var maxWriteUnits: Double? = nil
        /// A request retried this many times in a row with nothing written (throttled,
        /// every item unprocessed, a transient fault) fails the load.
        public var maxRoundsWithoutProgress = 30
        /// The longest wait between such retries, seconds.
        public var maxBackoff = 20.0
        public init() {}
    }

    /// What the load cost. Read after `commit` returns.
    public struct Stats: Sendable {
        public var requests = 0
        /// Requests sent again: throttled, a transient fault, or items left unprocessed.
        public var retries = 0
        /// Items the service returned in UnprocessedItems (and were sent again).
        public var unprocessedItems = 0
        public var consumedUnits = 0.0
    }

    public static let batchItems = 25
    /// BatchWriteItem's request limit, less room for the envelope.
    public static let batchBytes = 16 * 1024 * 1024 - 4096

    public let name: String
    public let schema: KeySchema
    public let api: RemoteDynamoDB
    let options: Options
    let limiter: CapacityLimiter?
    private let counters = Mutex(Stats())
    /// `"TableName"` as JSON, for the requests' envelopes.
    private let quotedName: [UInt8]

    public var stats: Stats { counters.withLock { $0 } }
    public var commitsRuns: Bool { false }
    public var keepsCheckpoint: Bool { false }

    public init(api: RemoteDynamoDB, table: String, schema: KeySchema, options: Options = Options()) {
        self.api = api
        name = table
        self.schema = schema
        self.options = options
        limiter = options.maxWriteUnits.map { CapacityLimiter(unitsPerSecond: $0, startFull: false) }
        let out = ByteBuffer(capacity: 64)
        JSONWriter.writeString(table, into: out)
        quotedName = out.array
    }

    /// What DescribeTable says of a table: its key, and its provisioned write units (nil
    /// when it is on demand).
    public struct TableShape: Sendable {
        public var schema: KeySchema
        public var provisionedWriteUnits: Int?
        /// `TableStatus`: CREATING, ACTIVE, ...
        public var status: String?
    }

    /// DescribeTable until the table is ACTIVE (CreateTable returns while it is
    /// CREATING on DynamoDB), polling every half second up to `timeout` seconds.
    public static func waitUntilActive(_ api: RemoteDynamoDB, table: String, timeout: Double = 600) throws -> TableShape {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let shape = try describe(api, table: table)
            if shape.status == nil || shape.status == "ACTIVE" { return shape }
            if Date() > deadline {
                throw AWSRequestError(endpoint: api.location, operation: "DescribeTable",
                                      failure: .invalidResponse("table '\(table)' is still \(shape.status ?? "") after \(Int(timeout)) s"))
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    public static func describe(_ api: RemoteDynamoDB, table: String) throws -> TableShape {
        let answer = try api.call("DescribeTable", .object([JSONMember("TableName", .string(table))]))
        let description = answer["Table"]
        var types: [String: KeyType] = [:]
        for definition in description?["AttributeDefinitions"]?.arrayValue ?? [] {
            if let name = definition["AttributeName"]?.stringValue, let type = definition["AttributeType"]?.stringValue.flatMap(KeyType.init(rawValue:)) {
                types[name] = type
            }
        }
        var partitions: [KeyAttribute] = [], sorts: [KeyAttribute] = []
        for key in description?["KeySchema"]?.arrayValue ?? [] {
            guard let name = key["AttributeName"]?.stringValue, let type = types[name] else { continue }
            if key["KeyType"]?.stringValue == "RANGE" { sorts.append(KeyAttribute(name: name, type: type)) }
            else { partitions.append(KeyAttribute(name: name, type: type)) }
        }
        guard let schema = KeySchema(partitions: partitions, sorts: sorts) else {
            throw AWSRequestError(endpoint: api.location, operation: "DescribeTable",
                                  failure: .invalidResponse("table '\(table)' has no key schema in the answer"))
        }
        let onDemand = description?["BillingModeSummary"]?["BillingMode"]?.stringValue == "PAY_PER_REQUEST"
        let units = description?["ProvisionedThroughput"]?["WriteCapacityUnits"]?.numberText.flatMap { Int($0) }
        return TableShape(schema: schema, provisionedWriteUnits: onDemand || units == 0 ? nil : units,
                          status: description?["TableStatus"]?.stringValue)
    }

    // MARK: Preparing (worker threads)

    public func prepare(_ operation: WriteOperation, forBulk: Bool) throws -> LoadWrite {
        switch operation {
        case let .put(item, nil):
            let size = try checked(item)
            let out = ByteBuffer(capacity: size + 64)
            out.append(#"{"PutRequest":{"Item":"#)
            ItemEncoder.writeTypedMap(item, into: out)
            out.append("}}")
            return .encoded(EncodedWrite(kind: .put, key: key(of: item), body: out.array, size: size))
        case let .delete(key, nil):
            guard key.count == schema.attributes.count else { throw DynamoDBError.keyMismatch }
            _ = try checked(key)
            let out = ByteBuffer(capacity: 128)
            out.append(#"{"DeleteRequest":{"Key":"#)
            ItemEncoder.writeTypedMap(key, into: out)
            out.append("}}")
            return .encoded(EncodedWrite(kind: .delete, key: self.key(of: key), body: out.array, size: 0))
        case let .merge(item, nil):
            let size = try checked(item)
            return .encoded(EncodedWrite(kind: .merge, key: key(of: item), body: mergeRequest(item), size: size))
        default:
            throw RemoteLoadError.notIdempotent
        }
    }

    public func prepareCanonicalPut(_ map: UnsafeRawBufferPointer, scanner: CanonicalTypedItem, require: ((Item) -> Bool)?) -> LoadWrite? { nil }

    /// The key and item rules, as the local table checks them (so a record is refused
    /// with the same reason here as there), and the item's size.
    private func checked(_ item: Item) throws -> Int {
        do {
            try schema.validateKey(of: item)
            return try ItemRules.validate(item)
        } catch let e as ItemError { throw DynamoDBError.validation(e.message) }
    }

    private func key(of item: Item) -> [UInt8] {
        let out = ByteBuffer(capacity: 64)
        schema.encodeKey(of: item, into: out)
        return out.array
    }

    /// An UpdateItem request (without TableName) that sets each non-key attribute:
    /// `SET #a0 = :a0, ...` with every name a placeholder (reserved words and all).
    private func mergeRequest(_ item: Item) -> [UInt8] {
        let keyNames = Set(schema.attributes.map(\.name))
        var key = Item(), rest: [(String, AttributeValue)] = []
        for (name, value) in item.entries {
            if keyNames.contains(name) { key[name] = value } else { rest.append((name, value)) }
        }
        let out = ByteBuffer(capacity: 256)
        out.append(#"{"Key":"#)
        ItemEncoder.writeTypedMap(key, into: out)
        if !rest.isEmpty {
            out.append(#","UpdateExpression":"SET "#)
            for i in rest.indices { out.append("\(i == 0 ? "" : ", ")#a\(i) = :a\(i)") }
            out.append(#"","ExpressionAttributeNames":{"#)
            for (i, (name, _)) in rest.enumerated() {
                out.append("\(i == 0 ? "" : ",")\"#a\(i)\":")
                JSONWriter.writeString(name, into: out)
            }
            out.append(#"},"ExpressionAttributeValues":{"#)
            for (i, (_, value)) in rest.enumerated() {
                out.append("\(i == 0 ? "" : ",")\":a\(i)\":")
                ItemEncoder.writeTypedValue(value, into: out)
            }
            out.append("}")
        }
        out.append(#","ReturnConsumedCapacity":"TOTAL"}"#)
        return out.array
    }

    public func checkpointFields(prefix: String) throws -> [(name: String, value: [UInt8])] { [] }

    // MARK: Committing

    /// Writes the group. Writes to one key keep their order: a put or delete makes every
    /// earlier write of its key moot (not sent), and the rest go in waves, the n-th
    /// write of a key in wave n, each wave's requests in flight together.
    public func commit(_ writes: [Result<LoadWrite, Error>], checkpoint: LoadCheckpointFields?, asRun: Bool) throws -> [WriteOutcome] {
        let results = OutcomeBox(count: writes.count)
        var encoded: [EncodedWrite?] = Array(repeating: nil, count: writes.count)
        for (i, write) in writes.enumerated() {
            switch write {
            case let .success(.encoded(w)): encoded[i] = w
            case .success(.local): results.set(i, .rejected(RemoteLoadError.notIdempotent))
            case let .failure(error): results.set(i, .rejected(error))
            }
        }
        var replacedLater = Set<[UInt8]>()
        var live: [Int] = []
        for i in encoded.indices.reversed() {
            guard let w = encoded[i] else { continue }
            if replacedLater.contains(w.key) { continue }   // moot: a later put or delete replaces it
            if w.kind != .merge { replacedLater.insert(w.key) }
            live.append(i)
        }
        live.reverse()
        var waves: [[Int]] = []
        var seen: [[UInt8]: Int] = [:]
        for i in live {
            guard let w = encoded[i] else { continue }
            let n = seen[w.key, default: 0]
            seen[w.key] = n + 1
            if n == waves.count { waves.append([]) }
            waves[n].append(i)
        }
        for wave in waves {
            var jobs: [[Int]] = []
            var batch: [Int] = [], batchBytes = 0
            for i in wave {
                guard let w = encoded[i] else { continue }
                if w.kind == .merge { jobs.append([i]); continue }
                if batch.count == Self.batchItems || batchBytes + w.body.count > Self.batchBytes {
                    jobs.append(batch)
                    batch = []
                    batchBytes = 0
                }
                batch.append(i)
                batchBytes += w.body.count + 1
            }
            if !batch.isEmpty { jobs.append(batch) }
            let frozen = encoded
            let batches = jobs
            try runConcurrently(jobs.count) { job in
                let indices = batches[job]
                if indices.count == 1, let w = frozen[indices[0]], w.kind == .merge {
                    try self.sendMerge(w, index: indices[0], results: results)
                } else {
                    try self.sendBatch(indices.compactMap { i in frozen[i].map { (i, $0) } }, results: results)
                }
            }
        }
        return results.outcomes
    }

    /// Runs `count` jobs on up to `concurrency` threads; the first error stops the rest
    /// (jobs started finish) and is thrown.
    private func runConcurrently(_ count: Int, _ job: @escaping @Sendable (Int) throws -> Void) throws {
        let threads = min(options.concurrency, count)
        if threads <= 1 {
            for i in 0..<count { try job(i) }
            return
        }
        let next = Mutex(0)
        let failure = Mutex<Error?>(nil)
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            let thread = Thread {
                while true {
                    let i: Int? = next.withLock { n in
                        guard n < count, failure.withLock({ $0 == nil }) else { return nil }
                        n += 1
                        return n - 1
                    }
                    guard let i else { break }
                    do { try job(i) } catch { failure.withLock { $0 = $0 ?? error } }
                }
                done.leave()
            }
            thread.name = "ferry-load-send"
            thread.start()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// One BatchWriteItem, sent until every item is written: UnprocessedItems sent again
    /// after a wait, throttling and transient faults absorbed. A ValidationException for
    /// the batch is one bad item: the items go one by one to find it, and it is rejected.
    private func sendBatch(_ entries: [(index: Int?, write: EncodedWrite)], results: OutcomeBox) throws {
        var pending: [(index: Int?, body: [UInt8], units: Double)] = entries.map { ($0.index, $0.write.body, Self.estimatedUnits($0.write)) }
        var idleRounds = 0
        var lastFailure: AWSRequestError? = nil
        while !pending.isEmpty {
            let body = ByteBuffer(capacity: pending.reduce(128) { $0 + $1.body.count + 1 })
            body.append(#"{"RequestItems":{"#)
            body.append(quotedName)
            body.append(":[")
            for (i, entry) in pending.enumerated() {
                if i > 0 { body.append(UInt8(ascii: ",")) }
                body.append(entry.body)
            }
            body.append(#"]},"ReturnConsumedCapacity":"TOTAL"}"#)
            let reserved = pending.reduce(0) { $0 + $1.units }
            limiter?.acquire(reserving: reserved)
            let answer: JSONValue
            do {
                counters.withLock { $0.requests += 1 }
                answer = try api.call("BatchWriteItem", body: body.array, idempotent: true)
            } catch let error as AWSRequestError {
                limiter?.charge(-reserved)
                if error.code == "ValidationException" {
                    if pending.count > 1 {
                        for entry in pending {
                            try sendBatch([(entry.index, EncodedWrite(kind: .put, key: [], body: entry.body, size: 0))], results: results)
                        }
                        return
                    }
                    guard let index = pending[0].index else { throw error }
                    results.set(index, .rejected(DynamoDBError.validation(Self.message(of: error))))
                    return
                }
                guard Self.isRetryable(error) else { throw error }
                lastFailure = error
                idleRounds += 1
                try wait(idleRounds, lastFailure)
                continue
            }
            let consumed = Self.consumedUnits(answer)
            limiter?.charge((consumed ?? reserved) - reserved)
            let left = answer["UnprocessedItems"]?[name]?.arrayValue ?? []
            counters.withLock {
                $0.consumedUnits += consumed ?? reserved
                $0.unprocessedItems += left.count
            }
            if left.isEmpty { return }
            // Progress resets the count; a round with nothing written adds to it.
            idleRounds = left.count < pending.count ? 1 : idleRounds + 1
            lastFailure = nil
            pending = left.map { entry in
                let out = ByteBuffer(capacity: 256)
                entry.write(into: out)
                return (nil, out.array, 1)
            }
            try wait(idleRounds, lastFailure)
        }
    }

    /// One merge as UpdateItem (safe to repeat: it sets values, adds nothing).
    private func sendMerge(_ write: EncodedWrite, index: Int, results: OutcomeBox) throws {
        var request = ByteBuffer(capacity: write.body.count + 64)
        request.append(#"{"TableName":"#)
        request.append(quotedName)
        request.append(UInt8(ascii: ","))
        request.append(Array(write.body.dropFirst()))
        let body = request.array
        request = ByteBuffer(capacity: 0)
        var idleRounds = 0
        let reserved = Self.estimatedUnits(write)
        while true {
            limiter?.acquire(reserving: reserved)
            do {
                counters.withLock { $0.requests += 1 }
                let answer = try api.call("UpdateItem", body: body, idempotent: true)
                let consumed = Self.consumedUnits(answer)
                limiter?.charge((consumed ?? reserved) - reserved)
                counters.withLock { $0.consumedUnits += consumed ?? reserved }
                return
            } catch let error as AWSRequestError {
                limiter?.charge(-reserved)
                if error.code == "ValidationException" {
                    results.set(index, .rejected(DynamoDBError.validation(Self.message(of: error))))
                    return
                }
                guard Self.isRetryable(error) else { throw error }
                idleRounds += 1
                try wait(idleRounds, error)
            }
        }
    }

    /// Waits before round `round` of a retry (full jitter, capped), or fails when too
    /// many rounds in a row wrote nothing.
    private func wait(_ round: Int, _ failure: AWSRequestError?) throws {
        if round > options.maxRoundsWithoutProgress {
            throw RemoteLoadError.noProgress(endpoint: api.location, table: name, rounds: round - 1, last: failure?.description)
        }
        counters.withLock { $0.retries += 1 }
        let cap = min(options.maxBackoff, 0.05 * pow(2, Double(min(round, 20))))
        Thread.sleep(forTimeInterval: Double.random(in: 0..<cap))
    }

    /// Throttling, a transient fault or a lost connection: the batch (idempotent) may go again.
    static func isRetryable(_ error: AWSRequestError) -> Bool {
        switch error.failure {
        case let .service(status, code, _):
            return AWSRetryStrategy.throttlingCodes.contains(code) || AWSRetryStrategy.transientCodes.contains(code)
                || AWSRetryStrategy.transientStatuses.contains(status) || status == 429
        case let .network(e): return e.isTransient
        case .invalidResponse: return false
        }
    }

    static func message(of error: AWSRequestError) -> String {
        if case let .service(_, _, message) = error.failure { return message }
        return error.description
    }

    /// Units a write is expected to cost: one per started KiB of the item (a delete, one).
    static func estimatedUnits(_ write: EncodedWrite) -> Double {
        max(1, Double((write.size + 1023) / 1024))
    }

    /// The ConsumedCapacity of an answer (a list for BatchWriteItem, one for UpdateItem).
    static func consumedUnits(_ answer: JSONValue) -> Double? {
        guard let capacity = answer["ConsumedCapacity"] else { return nil }
        let entries = capacity.arrayValue ?? [capacity]
        var total = 0.0, any = false
        for entry in entries {
            if let text = entry["CapacityUnits"]?.numberText, let units = Double(text) {
                total += units
                any = true
            }
        }
        return any ? total : nil
    }
}

/// Outcomes filled by the sending threads, one slot per write. Thread-safe.
final class OutcomeBox: Sendable {
    private let slots: Mutex<[WriteOutcome]>
    init(count: Int) { slots = Mutex(Array(repeating: .applied(old: nil, new: nil), count: count)) }
    func set(_ i: Int, _ outcome: WriteOutcome) { slots.withLock { $0[i] = outcome } }
    var outcomes: [WriteOutcome] { slots.withLock { $0 } }
}

public enum RemoteLoadError: Error, CustomStringConvertible, Equatable {
    case notIdempotent
    case noProgress(endpoint: String, table: String, rounds: Int, last: String?)

    public var description: String {
        switch self {
        case .notIdempotent:
            return "--update and --condition loads into a remote table are not supported yet (each group would need a transaction with its checkpoint)"
        case let .noProgress(endpoint, table, rounds, last):
            return "\(endpoint): table '\(table)' wrote nothing in \(rounds) retries in a row (throttled or unprocessed)\(last.map { ": \($0)" } ?? ""); what was committed stays, and a rerun with the same --checkpoint resumes"
        }
    }
}
