// Write-ahead log format shared by the writer and the reader. See docs/wal-format.md.
import FerryIO

/// DO NOT CHANGE THESE VALUES: they are embedded in log files on disk.
enum WALFormat {
    /// "FERRYWAL", then the format version (UInt32, little-endian) and 4 reserved bytes.
    static let magic: [UInt8] = Array("FERRYWAL".utf8)
    static let version: UInt32 = 1
    static let fileHeaderSize = 16
    /// Per record: payload length (UInt32 LE), CRC32 of type + payload (UInt32 LE), type (UInt8).
    static let recordHeaderSize = 9
    /// A length above this is not a record: the header is damaged.
    static let maxPayload = 64 << 20

    enum RecordType: UInt8 {
        /// One commit: everything in it is applied, or none of it.
        case commit = 1
    }

    static func fileHeader() -> [UInt8] {
        var header = magic
        withUnsafeBytes(of: version.littleEndian) { header.append(contentsOf: $0) }
        header.append(contentsOf: [0, 0, 0, 0])
        return header
    }

    static func checksum(type: UInt8, payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        withUnsafeBytes(of: type) { crc.update($0) }
        crc.update(payload)
        return crc.value
    }
}

/// A log that cannot be trusted: the table refuses to open rather than serve wrong data.
public enum WALError: Error, CustomStringConvertible, Equatable {
    case notALog(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case corrupt(path: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case let .notALog(path): return "\(path): not a Ferry write-ahead log (bad magic bytes)"
        case let .unsupportedVersion(path, version): return "\(path): write-ahead log format version \(version) is not supported"
        case let .corrupt(path, offset, reason): return "\(path): corrupt write-ahead log record at byte \(offset): \(reason)"
        }
    }
}
