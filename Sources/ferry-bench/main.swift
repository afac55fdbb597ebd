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
        OptionSpec("--stage", value: "<name>", help: "Run only this stage (repeatable). Default set: transform, gunzip, gzip, extract, csv, load, pipe, backup (export, backup, verify, restore), table, s3, scale. Only when named: parse-plain, parse-typed, write-typed, expressions, table-writes (small batches and single puts), table-scale (the engine alone, --items items).", repeatable: true),
        OptionSpec("--scale", value: "<n,n,...>", help: "Item counts of the scaling run of ferry-load (default 1000000,4000000,16000000)."),
        OptionSpec("--s3-bytes", value: "<n>", help: "Size of the file for the ferry-s3 cp stage (default 1 GiB)."),
        OptionSpec("--s3-keys", value: "<n>", help: "Keys for the ferry-s3 listing stage (default 100000)."),
        OptionSpec("--no-references", help: "Time Ferry's stages only (for profiling)."),
        .threads,
    ],
    examples: ["ferry-bench --items 50000 --runs 3", "make bench BENCH_ITEMS=4000000 BENCH_OUT=bench.json"])

struct Reference {
    let name: String
    let command: String
    /// Run before each timing, untimed (a stage that starts from a copied state).
    var setup: String? = nil
}

// Internal: run one command and report its time and peak RSS (see runMeasured).
if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "--measure-child" {
    exit(measureChild(report: CommandLine.arguments[2], command: CommandLine.arguments[3]))
}

CommandLineTool.main(spec) { args in
    _ = benchStarted
    let items = try args.int("--items", default: 1_000_000, range: 1...100_000_000)
    let runs = try args.int("--runs", default: 3, range: 1...50)
    let seed = UInt64(try args.int("--seed", default: 1))
    let dir = args.value("--dir") ?? "bench-data"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let plain = "\(dir)/plain-\(items)-\(seed).jsonl", typed = "\(dir)/typed-\(items)-\(seed).jsonl"
    let plainGz = plain + ".gz"
    // The table stages make their own items; the scaling run makes its own files.
    let needsDataSet = args.values("--stage").isEmpty || args.values("--stage").contains { !["table", "table-writes", "table-scale", "s3", "scale"].contains($0) }
    if needsDataSet && (fileSize(plainGz) == 0 || fileSize(typed) == 0) {
        progress("generating \(items) items in \(dir)/ ...")
        try SampleItems.generate(count: items, seed: seed, plainPath: plain, typedPath: typed)
        _ = try timeShell("gzip -6 -c '\(plain)' > '\(plainGz)'")
    }
    let plainBytes = Double(fileSize(plain)), typedBytes = Double(fileSize(typed))
    if needsDataSet { progress("\(items) items; plain \(Int(plainBytes) / items) B/item, typed \(Int(typedBytes) / items) B/item; \(runs) runs each") }

    let pythonLoads = "python3 -c 'import sys, json\nfor line in sys.stdin: json.loads(line)'"
    var rows: [ReportRow] = []
    var notes: [String] = []

    let defaultStages = ["transform", "gunzip", "gzip", "extract", "csv", "load", "pipe", "backup", "table", "s3", "scale"]
    let namedOnly = ["parse-plain", "parse-typed", "write-typed", "expressions", "table-writes", "table-scale"]
    let selected = args.values("--stage")
    for name in selected where !(defaultStages + namedOnly).contains(name) {
        throw UsageError.invalidValue(option: "--stage", value: name, expected: "one of \((defaultStages + namedOnly).joined(separator: ", "))")
    }
    func included(_ key: String) -> Bool { selected.isEmpty ? defaultStages.contains(key) : selected.contains(key) }
    let scaleSizes = try (args.value("--scale") ?? "1000000,4000000,16000000").split(separator: ",").map { text -> Int in
        guard let n = Int(text), n > 0 else { throw UsageError.invalidValue(option: "--scale", value: String(text), expected: "item counts separated by commas") }
        return n
    }
    let withReferences = !args.flag("--no-references")
    let threads = try args.threadCount()

    /// Alternates each variant of our stage with each reference, `runs` times, and keeps
    /// medians; each variant is a row, compared with the same reference timings. Peak RSS
    /// is the largest seen over the runs: the child's (wait4) for commands, else the
    /// memory the stage added to this process.
    func measure(_ key: String, _ section: String, _ stage: String, bytes: Double, references allReferences: [Reference],
                 variants: [(label: String, run: () throws -> Void)]) throws {
        guard included(key) else { return }
        let references = withReferences ? allReferences : []
        var ourTimes = Array(repeating: [Double](), count: variants.count)
        var ourPeaks = Array(repeating: 0.0, count: variants.count)
        var refTimes = Array(repeating: [Double](), count: references.count)
        var refPeaks = Array(repeating: 0.0, count: references.count)
        for _ in 0..<runs {
            for (i, variant) in variants.enumerated() {
                lastChildPeakMB = nil
                settle()
                resetPeakRSS()
                let start = now()
                try variant.run()
                ourTimes[i].append(now() - start)
                ourPeaks[i] = max(ourPeaks[i], lastChildPeakMB ?? inProcessPeakMB())
            }
            for (i, reference) in references.enumerated() {
                if let setup = reference.setup { _ = try timeShell(setup) }
                settle()
                refTimes[i].append(try timeShell(reference.command))
                refPeaks[i] = max(refPeaks[i], lastChildPeakMB ?? 0)
            }
        }
        for (i, variant) in variants.enumerated() {
            let t = median(ourTimes[i])
            let measured = references.enumerated().map { j, r in
                ReferenceResult(name: r.name, itemsPerSecond: Double(items) / median(refTimes[j]), mbPerSecond: bytes / 1e6 / median(refTimes[j]),
                                ratio: median(refTimes[j]) / t, peakMB: refPeaks[j])
            }
            rows.append(ReportRow(section: section, stage: stage + variant.label, itemsPerSecond: Double(items) / t,
                                  mbPerSecond: bytes / 1e6 / t, peakMB: ourPeaks[i], references: measured))
        }
        progress("\(stage) done")
    }

    func measure(_ key: String, _ section: String, _ stage: String, bytes: Double, references: [Reference], ours: @escaping () throws -> Void) throws {
        try measure(key, section, stage, bytes: bytes, references: references, variants: [("", ours)])
    }

    func expectCount(_ stage: String, _ got: Int) throws {
        if got != items { throw BenchError.countMismatch(stage: stage, expected: items, got: got) }
    }

    try measure("parse-plain", "parsing (in process)", "parse plain", bytes: plainBytes, references: [
        Reference(name: "jq -c .", command: "jq -c . '\(plain)' > /dev/null"),
        Reference(name: "python3 json.loads", command: "\(pythonLoads) < '\(plain)'"),
    ], variants: [
        (", 1 thread", { try expectCount("parse plain", try Stages.parse(path: plain, spelling: .plain, threads: 1)) }),
        (", \(threads) threads", { try expectCount("parse plain", try Stages.parse(path: plain, spelling: .plain, threads: threads)) }),
    ])

    try measure("parse-typed", "parsing (in process)", "parse typed", bytes: typedBytes, references: [
        Reference(name: "jq -c .", command: "jq -c . '\(typed)' > /dev/null"),
        Reference(name: "python3 json.loads", command: "\(pythonLoads) < '\(typed)'"),
    ], variants: [
        (", 1 thread", { try expectCount("parse typed", try Stages.parse(path: typed, spelling: .typed, threads: 1)) }),
        (", \(threads) threads", { try expectCount("parse typed", try Stages.parse(path: typed, spelling: .typed, threads: threads)) }),
    ])

    let loaded = included("write-typed") || included("expressions")
        ? try Stages.loadItems(path: plain) : []
    try measure("write-typed", "parsing (in process)", "write typed NDJSON", bytes: typedBytes, references: [
        Reference(name: "jq -c . (parse+write)", command: "jq -c . '\(typed)' > /dev/null"),
    ]) { _ = try Stages.writeTyped(loaded) }

    if included("expressions") {
        let (condition, update) = try Stages.benchExpressions()
        try measure("expressions", "expressions (in process)", "condition, 3 comparisons", bytes: plainBytes, references: []) {
            _ = try Stages.evaluateCondition(loaded, condition)
        }
        var owned = try Stages.loadItems(path: plain)   // items only this stage holds
        try measure("expressions", "expressions (in process)", "SET, 2 arithmetic updates", bytes: plainBytes, references: []) {
            _ = try Stages.applyUpdate(&owned, update)
        }
    }

    try measure("transform", "transform (in process)", "transform, 2 steps", bytes: plainBytes, references: [
        Reference(name: "jq, same 2 steps", command: "jq -c 'select(.age >= 18) | .email |= ascii_downcase' '\(plain)' > /dev/null"),
    ], variants: [
        (", 1 thread", { try expectCount("transform", try Stages.transformTwoSteps(path: plain, threads: 1)) }),
        (", \(threads) threads", { try expectCount("transform", try Stages.transformTwoSteps(path: plain, threads: threads)) }),
    ])

    try measure("gunzip", "compression (in process)", "gunzip", bytes: plainBytes, references: [
        Reference(name: "zcat", command: "zcat '\(plainGz)' > /dev/null"),
    ]) { _ = try Stages.gunzip(path: plainGz) }

    try measure("gzip", "compression (in process)", "gzip -6", bytes: plainBytes, references: [
        Reference(name: "gzip -6", command: "gzip -6 -c '\(plain)' > /dev/null"),
    ]) { _ = try Stages.gzip(path: plain) }

    // The import, through the built executables: 1 process per stage, as users run it.
    if included("extract") || included("load") || included("pipe") {
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let bench = PipelineBench(dir: dir, tools: tools, items: items, seed: seed)
        try bench.prepare(plain: plain)
        let streamBytes = Double(fileSize(bench.stream))
        try measure("extract", "import (executables)", "extract, 8 gzip objects", bytes: plainBytes, references: [
            Reference(name: "zcat (same objects)", command: bench.zcat),
        ]) { _ = try timeShell(bench.extract) }
        try measure("load", "import (executables)", "load", bytes: streamBytes, references: [
            Reference(name: "sqlite3 json_extract", command: bench.sqliteLoad),
        ], variants: [
            // One thread gives the same rate (the commit is the bound: docs/performance.md);
            // `--threads 1` measures it.
            (", \(threads) threads", { _ = try timeShell(bench.load(threads: threads)) }),
        ])
        // Half updates: the same stream with every second item's key new, into a copy
        // of the table the load made (the copy is untimed, on both sides).
        try bench.prepareHalfUpdates()
        try measure("load", "import (executables)", "load into the loaded table, half updates", bytes: streamBytes, references: [
            Reference(name: "sqlite3 INSERT OR REPLACE", command: bench.sqliteUpdate, setup: bench.sqliteUpdateSetup),
        ], variants: [
            (", \(threads) threads", {
                _ = try timeShell(bench.updateSetup)
                _ = try timeShell(bench.loadUpdates(threads: threads))
            }),
        ])
        try measure("pipe", "import (executables)", "extract|transform|load", bytes: plainBytes, references: []) { _ = try timeShell(bench.pipe) }
    }
    if included("csv") {
        // The items as DynamoDB's import CSV (ferry-export --csv: maps and lists become
        // quoted typed JSON, full of doubled quotes), read back by the one-pass reader.
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let bench = PipelineBench(dir: dir, tools: tools, items: items, seed: seed)
        try bench.prepare(plain: plain)
        try bench.prepareCSV()
        let csvBytes = Double(fileSize(bench.csvFile))
        try measure("csv", "import (executables)", "extract CSV (1 thread)", bytes: csvBytes, references: [
            Reference(name: "python3 csv.reader", command: bench.pythonCSVParse),
            Reference(name: "python3 csv to JSON lines", command: bench.pythonCSVToJSON),
        ]) { _ = try timeShell(bench.extractCSV) }
    }
    if included("backup") {
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let bench = PipelineBench(dir: dir, tools: tools, items: items, seed: seed)
        try bench.prepare(plain: plain)
        try bench.prepareBackup()
        let exportBytes = Double(fileSize(bench.exportFile))
        try measure("backup", "export and backup (executables)", "export NDJSON", bytes: exportBytes, references: [
            Reference(name: "sqlite3 SELECT doc (to a file)", command: bench.sqliteExport),
        ]) { _ = try timeShell(bench.export) }
        try measure("backup", "export and backup (executables)", "export, Amazon layout", bytes: exportBytes, references: []) { _ = try timeShell(bench.exportAmazon) }
        try measure("backup", "export and backup (executables)", "backup (gzip -6, all cores)", bytes: exportBytes, references: [
            Reference(name: "gzip -6 of the export", command: bench.gzipReference),
        ]) { _ = try timeShell(bench.backup) }
        let sizeRatio = Double(fileSize(bench.backupFile)) / Double(max(1, fileSize("\(bench.dataFolder)/export.jsonl.gz")))
        notes.append("backup file size: \(fileSize(bench.backupFile)) bytes = \(Report.f(sizeRatio, 3))x gzip -6's (target <= 1.15x)")
        try measure("backup", "export and backup (executables)", "backup --verify", bytes: exportBytes, references: []) { _ = try timeShell(bench.verify) }
        try measure("backup", "export and backup (executables)", "restore", bytes: exportBytes, references: []) { _ = try timeShell(bench.restore) }
    }

    if included("table") || included("table-writes") || included("table-scale") {
        let bench = TableBench(dir: dir, items: items, seed: seed, runs: runs, withReferences: withReferences, allWrites: included("table-writes"))
        if included("table") || included("table-writes") { rows += try bench.run() }
        if included("table-scale") { rows += try bench.scale() }
    }
    if included("s3") {
        let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ferry-s3").path
        rows += try ObjectStoreBench(dir: dir, tool: tool, bytes: try args.int("--s3-bytes", default: 1 << 30, range: 1...Int.max),
                                     keys: try args.int("--s3-keys", default: 100_000, range: 1...10_000_000), runs: runs).run()
        progress("object store done")
    }
    if included("scale") {
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let scaled = try ScaleBench(dir: dir, tools: tools, seed: seed).run(sizes: scaleSizes)
        rows += scaled
        if let first = scaled.first, let last = scaled.last, let r0 = first.itemsPerSecond, let r1 = last.itemsPerSecond,
           let m0 = first.peakMB, let m1 = last.peakMB, scaled.count > 1 {
            notes.append("scaling: \(scaleSizes.last ?? 0) items load at \(Report.f(r1 / r0, 2))x the rate of \(scaleSizes.first ?? 0) "
                + "(1.00 = linear cost); peak RSS \(Report.f(m1 / m0, 2))x (1.00 = flat)")
        }
    }

    let machine = Report.machine()
    notes.append("machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? "?") cores, \(machine["memory_gib"] ?? "?") GiB, "
        + "\(machine["kernel"] ?? "?"); \(machine["date"] ?? "")")
    try Console.writeStdout(Report.text(rows, items: items, runs: runs, notes: notes))
    if let jsonPath = args.value("--json") {
        try Report.json(rows, items: items, runs: runs, machine: machine, notes: notes).write(toFile: jsonPath, atomically: true, encoding: .utf8)
    }
    return .ok
}
