#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryIO
import FerryObjectStore
import FerryValues

/// Writes a table into the object store in the layout of DynamoDB's export to S3
/// (docs/ferry-export.md), which Amazon's import and `ferry-extract` read:
///
/// ```
/// <prefix>/AWSDynamoDB/<ExportId>/_started
/// <prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz     one per scan segment
/// <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json     {"itemCount":…,"md5Checksum":…,"etag":…,"dataFileS3Key":…} per line
/// <prefix>/AWSDynamoDB/<ExportId>/manifest-files.md5
/// <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json
/// <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.md5
/// ```
/// The summary is written last: a reader that finds it finds everything it lists.
public enum AWSExportWriter {
    /// 14 digits of epoch milliseconds, a dash, 8 hex digits, as DynamoDB names exports.
    public static func exportId(milliseconds: Int64) -> String {
        let digits = String(milliseconds)
        return String(repeating: "0", count: max(0, 14 - digits.count)) + digits + "-"
            + String(format: "%08x", UInt32.random(in: 0...UInt32.max))
    }

    /// 26 characters of [a-z2-7], the shape of DynamoDB's data file names.
    static func dataFileName() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return String((0..<26).map { _ in alphabet[Int.random(in: 0..<32)] })
    }

    static func isoMilliseconds(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Exports `exporter`'s snapshot under `s3://bucket/prefix`; returns the manifest
    /// summary (also stored as manifest-summary.json).
    public static func write(_ exporter: TableExporter, store: ObjectStore, bucket: String, prefix: String) throws -> JSONValue {
        let start = Date()
        let id = exportId(milliseconds: Int64(start.timeIntervalSince1970 * 1000))
        let cleanPrefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let base = (cleanPrefix.isEmpty ? "" : cleanPrefix + "/") + "AWSDynamoDB/\(id)/"
        func put(_ key: String, _ bytes: [UInt8], type: String) throws {
            _ = try store.put(bucket: bucket, key: key, from: MemorySource(bytes, name: key), contentType: type)
        }
        try put(base + "_started", [], type: "application/octet-stream")

        let total = max(1, exporter.options.segments)
        let files = try exporter.runSegments(total) { segment, file in
            let gzip = try GzipSink(file, level: 6)
            let writer = OutputWriter(sink: gzip)
            let r = try exporter.writeSegment(segment, of: total, into: writer)
            try writer.flush()
            try gzip.finish()
            return r
        }
        var manifest: [UInt8] = []
        var itemCount = 0, billed = 0
        defer { files.forEach { Syscall.unlink($0.0) } }   // released to us by runSegments
        for (path, counts) in files {
            var md5 = MD5()
            try FileSource(path: path).forEachChunk { md5.update($0) }
            let digest = md5.finalize()
            let key = base + "data/" + dataFileName() + ".json.gz"
            _ = try store.put(bucket: bucket, key: key, from: try FileSource(path: path), contentType: "application/x-gzip")
            let line = JSONValue.object([
                JSONMember("itemCount", .number(String(counts.items))),
                JSONMember("md5Checksum", .string(Base64.encode(digest))),
                JSONMember("etag", .string(Hex.encode(digest))),
                JSONMember("dataFileS3Key", .string(key)),
            ])
            manifest += Array((line.jsonText + "\n").utf8)
            itemCount += counts.items
            billed += counts.bytes
        }
        try put(base + "manifest-files.json", manifest, type: "application/json")
        // As Amazon writes it: the base64 MD5, 24 bytes, no newline.
        try put(base + "manifest-files.md5", Array(Base64.encode(MD5.digest(manifest)).utf8), type: "text/plain")

        let table = exporter.table.description
        let summary = JSONValue.object([
            JSONMember("version", .string("2020-06-30")),
            JSONMember("exportArn", .string(table.arn + "/export/" + id)),
            JSONMember("startTime", .string(isoMilliseconds(start))),
            JSONMember("endTime", .string(isoMilliseconds(Date()))),
            JSONMember("tableArn", .string(table.arn)),
            JSONMember("tableId", .string(table.tableId)),
            JSONMember("exportTime", .string(isoMilliseconds(start))),
            JSONMember("s3Bucket", .string(bucket)),
            JSONMember("s3Prefix", cleanPrefix.isEmpty ? .null : .string(cleanPrefix)),
            JSONMember("s3SseAlgorithm", .string("AES256")),
            JSONMember("s3SseKmsKeyId", .null),
            JSONMember("manifestFilesS3Key", .string(base + "manifest-files.json")),
            JSONMember("billedSizeBytes", .number(String(billed))),
            JSONMember("itemCount", .number(String(itemCount))),
            JSONMember("outputFormat", .string("DYNAMODB_JSON")),
            JSONMember("exportType", .string("FULL_EXPORT")),
        ])
        let summaryBytes = Array((summary.jsonText + "\n").utf8)
        try put(base + "manifest-summary.json", summaryBytes, type: "application/json")
        try put(base + "manifest-summary.md5", Array(Base64.encode(MD5.digest(summaryBytes)).utf8), type: "text/plain")
        return summary
    }
}
