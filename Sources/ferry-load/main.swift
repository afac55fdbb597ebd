// ferry-load: the last stage of `ferry-extract | ferry-transform | ferry-load`.
// Parses and checks records on worker threads, commits them in stream order in groups,
// and with --checkpoint commits each group's position inside the table (exactly once).
#if canImport(Glibc)
import Glibc
#endif
import FerryAWS
import FerryCLI
import FerryExpressions
import FerryIO
import FerryPipeline
import FerryRemote
import FerryTable
import FerryTableService
import FerryValues

let spec = CommandSpec(
    name: "ferry-load",
    summary: "Load a stream of DynamoDB items (NDJSON, typed or plain) into a table: parallel, grouped commits, resumable exactly once.",
    usage: "ferry-load --table <name> [--mode put|update|delete] [--update <expr>] [--condition <expr>] [--checkpoint <file>] [--rejects <file>] [<file> ...]",
    arguments: [("<file>", "NDJSON input, gzip or not; '-' or none reads stdin.")],
    options: [
        OptionSpec("--table", value: "<name>", help: "The table to load (required)."),
        OptionSpec("--mode", value: "<mode>", help: "put (default: replace the item), update (set each attribute of the record on the item), delete (delete the record's key)."),
        OptionSpec("--update", value: "<expr>", help: "An UpdateExpression applied to the record's key; :name binds to the record's attribute name unless --values gives it."),
        OptionSpec("--condition", value: "<expr>", help: "Write only when this holds for the stored item (e.g. attribute_not_exists(pk)); failures are rejects."),
        OptionSpec("--values", value: "<json>", help: "Values for :placeholders: '{\":one\": 1}' (plain or typed JSON).", repeatable: true),
        OptionSpec("--names", value: "<json>", help: "Names for #placeholders: '{\"#s\": \"status\"}'.", repeatable: true),
        OptionSpec("--checkpoint", value: "<file>", help: "Commit each group with its position in the table and rewrite <file> after; a rerun skips what was committed."),
        OptionSpec("--changed", value: "reload", help: "Load an object whose ETag changed since it was committed again from its start, even under --update/--condition (refused by default: its unchanged records would apply twice)."),
        OptionSpec("--create", value: "<pk:S[,sk:N]>", help: "Create the table (on demand billing) when it does not exist, with this key."),
        OptionSpec("--rejects", value: "<file>", help: "Write rejected records here as ferry:reject lines (default: report on stderr)."),
        OptionSpec("--max-errors", value: "<n>", help: "Stop with status 1 after more than <n> rejected records."),
        OptionSpec("--summary", value: "<file>", help: "Write the final counts here as JSON."),
        OptionSpec("--group", value: "<n>", help: "Records per commit, at least (default 10000 through the log; 32 MiB of input as a sorted run)."),
        OptionSpec("--bulk", value: "auto|always|never", help: "Commit groups of puts and deletes as sorted runs, no log (auto: groups of 1 MiB or more; default auto)."),
        OptionSpec("--concurrency", value: "<n>", help: "Remote tables: requests in flight at once (default 8)."),
        OptionSpec("--max-wcu", value: "<units>", help: "Remote tables: write capacity units per second at most, by the ConsumedCapacity the service returns."),
        OptionSpec("--max-wcu-percent", value: "<p>", help: "Remote tables: at most <p> percent of the table's provisioned write capacity."),
        .threads, .progress, .data,
    ] + OptionSpec.remoteOptions,
    examples: [
        "ferry-extract s3://music/ | ferry-load --table Music --create Artist:S,SongTitle:S",
        "ferry-extract --resume clicks.ckpt s3://logs/ | ferry-load --table Clicks --checkpoint clicks.ckpt --update 'ADD views :one SET last_seen = :ts' --values '{\":one\":1}'",
        "ferry-load --table Users --condition 'attribute_not_exists(id)' --rejects dupes.jsonl users.jsonl",
        "ferry-extract s3://logs/ | ferry-load --endpoint-url http://127.0.0.1:8000 --table Clicks --checkpoint clicks.ckpt --max-wcu 500",
    ],
    notes: ["Exit status: 0 done, 1 failed (what was committed stays), 2 usage, 3 finished with rejected records.",
            "Checkpoints, groups and exactly-once: docs/ferry-load.md."]
)

/// The size of a regular file that is not gzip; nil otherwise.
func plainFileSize(_ path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
          let source = try? FileSource(path: path) else { return nil }
    var head: (UInt8, UInt8) = (0, 0)
    let n = (try? withUnsafeMutableBytes(of: &head) { try source.read(into: $0) }) ?? 0
    if n == 2 && head.0 == 0x1F && head.1 == 0x8B { return nil }
    return Int(st.st_size)
}

/// Whether a stream line asks for the table: anything but blank lines and barriers of no
/// records (an extract writes one where each object starts, and one at the end of an
/// object that gave none). A barrier past records does: the table must then show them.
func isRecordLine(_ line: UnsafeRawBufferPointer) -> Bool {
    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return false }
    guard line.starts(with: Array(#"{"ferry:barrier""#.utf8)),
          let json = try? JSONValue.parse(line), let body = json[Barrier.controlName],
          let barrier = try? Barrier(body: body) else { return true }
    return barrier.records > 0
}

/// `pk:S,sk:N` as a CreateTable request.
func createRequest(_ table: String, _ keyText: String) throws -> JSONValue {
    let parts = keyText.split(separator: ",").map { $0.split(separator: ":").map(String.init) }
    guard (1...2).contains(parts.count), parts.allSatisfy({ $0.count == 2 && !$0[0].isEmpty && ["S", "N", "B"].contains($0[1]) }) else {
        throw UsageError.invalidValue(option: "--create", value: keyText, expected: "pk:S or pk:S,sk:N (types S, N, B)")
    }
    return .object([
        JSONMember("TableName", .string(table)),
        JSONMember("AttributeDefinitions", .array(parts.map { .object([JSONMember("AttributeName", .string($0[0])), JSONMember("AttributeType", .string($0[1]))]) })),
        JSONMember("KeySchema", .array(parts.enumerated().map { i, p in .object([JSONMember("AttributeName", .string(p[0])), JSONMember("KeyType", .string(i == 0 ? "HASH" : "RANGE"))]) })),
        JSONMember("BillingMode", .string("PAY_PER_REQUEST")),
    ])
}

/// A remote load's costs in --summary: the endpoint, requests, retries, write units.
func remoteMembers(_ target: any LoadTarget) -> [JSONMember] {
    guard let remote = target as? RemoteLoadTarget else { return [] }
    let stats = remote.stats
    return [
        JSONMember("endpoint", .string(remote.api.location)),
        JSONMember("requests", .number(String(stats.requests))),
        JSONMember("retries", .number(String(stats.retries))),
        JSONMember("unprocessedItems", .number(String(stats.unprocessedItems))),
        JSONMember("writeUnits", .number(String(format: "%.1f", stats.consumedUnits))),
    ]
}

CommandLineTool.main(spec) { args in
    let console = Console(tool: spec.name)
    guard let tableName = args.value("--table") else { throw UsageError.other("--table is required") }
    var options = Loader.Options()
    guard let mode = Loader.Mode(rawValue: try args.choice("--mode", Loader.Mode.allCases.map(\.rawValue), default: "put")) else {
        throw UsageError.other("unknown --mode")
    }
    options.mode = mode
    options.update = args.value("--update")
    options.condition = args.value("--condition")
    if options.update != nil && args.value("--mode") != nil && mode != .update {
        throw UsageError.other("--update goes with --mode update (or no --mode)")
    }
    do { options.context = try TransformStep.placeholders(args.ordered) } catch { throw UsageError.other("\(error)") }
    options.threads = try args.threadCount()
    if args.value("--group") != nil { options.groupRecords = try args.int("--group", default: 10_000) }
    guard let bulk = Loader.BulkMode(rawValue: try args.choice("--bulk", Loader.BulkMode.allCases.map(\.rawValue), default: "auto")) else {
        throw UsageError.other("unknown --bulk")
    }
    options.bulk = bulk
    options.checkpointPath = args.value("--checkpoint")
    if let changed = args.value("--changed") {
        guard changed == "reload" else { throw UsageError.invalidValue(option: "--changed", value: changed, expected: "reload") }
        options.reloadChanged = true
    }
    if let crash = getenv("FERRY_TEST_KILL_AFTER_COMMITS") { options.killAfterCommits = Int(String(cString: crash)) }
    let maxErrors = args.value("--max-errors") == nil ? nil : try args.int("--max-errors", default: 0)
    let files = args.positionals.isEmpty ? ["-"] : args.positionals
    if args.flag("--progress") == false, files == ["-"], isatty(0) == 1 {
        console.warning("reading records from the terminal (stdin); end with Ctrl-D")
    }

    // Where the table is: the data folder, or an endpoint (docs/remote.md).
    let settings = try args.remoteSettings(.dynamodb)
    let place: any LoadPlace = try settings.map { try RemoteLoad(settings: $0, table: tableName, args: args, options: &options) }
        ?? LocalLoad(table: tableName, args: args)
    let exists = try place.exists()
    if !exists && args.value("--create") == nil {
        console.error(settings == nil ? "table '\(tableName)' does not exist; create it with 'ferry-table create-table --table-name \(tableName) ...' or pass --create 'pk:S[,sk:N]'"
                                      : "table '\(tableName)' does not exist at \(place.location); create it with 'ferry-table --endpoint-url ... create-table --table-name \(tableName) ...' or pass --create 'pk:S[,sk:N]'")
        return .failure
    }
    let createKey = try args.value("--create").map { ($0, try createRequest(tableName, $0)) }

    // The first input is looked at before anything is written: a backup is held to a
    // backup's rules (those of ferry-backup --verify), and --create waits for a record.
    // A read error here (a damaged gzip) is the load's failure, reported after its summary.
    var first: PeekingSource? = nil
    var backupHeader: TableBackup.Header? = nil
    var inputFailure: Error? = nil
    do {
        let input = PeekingSource(try InputDecoding.open(path: files[0]))
        first = input
        if try input.prefix(15) == Array(#"{"ferry:backup""#.utf8) {
            backupHeader = try input.firstLine().withUnsafeBytes { try TableBackup.header($0, source: files[0]) }
            if files.count > 1 { throw UsageError.other("a backup is loaded alone: give \(files[0]) only") }
        }
        if !exists, files.count == 1, try !input.anyLine(readingAhead: 16 << 20, isRecordLine) {
            // A stream without a single record (an extract that failed before its first) makes no table.
            console.note("no records in the input: table '\(tableName)' was not created")
            return .ok
        }
    } catch let error as IOError {
        inputFailure = error
    } catch let error as GzipError {
        inputFailure = error
    }
    if !exists, let (key, request) = createKey {
        if let inputFailure { throw inputFailure }   // nothing read, so no table
        try place.create(request)
        console.note("created table '\(tableName)' with key \(key)\(settings.map { " at \($0.endpointURL ?? "")" } ?? "")")
    }
    let target = try place.open()
    defer { place.close() }

    // A bar with an ETA when the input's size is known: plain files (gzip sizes say
    // nothing about the bytes inside).
    var total: Int? = 0
    for file in files {
        guard file != "-", let size = plainFileSize(file) else { total = nil; break }
        total = total.map { $0 + size }
    }
    let progress = ProgressReporter(label: spec.name, forced: args.flag("--progress"), totalBytes: total)
    let rejectOutput = try args.value("--rejects").map { OutputWriter(sink: try FileSink(path: $0)) }
    let rejects = RejectWriter(output: rejectOutput, limit: maxErrors) { console.note($0) }
    rejects.onReject = { progress.addRejects(1) }
    let run: Loader
    do {
        run = try Loader(target: target, options: options, rejects: rejects, onProgress: { progress.add(items: $0, bytes: $1) })
    } catch let error as ExpressionError {
        throw UsageError.other("\(error)")
    }
    if let reason = run.repairedCheckpoint, let path = options.checkpointPath {
        console.warning("\(path): damaged checkpoint file (\(reason)): rewritten from the table's own copy")
    }
    if let backupHeader { run.expectBackup(backupHeader, source: files[0]) }
    progress.begin()
    var failure: Error? = nil
    do {
        if let inputFailure { throw inputFailure }
        if let first { try run.run(first) }
        for file in files.dropFirst() { try run.run(try InputDecoding.open(path: file)) }
    } catch {
        failure = error
        run.abandonPending()
    }
    do { _ = try run.finish() } catch { failure = failure ?? error }
    let summary = run.summary
    progress.finish()
    try? rejects.finish()
    let rate = summary.seconds > 0 ? Int(Double(summary.loaded) / summary.seconds) : summary.loaded
    console.note("\(tableName): \(summary.read) read, \(summary.loaded) loaded, \(summary.rejected) rejected, \(summary.skipped) already loaded; \(summary.bytes) bytes in \(String(format: "%.2f", summary.seconds)) s (\(rate) items/s)")
    if let remote = target as? RemoteLoadTarget, let settings {
        let stats = remote.stats
        console.note("\(tableName): \(stats.requests) requests, \(stats.retries) retried, \(stats.unprocessedItems) unprocessed items sent again, \(String(format: "%.1f", stats.consumedUnits)) write units, to \(settings.summary)")
    }
    if let path = args.value("--summary") {
        let json = JSONValue.object([
            JSONMember("table", .string(tableName)),
            JSONMember("read", .number(String(summary.read))),
            JSONMember("loaded", .number(String(summary.loaded))),
            JSONMember("rejected", .number(String(summary.rejected))),
            JSONMember("conditionFailed", .number(String(summary.conditionFailed))),
            JSONMember("skipped", .number(String(summary.skipped))),
            JSONMember("uncommitted", .number(String(summary.uncommitted))),
            JSONMember("controls", .number(String(summary.controls))),
            JSONMember("bytes", .number(String(summary.bytes))),
            JSONMember("seconds", .number(String(format: "%.3f", summary.seconds))),
            JSONMember("itemsPerSecond", .number(String(rate))),
        ] + remoteMembers(target))
        let text = Array((json.prettyText(indent: 2) + "\n").utf8)
        let sink = try FileSink(path: path)
        try text.withUnsafeBytes { try sink.write($0) }
        try sink.finish()
    }
    if let failure { throw failure }
    try run.checkBackupTrailer()
    if summary.uncommitted > 0 {
        console.error("\(summary.uncommitted) record(s) after the stream's last barrier were not loaded: the input ended inside an object (was ferry-extract stopped?); rerun to load them")
        return .failure
    }
    return rejects.count > 0 ? .rejected : .ok
}
