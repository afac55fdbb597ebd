import Foundation

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [url.path]
        process.environment = environment
        process.currentDirectoryURL = directory
        return try runToEnd(process, stdin: [])
    }

    /// Runs a built executable with `stdin` as input and waits for it.
    public static func run(_ tool: String, _ arguments: [String], stdin: [UInt8] = [],
                           environment: [String: String]? = nil, currentDirectory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = productsFolder.appendingPathComponent(tool)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        return try runToEnd(process, stdin: stdin)
    }

    /// Starts `process` with pipes, feeds `stdin`, and waits for it and its output.
    static func runToEnd(_ process: Process, stdin: [UInt8]) throws -> Result {
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Feed stdin and drain both outputs concurrently so no pipe fills up and blocks.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = output.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = errors.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        input.fileHandleForWriting.write(Data(stdin))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self),
                      stdoutBytes: [UInt8](outData))
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = environment
        process.currentDirectoryURL = directory
        return try runToEnd(process, stdin: [])
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
}
