import FerryIO
import FerryValues

/// What is known about an object: kept in its sidecar file (docs/object-store.md).
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// Modification time of the object's file, nanoseconds since the epoch.
    public var modified: Int64
    /// MD5 of the content in lower-case hex, quoted as S3 writes it: "\"d41d8...\"".
    public var etag: String
    /// CRC32 of the content, base64 of its four big-endian bytes (S3's ChecksumCRC32).
    public var crc32: String
    public var contentType: String
    public var metadata: [String: String]

    public init(key: String, size: Int, modified: Int64, etag: String, crc32: String,
                contentType: String, metadata: [String: String]) {
        self.key = key
        self.size = size
        self.modified = modified
        self.etag = etag
        self.crc32 = crc32
        self.contentType = contentType
        self.metadata = metadata
    }
}

/// The sidecar file's JSON (format version 2; docs/object-store.md).
/// DO NOT CHANGE FIELD NAMES: sidecars on disk are read back with them.
enum Sidecar {
    static let version = 2

    /// The members in their fixed order, without `check`.
    private static func body(_ info: ObjectInfo, version: Int) -> [JSONMember] {
        [
            JSONMember("version", .number(String(version))),
            JSONMember("size", .number(String(info.size))),
            JSONMember("modified_ns", .number(String(info.modified))),
            JSONMember("etag", .string(info.etag)),
            JSONMember("crc32", .string(info.crc32)),
            JSONMember("content_type", .string(info.contentType)),
            JSONMember("metadata", .object(info.metadata.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })),
        ]
    }

    /// CRC-32 of the members' compact encoding: binds the size, ETag and checksum together,
    /// so one edited value is seen (and recomputed from the content) instead of served.
    private static func check(_ members: [JSONMember]) -> String {
        let out = ByteBuffer()
        JSONValue.object(members).write(into: out)
        var crc = CRC32()
        crc.update(out.bytes)
        let hex = String(crc.value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    static func encode(_ info: ObjectInfo) -> [UInt8] {
        var members = body(info, version: version)
        members.append(JSONMember("check", .string(check(members))))
        let out = ByteBuffer()
        JSONValue.object(members).write(into: out)
        out.append(UInt8(ascii: "\n"))
        return out.array
    }

    /// What a sidecar file holds.
    enum Decoded {
        /// Trusted while its size and mtime match the file's.
        case info(ObjectInfo)
        /// Not a sidecar Ferry can trust (unreadable, another version, its check fails):
        /// its content type and metadata when those still read.
        case damaged(contentType: String?, metadata: [String: String]?)
    }

    static func decode(_ bytes: [UInt8], key: String) -> Decoded {
        guard let value = try? JSONValue.parse(bytes), case let .object(members) = value else {
            return .damaged(contentType: nil, metadata: nil)
        }
        let type = value["content_type"]?.stringValue
        var metadata: [String: String]? = nil
        if let entries = value["metadata"]?.objectValue {
            var out: [String: String] = [:]
            for member in entries { if let text = member.value.stringValue { out[member.key] = text } }
            if out.count == entries.count { metadata = out }
        }
        let damaged = Decoded.damaged(contentType: type, metadata: metadata)
        guard let versionText = value["version"]?.numberText, let version = Int(versionText), version == 1 || version == 2,
              let size = value["size"]?.numberText.flatMap({ Int($0) }), size >= 0,
              let modified = value["modified_ns"]?.numberText.flatMap({ Int64($0) }),
              let etag = value["etag"]?.stringValue,
              let crc = value["crc32"]?.stringValue,
              let type, let metadata else { return damaged }
        let info = ObjectInfo(key: key, size: size, modified: modified, etag: etag, crc32: crc, contentType: type, metadata: metadata)
        // Version 1 (Ferry before 2026-12) has no check; version 2 must have a matching one
        // and nothing else.
        if version == 2 {
            let expected = body(info, version: 2)
            guard members.count == expected.count + 1, let stored = value["check"]?.stringValue, stored == check(expected) else {
                return damaged
            }
        }
        return .info(info)
    }
}

/// Hashes content as it streams past: MD5 for the ETag, CRC32 for the checksum.
struct ContentDigest {
    private var md5 = MD5()
    private var crc = CRC32()
    private(set) var size = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        updateMD5(bytes)
        updateCRC(bytes)
    }

    /// The two halves separately, so two threads can share the work (HashingCopy).
    mutating func updateMD5(_ bytes: UnsafeRawBufferPointer) {
        md5.update(bytes)
        size += bytes.count
    }

    mutating func updateCRC(_ bytes: UnsafeRawBufferPointer) { crc.update(bytes) }

    /// Takes the CRC computed elsewhere.
    mutating func setCRC(_ other: CRC32) { crc = other }

    mutating func finish() -> (etag: String, crc32: String) {
        ("\"" + Hex.encode(md5.finalize()) + "\"", Self.checksumText(crc))
    }

    /// S3's ChecksumCRC32 spelling: base64 of the four big-endian bytes.
    static func checksumText(_ crc: CRC32) -> String {
        let v = crc.value
        return Base64.encode([UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)])
    }
}

/// An object's bytes as read from disk, checked against the CRC32 recorded when it was
/// put: damage on disk (a flipped bit, a torn write) fails the read at its end with the
/// object named, instead of passing on wrong bytes, as `aws s3 cp` checks downloads.
final class ChecksummedSource: ByteSource {
    private let source: ByteSource
    private let info: ObjectInfo
    private let bucket: String
    private var crc = CRC32()
    private var checked = false

    init(_ source: ByteSource, info: ObjectInfo, bucket: String) {
        self.source = source
        self.info = info
        self.bucket = bucket
    }

    var name: String { source.name }
    var bytesConsumed: Int { source.bytesConsumed }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try source.read(into: buffer)
        if n > 0 {
            crc.update(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        } else if !checked {
            checked = true
            try Self.check(crc, info, bucket: bucket, size: source.bytesConsumed)
        }
        return n
    }

    static func check(_ crc: CRC32, _ info: ObjectInfo, bucket: String, size: Int) throws {
        let actual = ContentDigest.checksumText(crc)
        guard size == info.size, actual == info.crc32 else {
            throw ObjectStoreError.checksumMismatch(bucket: bucket, key: info.key, expected: info.crc32, actual: actual)
        }
    }
}

/// Content type from the file name, as `aws s3 cp` guesses it for common types; S3's
/// default otherwise.
public func guessContentType(_ name: String) -> String {
    let lower = name.lowercased()
    let table: [(String, String)] = [
        (".json", "application/json"), (".jsonl", "application/x-ndjson"), (".ndjson", "application/x-ndjson"),
        (".csv", "text/csv"), (".txt", "text/plain"), (".html", "text/html"), (".xml", "application/xml"),
        (".gz", "application/gzip"), (".zip", "application/zip"), (".md5", "text/plain"),
    ]
    for (suffix, type) in table where lower.hasSuffix(suffix) { return type }
    return "binary/octet-stream"
}
