import FerryIO

/// DynamoDB's number: a decimal of at most 38 significant digits, magnitude 1E-130 up to
/// 9.9999999999999999999999999999999999999E+125, kept exactly (never via Double).
///
/// Stored normalised as sign × coefficient × 10^exponent with no trailing zeros in the
/// coefficient, so equal numbers have equal representations ("1.50" == "15E-1"), and
/// `description` is the canonical text (plain notation, no trailing zeros, no exponent).
public struct DynamoNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maxDigits = 38
    public static let maxAdjustedExponent = 125
    public static let minAdjustedExponent = -130

    // The significant digits (below 10^38, so 127 bits) as two words rather than one
    // UInt128, whose 16-byte alignment would make every AttributeValue larger.
    private let coefficientHigh: UInt64
    private let coefficientLow: UInt64
    public let exponent: Int32
    public let isNegative: Bool
    /// Digits in `coefficient` (0 for zero).
    public let digitCount: Int8

    public static let zero = DynamoNumber(coefficient: 0, exponent: 0, isNegative: false, digitCount: 0)

    /// Significant digits as an integer.
    public var coefficient: UInt128 { UInt128(coefficientHigh) << 64 | UInt128(coefficientLow) }

    init(coefficient: UInt128, exponent: Int32, isNegative: Bool, digitCount: Int8) {
        coefficientHigh = UInt64(truncatingIfNeeded: coefficient >> 64)
        coefficientLow = UInt64(truncatingIfNeeded: coefficient)
        self.exponent = exponent
        self.isNegative = isNegative && coefficient != 0
        self.digitCount = digitCount
    }

    public var isZero: Bool { coefficientHigh == 0 && coefficientLow == 0 }

    /// Exponent of the leading digit: 123.4 -> 2, 0.05 -> -2.
    public var adjustedExponent: Int { Int(exponent) + Int(digitCount) - 1 }

    public init(_ value: Int) {
        // Int's text is always a valid number well inside the range.
        var text = String(value)
        self = (try? DynamoNumber(parsing: &text)) ?? .zero
    }

    private init(parsing text: inout String) throws {
        self = try text.withUTF8 { try DynamoNumber(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Parses DynamoDB's number text: optional sign, digits with an optional point, an
    /// optional exponent ("-1.5", "+7", ".5", "5.", "1e3", "007" are all accepted, as
    /// DynamoDB accepts them).
    public init(_ text: String) throws {
        var text = text
        try self.init(parsing: &text)
    }

    public init(bytes: UnsafeRawBufferPointer) throws {
        var i = 0
        let n = bytes.count
        var negative = false
        if i < n && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var coefficient: UInt128 = 0
        var digits = 0              // significant digits taken into coefficient
        var pendingZeros = 0        // zeros after the last non-zero digit, not yet taken
        var fractionDigits = 0      // digits seen after the point
        var sawDigit = false
        var sawPoint = false
        while i < n {
            let c = bytes[i]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                sawDigit = true
                if sawPoint { fractionDigits += 1 }
                let d = c &- UInt8(ascii: "0")
                if d == 0 {
                    if digits > 0 { pendingZeros += 1 }
                } else {
                    if digits + pendingZeros + 1 > Self.maxDigits { throw NumberError.tooManyDigits }
                    for _ in 0..<pendingZeros { coefficient = coefficient &* 10 }
                    digits += pendingZeros + 1
                    pendingZeros = 0
                    coefficient = coefficient &* 10 &+ UInt128(d)
                }
            } else if c == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            i += 1
        }
        guard sawDigit else { throw NumberError.notANumber(String(decoding: bytes, as: UTF8.self)) }
        var explicitExponent = 0
        if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < n && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < n && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") {
                // Saturate: anything this large is out of range anyway (or zero).
                if explicitExponent < 100_000_000 {
                    explicitExponent = explicitExponent * 10 + Int(bytes[i] - UInt8(ascii: "0"))
                }
                i += 1
            }
            guard i > expStart else { throw NumberError.notANumber(String(decoding: bytes, as: UTF8.self)) }
            if expNegative { explicitExponent = -explicitExponent }
        }
        guard i == n else { throw NumberError.notANumber(String(decoding: bytes, as: UTF8.self)) }
        if digits == 0 { self = .zero; return }
        let exponent = explicitExponent - fractionDigits + pendingZeros
        let adjusted = exponent + digits - 1
        if adjusted > Self.maxAdjustedExponent { throw NumberError.overflow }
        if adjusted < Self.minAdjustedExponent { throw NumberError.underflow }
        self.init(coefficient: coefficient, exponent: Int32(exponent), isNegative: negative, digitCount: Int8(digits))
    }

    /// Builds a number from decimal digits (most significant first, values 0-9) × 10^exponent,
    /// normalising and checking DynamoDB's limits.
    init(digits input: [UInt8], exponent: Int, isNegative: Bool) throws {
        var lo = 0, hi = input.count
        while lo < hi && input[lo] == 0 { lo += 1 }
        var exponent = exponent
        while hi > lo && input[hi - 1] == 0 { hi -= 1; exponent += 1 }
        if lo == hi { self = .zero; return }
        let count = hi - lo
        // Range first: a result that is too large should say so, not that it is too long.
        let adjusted = exponent + count - 1
        if adjusted > Self.maxAdjustedExponent { throw NumberError.overflow }
        if adjusted < Self.minAdjustedExponent { throw NumberError.underflow }
        if count > Self.maxDigits { throw NumberError.tooManyDigits }
        var c: UInt128 = 0
        for k in lo..<hi { c = c * 10 + UInt128(input[k]) }
        self.init(coefficient: c, exponent: Int32(exponent), isNegative: isNegative, digitCount: Int8(count))
    }

    /// The coefficient's digits, most significant first.
    public var digits: [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(digitCount))
        var c = coefficient
        var k = out.count
        while k > 0 { k -= 1; out[k] = UInt8(c % 10); c /= 10 }
        return out
    }

    /// Canonical text: plain notation, e.g. "-0.015", "1500", "0".
    public var description: String {
        let out = ByteBuffer(capacity: 48)
        write(into: out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    // MARK: Order

    /// Compares magnitudes: first by the leading digit's exponent, then digit by digit.
    static func compareMagnitude(_ a: DynamoNumber, _ b: DynamoNumber) -> Int {
        if a.isZero || b.isZero { return (a.isZero ? 0 : 1) - (b.isZero ? 0 : 1) }
        if a.exponent == b.exponent {   // the common case: integers, or equal scale
            return a.coefficient == b.coefficient ? 0 : (a.coefficient < b.coefficient ? -1 : 1)
        }
        if a.adjustedExponent != b.adjustedExponent { return a.adjustedExponent < b.adjustedExponent ? -1 : 1 }
        // Same leading exponent: scale both coefficients to 38 digits and compare.
        let sa = a.coefficient * pow10(Self.maxDigits - Int(a.digitCount))
        let sb = b.coefficient * pow10(Self.maxDigits - Int(b.digitCount))
        return sa == sb ? 0 : (sa < sb ? -1 : 1)
    }

    public static func < (a: DynamoNumber, b: DynamoNumber) -> Bool {
        if a.isNegative != b.isNegative { return a.isNegative }
        let m = compareMagnitude(a, b)
        return a.isNegative ? m > 0 : m < 0
    }

    /// 10^0 ... 10^38.
    static let powersOfTen: [UInt128] = {
        var table: [UInt128] = [1]
        for _ in 1...38 { table.append(table.last! * 10) }
        return table
    }()

    @inline(__always) static func pow10(_ n: Int) -> UInt128 { powersOfTen[n] }

    // MARK: Arithmetic (for ADD and SET a = a + :n)

    /// Exact sum; throws when the result needs more than 38 digits or leaves the range,
    /// as DynamoDB does.
    public func adding(_ other: DynamoNumber) throws -> DynamoNumber {
        if other.isZero { return self }
        if isZero { return other }
        if let fast = try addingInWords(other) { return fast }
        let e = min(Int(exponent), Int(other.exponent))
        // Align both to exponent e, as little-endian digit arrays.
        func aligned(_ x: DynamoNumber) -> [UInt8] {
            Array(repeating: 0, count: Int(x.exponent) - e) + x.digits.reversed()
        }
        let a = aligned(self), b = aligned(other)
        var result = [UInt8]()
        let negative: Bool
        if isNegative == other.isNegative {
            negative = isNegative
            var carry: UInt8 = 0
            for k in 0..<max(a.count, b.count) {
                let s = (k < a.count ? a[k] : 0) + (k < b.count ? b[k] : 0) + carry
                result.append(s % 10)
                carry = s / 10
            }
            if carry > 0 { result.append(carry) }
        } else {
            // Subtract the smaller magnitude from the larger.
            let m = DynamoNumber.compareMagnitude(self, other)
            if m == 0 { return .zero }
            let (big, small) = m > 0 ? (a, b) : (b, a)
            negative = m > 0 ? isNegative : other.isNegative
            var borrow: Int = 0
            for k in 0..<big.count {
                var d = Int(big[k]) - (k < small.count ? Int(small[k]) : 0) - borrow
                borrow = d < 0 ? 1 : 0
                if d < 0 { d += 10 }
                result.append(UInt8(d))
            }
        }
        return try DynamoNumber(digits: result.reversed(), exponent: e, isNegative: negative)
    }

    /// `adding` on 128-bit words when both coefficients, aligned to the smaller exponent,
    /// fit; nil otherwise (the digit-array path then handles it).
    private func addingInWords(_ other: DynamoNumber) throws -> DynamoNumber? {
        let e = min(Int(exponent), Int(other.exponent))
        let shiftA = Int(exponent) - e, shiftB = Int(other.exponent) - e
        guard shiftA <= 38, shiftB <= 38 else { return nil }
        let (a, overflowA) = coefficient.multipliedReportingOverflow(by: Self.pow10(shiftA))
        let (b, overflowB) = other.coefficient.multipliedReportingOverflow(by: Self.pow10(shiftB))
        guard !overflowA, !overflowB, a < UInt128.max / 2, b < UInt128.max / 2 else { return nil }
        var magnitude: UInt128
        var negative: Bool
        if isNegative == other.isNegative {
            magnitude = a + b
            negative = isNegative
        } else if a >= b {
            magnitude = a - b
            negative = isNegative
        } else {
            magnitude = b - a
            negative = other.isNegative
        }
        if magnitude == 0 { return .zero }
        var exponent = e
        var digits = 1
        if magnitude <= UInt128(UInt64.max) {
            // 64-bit division is many times cheaper than 128-bit.
            var small = UInt64(truncatingIfNeeded: magnitude)
            while small % 10 == 0 { small /= 10; exponent += 1 }
            var bound: UInt64 = 10
            while digits < 20 && small >= bound { digits += 1; if digits < 20 { bound &*= 10 } }
            magnitude = UInt128(small)
        } else {
            while magnitude % 10 == 0 { magnitude /= 10; exponent += 1 }
            while digits <= 38 && magnitude >= Self.pow10(digits) { digits += 1 }
        }
        let adjusted = exponent + digits - 1
        if adjusted > Self.maxAdjustedExponent { throw NumberError.overflow }
        if adjusted < Self.minAdjustedExponent { throw NumberError.underflow }
        if digits > Self.maxDigits { throw NumberError.tooManyDigits }
        return DynamoNumber(coefficient: magnitude, exponent: Int32(exponent), isNegative: negative, digitCount: Int8(digits))
    }

    public var negated: DynamoNumber {
        DynamoNumber(coefficient: coefficient, exponent: exponent, isNegative: !isNegative, digitCount: digitCount)
    }

    public func subtracting(_ other: DynamoNumber) throws -> DynamoNumber {
        try adding(other.negated)
    }

    /// Bytes DynamoDB counts for this number in an item's size: one per two significant
    /// digits, plus one.
    public var storageSize: Int { (Int(digitCount) + 1) / 2 + 1 }
}

/// A number DynamoDB would refuse. Texts are DynamoDB's own.
public enum NumberError: Error, CustomStringConvertible, Equatable {
    case notANumber(String)
    case tooManyDigits
    case overflow
    case underflow

    public var description: String {
        switch self {
        case let .notANumber(text): return "The parameter cannot be converted to a numeric value: \(text)"
        case .tooManyDigits: return "Attempting to store more than 38 significant digits in a Number"
        case .overflow: return "Number overflow. Attempting to store a number with magnitude larger than supported range"
        case .underflow: return "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        }
    }
}
