#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The time Ferry's expiring things are judged by (time-to-live deletions, transaction
/// tokens): the system clock, or in tests `FERRY_TEST_NOW` (seconds since the epoch),
/// so expiry can be tested without waiting (docs/ferry-serve.md, "Time to live").
public enum WallClock {
    /// Seconds since the epoch.
    public static func now() -> Double {
        if let raw = getenv("FERRY_TEST_NOW"), let t = Double(String(cString: raw)), t.isFinite { return t }
        return Date().timeIntervalSince1970
    }
}
