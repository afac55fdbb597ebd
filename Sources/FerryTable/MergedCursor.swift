/// A source of entries in key order for the merge: the memtable, a frozen memtable or
/// a sorted run.
protocol EntryCursor: AnyObject {
    /// The entry under the cursor: key and value (nil value: tombstone), or nil at the end.
    var currentKey: [UInt8]? { get }
    var currentValue: [UInt8]? { get }
    func advance() throws
}

final class MemtableCursor: EntryCursor {
    let table: Memtable
    let forward: Bool
    private var position: Memtable.Position
    private var entry: Memtable.Entry?

    /// Forward: from the first key >= start. Backward: from the last key < end (empty: the last).
    init(_ table: Memtable, forward: Bool, start: [UInt8], end: [UInt8]?) {
        self.table = table
        self.forward = forward
        if forward {
            position = table.position(atOrAfter: start)
        } else {
            let after = end.map { table.position(atOrAfter: $0) } ?? Memtable.Position(chunk: table.chunks.count, index: 0)
            position = table.previous(after)
        }
        entry = table.entry(at: position)
    }

    var currentKey: [UInt8]? { entry?.key }
    var currentValue: [UInt8]? { entry?.value }

    func advance() {
        guard entry != nil else { return }
        position = forward ? table.next(position) : table.previous(position)
        entry = table.entry(at: position)
    }
}

extension RunCursor: EntryCursor {
    var currentKey: [UInt8]? { current?.key }
    var currentValue: [UInt8]? { current?.value }
}

/// Merges cursors over the same key space, newest source first: each key appears once,
/// with the newest source's entry; tombstones hide older values and are not returned
/// (unless `keepTombstones`, for compaction). Bounded to [lower, upper) either way.
final class MergedCursor {
    private let sources: [EntryCursor]
    private let forward: Bool
    private let lower: [UInt8]
    private let upper: [UInt8]?
    private let keepTombstones: Bool
    private(set) var key: [UInt8]? = nil
    private(set) var value: [UInt8] = []
    /// The current entry is a tombstone (only with `keepTombstones`).
    private(set) var tombstone = false

    init(sources: [EntryCursor], forward: Bool, lower: [UInt8], upper: [UInt8]?, keepTombstones: Bool = false) throws {
        self.sources = sources
        self.forward = forward
        self.lower = lower
        self.upper = upper
        self.keepTombstones = keepTombstones
        try step()
    }

    /// Moves to the next live entry (sets `key` to nil at the end).
    func step() throws {
        while true {
            var best: [UInt8]? = nil
            var winner: EntryCursor? = nil
            for source in sources {
                guard let k = source.currentKey else { continue }
                if let b = best {
                    let order = KeyOrder.compare(k, b)
                    if forward ? order < 0 : order > 0 {
                        best = k
                        winner = source
                    }
                } else {
                    best = k
                    winner = source
                }
            }
            guard let found = best, let winner else { key = nil; return }
            if forward, let upper, KeyOrder.compare(found, upper) >= 0 { key = nil; return }
            if !forward, KeyOrder.compare(found, lower) < 0 { key = nil; return }
            let winningValue = winner.currentValue
            for source in sources where source.currentKey == found { try source.advance() }
            if winningValue != nil || keepTombstones {
                key = found
                value = winningValue ?? []
                tombstone = winningValue == nil
                return
            }
        }
    }
}
