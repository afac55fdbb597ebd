import FerryValues
import XCTest

final class DynamoNumberTests: XCTestCase {
    private func n(_ s: String) throws -> DynamoNumber { try DynamoNumber(s) }

    func testCanonicalTextTrimsZerosAndExponents() throws {
        let cases: [(String, String)] = [
            ("0", "0"), ("-0", "0"), ("0.000", "0"), ("0e999999999", "0"),
            ("1.50", "1.5"), ("007", "7"), ("+7", "7"), (".5", "0.5"), ("5.", "5"),
            ("1e3", "1000"), ("1E+3", "1000"), ("15E-1", "1.5"), ("-0.0150", "-0.015"),
            ("123.456", "123.456"), ("100", "100"), ("1e-5", "0.00001"),
            ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
            ("1000000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000000"),
        ]
        for (input, canonical) in cases {
            XCTAssertEqual(try n(input).description, canonical, input)
        }
    }

    func testEqualValuesAreEqualWhateverTheSpelling() throws {
        XCTAssertEqual(try n("1.50"), try n("15e-1"))
        XCTAssertEqual(try n("100"), try n("1E2"))
        XCTAssertEqual(Set([try n("1.0"), try n("1")]).count, 1)
    }

    func testRangeLimitsAreDynamoDBs() throws {
        XCTAssertNoThrow(try n("9.9999999999999999999999999999999999999E+125"))
        XCTAssertNoThrow(try n("1E-130"))
        XCTAssertNoThrow(try n("-1E-130"))
        XCTAssertThrowsError(try n("1E+126")) {
            XCTAssertEqual("\($0)", "Number overflow. Attempting to store a number with magnitude larger than supported range")
        }
        XCTAssertThrowsError(try n("1E-131")) {
            XCTAssertEqual("\($0)", "Number underflow. Attempting to store a number with magnitude smaller than supported range")
        }
        XCTAssertThrowsError(try n("123456789012345678901234567890123456789")) {
            XCTAssertEqual("\($0)", "Attempting to store more than 38 significant digits in a Number")
        }
        // Zeros are not significant digits: these are fine.
        XCTAssertNoThrow(try n("0000000000000000000000000000000000000000001"))
        XCTAssertNoThrow(try n("1.0000000000000000000000000000000000000000"))
    }

    func testTextThatIsNotANumberIsRefused() {
        for bad in ["", "-", "abc", "1.2.3", "1e", "1e+", "NaN", "Infinity", "0x10", " 1", "1 ", "--1", "."] {
            XCTAssertThrowsError(try n(bad), bad) {
                XCTAssertEqual("\($0)", "The parameter cannot be converted to a numeric value: \(bad)")
            }
        }
    }

    func testOrderIsNumeric() throws {
        let sorted = ["-1E+100", "-100", "-99.9", "-1", "-0.5", "-1E-130", "0", "1E-130", "0.5", "0.51", "1", "9", "10", "99.99", "100", "1E+125"]
        let numbers = try sorted.map(n)
        XCTAssertEqual(numbers.shuffled().sorted(), numbers)
        XCTAssertLessThan(try n("1.2"), try n("1.23"))
        XCTAssertGreaterThan(try n("-1.2"), try n("-1.23"))
    }

    func testAdditionAndSubtractionAreExact() throws {
        XCTAssertEqual(try n("0.1").adding(n("0.2")).description, "0.3")
        XCTAssertEqual(try n("1").subtracting(n("0.001")).description, "0.999")
        XCTAssertEqual(try n("-5").adding(n("3")).description, "-2")
        XCTAssertEqual(try n("5").adding(n("-5")).description, "0")
        XCTAssertEqual(try n("99999999999999999999999999999999999999").subtracting(n("1")).description,
                       "99999999999999999999999999999999999998")
        XCTAssertEqual(try n("1E+125").adding(n("1E+125")).description, "2" + String(repeating: "0", count: 125))
        XCTAssertThrowsError(try n("99999999999999999999999999999999999999").adding(n("0.1"))) {
            XCTAssertEqual("\($0)", "Attempting to store more than 38 significant digits in a Number")
        }
        XCTAssertThrowsError(try n("9.9999999999999999999999999999999999999E+125").adding(n("9E+125"))) {
            XCTAssertEqual("\($0)", "Number overflow. Attempting to store a number with magnitude larger than supported range")
        }
    }

    /// The 128-bit fast path of `adding` against exact integer arithmetic, at several
    /// scales and signs (the digit-array path covers what does not fit).
    func testAdditionMatchesIntegerArithmeticAtEveryScale() throws {
        var seed: UInt64 = 99
        func next() -> Int64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int64(bitPattern: seed >> 1) % 1_000_000_000_000
        }
        for _ in 0..<2000 {
            let x = next(), y = next()
            let sx = Int(next() % 5), sy = Int(next() % 5)   // decimal places
            let a = try DynamoNumber("\(x)E-\(sx)"), b = try DynamoNumber("\(y)E-\(sy)")
            // Both as integers at the finer scale.
            let scale = max(sx, sy)
            var ix = x, iy = y
            for _ in 0..<(scale - sx) { ix *= 10 }
            for _ in 0..<(scale - sy) { iy *= 10 }
            XCTAssertEqual(try a.adding(b), try DynamoNumber("\(ix + iy)E-\(scale)"), "\(a) + \(b)")
            XCTAssertEqual(try a.subtracting(b), try DynamoNumber("\(ix - iy)E-\(scale)"), "\(a) - \(b)")
            XCTAssertEqual(a < b, ix < iy, "\(a) < \(b)")
        }
    }

    func testStorageSizeIsOneBytePerTwoDigitsPlusOne() throws {
        XCTAssertEqual(try n("0").storageSize, 1)
        XCTAssertEqual(try n("7").storageSize, 2)
        XCTAssertEqual(try n("12").storageSize, 2)
        XCTAssertEqual(try n("123").storageSize, 3)
        XCTAssertEqual(try n("1000000").storageSize, 2)   // trailing zeros are trimmed
        XCTAssertEqual(try n("12345678901234567890123456789012345678").storageSize, 20)
    }
}
