/// UTF-8 checks on raw bytes, for input that must be text.
public enum UTF8Text {
    /// The offset of the first byte that is not part of valid UTF-8 (no overlong forms,
    /// no surrogates, nothing past U+10FFFF), or nil. With `allowingCutEnd`, a sequence
    /// cut short by the end of `bytes` is not an error (a prefix of a longer text).
    public static func firstInvalidByte(_ bytes: [UInt8], allowingCutEnd: Bool = false) -> Int? {
        bytes.withUnsafeBufferPointer { b -> Int? in
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                if c < 0x80 { i += 1; continue }
                var need = 0
                var min: UInt32 = 0
                var value: UInt32 = 0
                switch c {
                case 0xC2...0xDF: need = 1; min = 0x80; value = UInt32(c & 0x1F)
                case 0xE0...0xEF: need = 2; min = 0x800; value = UInt32(c & 0x0F)
                case 0xF0...0xF4: need = 3; min = 0x10000; value = UInt32(c & 0x07)
                default: return i
                }
                guard i + need < n else { return allowingCutEnd ? nil : i }
                for k in 1...need {
                    let cc = b[i + k]
                    guard cc & 0xC0 == 0x80 else { return i }
                    value = value << 6 | UInt32(cc & 0x3F)
                }
                if value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) { return i }
                i += need + 1
            }
            return nil
        }
    }

    /// Whether `bytes` could start a text file: UTF-8 without control characters other
    /// than tab, line feed and carriage return.
    public static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        !bytes.contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) || $0 == 0x7F } && firstInvalidByte(bytes, allowingCutEnd: true) == nil
    }
}
