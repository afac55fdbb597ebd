#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// Opens what `--in`/`--verify` name: a file, `-`, or `s3://bucket/key` in the store.
public func openBackupInput(_ spec: String, dataFolder: String) throws -> ByteSource {
    if spec.hasPrefix("s3://") {
        let catalog = SourceCatalog(dataFolder: dataFolder)
        let (bucket, key) = try SourceCatalog.parseS3(spec)
        guard !key.isEmpty else { throw ExtractError.badSource(spec, reason: "needs an object key") }
        let object = SourceObject(uri: spec, location: .object(bucket: bucket, key: key), etag: "", size: nil)
        return try catalog.open(object).source
    }
    return try FileSource(path: spec)
}

/// `backups/Music-%Y%m%d.gz` with strftime's fields in local time (for cron).
public func expandTimePattern(_ pattern: String, at time: time_t = time(nil)) -> String {
    guard pattern.contains("%") else { return pattern }
    var seconds = time
    var parts = tm()
    localtime_r(&seconds, &parts)
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = buffer.withUnsafeMutableBytes { raw in
        strftime(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count, pattern, &parts)
    }
    return n == 0 ? pattern : String(decoding: buffer[..<n], as: UTF8.self)
}
