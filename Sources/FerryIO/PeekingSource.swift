/// A source that can look ahead at its first lines and then serves the whole stream,
/// those lines included, as if nothing had been read. For decisions made before a
/// stream is consumed: is it a backup (its first line), does it hold any record at all
/// (`ferry-load --create` makes the table only then). Not thread-safe.
public final class PeekingSource: ByteSource {
    public let name: String
    private let upstream: ByteSource
    private var buffered: [UInt8] = []
    private var position = 0
    private var atEnd = false
    public var bytesConsumed: Int { upstream.bytesConsumed }

    public init(_ upstream: ByteSource) {
        self.upstream = upstream
        name = upstream.name
    }

    private enum Fill { case line, end, limit }

    /// Reads ahead until a whole line is buffered after `offset`, the end, or `limit`
    /// bytes past `offset` with no line end.
    private func fillLine(after offset: Int, limit: Int) throws -> Fill {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var scanned = offset
        while !buffered[scanned...].contains(0x0A) {
            scanned = buffered.count
            if atEnd { return .end }
            if buffered.count - offset > limit { return .limit }
            let n = try chunk.withUnsafeMutableBytes { try upstream.read(into: $0) }
            if n == 0 { atEnd = true } else { buffered.append(contentsOf: chunk[..<n]) }
        }
        return .line
    }

    /// The first `count` bytes (fewer when the stream is shorter).
    public func prefix(_ count: Int) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while buffered.count < count && !atEnd {
            let n = try chunk.withUnsafeMutableBytes { try upstream.read(into: $0) }
            if n == 0 { atEnd = true } else { buffered.append(contentsOf: chunk[..<n]) }
        }
        return Array(buffered.prefix(count))
    }

    /// The first line, without its `\n` (all of a stream that has no newline); a line
    /// over `limit` bytes is an error.
    public func firstLine(limit: Int = LineReader.defaultMaxLineLength) throws -> [UInt8] {
        switch try fillLine(after: 0, limit: limit) {
        case .limit: throw IOError.lineTooLong(path: name, line: 1, limit: limit)
        case .line: return Array(buffered[..<(buffered.firstIndex(of: 0x0A) ?? buffered.count)])
        case .end: return buffered
        }
    }

    /// Looks at lines in order until `matches` holds for one (true), the stream ends
    /// (false) or `limit` bytes were read ahead (true: assume it would).
    public func anyLine(readingAhead limit: Int, _ matches: (UnsafeRawBufferPointer) -> Bool) throws -> Bool {
        var start = 0
        while true {
            let fill = try fillLine(after: start, limit: limit)
            if fill == .limit { return true }
            let whole = fill == .line
            let end = buffered[start...].firstIndex(of: 0x0A) ?? buffered.count
            if end > start {
                var line = buffered[start..<end]
                if line.last == 0x0D { line = line.dropLast() }
                if line.withUnsafeBytes(matches) { return true }
            }
            if !whole { return false }
            start = end + 1
            if start > limit { return true }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if position < buffered.count {
            let n = min(buffer.count, buffered.count - position)
            buffered.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
            position += n
            if position == buffered.count { buffered = []; position = 0; if atEnd { return n } }
            return n
        }
        if atEnd { return 0 }
        return try upstream.read(into: buffer)
    }
}
