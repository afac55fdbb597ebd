// swift-tools-version:6.0
// Ferry: S3-style object store <-> DynamoDB-style tables on the local filesystem.
// No package dependencies by design: only the toolchain and the system zlib.
import PackageDescription

/// Release builds of the byte-level layers skip Swift's dynamic exclusivity checks
/// (15% of a scan's time, docs/performance.md); debug builds, which the tests run, keep
/// them, so a violation still shows up in `make test`.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Ferry",
    products: [
        .executable(name: "ferry-transform", targets: ["ferry-transform"]),
        .executable(name: "ferry-bench", targets: ["ferry-bench"]),
        .executable(name: "ferry-s3", targets: ["ferry-s3"]),
        .executable(name: "ferry-table", targets: ["ferry-table"]),
        .executable(name: "ferry-extract", targets: ["ferry-extract"]),
        .executable(name: "ferry-load", targets: ["ferry-load"]),
        .executable(name: "ferry-export", targets: ["ferry-export"]),
        .executable(name: "ferry-backup", targets: ["ferry-backup"]),
        .executable(name: "ferry-restore", targets: ["ferry-restore"]),
        .executable(name: "ferry-serve", targets: ["ferry-serve"]),
    ],
    targets: [
        // The system zlib; nothing but FerryIO imports it.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Linux calls Glibc's module hides (renameat2); nothing but FerryIO imports it.
        .systemLibrary(name: "CSystemCalls", path: "Sources/CSystemCalls"),
        // Bytes in and out: line reader, buffered writer, gzip, hashes, the raw system calls.
        .target(name: "FerryIO", dependencies: ["CZlib", "CSystemCalls"], swiftSettings: hotPath),
        // DynamoDB's values, exact numbers, JSON on bytes, item codecs, key encoding.
        .target(name: "FerryValues", dependencies: ["FerryIO"], swiftSettings: hotPath),
        // DynamoDB's expression language (and Ferry's ETL extensions) over the values.
        .target(name: "FerryExpressions", dependencies: ["FerryValues"]),
        // The table engine: write-ahead log, memtable, sorted runs, compaction, DynamoDB semantics.
        .target(name: "FerryTable", dependencies: ["FerryExpressions", "FerryValues", "FerryIO"], swiftSettings: hotPath),
        // DynamoDB's JSON API (requests, validation, responses) over the table engine.
        .target(name: "FerryTableService", dependencies: ["FerryTable", "FerryExpressions", "FerryValues", "FerryIO"]),
        // S3 semantics over plain files: buckets, objects, sidecar metadata, listing.
        .target(name: "FerryObjectStore", dependencies: ["FerryValues", "FerryIO"]),
        // Stream stages: extractor (formats, barriers), transform steps, loader (checkpoints), rejects.
        .target(name: "FerryPipeline", dependencies: ["FerryTable", "FerryObjectStore", "FerryExpressions", "FerryValues", "FerryIO"], swiftSettings: hotPath),
        // HTTP/1.1 server: parsing, keep-alive, chunked and gzip bodies, limits, timeouts. Knows nothing of AWS.
        .target(name: "FerryHTTP", dependencies: ["FerryIO"]),
        // HTTPS through the toolchain's URLSession (FoundationNetworking): TLS is not written here.
        .target(name: "FerryHTTPS", dependencies: ["FerryHTTP"]),
        // AWS protocol pieces: SigV4 signing and verification, credentials files.
        .target(name: "FerryAWS", dependencies: ["FerryIO"]),
        // The network front: DynamoDB's JSON protocol over FerryHTTP, onto the table service.
        .target(name: "FerryServe", dependencies: ["FerryHTTP", "FerryAWS", "FerryTableService", "FerryTable", "FerryValues", "FerryIO"]),
        // Remote endpoints: the AWS client (signing, retries), DynamoDB's and S3's protocols behind the local interfaces.
        .target(name: "FerryRemote", dependencies: ["FerryAWS", "FerryHTTP", "FerryHTTPS", "FerryPipeline", "FerryTableService", "FerryTable", "FerryValues", "FerryIO"]),
        // Shared command-line kit: options, help, exit codes, progress, data folder.
        .target(name: "FerryCLI", dependencies: ["FerryAWS", "FerryValues", "FerryIO"]),

        .executableTarget(name: "ferry-transform", dependencies: ["FerryCLI", "FerryPipeline", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-extract", dependencies: ["FerryCLI", "FerryPipeline", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-load", dependencies: ["FerryCLI", "FerryRemote", "FerryAWS", "FerryPipeline", "FerryExpressions", "FerryTableService", "FerryTable", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-export", dependencies: ["FerryCLI", "FerryRemote", "FerryAWS", "FerryPipeline", "FerryObjectStore", "FerryTable", "FerryExpressions", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-backup", dependencies: ["FerryCLI", "FerryPipeline", "FerryTable", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-restore", dependencies: ["FerryCLI", "FerryPipeline", "FerryTable", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-s3", dependencies: ["FerryCLI", "FerryObjectStore", "FerryValues", "FerryIO"]),
        .executableTarget(name: "ferry-serve", dependencies: ["FerryCLI", "FerryServe", "FerryHTTP", "FerryAWS", "FerryTable", "FerryIO"]),
        .executableTarget(name: "ferry-table", dependencies: ["FerryCLI", "FerryRemote", "FerryAWS", "FerryTableService", "FerryTable", "FerryValues", "FerryIO"]),
        // Test helper: commits to a log until killed (the kill -9 test).
        .executableTarget(name: "wal-crash-writer", dependencies: ["FerryTable"]),
        // Test helper: commits batches to a table until killed (the table kill -9 test).
        .executableTarget(name: "table-crash-writer", dependencies: ["FerryTable", "FerryValues"]),
        .executableTarget(name: "ferry-bench", dependencies: ["FerryCLI", "FerryPipeline", "FerryObjectStore", "FerryTable", "FerryExpressions", "FerryValues", "FerryIO"]),

        // Helpers shared by the test targets: fixture paths, temp folders, running binaries.
        .target(name: "FerryTestSupport", path: "Tests/FerryTestSupport"),
        .testTarget(name: "FerryIOTests", dependencies: ["FerryIO", "FerryTestSupport"]),
        .testTarget(name: "FerryValuesTests", dependencies: ["FerryValues", "FerryIO", "FerryTestSupport"]),
        .testTarget(name: "FerryPipelineTests", dependencies: ["FerryPipeline", "FerryValues", "FerryIO", "FerryTestSupport"]),
        .testTarget(name: "FerryExpressionsTests", dependencies: ["FerryExpressions", "FerryValues", "FerryTestSupport"]),
        .testTarget(name: "FerryTableTests", dependencies: ["FerryTable", "FerryIO", "FerryTestSupport", "wal-crash-writer"]),
        .testTarget(name: "FerryTableServiceTests", dependencies: ["FerryTableService", "FerryTable", "FerryExpressions", "FerryValues", "FerryTestSupport", "table-crash-writer"]),
        .testTarget(name: "FerryObjectStoreTests", dependencies: ["FerryObjectStore", "FerryValues", "FerryIO", "FerryTestSupport"]),
        .testTarget(name: "FerryHTTPTests", dependencies: ["FerryHTTP", "FerryIO", "FerryTestSupport"]),
        .testTarget(name: "FerryAWSTests", dependencies: ["FerryAWS", "FerryIO", "FerryTestSupport"]),
        .testTarget(name: "FerryCLITests", dependencies: ["FerryCLI", "FerryValues"]),
        .testTarget(name: "FerryToolTests", dependencies: ["ferry-transform", "ferry-extract", "ferry-load", "ferry-export", "ferry-backup", "ferry-restore", "ferry-bench", "ferry-s3", "ferry-table", "ferry-serve", "FerryTestSupport"]),
    ]
)
