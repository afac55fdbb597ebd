import FerryTable
import FerryTableService
import FerryValues
import XCTest

/// A test over one `DynamoDBService`: requests as JSON text, and refusals checked by
/// their exact message (and type, when given).
protocol ServiceTestCase: XCTestCase {
    var service: DynamoDBService! { get }
}

extension ServiceTestCase {
    @discardableResult
    func call(_ operation: String, _ json: String) throws -> JSONValue {
        try service.call(operation, try JSONValue.parse(json))
    }

    func refused(_ operation: String, _ json: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try call(operation, json), file: file, line: line) { error in
            XCTAssertEqual((error as? DynamoDBError)?.message, message, file: file, line: line)
        }
    }

    func refused(_ operation: String, _ json: String, _ kind: DynamoDBError.Kind, _ message: String,
                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try call(operation, json), file: file, line: line) { error in
            XCTAssertEqual((error as? DynamoDBError)?.kind, kind, file: file, line: line)
            XCTAssertEqual((error as? DynamoDBError)?.message, message, file: file, line: line)
        }
    }
}
