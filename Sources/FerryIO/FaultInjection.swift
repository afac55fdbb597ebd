// Test-only fault injection at the mutating system calls (docs/faults.md, "Every crash
// point"). Off unless FERRY_TEST_FAULT is set when the process starts; then every call
// that changes a file system (write, pwrite, fsync, rename, unlink, mkdir, ftruncate, and
// an open that may create a file) is counted, and at the chosen one the process is
// killed or the call fails with a chosen errno. Calls on descriptors 0-2 (the standard
// streams) are not counted: they are not storage.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The plan FERRY_TEST_FAULT describes:
///
/// - `count=<file>`: count only; at exit write one line per call to `<file>`: its name and
///   the path or `fd=N` it changes (lines starting `#` say which path a descriptor is).
/// - `kill@<n>`: SIGKILL the process just before the n-th call (1-based).
/// - `<ERRNO>@<n>`: fail the n-th call with ENOSPC, EIO, EDQUOT, EFBIG, EROFS or EINVAL;
///   `<ERRNO>@<n>+` fails it and every later one (a disk that stays full).
/// - `;only=<call>,<call>`: count only these calls (write, fsync, rename, unlink, mkdir,
///   truncate, create).
///
/// Thread-safe: the counter is atomic, so calls from any thread get distinct numbers.
public enum FaultInjection {
    enum Action: Equatable {
        case count(path: String)
        case kill
        case fail(errno: Int32, persistent: Bool)
    }

    struct Plan {
        var action: Action
        var at: Int
        var only: Set<String>?
    }

    static let plan: Plan? = {
        guard let raw = getenv("FERRY_TEST_FAULT") else { return nil }
        let plan = parse(String(cString: raw))
        if case let .count(path)? = plan?.action {
            countPath = path
            atexit { FaultInjection.writeCount() }
        }
        return plan
    }()

    nonisolated(unsafe) static var countPath: String? = nil

    /// FERRY_TEST_NO_RENAME_EXCHANGE: act as on a file system without renameat2's
    /// RENAME_EXCHANGE, so the fallback path of a swap is tested too.
    public static let exchangeDisabled = getenv("FERRY_TEST_NO_RENAME_EXCHANGE") != nil
    static let calls = Atomic<Int>(0)
    static let names = Mutex<[String]>([])

    static let errnoNames: [String: Int32] = [
        "ENOSPC": ENOSPC, "EIO": EIO, "EDQUOT": EDQUOT, "EFBIG": EFBIG, "EROFS": EROFS, "EINVAL": EINVAL,
    ]

    static func parse(_ text: String) -> Plan? {
        let parts = text.split(separator: ";")
        guard let head = parts.first else { return nil }
        var only: Set<String>? = nil
        for option in parts.dropFirst() where option.hasPrefix("only=") {
            only = Set(option.dropFirst(5).split(separator: ",").map(String.init))
        }
        if head.hasPrefix("count=") { return Plan(action: .count(path: String(head.dropFirst(6))), at: 0, only: only) }
        let pieces = head.split(separator: "@")
        guard pieces.count == 2 else { return nil }
        var number = pieces[1]
        let persistent = number.hasSuffix("+")
        if persistent { number = number.dropLast() }
        guard let at = Int(number), at >= 1 else { return nil }
        if pieces[0] == "kill" { return Plan(action: .kill, at: at, only: only) }
        guard let code = errnoNames[String(pieces[0])] else { return nil }
        return Plan(action: .fail(errno: code, persistent: persistent), at: at, only: only)
    }

    /// Called before each mutating call; returns the errno to fail it with, or 0.
    /// `path` (calls that take one) or `descriptor` (calls on an open file) name what
    /// the call changes, for the count file.
    @inline(__always)
    static func check(_ call: StaticString, descriptor: Int32 = -1, path: String? = nil) -> Int32 {
        guard let plan else { return 0 }
        return hit(plan, call, descriptor: descriptor, path: path)
    }

    /// In count mode, notes which path a new descriptor is (a `#` line, not a call), so
    /// a test can find the calls on one file.
    @inline(__always)
    static func opened(_ descriptor: Int32, path: String) {
        guard let plan, case .count = plan.action, descriptor >= 0 else { return }
        names.withLock { $0.append("# fd=\(descriptor) \(path)") }
    }

    static func hit(_ plan: Plan, _ call: StaticString, descriptor: Int32, path: String?) -> Int32 {
        if descriptor >= 0 && descriptor <= 2 { return 0 }
        let name = "\(call)"
        if let only = plan.only, !only.contains(name) { return 0 }
        let number = calls.add(1, ordering: .relaxed).newValue
        switch plan.action {
        case .count:
            let entry = path.map { "\(name) \($0)" } ?? (descriptor >= 0 ? "\(name) fd=\(descriptor)" : name)
            names.withLock { $0.append(entry) }
            return 0
        case .kill:
            if number == plan.at { kill(getpid(), SIGKILL) }
            return 0
        case let .fail(code, persistent):
            return number == plan.at || (persistent && number > plan.at) ? code : 0
        }
    }

    /// The calls counted so far (count mode), one line each, with `#` notes.
    public static var countedCalls: [String] { names.withLock { $0 } }

    static func writeCount() {
        guard let countPath else { return }
        let text = countedCalls.map { $0 + "\n" }.joined()
        let fd = Glibc.open(countPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
    }
}
