import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Paths and processes for tests. Fixtures live in the repository's fixtures/ folder,
/// found from this file's path so tests run from any working directory.
public enum TestSupport {
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func fixture(_ relativePath: String) -> URL {
        repositoryRoot.appendingPathComponent("fixtures").appendingPathComponent(relativePath)
    }

    public static func fixtureBytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixture(relativePath)))
    }

    /// A new empty folder under the system temp folder.
    public static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The folder the built executables are in (next to the test bundle).
    public static var productsFolder: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    public struct Result {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public let stdoutBytes: [UInt8]
    }

    /// Runs a bash script (for documented command sequences) in `directory`.
    public static func run(_ ignored: String, _ arguments: [String], environment: [String: String], currentDirectory: URL,
                           bash script: String, at directory: URL) throws -> Result {
        let url = currentDirectory.appendingPathComponent("script.sh")
        try Data(script.utf8).write(to: url)
        return try spawn("/bin/bash", [url.path], environment: environment, directory: directory, stdin: [])
    }

    /// Runs a built executable with `stdin` as input and waits for it.
    public static func run(_ tool: String, _ arguments: [String], stdin: [UInt8] = [],
                           environment: [String: String]? = nil, currentDirectory: URL? = nil) throws -> Result {
        try spawn(productsFolder.appendingPathComponent(tool).path, arguments, environment: environment,
                  directory: currentDirectory, stdin: stdin)
    }

    /// Runs `executable` with posix_spawn and waits for it with waitpid; stdin, stdout and
    /// stderr are files. (Foundation's Process, run thousands of times by the fault
    /// suites, now and then never noticed a child's exit and hung the suite.) A child
    /// killed by a signal reports the signal's number, as Process did.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?, directory: URL?,
                      stdin: [UInt8]) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inPath = scratch.appendingPathComponent("in").path
        let outPath = scratch.appendingPathComponent("out").path
        let errPath = scratch.appendingPathComponent("err").path
        try Data(stdin).write(to: URL(fileURLWithPath: inPath))
        // The child changes folder itself (coreutils env -C), so no chdir call is needed here.
        var argv = [executable] + arguments
        var program = executable
        if let directory {
            argv = ["/usr/bin/env", "-C", directory.path, "--"] + argv
            program = "/usr/bin/env"
        }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let cArgv = cStrings(argv), cEnv = cStrings(env)
        defer { (cArgv + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let failure = posix_spawn(&pid, program, &actions, nil, cArgv, cEnv)
        guard failure == 0 else { throw NSError(domain: "posix_spawn", code: Int(failure)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        let code = signal == 0 ? (status >> 8) & 0xFF : signal
        let out = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        let err = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
        return Result(status: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                      stdoutBytes: [UInt8](out))
    }
}

/// A small seeded generator, so a failing round of a randomized test can be replayed.
public struct SplitMix {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension TestSupport {
    /// Rounds of a fault test: more under `make test-faults` (FERRY_FAULTS=full).
    public static func faultRounds(reduced: Int, full: Int) -> Int {
        ProcessInfo.processInfo.environment["FERRY_FAULTS"] == "full" ? full : reduced
    }

    /// Runs a bash script with `environment`, in `directory`, and waits for it.
    public static func bash(_ script: String, environment: [String: String], in directory: URL) throws -> Result {
        try spawn("/bin/bash", ["-c", script], environment: environment, directory: directory, stdin: [])
    }
}

/// A scratch folder for black-box tests of the executables: its own data folder
/// (FERRY_DATA), the built tools first on PATH, and `fixtures` linked in so scripts name
/// fixtures as the README does.
public struct ToolWorkspace {
    public let folder: URL
    public let environment: [String: String]

    public init() throws {
        folder = try TestSupport.temporaryFolder()
        environment = ["PATH": TestSupport.productsFolder.path + ":/usr/bin:/bin", "FERRY_DATA": folder.path + "/data"]
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("fixtures"),
                                                   withDestinationURL: TestSupport.repositoryRoot.appendingPathComponent("fixtures"))
    }

    /// Runs a bash script in the folder, with extra environment variables.
    public func bash(_ script: String, env extra: [String: String] = [:]) throws -> TestSupport.Result {
        try TestSupport.bash(script, environment: environment.merging(extra) { $1 }, in: folder)
    }

    /// Runs a bash script and checks its exit status (nil: any), naming the script and
    /// its stderr when it differs.
    @discardableResult
    public func sh(_ script: String, expect status: Int32? = 0, env extra: [String: String] = [:],
                   file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        let r = try bash(script, env: extra)
        if let status { XCTAssertEqual(r.status, status, "\(script)\n\(r.stderr)", file: file, line: line) }
        return r
    }
}

/// A test case that runs the built tools in a fresh `ToolWorkspace` for each test.
open class ToolTestCase: XCTestCase {
    public var workspace: ToolWorkspace!
    public var work: URL { workspace.folder }

    override open func setUpWithError() throws { workspace = try ToolWorkspace() }

    /// `workspace.sh`: runs a bash script there and checks its exit status.
    @discardableResult
    open func sh(_ script: String, expect status: Int32? = 0, env: [String: String] = [:],
                   file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try workspace.sh(script, expect: status, env: env, file: file, line: line)
    }
}
