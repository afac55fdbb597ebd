/// The in-memory, sorted level of the LSM: encoded keys to values or tombstones.
///
/// A value type with copy-on-write at two levels (an array of chunks, each a sorted
/// array of at most `chunkCapacity` entries), so a snapshot is a plain copy costing
/// nothing, and the writer's next change copies only the outer array and the one chunk
/// it touches. Sorted, so scans and queries walk it in key order without sorting.
struct Memtable {
    struct Entry {
        var key: [UInt8]
        var value: [UInt8]?   // nil: tombstone
    }

    static let chunkCapacity = 512
    private(set) var chunks: [[Entry]] = []
    private(set) var count = 0
    /// Approximate memory: key and value bytes plus a per-entry overhead.
    private(set) var bytes = 0

    var isEmpty: Bool { count == 0 }

    /// The chunk that holds or would hold `key`: the first whose last key >= key (or the last).
    private func chunkIndex(for key: [UInt8]) -> Int {
        var low = 0, high = chunks.count - 1
        while low < high {
            let mid = (low + high) / 2
            if let last = chunks[mid].last, KeyOrder.compare(last.key, key) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Position of the first entry with key >= `key` inside `chunk`.
    private static func lowerBound(_ chunk: [Entry], _ key: [UInt8]) -> Int {
        var low = 0, high = chunk.count
        while low < high {
            let mid = (low + high) / 2
            if KeyOrder.compare(chunk[mid].key, key) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The entry for `key`: `.some(nil)` for a tombstone, nil when absent.
    func lookup(_ key: [UInt8]) -> [UInt8]?? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkIndex(for: key)
        let chunk = chunks[c]
        let i = Self.lowerBound(chunk, key)
        guard i < chunk.count, chunk[i].key == key else { return nil }
        return .some(chunk[i].value)
    }

    mutating func set(_ key: [UInt8], _ value: [UInt8]?) {
        let size = key.count + (value?.count ?? 0) + 48
        if chunks.isEmpty {
            chunks.append([Entry(key: key, value: value)])
            count = 1
            bytes = size
            return
        }
        let c = chunkIndex(for: key)
        let i = Self.lowerBound(chunks[c], key)
        if i < chunks[c].count && chunks[c][i].key == key {
            bytes += (value?.count ?? 0) - (chunks[c][i].value?.count ?? 0)
            chunks[c][i].value = value
            return
        }
        chunks[c].insert(Entry(key: key, value: value), at: i)
        count += 1
        bytes += size
        if chunks[c].count > Self.chunkCapacity {
            let upper = Array(chunks[c][(Self.chunkCapacity / 2)...])
            chunks[c].removeSubrange((Self.chunkCapacity / 2)...)
            chunks.insert(upper, at: c + 1)
        }
    }

    /// A position for iteration: (chunk, index).
    struct Position: Equatable {
        var chunk: Int
        var index: Int
    }

    /// The position of the first entry with key >= `key`.
    func position(atOrAfter key: [UInt8]) -> Position {
        guard !chunks.isEmpty else { return Position(chunk: 0, index: 0) }
        let c = chunkIndex(for: key)
        let i = Self.lowerBound(chunks[c], key)
        if i == chunks[c].count { return Position(chunk: c + 1, index: 0) }
        return Position(chunk: c, index: i)
    }

    func entry(at p: Position) -> Entry? {
        guard p.chunk >= 0, p.chunk < chunks.count, p.index >= 0, p.index < chunks[p.chunk].count else { return nil }
        return chunks[p.chunk][p.index]
    }

    func next(_ p: Position) -> Position {
        if p.index + 1 < chunks[p.chunk].count { return Position(chunk: p.chunk, index: p.index + 1) }
        return Position(chunk: p.chunk + 1, index: 0)
    }

    func previous(_ p: Position) -> Position {
        if p.index > 0 { return Position(chunk: p.chunk, index: p.index - 1) }
        var c = p.chunk - 1
        while c >= 0 && chunks[c].isEmpty { c -= 1 }
        return c < 0 ? Position(chunk: -1, index: 0) : Position(chunk: c, index: chunks[c].count - 1)
    }

    /// Every entry in key order (for flushing).
    func forEach(_ body: (Entry) throws -> Void) rethrows {
        for chunk in chunks { for entry in chunk { try body(entry) } }
    }
}
