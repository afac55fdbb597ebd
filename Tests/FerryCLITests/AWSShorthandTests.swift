@testable import FerryCLI
import FerryValues
import XCTest

final class AWSShorthandTests: XCTestCase {
    private func json(_ text: String) throws -> String { try AWSShorthand.parse(text).jsonText }

    func testKeyValuePairsBecomeAnObjectOfStrings() throws {
        XCTAssertEqual(try json("AttributeName=Artist,KeyType=HASH"), #"{"AttributeName":"Artist","KeyType":"HASH"}"#)
        XCTAssertEqual(try json("ReadCapacityUnits=10, WriteCapacityUnits=5"), #"{"ReadCapacityUnits":"10","WriteCapacityUnits":"5"}"#)
    }

    func testNestedListsHashesAndBareLists() throws {
        XCTAssertEqual(try json("IndexName=A,KeySchema=[{AttributeName=x,KeyType=HASH}],Projection={ProjectionType=INCLUDE,NonKeyAttributes=[a,b]}"),
                       #"{"IndexName":"A","KeySchema":[{"AttributeName":"x","KeyType":"HASH"}],"Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["a","b"]}}"#)
        XCTAssertEqual(try json("Names=a,b,c,Other=d"), #"{"Names":["a","b","c"],"Other":"d"}"#)
        XCTAssertEqual(try json("Empty=[]"), #"{"Empty":[]}"#)
    }

    func testQuotesAndEscapesKeepSpecialCharacters() throws {
        XCTAssertEqual(try json(#"Artist={S="No One, You Know"}"#), #"{"Artist":{"S":"No One, You Know"}}"#)
        XCTAssertEqual(try json(#"k='a=b',v=c\,d"#), #"{"k":"a=b","v":"c,d"}"#)
    }

    func testMalformedShorthandIsRefusedWithThePosition() {
        XCTAssertThrowsError(try AWSShorthand.parse("AttributeName")) { XCTAssertTrue("\($0)".contains("expected '=' after AttributeName"), "\($0)") }
        XCTAssertThrowsError(try AWSShorthand.parse("a={b=c")) { XCTAssertTrue("\($0)".contains("expected '}'"), "\($0)") }
    }

    func testListOptionsTakeEveryValueUpToTheNextOption() throws {
        let spec = CommandSpec(name: "t", summary: "", usage: "", options: [
            OptionSpec("--key-schema", value: "<v>", help: "", takesMany: true), OptionSpec("--table-name", value: "<v>", help: "")])
        let args = try ParsedArguments.parse(["--key-schema", "A=1", "B=2", "--table-name", "T"], spec: spec)
        XCTAssertEqual(args.values("--key-schema"), ["A=1", "B=2"])
        XCTAssertEqual(args.value("--table-name"), "T")
    }
}
