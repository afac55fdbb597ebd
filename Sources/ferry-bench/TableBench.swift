import FerryCLI
import FerryExpressions
import FerryIO
import FerryTable
import FerryValues
import Foundation

/// The table engine beside sqlite3 on the same items in the same run: batch puts (25 and
/// 1000 a commit), single puts (an fsync each), point gets, 16-item queries and a full
/// scan. Items are the bench's sample items keyed by `grp` ("g" + i/16) and `sk` (i), so
/// a query of one group returns 16 items. sqlite3 gets the same rows in a
/// (grp, sk, doc) table in WAL mode, inserted in one transaction (docs/performance.md).
struct TableBench {
    let dir: String
    let items: Int
    let seed: UInt64
    let runs: Int
    let withReferences: Bool

    /// Every table stage, or only the 1000-item batch put among the writes (the default:
    /// small batches and single puts are fsync-bound and slow to time).
    let allWrites: Bool

    /// A row of the report; the reference's peak is the largest sqlite3 process seen.
    func row(_ stage: String, _ rate: Double, p50: Double? = nil, p99: Double? = nil, peak: Double,
             reference: String? = nil, referenceRate: Double? = nil, referencePeak: Double? = nil) -> ReportRow {
        var row = ReportRow(section: "table engine (in process)", stage: stage, itemsPerSecond: rate, peakMB: peak, p50: p50, p99: p99)
        if let reference, let referenceRate {
            row.references = [ReferenceResult(name: reference, itemsPerSecond: referenceRate, mbPerSecond: nil,
                                              ratio: rate / referenceRate, peakMB: referencePeak)]
        }
        return row
    }

    /// The sample items with the bench key added, built once.
    func sampleItems() throws -> [Item] {
        var generator = SampleItems(seed: seed)
        let decoder = ItemDecoder(spelling: .plain)
        let out = ByteBuffer(capacity: 1024)
        var result: [Item] = []
        result.reserveCapacity(items)
        for i in 0..<items {
            out.removeAll()
            generator.writePlain(i, into: out)
            var item = try decoder.decodeItem(out.bytes)
            item["grp"] = .s("g\(i / 16)")
            result.append(item)
        }
        return result
    }

    func freshTable(_ name: String, threshold: Int = 64 << 20) throws -> (TableCatalog, Table) {
        let data = dir + "/table-data"
        try? FileManager.default.removeItem(atPath: data)
        let catalog = try TableCatalog(dataFolder: data)
        catalog.flushThreshold = threshold
        let grp = KeyAttribute(name: "grp", type: .s), sk = KeyAttribute(name: "sk", type: .n)
        try catalog.create(TableDescription(name: name, keySchema: KeySchema(partition: grp, sort: sk), attributeDefinitions: [grp, sk],
                                            billingMode: .payPerRequest, throughput: .init(read: 0, write: 0), indexes: [],
                                            created: Date().timeIntervalSince1970, tableId: "bench"))
        return (catalog, try catalog.openForWriting(name, program: "ferry-bench"))
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// Puts every item in batches of `batch`; returns items/s and per-batch latencies.
    func load(_ all: [Item], batch: Int, count: Int? = nil) throws -> (Double, [Double]) {
        let (_, table) = try freshTable("Bench")
        let n = count ?? all.count
        var latencies: [Double] = []
        latencies.reserveCapacity(n / batch + 1)
        let start = now()
        var i = 0
        while i < n {
            let t0 = now()
            let operations = all[i..<min(n, i + batch)].map { WriteOperation.put($0, condition: nil) }
            for outcome in try table.write(operations) { if case let .rejected(e) = outcome { throw e } }
            latencies.append((now() - t0) * 1e6)
            i += batch
        }
        try table.close()
        return (Double(n) / (now() - start), latencies.sorted())
    }

    /// Loads `items` generated on the fly (no data set in memory) in commits of 1000,
    /// then reads 10,000 random items and 2,000 groups: cost per item and peak RSS as the
    /// table grows far past its memtable (the 20M-item check of docs/performance.md).
    func scale() throws -> [ReportRow] {
        let (catalog, table) = try freshTable("Scale")
        var generator = SampleItems(seed: seed)
        let decoder = ItemDecoder(spelling: .plain)
        let out = ByteBuffer(capacity: 1024)
        var batch: [WriteOperation] = []
        batch.reserveCapacity(1000)
        let start = now()
        for i in 0..<items {
            out.removeAll()
            generator.writePlain(i, into: out)
            var item = try decoder.decodeItem(out.bytes)
            item["grp"] = .s("g\(i / 16)")
            batch.append(.put(item, condition: nil))
            if batch.count == 1000 || i == items - 1 {
                _ = try table.write(batch)
                batch.removeAll(keepingCapacity: true)
            }
            if i % 1_000_000 == 999_999 {
                progress("\(i + 1) items, \(Int(Double(i + 1) / (now() - start))) items/s, peak RSS \(Int(peakRSSMegabytes())) MB")
            }
        }
        let loadRate = Double(items) / (now() - start)
        try table.close()
        let reader = try catalog.openForWriting("Scale", program: "ferry-bench")
        var random = SampleItems(seed: seed &+ 7)
        let readStart = now()
        for _ in 0..<10_000 {
            let k = Int(random.nextRandom() % UInt64(items))
            guard try reader.getItem(Item([("grp", .s("g\(k / 16)")), ("sk", .n(DynamoNumber(k)))])) != nil else {
                throw BenchError.countMismatch(stage: "get", expected: 1, got: 0)
            }
        }
        let getRate = 10_000 / (now() - readStart)
        let queryStart = now()
        var returned = 0
        for _ in 0..<2_000 {
            var request = ReadRequest()
            let g = Int(random.nextRandom() % UInt64(max(1, items / 16)))
            request.keyCondition = try KeyConditionExpression("grp = :g", context: ExpressionContext(values: [":g": .s("g\(g)")]))
            returned += try reader.read(request).count
        }
        let queryRate = Double(returned) / (now() - queryStart)
        try reader.close()
        let peak = inProcessPeakMB()
        return [row("load \(items) items x1000", loadRate, peak: peak), row("then get", getRate, peak: peak),
                row("then query (16 items)", queryRate, peak: peak)]
    }

    func run() throws -> [ReportRow] {
        let all = try sampleItems()
        var rows: [ReportRow] = []
        let sqlite = try withReferences ? SQLiteReference(dir: dir, items: all) : nil
        var sqlitePeak = 0.0
        func sqliteRun(_ body: (SQLiteReference) throws -> Double) throws -> Double? {
            guard let sqlite else { return nil }
            let rate = try body(sqlite)
            sqlitePeak = max(sqlitePeak, lastChildPeakMB ?? 0)
            return rate
        }

        // Loads: medians over runs, alternating with sqlite3's.
        var refInsert: [Double] = []
        let loads = [("batch put x1000", 1000, nil as Int?), ("batch put x25", 25, nil), ("put x1 (fsync each)", 1, min(items, 20_000))]
        for (label, batch, count) in ProcessInfo.processInfo.environment["FERRY_BENCH_LOADS_ONLY"] != nil || !allWrites ? Array(loads.prefix(1)) : loads {
            var rates: [Double] = [], lat: [Double] = []
            var peak = 0.0
            for _ in 0..<runs {
                settle()
                resetPeakRSS()
                let (rate, l) = try load(all, batch: batch, count: count)
                peak = max(peak, inProcessPeakMB())
                rates.append(rate)
                lat = l
                settle()
                if batch == 1000, let rate = try sqliteRun({ try $0.insertRate() }) { refInsert.append(rate) }
            }
            rows.append(row("\(label)", median(rates), p50: Self.percentile(lat, 0.5), p99: Self.percentile(lat, 0.99), peak: peak,
                            reference: "sqlite3 insert, 1 txn, WAL", referenceRate: refInsert.isEmpty ? nil : median(refInsert),
                            referencePeak: sqlitePeak))
            progress("table \(label) done")
        }

        // For profiling the write path alone.
        if ProcessInfo.processInfo.environment["FERRY_BENCH_LOADS_ONLY"] != nil { return rows }

        // Reads against a table loaded once (flushed into runs, as a nightly load leaves it).
        let (catalog, table) = try freshTable("Bench")
        var i = 0
        while i < all.count {
            _ = try table.write(all[i..<min(all.count, i + 1000)].map { WriteOperation.put($0, condition: nil) })
            i += 1000
        }
        try table.close()
        let reader = try catalog.openForWriting("Bench", program: "ferry-bench")
        try reader.flush()
        let lookups = min(items, 100_000)
        var generator = SampleItems(seed: seed &+ 99)
        let keys = (0..<lookups).map { _ in Int(generator.nextRandom() % UInt64(items)) }
        var getRates: [Double] = [], getLatencies: [Double] = []
        var refGets: [Double] = []
        sqlitePeak = 0
        resetPeakRSS()
        for _ in 0..<runs {
            getLatencies = []
            getLatencies.reserveCapacity(lookups)
            let start = now()
            for k in keys {
                let t0 = now()
                let key = Item([("grp", .s("g\(k / 16)")), ("sk", .n(DynamoNumber(k)))])
                guard try reader.getItem(key) != nil else { throw BenchError.countMismatch(stage: "get", expected: 1, got: 0) }
                getLatencies.append((now() - t0) * 1e6)
            }
            getRates.append(Double(lookups) / (now() - start))
            if let rate = try sqliteRun({ try $0.lookupRate(keys) }) { refGets.append(rate) }
        }
        getLatencies.sort()
        rows.append(row("get by key", median(getRates), p50: Self.percentile(getLatencies, 0.5), p99: Self.percentile(getLatencies, 0.99),
                        peak: inProcessPeakMB(), reference: "sqlite3 SELECT by key", referenceRate: refGets.isEmpty ? nil : median(refGets),
                        referencePeak: sqlitePeak))
        progress("table get done")

        let queries = min(items / 16, 20_000)
        var queryRates: [Double] = [], queryLatencies: [Double] = [], refQueries: [Double] = []
        let groups = keys.prefix(queries).map { $0 / 16 }
        sqlitePeak = 0
        resetPeakRSS()
        for _ in 0..<runs {
            queryLatencies = []
            let start = now()
            var returned = 0
            for g in groups {
                let t0 = now()
                var request = ReadRequest()
                request.keyCondition = try KeyConditionExpression("grp = :g", context: ExpressionContext(values: [":g": .s("g\(g)")]))
                returned += try reader.read(request).count
                queryLatencies.append((now() - t0) * 1e6)
            }
            queryRates.append(Double(returned) / (now() - start))
            if let rate = try sqliteRun({ try $0.queryRate(groups) }) { refQueries.append(rate) }
        }
        queryLatencies.sort()
        rows.append(row("query, 16 items (items/s)", median(queryRates), p50: Self.percentile(queryLatencies, 0.5),
                        p99: Self.percentile(queryLatencies, 0.99), peak: inProcessPeakMB(), reference: "sqlite3 SELECT a group",
                        referenceRate: refQueries.isEmpty ? nil : median(refQueries), referencePeak: sqlitePeak))
        progress("table query done")

        var scanRates: [Double] = [], refScans: [Double] = []
        sqlitePeak = 0
        resetPeakRSS()
        for _ in 0..<runs {
            let start = now()
            var request = ReadRequest()
            var total = 0
            repeat {
                let page = try reader.read(request)
                total += page.count
                request.exclusiveStartKey = page.lastEvaluatedKey
            } while request.exclusiveStartKey != nil
            guard total == items else { throw BenchError.countMismatch(stage: "scan", expected: items, got: total) }
            scanRates.append(Double(total) / (now() - start))
            if let rate = try sqliteRun({ try $0.scanRate() }) { refScans.append(rate) }
        }
        rows.append(row("full scan", median(scanRates), peak: inProcessPeakMB(), reference: "sqlite3 SELECT * (to /dev/null)",
                        referenceRate: refScans.isEmpty ? nil : median(refScans), referencePeak: sqlitePeak))
        try reader.close()
        progress("table scan done")
        return rows
    }
}

/// sqlite3 (the command-line tool) doing the same work: rows imported from a file in
/// one transaction with WAL mode, keys taken with json_extract; lookups and group
/// queries as scripts of SELECT statements.
struct SQLiteReference {
    let dir: String
    let items: Int
    let database: String
    let rows: String

    init(dir: String, items: [Item]) throws {
        self.dir = dir
        self.items = items.count
        database = dir + "/sqlite-bench.db"
        rows = dir + "/sqlite-rows-\(items.count).txt"
        if fileSize(rows) == 0 {
            // One JSON document a record, records separated by 0x1E (ASCII mode), so the
            // import needs no quoting: JSON text never holds a raw 0x1E.
            let sink = try FileSink(path: rows)
            let out = ByteBuffer(capacity: 1 << 20)
            for item in items {
                ItemEncoder.writePlain(item, into: out)
                out.append(0x1E)
                if out.count > 1 << 20 { try sink.write(out.bytes); out.removeAll() }
            }
            try sink.write(out.bytes)
            try sink.finish()
        }
    }

    func insertRate() throws -> Double {
        try? FileManager.default.removeItem(atPath: database)
        try? FileManager.default.removeItem(atPath: database + "-wal")
        let script = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE t(grp TEXT NOT NULL, sk INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (grp, sk)) WITHOUT ROWID;
        CREATE TEMP TABLE staging(doc TEXT);
        .mode ascii
        .import '\(rows)' staging
        BEGIN;
        INSERT INTO t SELECT json_extract(doc, '$.grp'), json_extract(doc, '$.sk'), doc FROM staging;
        COMMIT;
        """
        let path = dir + "/sqlite-insert.sql"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return Double(items) / (try timeShell("sqlite3 '\(database)' < '\(path)' > /dev/null"))
    }

    func lookupRate(_ keys: [Int]) throws -> Double {
        var script = ""
        for k in keys { script += "SELECT doc FROM t WHERE grp='g\(k / 16)' AND sk=\(k);\n" }
        let path = dir + "/sqlite-get.sql"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return Double(keys.count) / (try timeShell("sqlite3 '\(database)' < '\(path)' > /dev/null"))
    }

    func queryRate(_ groups: [Int]) throws -> Double {
        var script = ""
        for g in groups { script += "SELECT doc FROM t WHERE grp='g\(g)' ORDER BY sk;\n" }
        let path = dir + "/sqlite-query.sql"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return Double(groups.count * 16) / (try timeShell("sqlite3 '\(database)' < '\(path)' > /dev/null"))
    }

    func scanRate() throws -> Double {
        Double(items) / (try timeShell("sqlite3 '\(database)' 'SELECT doc FROM t;' > /dev/null"))
    }
}
