#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryAWS
import FerryHTTP
import FerryTable
import FerryTableService

extension HTTPServerLimits {
    /// DynamoDB's: a request body of at most 16 MB (Amazon's request size limit), the
    /// rest as FerryHTTP's defaults.
    public static var dynamoDB: HTTPServerLimits {
        var limits = HTTPServerLimits()
        limits.maxBodyBytes = 16 * 1024 * 1024
        return limits
    }
}

/// ferry-serve's server: a data folder's tables behind DynamoDB's HTTP API
/// (docs/ferry-serve.md). Binds at once (so `url` is known), holds every table's writer
/// (their locks name the server and its URL), then serves until `shutdown`.
///
/// Thread-safe: `shutdown` may be called from any thread (a signal watcher) while `run`
/// serves.
public final class DynamoDBServer: @unchecked Sendable {
    public let service: DynamoDBService
    public let http: HTTPServer
    public let handler: DynamoDBHTTPHandler
    public var url: String { http.url }

    /// Forwards to the DynamoDB handler, set once the port (and so the lock's holder
    /// text) is known and before the first connection is accepted.
    private final class Forwarder: HTTPHandler, @unchecked Sendable {
        var target: DynamoDBHTTPHandler?
        func respond(to request: HTTPRequest) -> HTTPResponse {
            target?.respond(to: request) ?? HTTPResponse(status: 503)
        }
        func response(for refusal: HTTPRefusal) -> HTTPResponse {
            target?.response(for: refusal) ?? HTTPResponse(status: refusal.status)
        }
    }

    /// - Parameters:
    ///   - credentials: access key id -> secret; nil accepts any request unsigned or
    ///     signed by anyone (as DynamoDB Local does).
    ///   - region, account: in the tables' ARNs (nil: the environment's, or us-east-1 and
    ///     000000000000).
    ///   - ttlInterval: seconds between sweeps for expired items (time to live).
    public init(host: String, port: Int, dataFolder: String, credentials: [String: String]?,
                region: String? = nil, account: String? = nil, ttlInterval: Double = 60,
                limits: HTTPServerLimits = .dynamoDB, log: @escaping @Sendable (String) -> Void) throws {
        self.ttlInterval = ttlInterval
        self.log = log
        ResourceNames.configure(region: region, account: account)
        let catalog = try TableCatalog(dataFolder: dataFolder, create: true)
        let forwarder = Forwarder()
        http = try HTTPServer(host: host, port: port, limits: limits, handler: forwarder)
        service = DynamoDBService(catalog: catalog, program: "ferry-serve at \(http.url)", access: .held)
        let verifier = credentials.map { SigV4Verifier(secrets: $0, options: .init(service: "dynamodb")) }
        let address = http.url.hasPrefix("http://") ? String(http.url.dropFirst("http://".count)) : http.url
        handler = DynamoDBHTTPHandler(service: service, verifier: verifier, endpointAddress: address, log: log)
        forwarder.target = handler
        for (name, error) in service.holdTables() {
            log("table '\(name)' is not held (reads work; writes are refused until restart): \(error)")
        }
    }

    /// Serves until `shutdown`; then closes the tables (their last commits synced).
    /// Returns the tables that failed to close, and the group-commit counts.
    public func run() -> (failures: [(String, Error)], commits: Int, writeRequests: Int) {
        let sweeper = Thread { [self] in sweepUntilStopped() }
        sweeper.stackSize = 8 << 20
        sweeper.start()
        http.run()
        stopSweeping.signal()
        sweeperDone.wait()
        let (commits, requests) = service.commitStats
        return (service.close(), commits, requests)
    }

    public func shutdown() { http.shutdown() }

    private let ttlInterval: Double
    private let log: @Sendable (String) -> Void
    private let stopSweeping = DispatchSemaphore(value: 0)
    private let sweeperDone = DispatchSemaphore(value: 0)

    /// Time to live: every `ttlInterval` seconds, delete what has expired, until the
    /// server stops (docs/ferry-serve.md, "Time to live").
    private func sweepUntilStopped() {
        defer { sweeperDone.signal() }
        while stopSweeping.wait(timeout: .now() + ttlInterval) == .timedOut {
            do {
                for result in try service.sweepExpiredItems() where result.deleted > 0 {
                    log("time to live: table '\(result.table)': deleted \(result.deleted) expired items (\(result.scanned) scanned)")
                }
            } catch {
                log("time to live: the sweep failed: \(error)")
            }
        }
    }
}
