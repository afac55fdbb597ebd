// gzip over the system zlib: streaming inflate (multi-member, detected by magic bytes)
// and deflate. Format notes: docs/gzip.md.
import CZlib

/// A gzip stream that cannot be decoded. Offsets count compressed bytes from the start.
public enum GzipError: Error, CustomStringConvertible, Equatable {
    case truncated(name: String, offset: Int)
    case corrupt(name: String, offset: Int, reason: String)
    case trailingGarbage(name: String, offset: Int)
    case zlibFailure(name: String, code: Int32)

    public var description: String {
        switch self {
        case let .truncated(name, offset):
            return "\(name): gzip data ends early at byte \(offset) (truncated file?)"
        case let .corrupt(name, offset, reason):
            return "\(name): corrupt gzip data near byte \(offset): \(reason)"
        case let .trailingGarbage(name, offset):
            return "\(name): data after the end of the gzip stream at byte \(offset) is not gzip"
        case let .zlibFailure(name, code):
            return "\(name): zlib failed with code \(code)"
        }
    }
}

public enum Gzip {
    /// The two bytes every gzip member starts with (RFC 1952).
    public static let magic: (UInt8, UInt8) = (0x1F, 0x8B)

    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == magic.0 && bytes[1] == magic.1
    }

    /// Compresses `bytes` into one complete gzip member. Members concatenate into a valid
    /// multi-member file, which lets many threads compress one stream (as pigz does).
    public static func compressMember(_ bytes: UnsafeRawBufferPointer, level: Int32 = 6,
                                      into output: ByteBuffer) throws {
        let encoder = try DeflateStream(level: level, name: "<memory>")
        try encoder.compress(bytes, finish: true, into: output)
    }

    public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        let out = ByteBuffer(capacity: bytes.count / 2 + 64)
        try bytes.withUnsafeBytes { try compressMember($0, level: level, into: out) }
        return out.array
    }

    /// Inflates a whole gzip file held in memory.
    public static func decompress(_ bytes: [UInt8], name: String = "<memory>") throws -> [UInt8] {
        try GzipSource(MemorySource(bytes, name: name)).readAll()
    }
}

/// Inflates a gzip stream from another source. Reads every member of a multi-member
/// file, checks each member's CRC32 and length (zlib does), and refuses a stream that
/// ends inside a member or continues with bytes that are not another member.
/// Memory stays at the two fixed buffers whatever the stream's length.
public final class GzipSource: ByteSource {
    public var name: String { upstream.name }
    public var bytesConsumed: Int { upstream.bytesConsumed - Int(stream.pointee.avail_in) }

    private let upstream: ByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var upstreamEnded = false
    private var finished = false
    private var inMember = true
    /// zlib's own CRC-32 of the output is off (`inflateValidate`) once a member's header
    /// is read: it was 5% of an extract's samples. The header (with its CRC-16, when it
    /// has one) is still checked by zlib: each member starts with validation on and at
    /// most 64 bytes of output until `header.done`. The member's CRC and length are
    /// checked here instead, with the folded CRC, against the trailer zlib consumed (the
    /// 8 bytes before `next_in`).
    private let header: UnsafeMutablePointer<gz_header>
    private var readingHeader = true
    private var memberCRC = CRC32()
    private var memberLength = 0
    /// Bytes in `input` since the last refill, and the last 8 of the buffer before it
    /// (a trailer may start there).
    private var inputFilled = 0
    private var previousTail: [UInt8] = []

    /// `prefix` holds bytes already read from `upstream` (by format detection).
    public init(_ upstream: ByteSource, prefix: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                inputBufferSize: Int = 256 * 1024) throws {
        self.upstream = upstream
        input = .allocate(byteCount: max(inputBufferSize, prefix.count), alignment: 16)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        if prefix.count > 0 { input.baseAddress!.copyMemory(from: prefix.baseAddress!, byteCount: prefix.count) }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(prefix.count)
        // 15 + 16: a gzip wrapper, not zlib or raw deflate.
        inputFilled = prefix.count
        let status = ferry_inflate_init(stream, 15 + 16)
        guard status == Z_OK else {
            stream.deallocate(); header.deallocate(); input.deallocate()
            throw GzipError.zlibFailure(name: upstream.name, code: status)
        }
        startMember()
    }

    /// A member's header is read with zlib's checks on; `read` turns them off after it.
    private func startMember() {
        header.pointee = gz_header()
        inflateGetHeader(stream, header)
        inflateValidate(stream, 1)
        readingHeader = true
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        header.deallocate()
        input.deallocate()
    }

    private func refill() throws {
        guard !upstreamEnded else { return }
        keepTail()
        let n = try upstream.read(into: input)
        if n == 0 { upstreamEnded = true }
        inputFilled = n
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
    }

    /// Before `input` is overwritten: its last 8 bytes (all of it was consumed).
    private func keepTail() {
        let tail = Array(UnsafeRawBufferPointer(rebasing: input[..<inputFilled]).suffix(8))
        previousTail = tail.count >= 8 ? tail : Array((previousTail + tail).suffix(8))
    }

    /// The 8 bytes zlib consumed last: a member's trailer at its end.
    private func consumedTrailer() -> [UInt8] {
        let consumed = UnsafeRawPointer(stream.pointee.next_in) - UnsafeRawPointer(input.baseAddress!)
        let here = Array(UnsafeRawBufferPointer(rebasing: input[..<consumed]).suffix(8))
        return here.count >= 8 ? here : Array((previousTail + here).suffix(8))
    }

    /// At a member's end: its CRC-32 and length (mod 2^32) against its trailer, with
    /// zlib's words for a mismatch.
    private func checkTrailer() throws {
        let trailer = consumedTrailer()
        guard trailer.count == 8 else { throw GzipError.corrupt(name: name, offset: bytesConsumed, reason: "incorrect data check") }
        func word(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(trailer[at + $1]) << (8 * $1) } }
        if word(0) != memberCRC.value { throw GzipError.corrupt(name: name, offset: bytesConsumed - 4, reason: "incorrect data check") }
        if word(4) != UInt32(truncatingIfNeeded: memberLength) { throw GzipError.corrupt(name: name, offset: bytesConsumed, reason: "incorrect length check") }
        memberCRC = CRC32()
        memberLength = 0
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        let wanted = Int(stream.pointee.avail_out)
        while Int(stream.pointee.avail_out) == wanted {
            if stream.pointee.avail_in == 0 {
                try refill()
                if stream.pointee.avail_in == 0 {
                    if inMember { throw GzipError.truncated(name: name, offset: bytesConsumed) }
                    finished = true
                    break
                }
            }
            if !inMember {
                // Between members: the next bytes must start another member.
                if try !nextMemberFollows() { break }
                inflateReset(stream)
                startMember()
                inMember = true
            }
            let before = stream.pointee.next_out!
            let room = stream.pointee.avail_out
            if readingHeader { stream.pointee.avail_out = min(room, 64) }
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = stream.pointee.next_out! - before
            if readingHeader {
                stream.pointee.avail_out = room - uInt(produced)
                if header.pointee.done != 0 {
                    inflateValidate(stream, 0)
                    readingHeader = false
                }
            }
            if produced > 0 {
                memberCRC.update(UnsafeRawBufferPointer(start: before, count: produced))
                memberLength += produced
            }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                try checkTrailer()
                inMember = false
            case Z_BUF_ERROR:
                // No progress possible: out of input inside a member.
                if stream.pointee.avail_in == 0 { continue }
                throw GzipError.corrupt(name: name, offset: bytesConsumed, reason: "no progress")
            case Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw GzipError.corrupt(name: name, offset: bytesConsumed, reason: reason)
            default:
                throw GzipError.zlibFailure(name: name, code: status)
            }
        }
        return wanted - Int(stream.pointee.avail_out)
    }

    /// After a member's end: true when another member starts, false at a clean end of
    /// input; throws when other bytes follow.
    private func nextMemberFollows() throws -> Bool {
        if stream.pointee.avail_in == 0 { try refill() }
        if stream.pointee.avail_in == 0 { finished = true; return false }
        if stream.pointee.next_in[0] != Gzip.magic.0 {
            throw GzipError.trailingGarbage(name: name, offset: bytesConsumed)
        }
        if stream.pointee.avail_in == 1 {
            // The second magic byte is in the next read: keep the first one.
            let first = stream.pointee.next_in[0]
            input.storeBytes(of: first, toByteOffset: 0, as: UInt8.self)
            let n = try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: input[1...]))
            if n == 0 { upstreamEnded = true }
            inputFilled = 1 + n
            stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(1 + n)
            if n == 0 { throw GzipError.truncated(name: name, offset: bytesConsumed + 1) }
        }
        if stream.pointee.next_in[1] != Gzip.magic.1 {
            throw GzipError.trailingGarbage(name: name, offset: bytesConsumed)
        }
        return true
    }
}

/// Opens record input (NDJSON, CSV, backups) by what its bytes are, whatever its name
/// says (docs/gzip.md): gzip is decompressed; other compressed or binary forms Ferry
/// cannot read (xz, bzip2, zstd, lz4, zlib, zip, 7z, UTF-16/32 text) are refused by name
/// instead of being read as garbage lines; a UTF-8 byte order mark is dropped.
public enum InputDecoding {
    public static func open(_ source: ByteSource) throws -> ByteSource {
        let prefix = try readPrefix(source, count: 16)
        if prefix.withUnsafeBytes({ Gzip.hasMagic($0) }) {
            let decoded = try prefix.withUnsafeBytes { try GzipSource(source, prefix: $0) }
            // What the gzip holds is checked the same way (a BOM, a second compression).
            let inner = try readPrefix(decoded, count: 16)
            return try text(PrefixedSource(prefix: inner, rest: decoded), prefix: inner, compressed: true)
        }
        return try text(PrefixedSource(prefix: prefix, rest: source), prefix: prefix, compressed: false)
    }

    /// Opens a path ("-" for stdin) by its content.
    public static func open(path: String) throws -> ByteSource {
        try open(FileSource(path: path))
    }

    private static func readPrefix(_ source: ByteSource, count: Int) throws -> [UInt8] {
        var prefix = [UInt8](repeating: 0, count: count)
        var got = 0
        try prefix.withUnsafeMutableBytes { raw in
            while got < count {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[got...]))
                if n == 0 { break }
                got += n
            }
        }
        return Array(prefix[..<got])
    }

    private static func text(_ stream: PrefixedSource, prefix: [UInt8], compressed: Bool) throws -> ByteSource {
        if let kind = unreadableKind(prefix) {
            let inside = compressed ? " inside its gzip" : ""
            throw IOError.unreadableInput(path: stream.name, reason: "\(kind)\(inside); Ferry reads plain text (UTF-8) and gzip")
        }
        if prefix.starts(with: [0xEF, 0xBB, 0xBF]) { stream.drop(3) }
        return stream
    }

    /// What a stream that is not UTF-8 text or gzip is, from its first bytes; nil for text.
    public static func unreadableKind(_ b: [UInt8]) -> String? {
        if b.starts(with: [0x1F, 0x8B]) { return "gzip data inside gzip (compressed twice: zcat it once first)" }
        if b.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return "xz-compressed data (decompress it first: xz -dc)" }
        if b.count >= 4, b.starts(with: [0x42, 0x5A, 0x68]), (0x31...0x39).contains(b[3]) { return "bzip2-compressed data (decompress it first: bzip2 -dc)" }
        if b.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return "zstd-compressed data (decompress it first: zstd -dc)" }
        if b.starts(with: [0x04, 0x22, 0x4D, 0x18]) { return "lz4-compressed data (decompress it first: lz4 -dc)" }
        if b.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "a zip archive (unpack it first: unzip -p)" }
        if b.starts(with: [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return "a 7z archive (unpack it first: 7z x -so)" }
        if b.starts(with: [0x00, 0x00, 0xFE, 0xFF]) || b.starts(with: [0xFF, 0xFE, 0x00, 0x00]) { return "UTF-32 text (convert it first: iconv -f UTF-32 -t UTF-8)" }
        if b.starts(with: [0xFF, 0xFE]) || b.starts(with: [0xFE, 0xFF]) { return "UTF-16 text (convert it first: iconv -f UTF-16 -t UTF-8)" }
        // zlib: a valid two-byte header (deflate, checksum of 31) followed by bytes no
        // text has; "x^" could start a CSV line, binary deflate data cannot.
        if b.count >= 8, b[0] == 0x78, (UInt16(b[0]) << 8 | UInt16(b[1])) % 31 == 0, !UTF8Text.looksLikeText(Array(b[2...])) {
            return "zlib-compressed data (not gzip: its header is missing)"
        }
        if let nul = b.firstIndex(of: 0) {
            return nul % 2 == 1 ? "UTF-16 text without a byte order mark, or binary data" : "binary data (a NUL byte in its first bytes)"
        }
        return nil
    }
}

/// Serves a few bytes already read, then the rest of the source.
final class PrefixedSource: ByteSource {
    private var prefix: [UInt8]
    private var offset = 0
    private let rest: ByteSource
    var name: String { rest.name }
    var bytesConsumed: Int { rest.bytesConsumed - (prefix.count - offset) }

    init(prefix: [UInt8], rest: ByteSource) {
        self.prefix = prefix
        self.rest = rest
    }

    /// Skips the first `count` bytes of the prefix (a byte order mark).
    func drop(_ count: Int) { offset = min(prefix.count, offset + count) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if offset >= prefix.count { return try rest.read(into: buffer) }
        let n = min(prefix.count - offset, buffer.count)
        prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// One deflate stream producing gzip framing. Not thread-safe.
final class DeflateStream {
    private let stream: UnsafeMutablePointer<z_stream>
    let name: String

    init(level: Int32, name: String) throws {
        self.name = name
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = ferry_deflate_init(stream, level, 15 + 16)
        guard status == Z_OK else {
            stream.deallocate()
            throw GzipError.zlibFailure(name: name, code: status)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `bytes` onto the end of `output`; with `finish`, ends the member.
    func compress(_ bytes: UnsafeRawBufferPointer, finish: Bool, into output: ByteBuffer) throws {
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        while true {
            let room = max(64 * 1024, Int(stream.pointee.avail_in) / 2 + 1024)
            var status: Int32 = Z_OK
            output.appendWithUnsafeSpace(minimum: room) { space in
                stream.pointee.next_out = space.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(min(space.count, Int(UInt32.max)))
                let before = Int(stream.pointee.avail_out)
                status = deflate(stream, flush)
                return before - Int(stream.pointee.avail_out)
            }
            if status == Z_STREAM_END { return }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                throw GzipError.zlibFailure(name: name, code: status)
            }
            if !finish && stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
        }
    }
}

/// A sink that gzips everything written to it into another sink, as one member.
/// `finish()` writes the gzip trailer (CRC32 and length) and finishes the downstream.
public final class GzipSink: ByteSink {
    public var name: String { downstream.name }
    private let downstream: ByteSink
    private let deflater: DeflateStream
    private let pending = ByteBuffer(capacity: 1 << 20)
    private var finished = false

    public init(_ downstream: ByteSink, level: Int32 = 6) throws {
        self.downstream = downstream
        deflater = try DeflateStream(level: level, name: downstream.name)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try deflater.compress(bytes, finish: false, into: pending)
        if pending.count >= 1 << 20 { try drain() }
    }

    private func drain() throws {
        defer { pending.removeAll() }
        try downstream.write(pending.bytes)
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true, into: pending)
        try drain()
        try downstream.finish()
    }
}
