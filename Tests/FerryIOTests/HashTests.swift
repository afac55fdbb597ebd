import FerryIO
import XCTest

final class HashTests: XCTestCase {
    private func md5(_ s: String) -> String { Hex.encode(MD5.digest(Array(s.utf8))) }
    private func sha(_ s: String) -> String { Hex.encode(SHA256.digest(Array(s.utf8))) }

    /// The test suite of RFC 1321, appendix A.5.
    func testMD5MatchesRFC1321Vectors() {
        XCTAssertEqual(md5(""), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(md5("a"), "0cc175b9c0f1b6a831c399e269772661")
        XCTAssertEqual(md5("abc"), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0")
        XCTAssertEqual(md5("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b")
        XCTAssertEqual(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                       "d174ab98d277d9f5a5611c2c9f419d9f")
        XCTAssertEqual(md5(String(repeating: "1234567890", count: 8)), "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// FIPS 180-2 appendix B examples, and the empty string.
    func testSHA256MatchesFIPSVectors() {
        XCTAssertEqual(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        XCTAssertEqual(Hex.encode(million.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testDigestsDoNotDependOnHowInputIsSplit() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let whole = MD5.digest(data), wholeSHA = SHA256.digest(data)
        for split in [1, 55, 56, 63, 64, 65, 128, 999] {
            var m = MD5(), s = SHA256()
            m.update(Array(data[..<split])); m.update(Array(data[split...]))
            s.update(Array(data[..<split])); s.update(Array(data[split...]))
            XCTAssertEqual(m.finalize(), whole, "split \(split)")
            XCTAssertEqual(s.finalize(), wholeSHA, "split \(split)")
        }
    }

    func testCRC32MatchesTheCheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        var crc = CRC32()
        crc.update(Array("1234".utf8)); crc.update(Array("56789".utf8))
        XCTAssertEqual(crc.value, 0xCBF4_3926)
    }

    /// The folding path (64 bytes and up, in 16-byte steps, with a zlib tail) against a
    /// bitwise CRC written here: every length to 1100 at 16 alignments and 3 seeds, so each
    /// fold count, tail length and misaligned load is covered.
    func testCRC32EqualsABitwiseCRCAtEveryLengthAndAlignment() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes: [UInt8] = (0..<(1100 + 16)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        func bitwise(_ crc: UInt32, _ byte: UInt8) -> UInt32 {
            var c = crc ^ UInt32(byte)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            return c
        }
        var failures = 0
        bytes.withUnsafeBytes { all in
            for alignment in 0..<16 {
                for seed: UInt32 in [0, 0xFFFF_FFFF, 0x1234_5678] {
                    var expected = ~seed  // the running register; zlib's value is its inverse
                    for length in 0...1100 {
                        if length > 0 { expected = bitwise(expected, all[alignment + length - 1]) }
                        var crc = CRC32(value: seed)
                        crc.update(UnsafeRawBufferPointer(rebasing: all[alignment..<(alignment + length)]))
                        if crc.value != ~expected {
                            failures += 1
                            if failures < 5 { XCTFail("length \(length) alignment \(alignment) seed \(seed)") }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(failures, 0)
    }
}
