import FerryIO
import FerryValues

/// A seeded generator of items like those users load: about 250 bytes of plain JSON,
/// 11 attributes (strings, numbers, a bool, a 4-key map, a list of 1-3 strings). The
/// same seed always gives the same bytes.
struct SampleItems {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// splitmix64
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A random number from the same stream (for picking keys).
    mutating func nextRandom() -> UInt64 { next() }

    private mutating func pick(_ words: [String]) -> String { words[Int(next() % UInt64(words.count))] }

    private static let first = ["Alice", "Bruno", "Chen", "Dara", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena"]
    private static let last = ["Johnson", "Silva", "Wei", "Okafor", "Novak", "Haddad", "Tanaka", "Murphy", "Kowalski", "Santos"]
    private static let colours = ["red", "blue", "green", "amber", "violet", "teal", "black", "white"]
    private static let streets = ["Oak St", "Elm Ave", "Harbour Rd", "Mill Lane", "Station Sq", "Quay St"]
    private static let cities = ["Springfield", "Lisbon", "Osaka", "Lagos", "Bergen", "Porto", "Halifax", "Gdansk"]
    private static let countries = ["US", "PT", "JP", "NG", "NO", "CA", "PL", "DE"]
    private static let notes = ["lorem ipsum dolor sit amet", "consectetur adipiscing elit", "sed do eiusmod tempor",
                                "ut labore et dolore magna", "quis nostrud exercitation"]

    /// Item number `i` as plain JSON (no newline) appended to `out`.
    mutating func writePlain(_ i: Int, into out: ByteBuffer) {
        let firstName = pick(Self.first), lastName = pick(Self.last)
        out.append("{\"id\":\"user-")
        let digits = String(i)
        out.append(String(repeating: "0", count: max(0, 8 - digits.count)) + digits)
        out.append("\",\"sk\":"); out.append(decimal: i)
        out.append(",\"name\":\""); out.append(firstName); out.append(" "); out.append(lastName)
        out.append("\",\"email\":\""); out.append(firstName.lowercased()); out.append(".")
        out.append(lastName.lowercased()); out.append(decimal: i); out.append("@example.com\"")
        out.append(",\"age\":"); out.append(decimal: 18 + Int(next() % 70))
        out.append(",\"score\":"); out.append(decimal: Int(next() % 1000)); out.append(".")
        out.append(decimal: 10 + Int(next() % 90))
        out.append(",\"active\":"); out.append(next() % 2 == 0 ? "true" : "false")
        out.append(",\"created\":\"2026-"); twoDigits(1 + Int(next() % 12), out); out.append("-")
        twoDigits(1 + Int(next() % 28), out); out.append("T"); twoDigits(Int(next() % 24), out); out.append(":")
        twoDigits(Int(next() % 60), out); out.append(":"); twoDigits(Int(next() % 60), out); out.append("Z\"")
        out.append(",\"tags\":[")
        let tagCount = 1 + Int(next() % 3)
        for t in 0..<tagCount {
            if t > 0 { out.append(",") }
            out.append("\""); out.append(pick(Self.colours)); out.append("\"")
        }
        out.append("],\"address\":{\"street\":\""); out.append(decimal: 1 + Int(next() % 9999)); out.append(" ")
        out.append(pick(Self.streets)); out.append("\",\"city\":\""); out.append(pick(Self.cities))
        out.append("\",\"zip\":\""); out.append(decimal: 10000 + Int(next() % 89999))
        out.append("\",\"country\":\""); out.append(pick(Self.countries)); out.append("\"}")
        out.append(",\"note\":\""); out.append(pick(Self.notes)); out.append("\"}")
    }

    private func twoDigits(_ n: Int, _ out: ByteBuffer) {
        out.append(UInt8(ascii: "0") + UInt8(n / 10))
        out.append(UInt8(ascii: "0") + UInt8(n % 10))
    }

    /// Writes `count` items as plain NDJSON, and as typed NDJSON when `typedPath` is given.
    static func generate(count: Int, seed: UInt64, plainPath: String, typedPath: String?) throws {
        var generator = SampleItems(seed: seed)
        let plain = OutputWriter(sink: try FileSink(path: plainPath))
        let typed = try typedPath.map { OutputWriter(sink: try FileSink(path: $0)) }
        let line = ByteBuffer()
        let decoder = ItemDecoder(spelling: .plain)
        for i in 0..<count {
            line.removeAll()
            generator.writePlain(i, into: line)
            plain.buffer.append(line.bytes)
            plain.buffer.append(UInt8(ascii: "\n"))
            try plain.recordEnded()
            guard let typed else { continue }
            ItemEncoder.writeTyped(try decoder.decodeItem(line.bytes), into: typed.buffer)
            typed.buffer.append(UInt8(ascii: "\n"))
            try typed.recordEnded()
        }
        try plain.finish()
        try typed?.finish()
    }
}
