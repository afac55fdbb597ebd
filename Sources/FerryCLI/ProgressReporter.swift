#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Reports counts on stderr twice a second while work runs: only when stderr is a
/// terminal or --progress was given, and never on stdout. Thread-safe: any thread may
/// call `add`.
public final class ProgressReporter: Sendable {
    private let label: String
    private let enabled: Bool
    private let items = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    /// Guards printing, so no report follows the final line.
    private let running = Mutex<Bool>(false)
    private let start: UInt64
    private let rejects = Atomic<Int>(0)
    /// The input's size when known: the report then has a bar and an ETA.
    private let totalBytes: Int?

    /// `forced` is the --progress flag; without it, only a terminal gets reports.
    public init(label: String, forced: Bool, isTerminal: Bool = Console.stderrIsTerminal, totalBytes: Int? = nil) {
        self.label = label
        self.totalBytes = totalBytes.flatMap { $0 > 0 ? $0 : nil }
        enabled = forced || isTerminal
        start = DispatchTime.now().uptimeNanoseconds
    }

    public var isEnabled: Bool { enabled }

    public func add(items count: Int, bytes byteCount: Int = 0) {
        items.wrappingAdd(count, ordering: .relaxed)
        if byteCount != 0 { bytes.wrappingAdd(byteCount, ordering: .relaxed) }
    }

    public var itemCount: Int { items.load(ordering: .relaxed) }

    public func addRejects(_ count: Int) { rejects.wrappingAdd(count, ordering: .relaxed) }

    public func begin() {
        guard enabled else { return }
        let started = running.withLock { wasRunning -> Bool in
            defer { wasRunning = true }
            return !wasRunning
        }
        guard started else { return }
        DispatchQueue.global().async { [self] in
            while true {
                for _ in 0..<5 { usleep(100_000) }
                let stillRunning = running.withLock { isRunning -> Bool in
                    if isRunning { Console.writeStderr("\r" + line()) }
                    return isRunning
                }
                if !stillRunning { return }
            }
        }
    }

    /// Stops reporting and prints the final counts on their own line.
    public func finish() {
        guard enabled else { return }
        running.withLock { isRunning in
            guard isRunning else { return }
            isRunning = false
            Console.writeStderr("\r" + line() + "\n")
        }
    }

    /// "label: 1234567 items, 45.6 MB, 123456 items/s, 3.2 s"
    public func line() -> String {
        let seconds = max(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, 0.001)
        let n = items.load(ordering: .relaxed)
        let b = bytes.load(ordering: .relaxed)
        var text = "\(label): \(n) items"
        if b > 0 { text += ", \(Self.format(Double(b) / 1e6)) MB" }
        text += ", \(Int(Double(n) / seconds)) items/s, \(Self.format(seconds)) s"
        let r = rejects.load(ordering: .relaxed)
        if r > 0 { text += ", \(r) rejected" }
        if let totalBytes {
            let done = min(1, Double(b) / Double(totalBytes))
            let filled = Int(done * 20)
            text += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "] \(Int(done * 100))%"
            if done > 0.01 && done < 1 { text += " ETA \(Self.format(seconds / done - seconds)) s" }
        }
        return text
    }

    static func format(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
