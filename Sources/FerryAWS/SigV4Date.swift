// The request time as SigV4 writes it. See ../../docs/sigv4.md.
import FerryIO
import Foundation

/// A UTC time to the second. SigV4 writes it in ISO 8601 basic format
/// (`20150830T123600Z`, the `X-Amz-Date` header and the string to sign) and its first
/// eight characters are the date of the credential scope (`20150830`). Conversions are
/// arithmetic on the proleptic Gregorian calendar: no formatter, no locale, no time zone.
public struct SigV4Date: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let secondsSince1970: Int64

    public init(secondsSince1970: Int64) { self.secondsSince1970 = secondsSince1970 }

    /// `date` truncated to the whole second.
    public init(_ date: Date) { secondsSince1970 = Int64(date.timeIntervalSince1970.rounded(.down)) }

    /// Parses exactly `YYYYMMDDTHHMMSSZ` (16 characters, the only form SigV4 accepts).
    public init?(iso8601Basic text: String) {
        let b = Array(text.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z"),
              let year = Self.digits(b, 0, 4), let month = Self.digits(b, 4, 2), let day = Self.digits(b, 6, 2),
              let hour = Self.digits(b, 9, 2), let minute = Self.digits(b, 11, 2), let second = Self.digits(b, 13, 2)
        else { return nil }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Parses an HTTP date in the IMF-fixdate form (RFC 9110 section 5.6.7),
    /// `Sun, 30 Aug 2015 12:36:00 GMT`; the day name is not checked and may be left out.
    public init?(httpDate text: String) {
        var rest = Substring(text)
        if let comma = rest.firstIndex(of: ",") { rest = rest[rest.index(after: comma)...] }
        let parts = rest.split(separator: " ")
        guard parts.count == 5, parts[4] == "GMT",
              (1...2).contains(parts[0].count), let day = Int(parts[0]),
              let monthIndex = Self.monthNames.firstIndex(of: String(parts[1])),
              parts[2].count == 4, let year = Int(parts[2])
        else { return nil }
        let clock = Array(parts[3].utf8)
        guard clock.count == 8, clock[2] == UInt8(ascii: ":"), clock[5] == UInt8(ascii: ":"),
              let hour = Self.digits(clock, 0, 2), let minute = Self.digits(clock, 3, 2),
              let second = Self.digits(clock, 6, 2)
        else { return nil }
        self.init(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
    }

    public init?(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        guard (1...12).contains(month), (1...Self.daysInMonth(year, month)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        secondsSince1970 = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// `20150830T123600Z`.
    public var iso8601Basic: String {
        let (y, mo, d, h, mi, s) = components
        var out = [UInt8]()
        out.reserveCapacity(16)
        Self.append(y, width: 4, to: &out); Self.append(mo, width: 2, to: &out); Self.append(d, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        Self.append(h, width: 2, to: &out); Self.append(mi, width: 2, to: &out); Self.append(s, width: 2, to: &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `20150830`: the date of the credential scope.
    public var dateStamp: String { String(iso8601Basic.prefix(8)) }

    public var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }

    public func adding(seconds: Int64) -> SigV4Date { SigV4Date(secondsSince1970: secondsSince1970 + seconds) }

    public var description: String { iso8601Basic }

    public static func < (a: SigV4Date, b: SigV4Date) -> Bool { a.secondsSince1970 < b.secondsSince1970 }

    // MARK: - Calendar arithmetic

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private var components: (Int, Int, Int, Int, Int, Int) {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
        let secondOfDay = Int(secondsSince1970 - days * 86_400)
        let (y, m, d) = CivilDate.date(days: days)
        return (y, m, d, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    private static func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for i in start..<start + count {
            guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            value = value * 10 + Int(b[i] - 0x30)
        }
        return value
    }

    private static func append(_ value: Int, width: Int, to out: inout [UInt8]) {
        var digits = [UInt8](repeating: 0x30, count: width)
        var v = value
        for i in stride(from: width - 1, through: 0, by: -1) {
            digits[i] = UInt8(0x30 + v % 10)
            v /= 10
        }
        out.append(contentsOf: digits)
    }

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
