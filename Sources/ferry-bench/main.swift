// ferry-bench: generates the seeded data set and measures Ferry's stages beside the
// reference tools (zcat, gzip, jq, python3) on the same bytes in the same run.
// Driven by `make bench`; see docs/performance.md for how to read the table.
import FerryCLI
import FerryIO
import FerryPipeline
import FerryValues
import Foundation

let spec = CommandSpec(
    name: "ferry-bench",
    summary: "Benchmark Ferry's stages against zcat, gzip, jq and python3 on a seeded data set.",
    usage: "ferry-bench [--items <n>] [--runs <n>] [--dir <folder>] [--json <file>] [--seed <n>]",
    options: [
        OptionSpec("--items", value: "<n>", help: "Items in the data set (default 1000000)."),
        OptionSpec("--runs", value: "<n>", help: "Runs of each stage and reference; medians are reported (default 3)."),
        OptionSpec("--dir", value: "<folder>", help: "Where the data set is generated and kept (default bench-data)."),
        OptionSpec("--json", value: "<file>", help: "Also write the results as JSON to this file."),
        OptionSpec("--seed", value: "<n>", help: "Generator seed (default 1)."),
        OptionSpec("--stage", value: "<name>", help: "Run only this stage (repeatable): parse-plain, parse-typed, write-typed, expressions, transform, gunzip, gzip, extract, load, pipe, backup (export, backup, verify, restore), s3, table, table-scale (not in the default set).", repeatable: true),
        OptionSpec("--s3-bytes", value: "<n>", help: "Size of the file for the ferry-s3 cp stage (default 1 GiB)."),
        OptionSpec("--s3-keys", value: "<n>", help: "Keys for the ferry-s3 listing stage (default 100000)."),
        OptionSpec("--no-references", help: "Time Ferry's stages only (for profiling)."),
        .threads,
    ],
    examples: ["ferry-bench --items 50000 --runs 3", "make bench BENCH_ITEMS=4000000 BENCH_OUT=bench.json"])

struct Reference { let name: String; let command: String }
struct Measured { let name: String; let mbPerSecond: Double; let ratio: Double }
struct Row {
    let stage: String
    let mbPerSecond: Double
    let itemsPerSecond: Double
    let references: [Measured]
}

CommandLineTool.main(spec) { args in
    let items = try args.int("--items", default: 1_000_000, range: 1...100_000_000)
    let runs = try args.int("--runs", default: 3, range: 1...50)
    let seed = UInt64(try args.int("--seed", default: 1))
    let dir = args.value("--dir") ?? "bench-data"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let plain = "\(dir)/plain-\(items)-\(seed).jsonl", typed = "\(dir)/typed-\(items)-\(seed).jsonl"
    let plainGz = plain + ".gz"
    // The table stages make their own items; the scaling run needs no files at all.
    let needsDataSet = args.values("--stage").isEmpty || args.values("--stage").contains { !["table", "table-scale", "s3"].contains($0) }
    if needsDataSet && (fileSize(plainGz) == 0 || fileSize(typed) == 0) {
        Console.writeStderr("ferry-bench: generating \(items) items in \(dir)/ ...\n")
        try SampleItems.generate(count: items, seed: seed, plainPath: plain, typedPath: typed)
        _ = try timeShell("gzip -6 -c '\(plain)' > '\(plainGz)'")
    }
    let plainBytes = Double(fileSize(plain)), typedBytes = Double(fileSize(typed))
    if needsDataSet { Console.writeStderr("ferry-bench: \(items) items; plain \(Int(plainBytes) / items) B/item, typed \(Int(typedBytes) / items) B/item; \(runs) runs each\n") }

    let pythonLoads = "python3 -c 'import sys, json\nfor line in sys.stdin: json.loads(line)'"
    var rows: [Row] = []
    var backupSizeRatio: Double? = nil

    let stageNames = ["parse-plain", "parse-typed", "write-typed", "expressions", "transform", "gunzip", "gzip", "extract", "load", "pipe", "backup", "s3", "table", "table-scale"]
    let selected = args.values("--stage")
    for name in selected where !stageNames.contains(name) {
        throw UsageError.invalidValue(option: "--stage", value: name, expected: "one of \(stageNames.joined(separator: ", "))")
    }
    let withReferences = !args.flag("--no-references")
    let threads = try args.threadCount()

    /// Alternates each variant of our stage with each reference, `runs` times, and keeps
    /// medians; each variant is a row, compared with the same reference timings.
    func measure(_ key: String, _ stage: String, bytes: Double, references allReferences: [Reference],
                 variants: [(label: String, run: () throws -> Void)]) throws {
        guard selected.isEmpty || selected.contains(key) else { return }
        let references = withReferences ? allReferences : []
        var ourTimes = Array(repeating: [Double](), count: variants.count)
        var refTimes = Array(repeating: [Double](), count: references.count)
        for _ in 0..<runs {
            for (i, variant) in variants.enumerated() {
                let start = now()
                try variant.run()
                ourTimes[i].append(now() - start)
            }
            for (i, reference) in references.enumerated() { refTimes[i].append(try timeShell(reference.command)) }
        }
        for (i, variant) in variants.enumerated() {
            let t = median(ourTimes[i])
            let measured = references.enumerated().map { j, r in
                Measured(name: r.name, mbPerSecond: bytes / 1e6 / median(refTimes[j]), ratio: median(refTimes[j]) / t)
            }
            rows.append(Row(stage: stage + variant.label, mbPerSecond: bytes / 1e6 / t,
                            itemsPerSecond: Double(items) / t, references: measured))
        }
        Console.writeStderr("ferry-bench: \(stage) done\n")
    }

    func measure(_ key: String, _ stage: String, bytes: Double, references: [Reference], ours: @escaping () throws -> Void) throws {
        try measure(key, stage, bytes: bytes, references: references, variants: [("", ours)])
    }

    func expectCount(_ stage: String, _ got: Int) throws {
        if got != items { throw BenchError.countMismatch(stage: stage, expected: items, got: got) }
    }

    try measure("parse-plain", "parse plain", bytes: plainBytes, references: [
        Reference(name: "jq -c .", command: "jq -c . '\(plain)' > /dev/null"),
        Reference(name: "python3 json.loads", command: "\(pythonLoads) < '\(plain)'"),
    ], variants: [
        (", 1 thread", { try expectCount("parse plain", try Stages.parse(path: plain, spelling: .plain, threads: 1)) }),
        (", \(threads) threads", { try expectCount("parse plain", try Stages.parse(path: plain, spelling: .plain, threads: threads)) }),
    ])

    try measure("parse-typed", "parse typed", bytes: typedBytes, references: [
        Reference(name: "jq -c .", command: "jq -c . '\(typed)' > /dev/null"),
        Reference(name: "python3 json.loads", command: "\(pythonLoads) < '\(typed)'"),
    ], variants: [
        (", 1 thread", { try expectCount("parse typed", try Stages.parse(path: typed, spelling: .typed, threads: 1)) }),
        (", \(threads) threads", { try expectCount("parse typed", try Stages.parse(path: typed, spelling: .typed, threads: threads)) }),
    ])

    let loaded = selected.isEmpty || selected.contains("write-typed") || selected.contains("expressions")
        ? try Stages.loadItems(path: plain) : []
    try measure("write-typed", "write typed NDJSON", bytes: typedBytes, references: [
        Reference(name: "jq -c . (parse+write)", command: "jq -c . '\(typed)' > /dev/null"),
    ]) { _ = try Stages.writeTyped(loaded) }

    if selected.isEmpty || selected.contains("expressions") {
        let (condition, update) = try Stages.benchExpressions()
        try measure("expressions", "condition, 3 comparisons", bytes: plainBytes, references: []) {
            _ = try Stages.evaluateCondition(loaded, condition)
        }
        var owned = try Stages.loadItems(path: plain)   // items only this stage holds
        try measure("expressions", "SET, 2 arithmetic updates", bytes: plainBytes, references: []) {
            _ = try Stages.applyUpdate(&owned, update)
        }
    }

    try measure("transform", "transform, 2 steps", bytes: plainBytes, references: [
        Reference(name: "jq, same 2 steps", command: "jq -c 'select(.age >= 18) | .email |= ascii_downcase' '\(plain)' > /dev/null"),
    ], variants: [
        (", 1 thread", { try expectCount("transform", try Stages.transformTwoSteps(path: plain, threads: 1)) }),
        (", \(threads) threads", { try expectCount("transform", try Stages.transformTwoSteps(path: plain, threads: threads)) }),
    ])

    try measure("gunzip", "gunzip", bytes: plainBytes, references: [
        Reference(name: "zcat", command: "zcat '\(plainGz)' > /dev/null"),
    ]) { _ = try Stages.gunzip(path: plainGz) }

    try measure("gzip", "gzip -6", bytes: plainBytes, references: [
        Reference(name: "gzip -6", command: "gzip -6 -c '\(plain)' > /dev/null"),
    ]) { _ = try Stages.gzip(path: plain) }

    // The import, through the built executables: 1 process per stage, as users run it.
    if selected.isEmpty || selected.contains { ["extract", "load", "pipe"].contains($0) } {
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let bench = PipelineBench(dir: dir, tools: tools, items: items, seed: seed)
        try bench.prepare(plain: plain)
        let streamBytes = Double(fileSize(bench.stream))
        try measure("extract", "extract, 8 gzip objects", bytes: plainBytes, references: [
            Reference(name: "zcat (same objects)", command: bench.zcat),
        ]) { _ = try timeShell(bench.extract) }
        try measure("load", "load", bytes: streamBytes, references: [
            Reference(name: "sqlite3 json_extract", command: bench.sqliteLoad),
        ], variants: [
            (", 1 thread", { _ = try timeShell(bench.load(threads: 1)) }),
            (", \(threads) threads", { _ = try timeShell(bench.load(threads: threads)) }),
        ])
        try measure("pipe", "extract|transform|load", bytes: plainBytes, references: []) { _ = try timeShell(bench.pipe) }
    }
    if selected.isEmpty || selected.contains("backup") {
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let bench = PipelineBench(dir: dir, tools: tools, items: items, seed: seed)
        try bench.prepare(plain: plain)
        try bench.prepareBackup()
        let exportBytes = Double(fileSize(bench.exportFile))
        try measure("backup", "export NDJSON", bytes: exportBytes, references: []) { _ = try timeShell(bench.export) }
        try measure("backup", "export, Amazon layout", bytes: exportBytes, references: []) { _ = try timeShell(bench.exportAmazon) }
        try measure("backup", "backup (gzip -6, all cores)", bytes: exportBytes, references: [
            Reference(name: "gzip -6 of the export", command: bench.gzipReference),
        ]) { _ = try timeShell(bench.backup) }
        let sizeRatio = Double(fileSize(bench.backupFile)) / Double(max(1, fileSize("\(bench.dataFolder)/export.jsonl.gz")))
        Console.writeStderr("ferry-bench: backup size \(fileSize(bench.backupFile)) bytes = \(String(format: "%.3f", sizeRatio))x gzip -6's\n")
        backupSizeRatio = sizeRatio
        try measure("backup", "backup --verify", bytes: exportBytes, references: []) { _ = try timeShell(bench.verify) }
        try measure("backup", "restore", bytes: exportBytes, references: []) { _ = try timeShell(bench.restore) }
    }

    // The table: one line per (stage, reference).
    func f(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }
    func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        s.count >= n ? s : (left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
    var table = "\n" + pad("stage", 26) + pad("MB/s", 9, left: true) + pad("items/s", 12, left: true) + "   "
        + pad("reference", 24) + pad("ref MB/s", 9, left: true) + pad("ratio", 8, left: true) + "\n"
    for row in rows {
        if row.references.isEmpty {
            table += pad(row.stage, 26) + pad(f(row.mbPerSecond), 9, left: true) + pad(String(Int(row.itemsPerSecond)), 12, left: true) + "\n"
        }
        for (i, r) in row.references.enumerated() {
            table += pad(i == 0 ? row.stage : "", 26) + pad(i == 0 ? f(row.mbPerSecond) : "", 9, left: true)
                + pad(i == 0 ? String(Int(row.itemsPerSecond)) : "", 12, left: true) + "   "
                + pad(r.name, 24) + pad(f(r.mbPerSecond), 9, left: true) + pad(f(r.ratio, 2) + "x", 8, left: true) + "\n"
        }
    }
    var s3Rows: [ObjectStoreBench.Row] = []
    if selected.isEmpty || selected.contains("s3") {
        let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ferry-s3").path
        s3Rows = try ObjectStoreBench(dir: dir, tool: tool, bytes: try args.int("--s3-bytes", default: 1 << 30, range: 1...Int.max),
                                      keys: try args.int("--s3-keys", default: 100_000, range: 1...10_000_000), runs: runs).run()
        Console.writeStderr("ferry-bench: object store done\n")
        table += "\n" + pad("object store", 26) + pad("rate", 14, left: true) + "   " + pad("reference", 24)
            + pad("ref rate", 9, left: true) + pad("ratio", 8, left: true) + pad("peak RSS", 10, left: true) + pad("ref RSS", 9, left: true) + "\n"
        for row in s3Rows {
            table += pad(row.stage, 26) + pad(row.unit == "MB/s" ? f(row.rate) + " MB/s" : String(Int(row.rate)) + " keys/s", 14, left: true) + "   "
                + pad(row.reference, 24) + pad(f(row.referenceRate), 9, left: true) + pad(f(row.rate / row.referenceRate, 2) + "x", 8, left: true)
                + pad(f(row.peakMB, 0) + " MB", 10, left: true) + pad(f(row.referencePeakMB, 0) + " MB", 9, left: true) + "\n"
        }
    }
    var tableRows: [TableBench.Row] = []
    if selected.isEmpty || selected.contains("table") || selected.contains("table-scale") {
        let bench = TableBench(dir: dir, items: items, seed: seed, runs: runs, withReferences: withReferences)
        tableRows = selected.contains("table-scale") ? try bench.scale() : try bench.run()
        table += "\n" + pad("table engine", 26) + pad("items/s", 12, left: true) + pad("p50 us", 9, left: true) + pad("p99 us", 9, left: true)
            + "   " + pad("reference", 32) + pad("ref items/s", 12, left: true) + pad("ratio", 8, left: true) + "\n"
        for row in tableRows {
            table += pad(row.stage, 26) + pad(String(Int(row.itemsPerSecond)), 12, left: true)
                + pad(row.p50.map { f($0, 0) } ?? "", 9, left: true) + pad(row.p99.map { f($0, 0) } ?? "", 9, left: true) + "   "
                + pad(row.reference ?? "", 32) + pad(row.referenceItemsPerSecond.map { String(Int($0)) } ?? "", 12, left: true)
                + pad(row.referenceItemsPerSecond.map { f(row.itemsPerSecond / $0, 2) + "x" } ?? "", 8, left: true) + "\n"
        }
    }
    if let backupSizeRatio { table += "backup file size: \(f(backupSizeRatio, 3))x gzip -6's (target <= 1.15x)\n" }
    table += "\nitems \(items), runs \(runs) (medians), peak RSS \(f(peakRSSMegabytes(), 0)) MB; ratio = reference time / Ferry time\n"
    try Console.writeStdout(table)

    if let jsonPath = args.value("--json") {
        let json = JSONValue.object([
            JSONMember("items", .number(String(items))),
            JSONMember("runs", .number(String(runs))),
            JSONMember("peak_rss_mb", .number(f(peakRSSMegabytes(), 0))),
            JSONMember("stages", .array(rows.map { row in
                .object([
                    JSONMember("stage", .string(row.stage)),
                    JSONMember("mb_per_s", .number(f(row.mbPerSecond))),
                    JSONMember("items_per_s", .number(String(Int(row.itemsPerSecond)))),
                    JSONMember("references", .array(row.references.map { r in
                        .object([JSONMember("name", .string(r.name)), JSONMember("mb_per_s", .number(f(r.mbPerSecond))),
                                 JSONMember("ratio", .number(f(r.ratio, 2)))])
                    })),
                ])
            })),
            JSONMember("object_store", .array(s3Rows.map { row in
                .object([
                    JSONMember("stage", .string(row.stage)), JSONMember("rate", .number(f(row.rate))), JSONMember("unit", .string(row.unit)),
                    JSONMember("reference", .string(row.reference)), JSONMember("reference_rate", .number(f(row.referenceRate))),
                    JSONMember("ratio", .number(f(row.rate / row.referenceRate, 2))),
                    JSONMember("peak_rss_mb", .number(f(row.peakMB, 0))), JSONMember("reference_peak_rss_mb", .number(f(row.referencePeakMB, 0))),
                ])
            })),
            JSONMember("table", .array(tableRows.map { row in
                var members = [JSONMember("stage", .string(row.stage)), JSONMember("items_per_s", .number(String(Int(row.itemsPerSecond))))]
                if let p50 = row.p50, let p99 = row.p99 {
                    members += [JSONMember("p50_us", .number(f(p50, 0))), JSONMember("p99_us", .number(f(p99, 0)))]
                }
                if let name = row.reference, let rate = row.referenceItemsPerSecond {
                    members += [JSONMember("reference", .string(name)), JSONMember("reference_items_per_s", .number(String(Int(rate)))),
                                JSONMember("ratio", .number(f(row.itemsPerSecond / rate, 2)))]
                }
                return .object(members)
            })),
        ])
        try (json.jsonText + "\n").write(toFile: jsonPath, atomically: true, encoding: .utf8)
    }
    return .ok
}
