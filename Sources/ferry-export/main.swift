// ferry-export: a table (or an index) from one consistent snapshot, as typed or plain
// NDJSON or CSV, to stdout or a file, or into the object store in the layout of
// DynamoDB's export to S3.
import FerryAWS
import FerryCLI
import FerryRemote
import FerryExpressions
import FerryIO
import FerryObjectStore
import FerryPipeline
import FerryTable
import FerryValues
import Foundation

let spec = CommandSpec(
    name: "ferry-export",
    summary: "Export a table from a consistent snapshot: NDJSON (typed or plain), CSV, or Amazon's export layout in the object store.",
    usage: "ferry-export --table <name> [--index <name>] [--filter <expr>] [--projection <paths>] [--plain | --csv [--columns a,b]] [--out <file> | --to s3://bucket/prefix] [--segments <n>]",
    options: [
        OptionSpec("--table", value: "<name>", help: "The table (required)."),
        OptionSpec("--index", value: "<name>", help: "Export this secondary index's entries instead of the table."),
        OptionSpec("--filter", value: "<expr>", help: "Only items for which this condition holds."),
        OptionSpec("--projection", value: "<paths>", help: "Only these attributes: 'a, b.c'."),
        OptionSpec("--values", value: "<json>", help: "Values for :placeholders (plain or typed JSON).", repeatable: true),
        OptionSpec("--names", value: "<json>", help: "Names for #placeholders.", repeatable: true),
        OptionSpec("--plain", help: "Plain JSON lines instead of typed DynamoDB JSON."),
        OptionSpec("--csv", help: "CSV with a header (DynamoDB's import format)."),
        OptionSpec("--columns", value: "<a,b,c>", help: "CSV columns (default: every attribute name, keys first)."),
        OptionSpec("--out", value: "<file>", help: "Write here (atomically) instead of stdout; gzip when the name ends in .gz."),
        OptionSpec("--gzip", help: "Gzip the output."),
        OptionSpec("--to", value: "s3://bucket/prefix", help: "Write Amazon's export layout (AWSDynamoDB/<ExportId>/...) into the store and print its manifest summary."),
        OptionSpec("--segments", value: "<n>", help: "Scan segments read in parallel (default: the core count); with --to, one data file each."),
        OptionSpec("--checkpoint", value: "<file>", help: "Remote exports: keep each segment's position here so a killed export resumes (needs --out, not gzip)."),
        OptionSpec("--page-size", value: "<n>", help: "Remote exports: items per Scan request (default: DynamoDB's 1 MB pages)."),
        OptionSpec("--max-rcu", value: "<units>", help: "Remote exports: read capacity units per second at most, over all segments."),
        .data,
    ] + OptionSpec.remoteOptions,
    examples: [
        "ferry-export --table Music > music.jsonl",
        "ferry-export --table Music --csv --out music.csv",
        "ferry-export --table Music --filter 'Price > :p' --values '{\":p\": 1}' --projection 'Artist, SongTitle, Price' --plain",
        "ferry-export --table Music --to s3://backups/exports",
    ],
    notes: ["The export reads one snapshot: writers may run meanwhile; their later commits are not in it.",
            "Formats and the Amazon layout: docs/ferry-export.md."]
)

CommandLineTool.main(spec) { args in
    guard let tableName = args.value("--table") else { throw UsageError.other("--table is required") }
    if args.flag("--plain") && args.flag("--csv") { throw UsageError.other("--plain and --csv exclude each other") }
    if args.value("--to") != nil && (args.flag("--plain") || args.flag("--csv") || args.value("--out") != nil) {
        throw UsageError.other("--to writes Amazon's layout (typed, gzip): no --plain, --csv or --out with it")
    }
    var options = TableExporter.Options()
    options.indexName = args.value("--index")
    options.format = args.flag("--csv") ? .csv : (args.flag("--plain") ? .plain : .typed)
    options.columns = args.value("--columns").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    options.segments = args.value("--segments") == nil ? ProcessorCount.available : try args.int("--segments", default: 1, range: 1...1000)
    do {
        let context = try TransformStep.placeholders(args.ordered)
        options.filter = try args.value("--filter").map { try ConditionExpression($0, context: context, kind: .filter) }
        options.projection = try args.value("--projection").map { try ProjectionExpression($0, context: context) }
    } catch let error as ExpressionError {
        throw UsageError.other("\(error)")
    } catch let error as TransformStepError {
        throw UsageError.other("\(error)")
    }
    if let settings = try args.remoteSettings(.dynamodb) {
        return try exportRemote(tableName, settings, args)
    }
    for option in ["--checkpoint", "--max-rcu", "--page-size"] where args.value(option) != nil {
        throw UsageError.other("\(option) is for exports from an endpoint (--endpoint-url); a local export reads one snapshot and needs no resuming")
    }
    let dataFolder = DataFolder.resolve(args)
    let table = try TableCatalog(dataFolder: dataFolder, create: false).openForReading(tableName)
    let exporter = TableExporter(table: table, options: options)

    if let to = args.value("--to") {
        guard to.hasPrefix("s3://") else { throw UsageError.invalidValue(option: "--to", value: to, expected: "s3://bucket/prefix") }
        let body = to.dropFirst("s3://".count)
        let bucket = String(body.prefix { $0 != "/" })
        let prefix = body.contains("/") ? String(body[body.index(after: body.firstIndex(of: "/")!)...]) : ""
        let summary = try AWSExportWriter.write(exporter, store: try ObjectStore(dataFolder: dataFolder), bucket: bucket, prefix: prefix)
        try Console.writeStdout(summary.prettyText() + "\n")
        return .ok
    }
    let outName = args.value("--out") ?? "-"
    let target = try OutputTarget(outName, gzip: args.flag("--gzip") || outName.hasSuffix(".gz"),
                                  gzipThreads: ProcessorCount.available, dataFolder: dataFolder)
    do {
        try exporter.export(to: target.sink)
        try target.commit()
    } catch {
        target.abandon()
        throw error
    }
    return .ok
}

/// An export from a DynamoDB endpoint: a parallel Scan, resumable with --checkpoint.
func exportRemote(_ tableName: String, _ settings: AWSSettings, _ args: ParsedArguments) throws -> ExitCode {
    for option in ["--csv", "--to", "--columns"] where args.value(option) != nil || args.flag(option) {
        throw UsageError.other("\(option) is not available for an export from an endpoint yet (docs/remote.md)")
    }
    if args.value("--out")?.hasPrefix("s3://") == true {
        throw UsageError.other("--out s3://... with --endpoint-url is not available yet: export to a file, then ferry-s3 cp it")
    }
    var options = RemoteTableExporter.Options(table: tableName)
    options.format = args.flag("--plain") ? .plain : .typed
    options.indexName = args.value("--index")
    options.filter = args.value("--filter")
    options.projection = args.value("--projection")
    options.segments = try args.int("--segments", default: 4, range: 1...1_000_000)
    if args.value("--page-size") != nil { options.pageLimit = try args.int("--page-size", default: 0, range: 1...1_000_000) }
    options.killAfterPages = ProcessInfo.processInfo.environment["FERRY_TEST_KILL_AFTER_PAGES"].flatMap(Int.init)
    if let rcu = try args.positiveNumber("--max-rcu", expected: "read units per second") { options.maxRCU = rcu }
    do {
        let context = try TransformStep.placeholders(args.ordered)
        options.names = context.names
        for (name, value) in context.values.sorted(by: { $0.key < $1.key }) { options.values[name] = value }
    } catch let error as TransformStepError {
        throw UsageError.other("\(error)")
    }
    let api = RemoteDynamoDB(client: try AWSSettingsError.usageIfOption { try AWSClient(settings: settings) })
    let exporter = RemoteTableExporter(api: api, options: options)
    let console = Console(tool: "ferry-export")
    let summary: RemoteTableExporter.Summary
    if let checkpoint = args.value("--checkpoint") {
        guard let out = args.value("--out"), out != "-" else {
            throw UsageError.other("--checkpoint needs --out FILE: a resumed export appends to the file it began")
        }
        if out.hasSuffix(".gz") || args.flag("--gzip") {
            throw UsageError.other("--checkpoint with a gzip output is not available yet: write plain --out and gzip it after")
        }
        summary = try exporter.export(toFile: out, checkpointPath: checkpoint, endpoint: api.location)
        if summary.alreadyComplete {
            console.note("\(tableName): \(checkpoint) says this export is complete (\(summary.resumedItems) items in \(out)); nothing to do")
            return .ok
        }
    } else {
        let outName = args.value("--out") ?? "-"
        let target = try OutputTarget(outName, gzip: args.flag("--gzip") || outName.hasSuffix(".gz"),
                                      gzipThreads: ProcessorCount.available, dataFolder: ".")
        do {
            summary = try exporter.export(to: target.sink)
            try target.commit()
        } catch {
            target.abandon()
            throw error
        }
    }
    let resumed = summary.resumedItems > 0 ? " (\(summary.resumedItems) written before the resume)" : ""
    console.note("\(tableName): \(summary.items) items\(resumed) in \(summary.pages) pages, \(String(format: "%.1f", summary.consumedRCU)) read units, from \(settings.summary)")
    return .ok
}
