import FerryIO

extension DynamoNumber {
    /// Writes the canonical text into `out` without allocating.
    public func write(into out: ByteBuffer) {
        if isZero { out.append(UInt8(ascii: "0")); return }
        // Digits into a 40-byte stack scratch, least significant last.
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let count = Int(digitCount)
            var k = count
            if coefficient <= UInt128(UInt64.max) {
                var c = UInt64(truncatingIfNeeded: coefficient)  // 64-bit division is far cheaper than 128-bit
                while k > 0 { k -= 1; raw[k] = UInt8(ascii: "0") &+ UInt8(c % 10); c /= 10 }
            } else {
                var c = coefficient
                while k > 0 { k -= 1; raw[k] = UInt8(ascii: "0") &+ UInt8(c % 10); c /= 10 }
            }
            let digitsText = UnsafeRawBufferPointer(start: raw.baseAddress, count: count)
            if isNegative { out.append(UInt8(ascii: "-")) }
            let e = Int(exponent)
            if e >= 0 {
                out.append(digitsText)
                for _ in 0..<e { out.append(UInt8(ascii: "0")) }
            } else if -e < count {
                out.append(UnsafeRawBufferPointer(rebasing: digitsText[..<(count + e)]))
                out.append(UInt8(ascii: "."))
                out.append(UnsafeRawBufferPointer(rebasing: digitsText[(count + e)...]))
            } else {
                out.append("0.")
                for _ in 0..<(-e - count) { out.append(UInt8(ascii: "0")) }
                out.append(digitsText)
            }
        }
    }
}
