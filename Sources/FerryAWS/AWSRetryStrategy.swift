// The SDKs' "standard" retry mode: which failures are retried, how long to wait (full
// jitter), and the retry quota that stops a failing endpoint from being hammered.
// docs/remote.md, "Retries".
import Synchronization

/// What went wrong with one attempt, as the retry decision needs it.
public enum AWSAttemptFailure: Sendable, Equatable {
    /// The service answered with an error: HTTP status and error code (`__type`, `Code`).
    case service(status: Int, code: String)
    /// No answer. `requestSent` is false when the request certainly never reached the
    /// service (the connect failed); `timeout` marks a timeout.
    case connection(requestSent: Bool, timeout: Bool)
}

/// Retry decisions and the shared quota. Thread-safe: one strategy serves every request
/// of a client (the quota is a Mutex-guarded count).
public final class AWSRetryStrategy: Sendable {
    /// Attempts per request, the first included (AWS_MAX_ATTEMPTS; 3 in standard mode).
    public let maxAttempts: Int
    /// The cap on one wait, in seconds (20 in standard mode).
    public let maxBackoff: Double
    /// Seconds the first retry waits at most (1 in standard mode); tests pass less.
    public let baseDelay: Double

    public static let initialQuota = 500
    static let retryCost = 5
    static let timeoutRetryCost = 10

    private let quota = Mutex(AWSRetryStrategy.initialQuota)

    public init(maxAttempts: Int = 3, baseDelay: Double = 1, maxBackoff: Double = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
    }

    /// Error codes that mean "slow down": the request was not applied.
    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "ThrottlingError",
    ]
    /// Error codes of a transient fault on the service's side.
    public static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "InternalError", "InternalServerError", "ServiceUnavailable"]
    /// Statuses of a transient fault.
    public static let transientStatuses: Set<Int> = [500, 502, 503, 504]

    /// True when the failure proves the service did not act on the request, so even a
    /// call that is not idempotent (UpdateItem with ADD, a part upload without its
    /// checksum) may go again: throttling, a refused connection, 503.
    public static func provesNotApplied(_ failure: AWSAttemptFailure) -> Bool {
        switch failure {
        case let .service(status, code): return throttlingCodes.contains(code) || status == 503 || status == 429
        case let .connection(sent, _): return !sent
        }
    }

    public static func isRetryable(_ failure: AWSAttemptFailure) -> Bool {
        switch failure {
        case let .service(status, code):
            return throttlingCodes.contains(code) || transientCodes.contains(code) || transientStatuses.contains(status) || status == 429
        case .connection: return true
        }
    }

    /// The seconds to wait before attempt `attempt + 1` (attempt counts from 1), or nil
    /// when the failure is not retried: not retryable, not provably unapplied for a
    /// call that is not idempotent, out of attempts, or out of quota. Takes the retry's
    /// cost from the quota when it says yes.
    public func delayBeforeRetry(after failure: AWSAttemptFailure, attempt: Int, idempotent: Bool,
                                 random: () -> Double = { Double.random(in: 0..<1) }) -> Double? {
        guard attempt < maxAttempts, Self.isRetryable(failure) else { return nil }
        guard idempotent || Self.provesNotApplied(failure) else { return nil }
        var timeout = false
        if case let .connection(_, t) = failure { timeout = t }
        let cost = timeout ? Self.timeoutRetryCost : Self.retryCost
        let granted = quota.withLock { left -> Bool in
            guard left >= cost else { return false }
            left -= cost
            return true
        }
        guard granted else { return nil }
        // Full jitter: a uniform wait up to base * 2^(attempt-1), capped.
        let ceiling = min(maxBackoff, baseDelay * Double(1 << min(attempt - 1, 30)))
        return random() * ceiling
    }

    /// Records a success: a retried request gives its cost back, a first try adds one.
    public func recordSuccess(retriedWithCost cost: Int?) {
        quota.withLock { left in left = min(Self.initialQuota, left + (cost ?? 1)) }
    }

    /// The cost `delayBeforeRetry` took for `failure` (to give back on success).
    public static func cost(of failure: AWSAttemptFailure) -> Int {
        if case .connection(_, true) = failure { return timeoutRetryCost }
        return retryCost
    }

    public var quotaLeft: Int { quota.withLock { $0 } }
}
