// HMAC-SHA256 against RFC 4231's test vectors.
import FerryAWS
import FerryIO
import XCTest

final class HMACSHA256Tests: XCTestCase {
    private func bytes(_ hex: String) -> [UInt8] {
        var out = [UInt8]()
        var chars = Array(hex.utf8).makeIterator()
        while let hi = chars.next(), let lo = chars.next() {
            out.append(UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)!)
        }
        return out
    }

    /// RFC 4231 section 4: (key, data, HMAC-SHA-256). Case 5's code is truncated to 128 bits.
    private var vectors: [(name: String, key: [UInt8], data: [UInt8], mac: String)] {
        [
            ("4.2", [UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            ("4.3", Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ("4.4", [UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            ("4.5", bytes("0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xCD, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ("4.6", [UInt8](repeating: 0x0C, count: 20), Array("Test With Truncation".utf8),
             "a3b6167473100ee06e0c796c2955552b"),
            ("4.7", [UInt8](repeating: 0xAA, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ("4.8", [UInt8](repeating: 0xAA, count: 131),
             Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                 + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
    }

    func testRFC4231TestCasesMatch() {
        for vector in vectors {
            let mac = Hex.encode(HMACSHA256.authenticationCode(key: vector.key, message: vector.data))
            XCTAssertEqual(String(mac.prefix(vector.mac.count)), vector.mac, "RFC 4231 \(vector.name)")
            XCTAssertEqual(mac.count, 64)
        }
    }

    func testFeedingInPiecesGivesTheSameCodeAsAtOnce() {
        for vector in vectors {
            for split in [0, 1, 7, 63, 64, 65, vector.data.count] where split <= vector.data.count {
                var mac = HMACSHA256(key: vector.key)
                mac.update(Array(vector.data[..<split]))
                mac.update(Array(vector.data[split...]))
                XCTAssertEqual(mac.finalize(), HMACSHA256.authenticationCode(key: vector.key, message: vector.data))
            }
        }
    }

    func testAKeyedValueIsReusableForManyMessages() {
        let keyed = HMACSHA256(key: "Jefe")
        let first = keyed.authenticationCode(for: "what do ya want for nothing?")
        _ = keyed.authenticationCode(for: "something else")
        XCTAssertEqual(keyed.authenticationCode(for: "what do ya want for nothing?"), first)
        XCTAssertEqual(Hex.encode(first), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testEmptyKeyAndEmptyMessage() {
        // Python: hmac.new(b"", b"", hashlib.sha256).hexdigest()
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(key: [], message: [])),
                       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    func testConstantTimeEqualComparesContentAndLength() {
        XCTAssertTrue(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertFalse(HMACSHA256.constantTimeEqual([], [0]))
        XCTAssertTrue(HMACSHA256.constantTimeEqual([], []))
    }

    func testSigningKeyDerivationMatchesAmazonsExample() {
        // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4":
        // secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        let key = SigV4Signer.signingKey(secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         dateStamp: "20120215", region: "us-east-1", service: "iam")
        XCTAssertEqual(Hex.encode(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }
}
