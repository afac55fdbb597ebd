// ferry-restore: a table from a ferry-backup stream, built out of sight and made
// visible only when every item loaded and the trailer matched.
import FerryCLI
import FerryIO
import FerryPipeline
import FerryTable
import FerryValues
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let spec = CommandSpec(
    name: "ferry-restore",
    summary: "Restore a table from a ferry-backup stream: schema and indexes from the header, items loaded in parallel, visible only when complete.",
    usage: "ferry-restore --in <file|-|s3://bucket/key> --table <name> [--replace] [--progress]",
    options: [
        OptionSpec("--in", value: "<backup>", help: "The backup: a file, '-' for stdin, or s3://bucket/key."),
        OptionSpec("--table", value: "<name>", help: "The table to create (may differ from the backed-up name)."),
        OptionSpec("--replace", help: "Replace an existing table of that name (once the restore is complete)."),
        .threads, .progress, .data,
    ],
    examples: ["ferry-restore --in backups/Music-20261123.gz --table Music", "ferry-restore --in s3://backups/Music.gz --table MusicCopy"],
    notes: ["A truncated or corrupt backup, or one whose trailer does not match, is refused and leaves no table.",
            "Exit status: 0 restored, 1 failure (no table was made or changed), 2 usage."]
)

CommandLineTool.main(spec) { args in
    let console = Console(tool: spec.name)
    guard let input = args.value("--in"), let name = args.value("--table") else { throw UsageError.other("give --in and --table") }
    let dataFolder = DataFolder.resolve(args)
    let catalog = try TableCatalog(dataFolder: dataFolder)
    try TableCatalog.validateName(name)
    if try catalog.names().contains(name) && !args.flag("--replace") {
        console.error("table '\(name)' exists; pass --replace to replace it, or restore under another --table name")
        return .failure
    }
    let source = PeekingSource(try InputDecoding.open(try openBackupInput(input, dataFolder: dataFolder)))
    let header = try source.firstLine().withUnsafeBytes { try TableBackup.header($0, source: input) }
    var description = header.description
    description.name = name
    description.tableId = UUID().uuidString.lowercased()
    description.created = Date().timeIntervalSince1970

    // Out of sight, the log synced per MiB: a crash discards the whole table anyway.
    catalog.syncPolicy = .batch
    let (work, table) = try catalog.createHidden(description, program: "ferry-restore")
    var published = false
    defer { if !published { try? table.close(); catalog.discard(work) } }
    var options = Loader.Options()
    options.threads = try args.threadCount()
    if let crash = getenv("FERRY_TEST_KILL_AFTER_COMMITS") { options.killAfterCommits = Int(String(cString: crash)) }   // fault tests
    let progress = ProgressReporter(label: spec.name, forced: args.flag("--progress"))
    var firstReject: String? = nil
    let rejects = RejectWriter(output: nil, limit: 0) { message in if firstReject == nil { firstReject = message } }
    let loader = try Loader(table: table, options: options, rejects: rejects, onProgress: { progress.add(items: $0, bytes: $1) })
    // The same rules as ferry-backup --verify, line by line.
    loader.expectBackup(header, source: input)
    progress.begin()
    let summary: Loader.Summary
    do {
        try loader.run(source)
        summary = try loader.finish()
    } catch PipelineError.tooManyRejects {
        // An item the rules pass but the table refuses: named with its line and reason.
        progress.finish()
        throw BackupError.notABackup(input, reason: "an item cannot be restored: \(firstReject ?? "rejected")")
    }
    progress.finish()
    try loader.checkBackupTrailer()
    // A version 1 backup may hold a key twice; the table then holds fewer items.
    if table.stats.items != loader.backupItems {
        throw BackupError.duplicateKeys(input, lines: loader.backupItems, distinct: table.stats.items)
    }
    try table.close()
    try catalog.publish(work, as: name, replace: args.flag("--replace"), program: "ferry-restore")
    published = true
    console.note("\(name): restored \(summary.loaded) items from \(input) (backup of \(header.description.name) at \(header.snapshotTime)) in \(String(format: "%.2f", summary.seconds)) s")
    return .ok
}
