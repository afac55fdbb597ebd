// ferry-extract: the first stage of `ferry-extract | ferry-transform | ferry-load`.
// Reads objects of the store, local files or stdin in key order (gzip by magic bytes),
// in any format DynamoDB reads or writes, and writes typed NDJSON with barrier lines.
import FerryCLI
import FerryIO
import FerryPipeline
import FerryValues

let spec = CommandSpec(
    name: "ferry-extract",
    summary: "Read objects (s3://bucket/prefix, files, folders, stdin) and write DynamoDB items as NDJSON, with barriers for resumable loads.",
    usage: "ferry-extract [--format <f>] [--resume <checkpoint>] [--shard <i>/<n>] [--barrier-every <n>] [--plain] [--rejects <file>] <source> ...",
    arguments: [("<source>", "s3://bucket/prefix or s3://bucket/key (the store in the data folder), a file, a folder, or '-' for stdin.")],
    options: [
        OptionSpec("--format", value: "<format>", help: "auto (default), jsonl, dynamodb-json, csv, datapipeline or aws-export."),
        OptionSpec("--plain", help: "Write plain JSON items instead of typed DynamoDB JSON."),
        OptionSpec("--barrier-every", value: "<n>", help: "Write a barrier after every <n> records of an object (default 10000) and at its end."),
        OptionSpec("--resume", value: "<checkpoint>", help: "Skip objects the checkpoint (ferry-load --checkpoint) shows complete with the same ETag; restart a partial one after its last committed line."),
        OptionSpec("--shard", value: "<i>/<n>", help: "Take only the objects whose name hashes to shard <i> of <n> (0 <= i < n)."),
        OptionSpec("--header", value: "<a,b,c>", help: "CSV: the column names (the first line is then data)."),
        OptionSpec("--delimiter", value: "<d>", help: "CSV: one of , ; : | tab space (default ,)."),
        OptionSpec("--types", value: "<a:N,b:BOOL>", help: "CSV: columns that are not strings: N, B (base64), BOOL, NULL."),
        OptionSpec("--encoding", value: "<enc>", help: "utf-8 (default), latin1 or cp1252: how the objects' text is encoded (converted to UTF-8 exactly; Excel often writes cp1252)."),
        OptionSpec("--rejects", value: "<file>", help: "Write rejected records here as ferry:reject lines (default: report on stderr)."),
        OptionSpec("--max-errors", value: "<n>", help: "Stop with status 1 after more than <n> rejected records."),
        .threads, .progress, .data,
    ],
    examples: [
        "ferry-extract s3://logs/2026/11/ | ferry-load --table Clicks",
        "ferry-extract --resume load.ckpt s3://logs/ | ferry-load --table Clicks --checkpoint load.ckpt",
        "ferry-extract --format csv --types price:N,year:N songs.csv",
        "ferry-extract s3://backups/exports/        # an Amazon export: AWSDynamoDB/<id>/manifest-summary.json",
    ],
    notes: ["Exit status: 0 done, 1 an object failed (the others were read; the failed one is not marked complete), 2 usage, 3 some records were rejected.",
            "Formats and the barrier lines: docs/ferry-extract.md."]
)

CommandLineTool.main(spec) { args in
    let console = Console(tool: spec.name)
    guard !args.positionals.isEmpty else { throw UsageError.other("give at least one <source>") }
    var options = Extractor.Options()
    guard let format = RecordFormat(rawValue: try args.choice("--format", RecordFormat.allCases.map(\.rawValue), default: "auto")) else {
        throw UsageError.other("unknown --format")
    }
    options.format = format
    options.plain = args.flag("--plain")
    options.barrierEvery = try args.int("--barrier-every", default: 10_000)
    if options.barrierEvery < 1 { throw UsageError.invalidValue(option: "--barrier-every", value: String(options.barrierEvery), expected: "a count of at least 1") }
    options.threads = try args.threadCount()
    if let shard = args.value("--shard") {
        let parts = shard.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 0, i < n else {
            throw UsageError.invalidValue(option: "--shard", value: shard, expected: "<i>/<n> with 0 <= i < n")
        }
        options.shard = (i, n)
    }
    if let delimiter = args.value("--delimiter") {
        guard let byte = CSVOptions.delimiter(named: delimiter) else {
            throw UsageError.invalidValue(option: "--delimiter", value: delimiter, expected: "one of , ; : | tab space")
        }
        options.csv.delimiter = byte
    }
    if let header = args.value("--header") { options.csv.header = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    if let types = args.value("--types") {
        do { options.csv.types = try CSVOptions.parseTypes(types) } catch { throw UsageError.other("\(error)") }
    }
    guard let encoding = TextEncodingSource.Encoding(rawValue: try args.choice("--encoding", TextEncodingSource.Encoding.allCases.map(\.rawValue), default: "utf-8")) else {
        throw UsageError.other("unknown --encoding")
    }
    options.encoding = encoding
    if let resume = args.value("--resume") { options.resume = try CheckpointState.read(path: resume) }
    let maxErrors = args.value("--max-errors") == nil ? nil : try args.int("--max-errors", default: 0)

    let rejectOutput = try args.value("--rejects").map { OutputWriter(sink: try FileSink(path: $0)) }
    let rejects = RejectWriter(output: rejectOutput, limit: maxErrors) { console.note($0) }
    let output = OutputWriter(sink: FileSink.standardOutput())
    let progress = ProgressReporter(label: spec.name, forced: args.flag("--progress"))
    let extractor = Extractor(catalog: SourceCatalog(dataFolder: DataFolder.resolve(args)), output: output, rejects: rejects,
                              options: options, report: { console.error($0) },
                              onProgress: { progress.add(items: $0, bytes: $1) })
    extractor.warn = { console.warning($0) }
    progress.begin()
    defer { progress.finish() }
    try extractor.run(args.positionals)
    try output.finish()
    try rejects.finish()
    let stats = extractor.stats
    if args.flag("--progress") {
        console.note("\(stats.objects) object(s) read (\(stats.resumed) resumed), \(stats.skippedComplete) already loaded, \(stats.records) record(s), \(rejects.count) rejected")
    }
    if !stats.failed.isEmpty {
        console.error("\(stats.failed.count) object(s) failed and were not marked complete: \(stats.failed.joined(separator: ", "))")
        return .failure
    }
    if rejects.count > 0 {
        console.note("\(rejects.count) record(s) rejected")
        return .rejected
    }
    return .ok
}
