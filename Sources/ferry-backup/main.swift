// ferry-backup: a table's consistent snapshot as one gzip stream with a header and a
// checked trailer (docs/backup-format.md); --verify checks one.
import FerryCLI
import FerryIO
import FerryPipeline
import FerryTable
import FerryValues

let spec = CommandSpec(
    name: "ferry-backup",
    summary: "Back up a table to one gzip stream (header, items, checked trailer), or verify a backup.",
    usage: "ferry-backup --table <name> --out <file.gz|-|s3://bucket/key> [--level <n>] | ferry-backup --verify <file|-|s3://bucket/key>",
    options: [
        OptionSpec("--table", value: "<name>", help: "The table to back up."),
        OptionSpec("--out", value: "<dest>", help: "A file (strftime patterns such as %Y%m%d work), '-' for stdout, or s3://bucket/key. Appears atomically."),
        OptionSpec("--level", value: "<n>", help: "Gzip level 1-9 (default 6)."),
        OptionSpec("--verify", value: "<backup>", help: "Check a backup: gzip CRCs, every item against the schema, the trailer's count and CRC."),
        .threads, .data,
    ],
    examples: [
        "ferry-backup --table Music --out backups/Music-%Y%m%d.gz",
        "ferry-backup --table Music --out - | ssh host 'cat > Music.gz'",
        "ferry-backup --verify backups/Music-20261123.gz",
    ],
    notes: ["The snapshot is consistent while writers (ferry-load, ferry-table) run: each item is as of one moment.",
            "Exit status: 0 done (or the backup is sound), 1 failure (or a fault in the backup), 2 usage."]
)

CommandLineTool.main(spec) { args in
    let console = Console(tool: spec.name)
    let dataFolder = DataFolder.resolve(args)
    let threads = try args.threadCount()
    if let path = args.value("--verify") {
        let report = try TableBackup.verify(try openBackupInput(path, dataFolder: dataFolder), threads: threads)
        console.note("\(path): OK: table \(report.table), \(report.items) items, snapshot \(report.snapshotTime), \(report.bytes) bytes of item lines")
        return .ok
    }
    guard let tableName = args.value("--table"), let out = args.value("--out") else {
        throw UsageError.other("give --table and --out, or --verify")
    }
    let level = Int32(try args.int("--level", default: 6, range: 1...9))
    let destination = expandTimePattern(out)
    let table = try TableCatalog(dataFolder: dataFolder, create: false).openForReading(tableName)
    let target = try OutputTarget(destination, gzip: true, level: level, gzipThreads: threads, dataFolder: dataFolder)
    do {
        let count = try TableBackup.write(table, into: target.sink)
        try target.commit()
        if destination != "-" { console.note("\(tableName): \(count) items backed up to \(destination)") }
    } catch {
        target.abandon()
        throw error
    }
    return .ok
}
