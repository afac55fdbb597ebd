/// A source of entries in key order for the merge: the memtable, a frozen memtable or
/// a sorted run. `key` and `value` point at bytes the cursor keeps until it moves.
protocol EntryCursor: AnyObject {
    /// The key under the cursor, nil at the end.
    var key: UnsafeRawBufferPointer? { get }
    /// The value under the cursor; nil for a tombstone.
    var value: UnsafeRawBufferPointer? { get }
    func advance() throws
}

/// Bytes a cursor owns, grown as needed and reused.
struct CursorScratch {
    private(set) var memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)

    mutating func copy(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        if memory.count < bytes.count {
            memory.deallocate()
            memory = .allocate(byteCount: max(bytes.count, memory.count * 2), alignment: 16)
        }
        bytes.withUnsafeBytes { if let base = $0.baseAddress { memory.baseAddress!.copyMemory(from: base, byteCount: bytes.count) } }
        return UnsafeRawBufferPointer(rebasing: memory[0..<bytes.count])
    }

    func release() { memory.deallocate() }
}

final class MemtableCursor: EntryCursor {
    let table: Memtable
    let forward: Bool
    private var position: Memtable.Position
    private var keyScratch = CursorScratch()
    private var valueScratch = CursorScratch()
    private(set) var key: UnsafeRawBufferPointer?
    private(set) var value: UnsafeRawBufferPointer?

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
        load()
    }

    deinit {
        keyScratch.release()
        valueScratch.release()
    }

    private func load() {
        guard let entry = table.entry(at: position) else {
            key = nil
            value = nil
            return
        }
        key = keyScratch.copy(entry.key)
        value = entry.value.map { valueScratch.copy($0) }
    }

    func advance() {
        guard key != nil else { return }
        position = forward ? table.next(position) : table.previous(position)
        load()
    }
}

extension RunCursor: EntryCursor {}

/// Merges cursors over the same key space, newest source first: each key appears once,
/// with the newest source's entry; tombstones hide older values and are not returned
/// (unless `keepTombstones`, for compaction). Bounded to [lower, upper) either way.
/// `key` and `value` point into the winning source until the next `step`, so a merge
/// copies nothing; the sources sharing the current key move on at the next step.
final class MergedCursor {
    private let sources: [EntryCursor]
    private let forward: Bool
    private let lower: [UInt8]
    private let upper: [UInt8]?
    private let keepTombstones: Bool
    private(set) var key: UnsafeRawBufferPointer? = nil
    private(set) var value = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The current entry is a tombstone (only with `keepTombstones`).
    private(set) var tombstone = false
    /// Sources positioned on the current key, moved on by the next step.
    private var matched: [Int] = []

    init(sources: [EntryCursor], forward: Bool, lower: [UInt8], upper: [UInt8]?, keepTombstones: Bool = false) throws {
        self.sources = sources
        self.forward = forward
        self.lower = lower
        self.upper = upper
        self.keepTombstones = keepTombstones
        try step()
    }

    /// The current key as an array (nil at the end).
    var keyBytes: [UInt8]? { key.map { Array($0) } }

    /// Moves to the next live entry (sets `key` to nil at the end).
    func step() throws {
        while true {
            for i in matched { try sources[i].advance() }
            matched.removeAll(keepingCapacity: true)
            var best: UnsafeRawBufferPointer? = nil
            var winner = -1
            for (i, source) in sources.enumerated() {
                guard let k = source.key else { continue }
                if let b = best {
                    let order = KeyOrder.compare(k, b)
                    if order == 0 {
                        matched.append(i)
                    } else if forward ? order < 0 : order > 0 {
                        best = k
                        winner = i
                        matched.removeAll(keepingCapacity: true)
                        matched.append(i)
                    }
                } else {
                    best = k
                    winner = i
                    matched.append(i)
                }
            }
            guard let found = best else { key = nil; return }
            if forward, let upper, upper.withUnsafeBytes({ KeyOrder.compare(found, $0) >= 0 }) { key = nil; matched.removeAll(); return }
            if !forward, lower.withUnsafeBytes({ KeyOrder.compare(found, $0) < 0 }) { key = nil; matched.removeAll(); return }
            let winningValue = sources[winner].value
            if winningValue != nil || keepTombstones {
                key = found
                value = winningValue ?? UnsafeRawBufferPointer(start: nil, count: 0)
                tombstone = winningValue == nil
                return
            }
        }
    }
}
