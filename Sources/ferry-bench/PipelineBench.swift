import FerryCLI
import FerryIO
import FerryObjectStore
import Foundation

/// The import's data set: the plain items cut into 8 gzip objects in a store of its own,
/// and the extractor's output (typed items with barriers) kept as a file for the load.
struct PipelineBench {
    let dir: String
    let tools: String
    let items: Int
    let seed: UInt64

    var dataFolder: String { "\(dir)/pipeline-\(items)-\(seed)" }
    var objectsFolder: String { "\(dataFolder)/objects" }
    var stream: String { "\(dataFolder)/stream.jsonl" }
    var bucketURI: String { "s3://bench/in/" }

    func tool(_ name: String) -> String { "'\(tools)/\(name)' --data '\(dataFolder)'" }

    /// Makes the objects and the stream once per data set.
    func prepare(plain: String) throws {
        guard fileSize(stream) == 0 else { return }
        try FileManager.default.createDirectory(atPath: objectsFolder, withIntermediateDirectories: true)
        // Cut the plain file into 8 parts of whole lines, gzip each, put them in the store.
        _ = try timeShell("split -n l/8 -d --additional-suffix=.jsonl '\(plain)' '\(objectsFolder)/part-' && gzip -6 -f '\(objectsFolder)'/part-*.jsonl")
        let store = try ObjectStore(dataFolder: dataFolder)
        try? store.createBucket("bench")
        for name in try FileManager.default.contentsOfDirectory(atPath: objectsFolder).sorted() {
            let source = try FileSource(path: "\(objectsFolder)/\(name)")
            _ = try store.put(bucket: "bench", key: "in/\(name)", from: source)
        }
        _ = try timeShell("\(tool("ferry-extract")) \(bucketURI) > '\(stream)'")
    }

    var extract: String { "\(tool("ferry-extract")) \(bucketURI) > /dev/null" }
    var zcat: String { "zcat '\(objectsFolder)'/part-*.jsonl.gz > /dev/null" }

    func load(threads: Int) -> String {
        "rm -rf '\(dataFolder)/tables/BenchLoad' && \(tool("ferry-load")) --table BenchLoad --create id:S --threads \(threads) < '\(stream)' 2>/dev/null"
    }

    /// The sqlite3 table the load and export references use: the item's id, and the line.
    static let keyDocTable = "CREATE TABLE t(id TEXT PRIMARY KEY, doc TEXT);"

    /// sqlite3 importing the same lines and keying them with json_extract in one transaction.
    var sqliteLoad: String {
        "rm -f '\(dataFolder)/sqlite.db'* && " + sqliteImport(stream, into: "sqlite.db", script: "sqlite-load.sql",
                                                               create: Self.keyDocTable)
    }

    /// sqlite3 reading `input`'s lines into a staging table and replacing them into `t`
    /// (made by `create` first, when given) in one transaction, in WAL mode.
    func sqliteImport(_ input: String, into database: String, script name: String, create: String) -> String {
        let script = "\(dataFolder)/\(name)"
        let sql = """
            PRAGMA journal_mode=WAL;
            \(create)
            CREATE TEMP TABLE staging(line TEXT);
            .mode ascii
            .separator "\\037" "\\n"
            .import '\(input)' staging
            BEGIN;
            INSERT OR REPLACE INTO t SELECT json_extract(line, '$.Item.id.S'), line FROM staging WHERE json_extract(line, '$.Item') IS NOT NULL;
            COMMIT;

            """
        try? sql.write(toFile: script, atomically: true, encoding: .utf8)
        return "sqlite3 '\(dataFolder)/\(database)' < '\(script)' > /dev/null"
    }

    var halfUpdates: String { "\(dataFolder)/half-updates.jsonl" }

    /// The stream with every second item's key changed (a new item); the others replace
    /// items the first load wrote.
    func prepareHalfUpdates() throws {
        guard fileSize(halfUpdates) == 0 else { return }
        _ = try timeShell("awk 'NR % 2 == 0 { sub(/\"Item\":\\{\"id\":\\{\"S\":\"/, \"&new-\") } { print }' '\(stream)' > '\(halfUpdates)'")
    }

    /// A fresh copy of the loaded table (untimed before each run).
    var updateSetup: String {
        "rm -rf '\(dataFolder)/tables/BenchUpdate' && cp -a '\(dataFolder)/tables/BenchLoad' '\(dataFolder)/tables/BenchUpdate' && sed -i 's/\"BenchLoad\"/\"BenchUpdate\"/' '\(dataFolder)/tables/BenchUpdate/table.json'"
    }

    func loadUpdates(threads: Int) -> String {
        "\(tool("ferry-load")) --table BenchUpdate --threads \(threads) < '\(halfUpdates)' 2>/dev/null"
    }

    /// sqlite3's side: a copy of the loaded database, then the same lines replaced in.
    var sqliteUpdateSetup: String {
        "cp '\(dataFolder)/sqlite.db' '\(dataFolder)/sqlite-update.db' && rm -f '\(dataFolder)/sqlite-update.db-wal' '\(dataFolder)/sqlite-update.db-shm'"
    }

    var sqliteUpdate: String { sqliteImport(halfUpdates, into: "sqlite-update.db", script: "sqlite-update.sql", create: "") }

    var pipe: String {
        "rm -rf '\(dataFolder)/tables/BenchPipe' && \(tool("ferry-extract")) \(bucketURI) "
            + "| '\(tools)/ferry-transform' --where 'age >= :a' --values '{\":a\":18}' --set 'email = lower(email)' "
            + "| \(tool("ferry-load")) --table BenchPipe --create id:S 2>/dev/null"
    }
}

/// Export, backup, verify and restore of a loaded table of the same items.
extension PipelineBench {
    var exportFile: String { "\(dataFolder)/export.jsonl" }
    var backupFile: String { "\(dataFolder)/backup.gz" }

    /// Loads the table once and exports it once (the reference tools' input).
    func prepareBackup() throws {
        if !FileManager.default.fileExists(atPath: "\(dataFolder)/tables/BenchBackup") {
            _ = try timeShell("\(tool("ferry-load")) --table BenchBackup --create id:S < '\(stream)' 2>/dev/null")
        }
        if fileSize(exportFile) == 0 { _ = try timeShell(export) }
        if fileSize(backupFile) == 0 { _ = try timeShell(backup) }
        if fileSize("\(dataFolder)/\(sqliteExportDatabase)") == 0 {
            _ = try timeShell(sqliteImport(stream, into: sqliteExportDatabase, script: "sqlite-export.sql",
                                           create: Self.keyDocTable))
        }
        try? ObjectStore(dataFolder: dataFolder).createBucket("exports")
    }

    var export: String { "\(tool("ferry-export")) --table BenchBackup > '\(exportFile)'" }
    /// The same lines in sqlite3 (made once, untimed), read back the way the export is.
    var sqliteExportDatabase: String { "sqlite-export.db" }
    var sqliteExport: String { "sqlite3 '\(dataFolder)/\(sqliteExportDatabase)' 'SELECT doc FROM t;' > '\(dataFolder)/sqlite-export.txt'" }
    var exportAmazon: String { "rm -rf '\(dataFolder)/s3/exports/nightly' && \(tool("ferry-export")) --table BenchBackup --to s3://exports/nightly > /dev/null" }
    var backup: String { "\(tool("ferry-backup")) --table BenchBackup --out '\(backupFile)' 2>/dev/null" }
    var gzipReference: String { "gzip -6 -c '\(exportFile)' > '\(dataFolder)/export.jsonl.gz'" }
    var verify: String { "\(tool("ferry-backup")) --verify '\(backupFile)' 2>/dev/null" }
    var restore: String { "\(tool("ferry-restore")) --in '\(backupFile)' --table BenchRestore --replace 2>/dev/null" }
}

/// CSV: the items exported as CSV once, then read back beside Python's csv module.
extension PipelineBench {
    var csvFile: String { "\(dataFolder)/items.csv" }

    func prepareCSV() throws {
        guard fileSize(csvFile) == 0 else { return }
        if !FileManager.default.fileExists(atPath: "\(dataFolder)/tables/BenchBackup") {
            _ = try timeShell("\(tool("ferry-load")) --table BenchBackup --create id:S < '\(stream)' 2>/dev/null")
        }
        _ = try timeShell("\(tool("ferry-export")) --table BenchBackup --csv --out '\(csvFile)'")
    }

    var extractCSV: String { "\(tool("ferry-extract")) --format csv '\(csvFile)' > /dev/null" }
    /// Parsing only: every row read, nothing made of it.
    var pythonCSVParse: String {
        "python3 -c \"import csv, sys; n = sum(1 for _ in csv.reader(open(sys.argv[1], newline='')))\" '\(csvFile)'"
    }
    /// What ferry-extract does with each row: a record made and written as a JSON line.
    var pythonCSVToJSON: String {
        "python3 -c \"import csv, json, sys; r = csv.reader(open(sys.argv[1], newline='')); h = next(r); w = sys.stdout.write\nfor row in r: w(json.dumps({k: v for k, v in zip(h, row) if v}) + '\\n')\" '\(csvFile)' > /dev/null"
    }
}

/// ferry-load of plain files of growing size into a new table, one run each: items/s and
/// peak RSS should stay flat if cost grows linearly and memory is bounded.
struct ScaleBench {
    let dir: String
    let tools: String
    let seed: UInt64

    func plainFile(_ count: Int) -> String { "\(dir)/plain-\(count)-\(seed).jsonl" }

    func run(sizes: [Int]) throws -> [ReportRow] {
        let data = "\(dir)/scale-data"
        var rows: [ReportRow] = []
        for count in sizes {
            let path = plainFile(count)
            if fileSize(path) == 0 {
                progress("generating \(count) items for the scaling run ...")
                try SampleItems.generate(count: count, seed: seed, plainPath: path, typedPath: nil)
            }
            try? FileManager.default.removeItem(atPath: data)
            settle()
            let measured = try runMeasured("'\(tools)/ferry-load' --data '\(data)' --table Scale --create id:S < '\(path)' 2>/dev/null")
            let bytes = Double(fileSize(path))
            let onDisk = Double(directorySize("\(data)/tables/Scale")) / 1e6
            rows.append(ReportRow(section: "scaling: ferry-load, 1 run each", stage: "load \(count) items (\(Report.f(onDisk, 0)) MB table)",
                                  itemsPerSecond: Double(count) / measured.seconds, mbPerSecond: bytes / 1e6 / measured.seconds,
                                  peakMB: measured.peakMB))
            progress("scaling \(count) items: \(Int(Double(count) / measured.seconds)) items/s, peak RSS \(Int(measured.peakMB)) MB")
        }
        try? FileManager.default.removeItem(atPath: data)
        return rows
    }

    /// Bytes of the regular files under `path`.
    func directorySize(_ path: String) -> Int {
        guard let names = FileManager.default.subpaths(atPath: path) else { return 0 }
        return names.reduce(0) { $0 + fileSize("\(path)/\($1)") }
    }
}
