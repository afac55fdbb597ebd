// The token bucket behind --max-rcu and --max-wcu. docs/remote.md, "Capacity limits".
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A token bucket in capacity units: requests wait while the bucket is in debt. A
/// request may reserve what it expects to cost before it is sent (so requests in flight
/// count), and each answer's ConsumedCapacity settles the difference when it arrives.
/// Thread-safe (rule 18).
public final class CapacityLimiter: Sendable {
    public let unitsPerSecond: Double
    private struct Bucket { var tokens: Double; var refilled: Double }
    private let bucket: Mutex<Bucket>

    /// `startFull`: one second of units may be spent at once at the start (a scan's
    /// first pages); otherwise the bucket starts empty, so the rate holds from the start.
    public init(unitsPerSecond: Double, startFull: Bool = true) {
        self.unitsPerSecond = unitsPerSecond
        bucket = Mutex(Bucket(tokens: startFull ? unitsPerSecond : 0, refilled: Self.now()))
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Waits until the bucket holds a positive balance (at most one second of units
    /// saved up, so an idle spell does not allow a burst), then takes `units`.
    public func acquire(reserving units: Double = 0) {
        while true {
            let wait: Double = bucket.withLock { b in
                let t = Self.now()
                b.tokens = min(unitsPerSecond, b.tokens + (t - b.refilled) * unitsPerSecond)
                b.refilled = t
                if b.tokens > 0 {
                    b.tokens -= units
                    return 0
                }
                return (-b.tokens + 0.001) / unitsPerSecond
            }
            if wait <= 0 { return }
            Thread.sleep(forTimeInterval: min(wait, 1))
        }
    }

    /// Takes what an answer consumed (less what was reserved for it; negative gives back).
    public func charge(_ units: Double) {
        bucket.withLock { $0.tokens -= units }
    }
}
