// ferry-export: a table (or an index) from one consistent snapshot, as typed or plain
// NDJSON or CSV, to stdout or a file, or into the object store in the layout of
// DynamoDB's export to S3.
import FerryCLI
import FerryExpressions
import FerryIO
import FerryObjectStore
import FerryPipeline
import FerryTable
import FerryValues

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
        .data,
    ],
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
