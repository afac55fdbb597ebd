import Foundation
import FerryIO
import FerryValues

/// ferry-extract's engine (docs/ferry-extract.md): reads source objects in key order,
/// converts each record to a typed (or plain) stream line, and writes barrier lines so a
/// loader can commit positions. Records of a group reach stdout only together with the
/// barrier that ends the group, so an object that fails part way leaves no records
/// without a position in the stream.
public final class Extractor {
    public struct Options: Sendable {
        public var format: RecordFormat = .auto
        public var plain = false
        public var barrierEvery = 10_000
        public var threads = 1
        public var csv = CSVOptions()
        /// `--encoding`: how the objects' text is encoded (converted to UTF-8 as read).
        public var encoding = TextEncodingSource.Encoding.utf8
        /// `--shard I/N`: only objects whose name hashes to I.
        public var shard: (index: Int, count: Int)? = nil
        /// `--resume FILE`'s content.
        public var resume: CheckpointState? = nil
        public init() {}
    }

    public struct Stats: Sendable {
        public var objects = 0
        /// Objects left out because the checkpoint shows them complete with the same ETag.
        public var skippedComplete = 0
        public var resumed = 0
        public var records = 0
        public var failed: [String] = []
        public var bytes = 0
    }

    public private(set) var stats = Stats()
    private let catalog: SourceCatalog
    private let output: OutputWriter
    private let rejects: RejectWriter
    private let options: Options
    private let onProgress: (Int, Int) -> Void
    private let report: (String) -> Void
    /// Where warnings go (an object none of whose records could be read).
    public var warn: (String) -> Void = { _ in }

    public init(catalog: SourceCatalog, output: OutputWriter, rejects: RejectWriter, options: Options,
                report: @escaping (String) -> Void,
                onProgress: @escaping (_ records: Int, _ bytes: Int) -> Void = { _, _ in }) {
        self.catalog = catalog
        self.output = output
        self.rejects = rejects
        self.options = options
        self.report = report
        self.onProgress = onProgress
    }

    // MARK: Planning

    /// How one object is read.
    enum UnitFormat: Equatable {
        case lines(LineFormat)
        case csv
        /// Decided from the object's first line.
        case sniff
    }

    struct Unit {
        var object: SourceObject
        var format: UnitFormat
        /// From an export manifest: base64 MD5 of the stored bytes, and the item count.
        var md5: String? = nil
        var itemCount: Int? = nil
    }

    /// The objects `specs` name, each with its format, in order, after `--shard`.
    func plan(_ specs: [String]) throws -> [Unit] {
        var units: [Unit] = []
        for spec in specs {
            let objects = try catalog.list(spec)
            let summaries = objects.filter { $0.baseName == "manifest-summary.json" }
            // Amazon writes the summary last: an export folder without it is unfinished,
            // and its manifests and data files must not be read as records (beside a
            // finished export too, or a retried export would be read twice).
            if options.format == .auto || options.format == .awsExport {
                var finished = Set(summaries.map { String($0.uri.dropLast($0.baseName.count)) })
                for object in objects {
                    guard let folder = Self.exportFolder(of: object.uri), !finished.contains(folder) else { continue }
                    // Part of a finished export named on its own (its data/ folder, one
                    // data file) is read as plain objects.
                    if let summary = try? catalog.list(folder + "manifest-summary.json"), summary.contains(where: { $0.uri == folder + "manifest-summary.json" }) {
                        finished.insert(folder)
                        continue
                    }
                    throw ExtractError.badManifest(folder + "manifest-summary.json",
                                                   reason: "missing: the export is unfinished or damaged (Amazon writes the summary last); name a finished export")
                }
            }
            if options.format == .awsExport || (options.format == .auto && !summaries.isEmpty) {
                guard !summaries.isEmpty else {
                    throw ExtractError.badManifest(spec, reason: "no AWSDynamoDB/<export id>/manifest-summary.json under it")
                }
                var exportFolders: [String] = []
                for summary in summaries {
                    units += try exportUnits(summary)
                    exportFolders.append(String(summary.uri.dropLast("manifest-summary.json".count)))
                }
                if options.format == .auto {
                    // Anything beside the exports is read as ordinary objects.
                    for object in objects where !exportFolders.contains(where: { object.uri.hasPrefix($0) }) {
                        units.append(Unit(object: object, format: .sniff))
                    }
                }
                continue
            }
            let manifests = objects.filter { $0.baseName == "manifest" }
            if options.format == .datapipeline || (options.format == .auto && !manifests.isEmpty) {
                if let manifest = manifests.first {
                    units += try dataPipelineUnits(manifest)
                } else {
                    units += objects.filter { $0.baseName != "_SUCCESS" }.map { Unit(object: $0, format: .lines(.dataPipeline)) }
                }
                continue
            }
            let format: UnitFormat
            switch options.format {
            case .jsonl: format = .lines(.json(.auto))
            case .dynamodbJSON: format = .lines(.json(.typed))
            case .csv: format = .csv
            default: format = spec == "-" ? .lines(.json(.auto)) : .sniff
            }
            units += objects.map { Unit(object: $0, format: format) }
        }
        if let shard = options.shard {
            units = units.filter { Int(fnv1a64($0.object.uri) % UInt64(shard.count)) == shard.index }
        }
        return units
    }

    /// `…/AWSDynamoDB/<export id>/` when `uri` is inside an export's folder (an id is 14
    /// digits, a dash and 8 hex digits, as Amazon and ferry-export make them).
    static func exportFolder(of uri: String) -> String? {
        guard let range = uri.range(of: "AWSDynamoDB/") else { return nil }
        let rest = uri[range.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let id = rest[..<slash]
        let parts = id.split(separator: "-")
        guard parts.count == 2, parts[0].count == 14, parts[0].allSatisfy(\.isNumber), parts[1].count == 8,
              parts[1].allSatisfy(\.isHexDigit) else { return nil }
        return String(uri[..<rest.index(after: slash)])
    }

    /// The data files of one Amazon export (docs/ferry-extract.md): both manifests are
    /// checked against their `.md5` (or `.checksum`) files, every member Ferry relies on
    /// is checked for its type, and a data file listed twice is refused.
    func exportUnits(_ summaryObject: SourceObject) throws -> [Unit] {
        let summaryBytes = try catalog.read(summaryObject)
        try checkManifestChecksum(summaryObject, bytes: summaryBytes)
        let summary: JSONValue
        do { summary = try JSONValue.parse(summaryBytes) } catch let error as JSONError {
            throw ExtractError.badManifest(summaryObject.uri, reason: "\(error)")
        }
        var incremental = false
        var expectedTotal: Int? = nil
        var filesName = "manifest-files.json"
        do {
            // Amazon adds members over time: only the ones Ferry uses are held to their types.
            var fields = try JSONFields(summary, path: "")
            if let type = try fields.optionalString("exportType") {
                guard ["FULL_EXPORT", "INCREMENTAL_EXPORT"].contains(type) else {
                    throw fields.error("exportType", "is '\(type)', not FULL_EXPORT or INCREMENTAL_EXPORT")
                }
                incremental = type == "INCREMENTAL_EXPORT"
            }
            if let format = try fields.optionalString("outputFormat"), format != "DYNAMODB_JSON" {
                throw ExtractError.badManifest(summaryObject.uri, reason: "outputFormat \(format) is not read (only DYNAMODB_JSON)")
            }
            expectedTotal = try fields.optionalInt("itemCount")
            if let key = try fields.optionalString("manifestFilesS3Key") {
                let name = String(key.split(separator: "/").last ?? "")
                guard name.hasPrefix("manifest-files"), name.hasSuffix(".json") else {
                    throw fields.error("manifestFilesS3Key", "is '\(key)', not the export's manifest-files.json")
                }
                filesName = name
            }
        } catch let error as JSONFieldError {
            throw ExtractError.badManifest(summaryObject.uri, reason: "\(error)")
        }
        let filesObject = try catalog.sibling(of: summaryObject, filesName)
        let text = try catalog.read(filesObject)
        try checkManifestChecksum(filesObject, bytes: text)
        var units: [Unit] = []
        var total = 0
        var lineNumber = 0
        var listed: [String: Int] = [:]
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let entry: JSONValue
            do { entry = try JSONValue.parse(Array(line)) } catch {
                throw ExtractError.badManifest(filesObject.uri, reason: "line \(lineNumber): \(error)")
            }
            let key: String, count: Int, md5: String
            do {
                var fields = try JSONFields(entry, path: "")
                key = try fields.string("dataFileS3Key")
                count = try fields.int("itemCount")
                md5 = try fields.string("md5Checksum")
                guard let digest = Base64.decode(md5), digest.count == 16 else { throw fields.error("md5Checksum", "is not a base64 MD5") }
                _ = try fields.optionalString("etag")
            } catch let error as JSONFieldError {
                throw ExtractError.badManifest(filesObject.uri, reason: "line \(lineNumber): \(error)")
            }
            // Data files live in the export's data/ folder; a key that climbs out of it is refused.
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[parts.count - 2] == "data", let name = parts.last, !name.isEmpty,
                  !parts.contains(where: { $0 == ".." || $0 == "." }) else {
                throw ExtractError.badManifest(filesObject.uri, reason: "line \(lineNumber): dataFileS3Key '\(key)' is not a file in the export's data/ folder")
            }
            if let first = listed[String(name)] {
                throw ExtractError.badManifest(filesObject.uri, reason: "line \(lineNumber): data/\(name) is listed twice (lines \(first) and \(lineNumber)); its items would be read twice")
            }
            listed[String(name)] = lineNumber
            let data = try catalog.sibling(of: summaryObject, "data/" + name)
            units.append(Unit(object: data, format: .lines(incremental ? .exportIncremental : .json(.typed)),
                              md5: md5, itemCount: count))
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow, sum <= JSONFields.maxCount else {
                throw ExtractError.badManifest(filesObject.uri, reason: "line \(lineNumber): the itemCounts add up to more than \(JSONFields.maxCount)")
            }
            total = sum
        }
        if let expectedTotal, expectedTotal != total {
            throw ExtractError.badManifest(summaryObject.uri, reason: "itemCount \(expectedTotal) but the data files list \(total)")
        }
        return units
    }

    /// A manifest's checksum file (`manifest-files.md5` beside `manifest-files.json`;
    /// newer exports name it `.checksum`) must hold the manifest's MD5, as Amazon writes
    /// it (base64) or as hex; a `.checksum` may hold a SHA-256 instead. None is accepted:
    /// hand-made exports have none, and the data files are checked against the manifest.
    func checkManifestChecksum(_ manifest: SourceObject, bytes: [UInt8]) throws {
        let stem = String(manifest.baseName.dropLast(manifest.baseName.hasSuffix(".json") ? 5 : 0))
        for suffix in [".md5", ".checksum"] {
            guard let sidecar = try? catalog.sibling(of: manifest, stem + suffix) else { continue }
            let text = String(decoding: try catalog.read(sidecar, limit: 4096), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let md5 = MD5.digest(bytes)
            var matches = text == Base64.encode(md5) || text.lowercased() == Hex.encode(md5)
            if !matches && suffix == ".checksum" {
                let sha = SHA256.digest(bytes)
                matches = text == Base64.encode(sha) || text.lowercased() == Hex.encode(sha)
            }
            if !matches {
                throw ExtractError.badManifest(sidecar.uri, reason: "holds '\(text)', but \(manifest.baseName) has MD5 \(Base64.encode(md5)) (base64): the manifest is damaged or was changed")
            }
        }
    }

    /// Data Pipeline's `manifest`: `{"name":"DynamoDB-export","version":3,"entries":[{"url":…},…]}`;
    /// each entry's file is looked for beside the manifest by its last name.
    func dataPipelineUnits(_ manifest: SourceObject) throws -> [Unit] {
        let json: JSONValue
        do { json = try JSONValue.parse(try catalog.read(manifest)) } catch let error as JSONError {
            throw ExtractError.badManifest(manifest.uri, reason: "\(error)")
        }
        guard let entries = json["entries"]?.arrayValue else { throw ExtractError.badManifest(manifest.uri, reason: "no \"entries\" list") }
        return try entries.map { entry in
            guard let url = entry["url"]?.stringValue, let name = url.split(separator: "/").last else {
                throw ExtractError.badManifest(manifest.uri, reason: "an entry without a \"url\"")
            }
            return Unit(object: try catalog.sibling(of: manifest, String(name)), format: .lines(.dataPipeline))
        }
    }

    // MARK: Running

    /// Extracts every object `specs` name. An object that fails is reported and left
    /// incomplete; the others go on. Throws only for errors that stop the whole run.
    public func run(_ specs: [String]) throws {
        let units = try plan(specs)
        for unit in units {
            do {
                try extract(unit)
            } catch let error as PipelineError {
                throw error
            } catch let error as IOError where error.isOutputFailure {
                throw error      // stdout is gone: nothing more can be sent
            } catch {
                let message: String
                if let e = error as? ExtractError { message = "\(e)" } else { message = "\(unit.object.uri): \(error)" }
                report(message)
                stats.failed.append(unit.object.uri)
            }
        }
    }

    func extract(_ unit: Unit) throws {
        let object = unit.object
        var (raw, etag) = try catalog.open(object)
        var skipThrough = 0
        var startRecords = 0
        if let done = options.resume?.sources[object.uri], done.etag == etag {
            if done.complete {
                // Say so in the stream: a loader whose table does not show it complete
                // (restored, or the file is another run's) refuses instead of skipping.
                done.writeLine(into: output.buffer)
                try output.recordEnded()
                stats.skippedComplete += 1
                return
            }
            skipThrough = done.line
            startRecords = done.records
            stats.resumed += 1
        }
        stats.objects += 1
        if let md5 = unit.md5 {
            try verify(raw, name: object.uri, md5: md5)
            let checked = etag
            (raw, etag) = try catalog.open(object)
            // The bytes read must be the bytes checked.
            if etag != checked { throw ExtractError.objectFailed(object.uri, reason: "it changed while it was read (ETag \(checked), then \(etag)); nothing from it was sent: rerun") }
        }
        let rejectsBefore = rejects.count
        let group = GroupWriter(output: output, source: object.uri, etag: etag, every: max(1, options.barrierEvery), records: startRecords, line: skipThrough)
        try group.writeBarrier(complete: false)   // where this run starts, for the loader
        var format = unit.format
        do {
            let source = TextEncodingSource(try InputDecoding.open(raw), encoding: options.encoding)
            if format == .sniff { format = try sniff(object) }
            switch format {
            case let .lines(lineFormat): try extractLines(source, format: lineFormat, skipThrough: skipThrough, group: group, uri: object.uri)
            case .csv, .sniff: try extractCSV(source, skipThrough: skipThrough, group: group, uri: object.uri)
            }
        } catch let error as PipelineError {
            group.abandon()
            throw error
        } catch let error as IOError where error.isOutputFailure {
            throw error
        } catch {
            group.abandon()
            let unsent = group.committedLine == 0 ? "nothing from it was sent" : "records after line \(group.committedLine) were not sent"
            if case let ExtractError.badRecord(line, reason, _) = error {
                throw ExtractError.objectFailed("\(object.uri):\(line)", reason: "\(reason); \(unsent)")
            }
            // IOErrors and the store's errors (`BadDigest: s3://b/k: ...`) name the object
            // already; say it once.
            let text = "\(error)"
            let reason = text.range(of: object.uri + ": ").map { text.replacingCharacters(in: $0, with: "") } ?? text
            throw ExtractError.objectFailed(object.uri, reason: "\(reason); \(unsent)")
        }
        if let expected = unit.itemCount, group.records != expected {
            group.abandon()
            throw ExtractError.countMismatch(object.uri, expected: expected, actual: group.records)
        }
        // Every record rejected: most likely not the format it was read as. Complete
        // (its lines are in the rejects), but never on the quiet.
        let rejected = rejects.count - rejectsBefore
        if group.records == startRecords && rejected > 0 {
            warn("\(object.uri): not one of its records could be read (\(rejected) rejected): is it \(formatName(format))? (--format says what it is)")
        }
        try group.writeBarrier(complete: true)
        stats.records += group.records - startRecords
        stats.bytes += raw.bytesConsumed
    }

    /// Checks the stored bytes against a manifest's base64 MD5 before any record is read.
    private func verify(_ raw: ByteSource, name: String, md5: String) throws {
        var hash = MD5()
        try raw.forEachChunk { hash.update($0) }
        let actual = Base64.encode(hash.finalize())
        if actual != md5 { throw ExtractError.checksumMismatch(name, expected: md5, actual: actual) }
    }

    /// Decides an object's format from its first non-blank line (after a byte order mark
    /// and gzip, which InputDecoding handles): `{` is JSON lines (or Data Pipeline's),
    /// `[` a JSON document (refused: not lines), other text CSV.
    private func sniff(_ object: SourceObject) throws -> UnitFormat {
        if options.format == .csv { return .csv }
        let decoded = TextEncodingSource(try InputDecoding.open(try catalog.open(object).source), encoding: options.encoding)
        let reader = LineReader(source: decoded)
        let found: UnsafeRawBufferPointer?
        do { found = try reader.next() } catch IOError.lineTooLong {
            throw ExtractError.badLine("its first line is longer than \(LineReader.defaultMaxLineLength) bytes, so its format cannot be told: give --format")
        }
        guard let line = found else { return .lines(.json(.auto)) }
        if line.contains(0x03) { return .lines(.dataPipeline) }
        let first = line.first { $0 != 0x20 && $0 != 0x09 }
        if first == UInt8(ascii: "[") {
            throw ExtractError.objectFailed(object.uri, reason: "a JSON document (it starts with '['), not JSON lines: write one object per line (jq -c '.[]')")
        }
        guard first == UInt8(ascii: "{") else { return .csv }
        if case let .object(members)? = try? JSONValue.parse(line), let first = members.first,
           case let .object(inner) = first.value, inner.count == 1,
           let tag = inner.first?.key, DataPipelineLine.typeNames[tag] != nil, tag != tag.uppercased() || tag == "l" || tag == "m" {
            // {"a":{"s":"x"}}: lower-camel type keys are Data Pipeline's; a plain item
            // whose first value is a one-key map {"s":…} is read as such too.
            return .lines(.dataPipeline)
        }
        return .lines(.json(.auto))
    }

    private func formatName(_ format: UnitFormat) -> String {
        switch format {
        case .csv: return "CSV"
        case .lines(.dataPipeline): return "a Data Pipeline export"
        case .lines(.exportIncremental): return "an incremental export"
        case .lines(.json), .sniff: return "JSON lines"
        }
    }

    /// What one worker made of one block of lines.
    struct ConvertedBlock: Sendable {
        var bytes: [UInt8] = []
        /// End offset in `bytes` and input line of each record.
        var ends: [Int] = []
        var lines: [Int] = []
        var rejects: [StreamTranscoder.Reject] = []
        var inputBytes = 0
    }

    private func extractLines(_ source: ByteSource, format: LineFormat, skipThrough: Int, group: GroupWriter, uri: String) throws {
        let plain = options.plain
        try ParallelLineProcessor.run(
            source: source, threads: options.threads,
            makeWorker: {
                let converter = LineConverter(format: format, plain: plain)
                let out = ByteBuffer(capacity: 2 << 20)
                return { block in Self.convert(block, converter: converter, out: out, skipThrough: skipThrough) }
            },
            consume: { (block: ConvertedBlock) in
                for reject in block.rejects {
                    try reject.record.withUnsafeBytes { try rejects.reject(source: uri, line: reject.line, reason: reject.reason, record: $0) }
                }
                try group.append(block)
                onProgress(block.ends.count, block.inputBytes)
            })
    }

    static func convert(_ block: LineBlock, converter: LineConverter, out: ByteBuffer, skipThrough: Int) -> ConvertedBlock {
        var result = ConvertedBlock()
        result.inputBytes = block.bytes.count
        if let line = block.overlongLine {
            if line > skipThrough {
                result.rejects.append(.init(line: line, reason: "line is longer than the limit of \(LineReader.defaultMaxLineLength) bytes", record: []))
            }
            return result
        }
        out.removeAll()
        block.forEachLine { line, number in
            guard number > skipThrough else { return }
            let mark = out.count
            do {
                switch try converter.convert(line, into: out) {
                case .record:
                    result.ends.append(out.count)
                    result.lines.append(number)
                case .control:
                    // Passed through inside the group; not a record.
                    break
                case .dropped:
                    out.truncate(to: mark)
                }
            } catch {
                out.truncate(to: mark)
                result.rejects.append(.init(line: number, reason: rejectReason(error), record: Array(line)))
            }
        }
        result.bytes = out.array
        return result
    }

    private func extractCSV(_ source: ByteSource, skipThrough: Int, group: GroupWriter, uri: String) throws {
        let reader = CSVReader(source: source, delimiter: options.csv.delimiter)
        var header = options.csv.header
        let converter = LineConverter(format: .json(.typed), plain: options.plain)
        let out = ByteBuffer(capacity: 1 << 20)
        var block = ConvertedBlock()
        func flush() throws {
            block.bytes = out.array
            try group.append(block)
            onProgress(block.ends.count, 0)
            out.removeAll()
            block = ConvertedBlock()
        }
        while true {
            let row: CSVReader.Row
            do {
                guard let next = try reader.next() else { break }
                row = next
            } catch let ExtractError.badRecord(line, reason, text) {
                if header == nil {
                    // A header that cannot be read: nothing after it can be.
                    throw ExtractError.badRecord(line: line, reason: "the header: \(reason)", text: text)
                }
                if line > skipThrough { try text.withUnsafeBytes { try rejects.reject(source: uri, line: line, reason: reason, record: $0) } }
                continue
            }
            guard let names = header else {
                try CSVOptions.checkHeader(row)
                header = row.fields
                continue
            }
            guard row.line > skipThrough else { continue }
            let mark = out.count
            do {
                try converter.write(try options.csv.item(row, header: names), into: out)
                block.ends.append(out.count)
                block.lines.append(row.line)
            } catch {
                out.truncate(to: mark)
                try row.text.withUnsafeBytes { try rejects.reject(source: uri, line: row.line, reason: rejectReason(error), record: $0) }
            }
            if block.ends.count >= 1000 { try flush() }
        }
        try flush()
    }
}

/// Buffers one object's records between barriers in the output and writes the barrier
/// that ends each group; nothing of a group leaves before its barrier.
final class GroupWriter {
    private let output: OutputWriter
    private let source: String
    private let etag: String
    private let every: Int
    /// Records taken from the object since its start (resumed runs start at the count of
    /// the checkpoint), and the line of the last.
    private(set) var records: Int
    private(set) var line: Int
    /// The line of the last barrier written.
    private(set) var committedLine: Int
    private var groupStart: Int

    init(output: OutputWriter, source: String, etag: String, every: Int, records: Int, line: Int) {
        self.output = output
        self.source = source
        self.etag = etag
        self.every = every
        self.records = records
        self.line = line
        committedLine = line
        groupStart = output.buffer.count
    }

    func append(_ block: Extractor.ConvertedBlock) throws {
        let count = block.ends.count
        guard count > 0 else {
            // Control lines only.
            output.buffer.append(block.bytes)
            return
        }
        let toNext = every - records % every
        if count < toNext {
            output.buffer.append(block.bytes)
            records += count
            line = block.lines[count - 1]
            return
        }
        var start = 0
        try block.bytes.withUnsafeBytes { bytes in
            var i = 0
            while i < count {
                let take = min(count - i, every - records % every)
                let end = block.ends[i + take - 1]
                output.buffer.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end
                records += take
                line = block.lines[i + take - 1]
                i += take
                if records % every == 0 { try writeBarrier(complete: false) }
            }
            if start < bytes.count { output.buffer.append(UnsafeRawBufferPointer(rebasing: bytes[start...])) }
        }
    }

    func writeBarrier(complete: Bool) throws {
        Barrier(source: source, etag: etag, line: line, records: records, complete: complete).writeLine(into: output.buffer)
        committedLine = line
        try output.recordEnded()
        groupStart = output.buffer.count
    }

    /// Drops the records written since the last barrier.
    func abandon() {
        output.buffer.truncate(to: groupStart)
    }
}

/// FNV-1a 64 of a string's UTF-8 bytes (for --shard: stable across runs and machines).
func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}

extension IOError {
    /// A failure writing the output (as opposed to reading a source).
    var isOutputFailure: Bool {
        switch self {
        case .brokenPipe, .writeFailed: return true
        default: return false
        }
    }
}
