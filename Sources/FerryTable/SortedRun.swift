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
/// checksummed blocks, then a sparse index (one key per block) and a footer. Blocks
/// stream to a temporary file as they fill, so memory stays at one block plus the index;
/// the file appears under its name only when complete and synced. Not thread-safe.
public final class SortedRunWriter {
    let folder: Directory
    let name: String
    private let file: AtomicFile
    private let body = ByteBuffer(capacity: 1 << 20)   // pending bytes, written out past 1 MiB
    private var written = 0                             // bytes already in the file
    private let block = ByteBuffer(capacity: SortedRunFormat.blockTarget * 2)
    private let index = ByteBuffer(capacity: 64 * 1024)
    private var lastKey: [UInt8]? = nil
    private var blockLastKey: [UInt8] = []
    public private(set) var count = 0

    public init(folder: Directory, name: String) throws {
        self.folder = folder
        self.name = name
        file = try folder.createAtomically(name)
        body.append(SortedRunFormat.magic)
        withUnsafeBytes(of: SortedRunFormat.version.littleEndian) { body.append($0) }
        body.append([0, 0, 0, 0])
    }

    public func add(_ entry: RunEntry) throws {
        if let lastKey, !lastKey.lexicographicallyPrecedes(entry.key) {
            throw SortedRunError.outOfOrder(path: folder.child(name))
        }
        SortedRunFormat.appendVarint(entry.key.count, to: block)
        SortedRunFormat.appendVarint(entry.value?.count ?? 0, to: block)
        block.append(entry.value == nil ? SortedRunFormat.tombstone : SortedRunFormat.put)
        block.append(entry.key)
        if let value = entry.value { block.append(value) }
        lastKey = entry.key
        blockLastKey = entry.key
        count += 1
        if block.count >= SortedRunFormat.blockTarget { try cutBlock() }
    }

    private func cutBlock() throws {
        guard !block.isEmpty else { return }
        let offset = written + body.count
        var crc = CRC32()
        crc.update(block.bytes)
        body.append(block.bytes)
        withUnsafeBytes(of: crc.value.littleEndian) { body.append($0) }
        // Index entry: last key of the block, its offset and length (without the CRC).
        SortedRunFormat.appendVarint(blockLastKey.count, to: index)
        index.append(blockLastKey)
        SortedRunFormat.appendVarint(offset, to: index)
        SortedRunFormat.appendVarint(block.count, to: index)
        block.removeAll()
        if body.count >= 1 << 20 { try drain() }
    }

    private func drain() throws {
        try file.sink.write(body.bytes)
        written += body.count
        body.removeAll()
    }

    /// Writes index and footer and makes the file appear under its name.
    public func finish() throws {
        try cutBlock()
        try drain()
        let indexOffset = written
        var crc = CRC32()
        crc.update(index.bytes)
        body.append(index.bytes)
        withUnsafeBytes(of: crc.value.littleEndian) { body.append($0) }
        let footerStart = body.count
        withUnsafeBytes(of: UInt64(indexOffset).littleEndian) { body.append($0) }
        withUnsafeBytes(of: UInt64(index.count).littleEndian) { body.append($0) }
        withUnsafeBytes(of: UInt64(count).littleEndian) { body.append($0) }
        body.append(SortedRunFormat.endMagic)
        var footerCRC = CRC32()
        footerCRC.update(UnsafeRawBufferPointer(rebasing: body.bytes[footerStart..<body.count]))
        withUnsafeBytes(of: footerCRC.value.littleEndian) { body.append($0) }
        body.append([0, 0, 0, 0])
        try drain()
        try file.commit()
    }

    /// Drops an unfinished run: nothing appears under its name.
    public func abandon() { file.abandon() }
}

/// Reads a sorted run: the footer and the sparse index are checked and held in memory;
/// each data block is read and its checksum checked when a lookup or scan needs it.
/// Thread-safe for reads (pread, no shared cursor).
public final class SortedRun: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let fd: Int32
    let blocks: [(lastKey: [UInt8], offset: Int, length: Int)]

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw IOError.openFailed(path: path, errno: errno) }
        do {
            var st = stat()
            fstat(fd, &st)
            let size = Int(st.st_size)
            guard size >= SortedRunFormat.headerSize + SortedRunFormat.footerSize else {
                throw SortedRunError.incomplete(path: path, reason: "only \(size) bytes")
            }
            let header = try Self.read(fd, path, at: 0, count: SortedRunFormat.headerSize)
            guard Array(header[0..<8]) == SortedRunFormat.magic else { throw SortedRunError.notARun(path: path) }
            let footer = try Self.read(fd, path, at: size - SortedRunFormat.footerSize, count: SortedRunFormat.footerSize)
            let (indexOffset, indexLength, entries, storedCRC) = footer.withUnsafeBytes { raw in
                (Int(raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian),
                 Int(raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian),
                 Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian),
                 raw.loadUnaligned(fromByteOffset: 32, as: UInt32.self).littleEndian)
            }
            var crc = CRC32()
            crc.update(Array(footer[0..<32]))
            guard Array(footer[24..<32]) == SortedRunFormat.endMagic, crc.value == storedCRC else {
                throw SortedRunError.incomplete(path: path, reason: "bad footer")
            }
            guard indexOffset >= SortedRunFormat.headerSize, indexOffset + indexLength + 4 == size - SortedRunFormat.footerSize else {
                throw SortedRunError.incomplete(path: path, reason: "index out of place")
            }
            let indexBytes = try Self.read(fd, path, at: indexOffset, count: indexLength + 4)
            var indexCRC = CRC32()
            indexCRC.update(Array(indexBytes[0..<indexLength]))
            let storedIndexCRC = indexBytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: indexLength, as: UInt32.self).littleEndian }
            guard indexCRC.value == storedIndexCRC else {
                throw SortedRunError.corrupt(path: path, offset: indexOffset, reason: "index checksum mismatch")
            }
            var parsed: [(lastKey: [UInt8], offset: Int, length: Int)] = []
            try indexBytes.withUnsafeBytes { raw in
                var p = 0
                while p < indexLength {
                    guard let keyLength = SortedRunFormat.readVarint(raw, &p, end: indexLength), p + keyLength <= indexLength else {
                        throw SortedRunError.corrupt(path: path, offset: indexOffset + p, reason: "bad index entry")
                    }
                    let key = Array(raw[p..<(p + keyLength)])
                    p += keyLength
                    guard let offset = SortedRunFormat.readVarint(raw, &p, end: indexLength),
                          let length = SortedRunFormat.readVarint(raw, &p, end: indexLength),
                          offset >= SortedRunFormat.headerSize, offset + length + 4 <= indexOffset else {
                        throw SortedRunError.corrupt(path: path, offset: indexOffset + p, reason: "bad index entry")
                    }
                    parsed.append((key, offset, length))
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

    /// The entries of block `i`, checksum checked.
    func entries(ofBlock i: Int) throws -> [RunEntry] {
        let (_, offset, length) = blocks[i]
        let bytes = try Self.read(fd, path, at: offset, count: length + 4)
        var crc = CRC32()
        crc.update(Array(bytes[0..<length]))
        let stored = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: length, as: UInt32.self).littleEndian }
        guard crc.value == stored else { throw SortedRunError.corrupt(path: path, offset: offset, reason: "checksum mismatch") }
        var out: [RunEntry] = []
        try bytes.withUnsafeBytes { raw in
            var p = 0
            while p < length {
                guard let keyLength = SortedRunFormat.readVarint(raw, &p, end: length),
                      let valueLength = SortedRunFormat.readVarint(raw, &p, end: length), p < length else {
                    throw SortedRunError.corrupt(path: path, offset: offset + p, reason: "bad entry")
                }
                let flag = raw[p]
                p += 1
                guard p + keyLength + valueLength <= length, flag <= SortedRunFormat.tombstone else {
                    throw SortedRunError.corrupt(path: path, offset: offset + p, reason: "bad entry")
                }
                let key = Array(raw[p..<(p + keyLength)])
                p += keyLength
                let value = flag == SortedRunFormat.tombstone ? nil : Array(raw[p..<(p + valueLength)])
                p += valueLength
                out.append(RunEntry(key: key, value: value))
            }
        }
        return out
    }

    /// The first block that can hold `key` (whose last key is >= key), by binary search.
    func blockIndex(for key: [UInt8]) -> Int? {
        var low = 0, high = blocks.count
        while low < high {
            let mid = (low + high) / 2
            if blocks[mid].lastKey.lexicographicallyPrecedes(key) { low = mid + 1 } else { high = mid }
        }
        return low < blocks.count ? low : nil
    }

    /// The entry for `key` (a tombstone has `value == nil`), or nil when the run has none.
    public func get(_ key: [UInt8]) throws -> RunEntry? {
        guard let i = blockIndex(for: key) else { return nil }
        return try entries(ofBlock: i).first { $0.key == key }
    }

    /// Calls `body` for each entry with key >= `start`, in key order, until it returns false.
    public func scan(from start: [UInt8] = [], _ body: (RunEntry) throws -> Bool) throws {
        guard var i = blockIndex(for: start) else { return }
        while i < blocks.count {
            for entry in try entries(ofBlock: i) where !entry.key.lexicographicallyPrecedes(start) {
                if try !body(entry) { return }
            }
            i += 1
        }
    }

    /// Reads every block and checks every checksum (`ferry-table verify`).
    public func verify() throws {
        for i in blocks.indices { _ = try entries(ofBlock: i) }
    }
}
