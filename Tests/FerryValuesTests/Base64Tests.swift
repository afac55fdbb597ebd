import FerryValues
import XCTest

final class Base64Tests: XCTestCase {
    /// RFC 4648 §10 test vectors.
    func testRFC4648Vectors() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                       ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8))
        }
    }

    func testMalformedBase64IsRefused() {
        for bad in ["Zg", "Zg=", "Z===", "Zm9v!", "Zm=v", "====", "Zg==Zg==", "Zm9v\n"] {
            XCTAssertNil(Base64.decode(bad), bad)
        }
    }

    func testAllByteValuesRoundTrip() {
        let bytes = (0..<256).map(UInt8.init)
        XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
    }
}
