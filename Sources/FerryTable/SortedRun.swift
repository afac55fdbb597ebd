#if canImport(Glibc)
import Glibc
#endif
import FerryIO

/// One entry of a sorted run: an encoded key and either a value or a tombstone.
public struct RunEntry: Equatable, Sendable {
    public var key: [UInt8]
    /// nil for a tombstone (the key was deleted).
    public var value: [UInt8]?
    public init(key: [UInt8], value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// Writes a sorted run: entries in strictly increasing key order (memcmp), cut into
/// checksummed blocks, then a bloom filter, a sparse index (one key per block) and a
/// footer. Blocks stream to a temporary file as they fill, so memory stays at one block,
/// the index and 8 bytes of hash per key; the file appears under its name only when
/// complete and synced. Not thread-safe.
public final class SortedRunWriter {
    let folder: Directory
    let name: String
    private let file: AtomicFile
    /// Pending bytes, written out past 1 MiB. The block being filled is its tail (from
    /// `blockStart`): entries are copied once, into the bytes that go to the file.
    private var body = ByteBuffer(capacity: (1 << 20) + SortedRunFormat.blockTarget * 4)
    private var written = 0                             // bytes already in the file
    private var blockStart = 0
    private var index = ByteBuffer(capacity: 64 * 1024)
    private var hashes: [UInt64] = []
    /// Set from the start when the key count is known (flush, compaction), so a merge of
    /// millions of keys holds 10 bits a key instead of 8 bytes.
    private var bloomBits: [UInt8]?
    /// The last key added (the block's last key when a block is cut).
    private var lastKey: [UInt8] = []
    public private(set) var count = 0

    /// `expectedKeys`: an upper bound of the keys to come, if known; the bloom filter is
    /// then sized for it and filled as keys arrive.
    public init(folder: Directory, name: String, expectedKeys: Int? = nil) throws {
        self.folder = folder
        self.name = name
        if let expectedKeys { bloomBits = BloomFilter.emptyBits(keys: expectedKeys) }
        file = try folder.createAtomically(name)
        body.append(SortedRunFormat.magic)
        withUnsafeBytes(of: SortedRunFormat.version.littleEndian) { body.append($0) }
        body.append([0, 0, 0, 0])
        blockStart = body.count
    }

    public func add(_ entry: RunEntry) throws {
        try entry.key.withUnsafeBytes { key in
            if let value = entry.value {
                try value.withUnsafeBytes { try add(key: key, value: $0) }
            } else {
                try add(key: key, value: nil)
            }
        }
    }

    /// Adds one entry from bytes (nil value: a tombstone); keys strictly increasing.
    public func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) throws {
        if count > 0, lastKey.withUnsafeBytes({ KeyOrder.compare($0, key) >= 0 }) {
            throw SortedRunError.outOfOrder(path: folder.child(name))
        }
        SortedRunFormat.appendVarint(key.count, to: body)
        SortedRunFormat.appendVarint(value?.count ?? 0, to: body)
        body.append(value == nil ? SortedRunFormat.tombstone : SortedRunFormat.put)
        body.append(key)
        if let value { body.append(value) }
        let hash = SortedRunFormat.bloomHash(key)
        if bloomBits != nil { BloomFilter.insert(hash, into: &bloomBits!) } else { hashes.append(hash) }
        lastKey.replaceSubrange(lastKey.startIndex..., with: key)
        count += 1
        if body.count - blockStart >= SortedRunFormat.blockTarget { try cutBlock() }
    }

    private func cutBlock() throws {
        let length = body.count - blockStart
        guard length > 0 else { return }
        let offset = written + blockStart
        var crc = CRC32()
        crc.update(UnsafeRawBufferPointer(rebasing: body.bytes[blockStart...]))
        withUnsafeBytes(of: crc.value.littleEndian) { body.append($0) }
        // Index entry: last key of the block, its offset and length (without the CRC).
        SortedRunFormat.appendVarint(lastKey.count, to: index)
        index.append(lastKey)
        SortedRunFormat.appendVarint(offset, to: index)
        SortedRunFormat.appendVarint(length, to: index)
        if body.count >= 1 << 20 { try drain() }
        blockStart = body.count
    }

    private func drain() throws {
        try file.sink.write(body.bytes)
        let before = written
        written += body.count
        body.removeAll()
        // Writeback starts every 4 MiB, so the run's final fsync finds little left to
        // write (it would otherwise wait for the whole file at once).
        if written >> 22 != before >> 22 { file.sink.startWriteback() }
    }

    private func appendChecksummed(_ bytes: UnsafeRawBufferPointer) {
        var crc = CRC32()
        crc.update(bytes)
        body.append(bytes)
        withUnsafeBytes(of: crc.value.littleEndian) { body.append($0) }
    }

    /// Writes bloom filter, index and footer and makes the file appear under its name.
    public func finish() throws {
        try cutBlock()
        try drain()
        let bloom = bloomBits.map { BloomFilter(bits: $0, probes: Int(SortedRunFormat.bloomProbes)) } ?? BloomFilter(hashes: hashes)
        let bloomOffset = written
        let bloomBytes = bloom.encoded
        bloomBytes.withUnsafeBytes { appendChecksummed($0) }
        let indexOffset = written + body.count
        appendChecksummed(index.bytes)
        let footerStart = body.count
        for field in [indexOffset, index.count, count, bloomOffset, bloomBytes.count] {
            withUnsafeBytes(of: UInt64(field).littleEndian) { body.append($0) }
        }
        body.append(SortedRunFormat.endMagic)
        var footerCRC = CRC32()
        footerCRC.update(UnsafeRawBufferPointer(rebasing: body.bytes[footerStart..<body.count]))
        withUnsafeBytes(of: footerCRC.value.littleEndian) { body.append($0) }
        body.append([0, 0, 0, 0])
        try drain()
        try file.commit()
        // The run is reopened from the file next, beside the runs it replaces: its filter
        // and index must not be in memory twice (at 16M items, 20 + 15 MB).
        bloomBits = nil
        hashes = []
        index = ByteBuffer(capacity: 0)
        body = ByteBuffer(capacity: 0)
    }

    /// Drops an unfinished run: nothing appears under its name.
    public func abandon() { file.abandon() }
}

/// A bloom filter over a run's keys: `bloomProbes` bits per key by double hashing of
/// FNV-1a (docs/sorted-run-format.md). A miss means the key is surely not in the run.
struct BloomFilter {
    let bits: [UInt8]
    let probes: Int

    init(hashes: [UInt64]) {
        var bits = Self.emptyBits(keys: hashes.count)
        for h in hashes { Self.insert(h, into: &bits) }
        self.bits = bits
        probes = Int(SortedRunFormat.bloomProbes)
    }

    /// `bloomBitsPerKey` bits for each of `keys` keys, at least 64.
    static func emptyBits(keys: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: (max(64, keys * SortedRunFormat.bloomBitsPerKey) + 7) / 8)
    }

    static func insert(_ h: UInt64, into bits: inout [UInt8]) {
        let m = UInt64(bits.count * 8)
        // Probe i is (h1 + i * h2) mod m (docs/sorted-run-format.md). h1, h2 < 2^32 and
        // i < 256, so the sum never wraps and stepping by h2 mod m gives the same bits with
        // two divisions instead of one per probe.
        var bit = (h & 0xFFFF_FFFF) % m
        let step = (h >> 32) % m
        bits.withUnsafeMutableBufferPointer { b in
            for _ in 0..<SortedRunFormat.bloomProbes {
                b[Int(bit >> 3)] |= 1 << UInt8(bit & 7)
                bit += step
                if bit >= m { bit -= m }
            }
        }
    }

    init(bits: [UInt8], probes: Int) {
        self.bits = bits
        self.probes = probes
    }

    /// probes: UInt8 | bit bytes.
    var encoded: [UInt8] { [UInt8(probes)] + bits }

    func mayContain(_ key: UnsafeRawBufferPointer) -> Bool {
        mayContain(hash: SortedRunFormat.bloomHash(key))
    }

    /// `mayContain` for a key whose hash is known (one hash for every run's filter).
    func mayContain(hash h: UInt64) -> Bool {
        guard !bits.isEmpty else { return true }
        let m = UInt64(bits.count * 8)
        var bit = (h & 0xFFFF_FFFF) % m
        let step = (h >> 32) % m
        return bits.withUnsafeBufferPointer { b in
            for _ in 0..<probes {
                if b[Int(bit >> 3)] & (1 << UInt8(bit & 7)) == 0 { return false }
                bit += step
                if bit >= m { bit -= m }
            }
            return true
        }
    }
}

/// Reads a sorted run: the footer, the bloom filter and the sparse index are checked and
/// held in memory; each data block is read and its checksum checked when a lookup or
/// scan needs it. Thread-safe for reads (pread, no shared cursor).
public final class SortedRun: @unchecked Sendable {
    public let path: String
    public let count: Int
    public let fileSize: Int
    private let fd: Int32
    let blocks: RunBlockIndex
    let bloom: BloomFilter

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw IOError.openFailed(path: path, errno: errno) }
        do {
            var st = stat()
            fstat(fd, &st)
            let size = Int(st.st_size)
            fileSize = size
            if size >= 8, try Self.read(fd, path, at: 0, count: 8) != SortedRunFormat.magic { throw SortedRunError.notARun(path: path) }
            guard size >= SortedRunFormat.headerSize + SortedRunFormat.footerSize else {
                throw SortedRunError.incomplete(path: path, reason: "only \(size) bytes")
            }
            let header = try Self.read(fd, path, at: 0, count: SortedRunFormat.headerSize)
            let version = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian }
            guard version == SortedRunFormat.version else {
                throw SortedRunError.incomplete(path: path, reason: "format version \(version), this Ferry reads version \(SortedRunFormat.version)")
            }
            let footer = try Self.read(fd, path, at: size - SortedRunFormat.footerSize, count: SortedRunFormat.footerSize)
            let fields = footer.withUnsafeBytes { raw in
                (0..<5).map { Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian) }
            }
            let storedCRC = footer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 48, as: UInt32.self).littleEndian }
            var crc = CRC32()
            crc.update(Array(footer[0..<48]))
            guard Array(footer[40..<48]) == SortedRunFormat.endMagic, crc.value == storedCRC else {
                throw SortedRunError.incomplete(path: path, reason: "bad footer")
            }
            let (indexOffset, indexLength, entries, bloomOffset, bloomLength) = (fields[0], fields[1], fields[2], fields[3], fields[4])
            guard bloomOffset >= SortedRunFormat.headerSize, bloomLength >= 1, bloomOffset + bloomLength + 4 == indexOffset,
                  indexOffset + indexLength + 4 == size - SortedRunFormat.footerSize else {
                throw SortedRunError.incomplete(path: path, reason: "index out of place")
            }
            let bloomBytes = try Self.readChecked(fd, path, at: bloomOffset, count: bloomLength, what: "bloom filter")
            bloom = BloomFilter(bits: Array(bloomBytes[1...]), probes: Int(bloomBytes[0]))
            let indexBytes = try Self.readChecked(fd, path, at: indexOffset, count: indexLength, what: "index")
            var parsed = RunBlockIndex()
            try indexBytes.withUnsafeBytes { raw in
                var p = 0
                while p < indexLength {
                    guard let keyLength = SortedRunFormat.readVarint(raw, &p, end: indexLength), p + keyLength <= indexLength else {
                        throw SortedRunError.corrupt(path: path, offset: indexOffset + p, reason: "bad index entry")
                    }
                    let key = UnsafeRawBufferPointer(rebasing: raw[p..<(p + keyLength)])
                    p += keyLength
                    guard let offset = SortedRunFormat.readVarint(raw, &p, end: indexLength),
                          let length = SortedRunFormat.readVarint(raw, &p, end: indexLength),
                          offset >= SortedRunFormat.headerSize, offset + length + 4 <= bloomOffset else {
                        throw SortedRunError.corrupt(path: path, offset: indexOffset + p, reason: "bad index entry")
                    }
                    parsed.append(lastKey: key, offset: offset, length: length)
                }
            }
            blocks = parsed
            count = entries
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    private static func read(_ fd: Int32, _ path: String, at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n < 0 ? IOError.readFailed(path: path, errno: errno) : SortedRunError.incomplete(path: path, reason: "ends early") }
            done += n
        }
        return out
    }

    /// `count` bytes at `offset` followed by their CRC-32, checked; returns the bytes.
    private static func readChecked(_ fd: Int32, _ path: String, at offset: Int, count: Int, what: String) throws -> [UInt8] {
        var bytes = try read(fd, path, at: offset, count: count + 4)
        var crc = CRC32()
        bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        let stored = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: count, as: UInt32.self).littleEndian }
        guard crc.value == stored else {
            throw SortedRunError.corrupt(path: path, offset: offset, reason: "\(what) checksum mismatch")
        }
        bytes.removeLast(4)
        return bytes
    }

    /// The raw entries of block `i`, checksum checked.
    func blockBytes(_ i: Int) throws -> [UInt8] {
        do {
            return try Self.readChecked(fd, path, at: blocks[i].offset, count: blocks[i].length, what: "block")
        } catch SortedRunError.corrupt(let path, let offset, _) {
            throw SortedRunError.corrupt(path: path, offset: offset, reason: "checksum mismatch")
        }
    }

    /// Reads block `i` and its CRC into the start of `out` (at least its length + 4
    /// bytes), checksum checked: one pread, no allocation.
    func readBlock(_ i: Int, into out: UnsafeMutableRawBufferPointer) throws {
        let (offset, length) = (blocks[i].offset, blocks[i].length)
        precondition(out.count >= length + 4)
        var done = 0
        while done < length + 4 {
            let n = pread(fd, out.baseAddress! + done, length + 4 - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n < 0 ? IOError.readFailed(path: path, errno: errno) : SortedRunError.incomplete(path: path, reason: "ends early") }
            done += n
        }
        var crc = CRC32()
        crc.update(UnsafeRawBufferPointer(rebasing: out[0..<length]))
        let stored = UnsafeRawBufferPointer(out).loadUnaligned(fromByteOffset: length, as: UInt32.self).littleEndian
        guard crc.value == stored else {
            throw SortedRunError.corrupt(path: path, offset: offset, reason: "checksum mismatch")
        }
    }

    /// Walks the entries of a block's bytes: (key, value or nil for a tombstone) as
    /// ranges into `raw`. Stops when `body` returns false.
    func walk(block i: Int, _ raw: UnsafeRawBufferPointer,
              _ body: (Range<Int>, Range<Int>?) throws -> Bool) throws {
        let length = raw.count
        var p = 0
        while p < length {
            let start = p
            guard let keyLength = SortedRunFormat.readVarint(raw, &p, end: length),
                  let valueLength = SortedRunFormat.readVarint(raw, &p, end: length), p < length else {
                throw SortedRunError.corrupt(path: path, offset: blocks[i].offset + start, reason: "bad entry")
            }
            let flag = raw[p]
            p += 1
            guard keyLength <= length - p, valueLength <= length - p - keyLength, flag <= SortedRunFormat.tombstone else {
                throw SortedRunError.corrupt(path: path, offset: blocks[i].offset + start, reason: "bad entry")
            }
            let key = p..<(p + keyLength)
            p += keyLength
            let value: Range<Int>? = flag == SortedRunFormat.tombstone ? nil : p..<(p + valueLength)
            p += valueLength
            if try !body(key, value) { return }
        }
    }

    /// The entries of block `i`, checksum checked.
    func entries(ofBlock i: Int) throws -> [RunEntry] {
        let bytes = try blockBytes(i)
        var out: [RunEntry] = []
        try bytes.withUnsafeBytes { raw in
            try walk(block: i, raw) { key, value in
                out.append(RunEntry(key: Array(raw[key]), value: value.map { Array(raw[$0]) }))
                return true
            }
        }
        return out
    }

    /// The first block that can hold `key` (whose last key is >= key), by binary search.
    func blockIndex(for key: [UInt8]) -> Int? {
        var low = 0, high = blocks.count
        while low < high {
            let mid = (low + high) / 2
            if blocks.compareLastKey(mid, key) < 0 { low = mid + 1 } else { high = mid }
        }
        return low < blocks.count ? low : nil
    }

    /// The entry for `key` (a tombstone has `value == nil`), or nil when the run has none.
    /// The bloom filter answers most misses without reading a block.
    public func get(_ key: [UInt8]) throws -> RunEntry? {
        try get(key, hash: key.withUnsafeBytes { SortedRunFormat.bloomHash($0) })
    }

    /// `get` with the key's bloom hash already worked out.
    func get(_ key: [UInt8], hash: UInt64) throws -> RunEntry? {
        guard bloom.mayContain(hash: hash), let i = blockIndex(for: key) else { return nil }
        let bytes = try blockBytes(i)
        var found: RunEntry? = nil
        try bytes.withUnsafeBytes { raw in
            try key.withUnsafeBytes { k in
                try walk(block: i, raw) { keyRange, value in
                    let order = KeyOrder.compare(UnsafeRawBufferPointer(rebasing: raw[keyRange]), k)
                    if order == 0 { found = RunEntry(key: key, value: value.map { Array(raw[$0]) }) }
                    return order < 0
                }
            }
        }
        return found
    }

    /// Calls `body` for each entry with key >= `start`, in key order, until it returns false.
    public func scan(from start: [UInt8] = [], _ body: (RunEntry) throws -> Bool) throws {
        let cursor = RunCursor(run: self, forward: true)
        try cursor.seek(start)
        while let entry = cursor.current {
            if try !body(entry) { return }
            try cursor.advance()
        }
    }

    /// Reads every block and checks every checksum (`ferry-table verify`).
    public func verify() throws {
        for i in blocks.indices { _ = try entries(ofBlock: i) }
    }
}

/// A run's sparse index as it is held in memory: each block's last key, offset and length
/// in flat arrays, three allocations for the run rather than one a block (a 16M-item table
/// has 440k blocks: 40 bytes each instead of 90). Not thread-safe to build; read-only after.
struct RunBlockIndex: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyEnds: [Int] = []
    private var spans: [(offset: Int, length: Int)] = []

    var count: Int { spans.count }
    var indices: Range<Int> { 0..<spans.count }

    mutating func append(lastKey: UnsafeRawBufferPointer, offset: Int, length: Int) {
        keyBytes.append(contentsOf: lastKey)
        keyEnds.append(keyBytes.count)
        spans.append((offset, length))
    }

    subscript(i: Int) -> (offset: Int, length: Int) { spans[i] }

    /// KeyOrder.compare of block `i`'s last key with `key`.
    func compareLastKey(_ i: Int, _ key: [UInt8]) -> Int {
        let start = i == 0 ? 0 : keyEnds[i - 1]
        return keyBytes.withUnsafeBytes { all in
            key.withUnsafeBytes { KeyOrder.compare(UnsafeRawBufferPointer(rebasing: all[start..<keyEnds[i]]), $0) }
        }
    }
}

/// Walks one run in key order, forward or backward, one block at a time. The block's
/// bytes are read into a buffer the cursor owns (reused from block to block) and its
/// entries indexed in place: `key` and `value` point into it until the next move, so a
/// scan allocates nothing per entry. Not thread-safe.
final class RunCursor {
    let run: SortedRun
    let forward: Bool
    private var block = -1
    /// Entry ranges inside `buffer`: key start and length, value start and length (-1: tombstone).
    private struct Slot { var key: Int32; var keyCount: Int32; var value: Int32; var valueCount: Int32 }
    private var slots: [Slot] = []
    private var index = 0
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: SortedRunFormat.blockTarget * 2, alignment: 16)

    init(run: SortedRun, forward: Bool) {
        self.run = run
        self.forward = forward
    }

    deinit { buffer.deallocate() }

    private var hasCurrent: Bool { index >= 0 && index < slots.count }

    /// The key under the cursor (valid until the cursor moves), nil at the end.
    var key: UnsafeRawBufferPointer? {
        guard hasCurrent else { return nil }
        let slot = slots[index]
        return UnsafeRawBufferPointer(rebasing: buffer[Int(slot.key)..<Int(slot.key + slot.keyCount)])
    }

    /// The value under the cursor, nil for a tombstone (or at the end).
    var value: UnsafeRawBufferPointer? {
        guard hasCurrent else { return nil }
        let slot = slots[index]
        guard slot.valueCount >= 0 else { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[Int(slot.value)..<Int(slot.value + slot.valueCount)])
    }

    /// The entry under the cursor as arrays (tests, `SortedRun.scan`).
    var current: RunEntry? {
        guard let key else { return nil }
        return RunEntry(key: Array(key), value: value.map { Array($0) })
    }

    private func keyBefore(_ target: [UInt8]) -> Bool {
        guard let key else { return false }
        return target.withUnsafeBytes { KeyOrder.compare(key, $0) < 0 }
    }

    /// Forward: to the first entry >= key. Backward: to the last entry < key (an empty
    /// key means "from the end").
    func seek(_ key: [UInt8]) throws {
        if forward {
            guard let b = run.blockIndex(for: key) else { return finish() }
            try load(b)
            while hasCurrent && keyBefore(key) { index += 1 }
            if !hasCurrent { try advance() }
        } else {
            var b = key.isEmpty ? run.blocks.count - 1 : (run.blockIndex(for: key) ?? run.blocks.count - 1)
            guard b >= 0 else { return finish() }
            try load(b)
            index = slots.count - 1
            if !key.isEmpty {
                while hasCurrent && !keyBefore(key) { index -= 1 }
            }
            while !hasCurrent {
                b -= 1
                guard b >= 0 else { return finish() }
                try load(b)
                index = slots.count - 1
            }
        }
    }

    func advance() throws {
        index += forward ? 1 : -1
        while !hasCurrent {
            let b = block + (forward ? 1 : -1)
            guard b >= 0, b < run.blocks.count else { return finish() }
            try load(b)
            index = forward ? 0 : slots.count - 1
        }
    }

    private func load(_ b: Int) throws {
        block = b
        let length = run.blocks[b].length
        if buffer.count < length + 4 {
            buffer.deallocate()
            buffer = .allocate(byteCount: length + 4, alignment: 16)
        }
        try run.readBlock(b, into: buffer)
        let raw = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
        slots.removeAll(keepingCapacity: true)
        try run.walk(block: b, UnsafeRawBufferPointer(raw)) { key, value in
            slots.append(Slot(key: Int32(key.lowerBound), keyCount: Int32(key.count),
                              value: Int32(value?.lowerBound ?? 0), valueCount: Int32(value?.count ?? -1)))
            return true
        }
        index = 0
    }

    private func finish() {
        block = forward ? run.blocks.count : -1
        slots.removeAll(keepingCapacity: true)
        index = 0
    }
}
