import FerryIO

/// Writes JSON tokens into a ByteBuffer. Strings are escaped per RFC 8259: `"`, `\` and
/// control characters; everything else, non-ASCII included, is written as UTF-8.
public enum JSONWriter {
    @usableFromInline static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    @inlinable
    public static func writeString(_ s: String, into out: ByteBuffer) {
        var s = s
        s.withUTF8 { writeString(bytes: UnsafeRawBufferPointer($0), into: out) }
    }

    /// Writes `bytes` (valid UTF-8) as a quoted JSON string.
    @inlinable
    public static func writeString(bytes: UnsafeRawBufferPointer, into out: ByteBuffer) {
        out.reserve(bytes.count + 2)
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if c >= 0x20 && c != 0x22 && c != 0x5C { i &+= 1; continue }
            if i > runStart { out.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            out.append(UInt8(ascii: "\\"))
            switch c {
            case 0x22: out.append(UInt8(ascii: "\""))
            case 0x5C: out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                out.append("u00")
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 0xF)])
            }
            i &+= 1
            runStart = i
        }
        if n > runStart { out.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<n])) }
        out.append(UInt8(ascii: "\""))
    }
}
