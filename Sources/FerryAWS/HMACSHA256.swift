// HMAC-SHA256 (RFC 2104) over FerryIO's SHA256. See ../../docs/sigv4.md.
import FerryIO

/// HMAC-SHA256 with the key's inner and outer pads absorbed once, at `init`: a keyed
/// value is reusable (it is copied, never consumed, by `authenticationCode(for:)`), so a
/// signing key used for many requests costs two SHA-256 blocks less per message.
///
/// Streaming use: `var mac = HMACSHA256(key: k); mac.update(a); mac.update(b); mac.finalize()`.
/// Value type, `Sendable`; safe to share between threads.
public struct HMACSHA256: Sendable {
    /// SHA-256's block size; longer keys are hashed first (RFC 2104 section 2).
    public static let blockSize = 64
    /// The length of a code, in bytes.
    public static let byteCount = 32

    private var inner: SHA256
    private var outer: SHA256

    public init(key: [UInt8]) {
        var block = key.count > Self.blockSize ? SHA256.digest(key) : key
        block.append(contentsOf: [UInt8](repeating: 0, count: Self.blockSize - block.count))
        var innerPad = block, outerPad = block
        for i in 0..<Self.blockSize {
            innerPad[i] ^= 0x36
            outerPad[i] ^= 0x5C
        }
        inner = SHA256()
        inner.update(innerPad)
        outer = SHA256()
        outer.update(outerPad)
    }

    /// Keyed with a string's UTF-8 bytes.
    public init(key: String) { self.init(key: Array(key.utf8)) }

    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }
    public mutating func update(_ string: String) {
        var string = string
        string.withUTF8 { inner.update(UnsafeRawBufferPointer($0)) }
    }

    /// The 32-byte code of everything fed. The value is consumed: do not update it afterwards.
    public mutating func finalize() -> [UInt8] {
        let innerDigest = inner.finalize()
        var outerHash = outer
        outerHash.update(innerDigest)
        return outerHash.finalize()
    }

    /// The code of `message` under this key; `self` is left as it was (keyed, empty).
    public func authenticationCode(for message: [UInt8]) -> [UInt8] {
        var mac = self
        mac.update(message)
        return mac.finalize()
    }

    public func authenticationCode(for message: String) -> [UInt8] {
        var mac = self
        mac.update(message)
        return mac.finalize()
    }

    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        HMACSHA256(key: key).authenticationCode(for: message)
    }

    /// Compares two byte strings in time that depends only on their lengths, not on
    /// where they first differ (for signatures and MACs).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        let n = min(a.count, b.count)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<n { difference |= pa[i] ^ pb[i] }
            }
        }
        return difference == 0
    }
}
