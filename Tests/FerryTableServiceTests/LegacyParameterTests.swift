import FerryTable
import FerryTableService
import FerryTestSupport
import FerryValues
import XCTest

/// DynamoDB's legacy (non-expression) members through the JSON API: each
/// ComparisonOperator and Action, each operation, and DynamoDB's messages
/// (docs/legacy-parameters.md).
final class LegacyParameterTests: XCTestCase {
    private var service: DynamoDBService!

    override func setUpWithError() throws {
        let catalog = try TableCatalog(dataFolder: try TestSupport.temporaryFolder().path)
        service = DynamoDBService(catalog: catalog, program: "test")
        try call("CreateTable", """
        {"TableName":"Things","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}
        """)
        try call("CreateTable", """
        {"TableName":"Music","AttributeDefinitions":[{"AttributeName":"Artist","AttributeType":"S"},{"AttributeName":"SongTitle","AttributeType":"S"},
          {"AttributeName":"Genre","AttributeType":"S"},{"AttributeName":"Year","AttributeType":"N"}],
         "KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"},{"AttributeName":"SongTitle","KeyType":"RANGE"}],
         "GlobalSecondaryIndexes":[{"IndexName":"ByGenre","KeySchema":[{"AttributeName":"Genre","KeyType":"HASH"},{"AttributeName":"Year","KeyType":"RANGE"}],
          "Projection":{"ProjectionType":"ALL"}}],
         "BillingMode":"PAY_PER_REQUEST"}
        """)
        // "hi there" and "here" and "hi", base64.
        try call("PutItem", """
        {"TableName":"Things","Item":{"k":{"S":"a"},"s":{"S":"hello"},"n":{"N":"5"},"b":{"B":"aGkgdGhlcmU="},"ss":{"SS":["x","y"]},
         "ns":{"NS":["1","2"]},"l":{"L":[{"S":"x"},{"N":"1"}]},"nul":{"NULL":true},"m":{"M":{"in":{"S":"v"}}}}}
        """)
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"b"},"s":{"S":"world"},"n":{"N":"10"}}}"#)
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"c"}}}"#)
        for (title, year, genre) in [("Alpha", 1999, "Rock"), ("Beta", 2001, "Rock"), ("Gamma", 2005, "Jazz"), ("Delta", 2010, "Rock")] {
            try call("PutItem", """
            {"TableName":"Music","Item":{"Artist":{"S":"Band"},"SongTitle":{"S":"\(title)"},"Year":{"N":"\(year)"},"Genre":{"S":"\(genre)"}}}
            """)
        }
    }

    @discardableResult
    private func call(_ operation: String, _ json: String) throws -> JSONValue {
        try service.call(operation, try JSONValue.parse(json))
    }

    private func fails(_ operation: String, _ json: String, _ message: String, kind: DynamoDBError.Kind = .validation,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try call(operation, json), file: file, line: line) { error in
            guard let e = error as? DynamoDBError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, file: file, line: line)
            XCTAssertEqual(e.message, message, file: file, line: line)
        }
    }

    /// The sorted values of string attribute `attribute` of a response's items.
    private func values(_ response: JSONValue, _ attribute: String = "k") -> [String] {
        (response["Items"]?.arrayValue ?? []).compactMap { $0[attribute]?["S"]?.stringValue }.sorted()
    }

    private func scanKeys(_ filter: String, _ extra: String = "", file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do { return values(try call("Scan", #"{"TableName":"Things","ScanFilter":\#(filter)\#(extra)}"#)) } catch {
            XCTFail("\(error)", file: file, line: line)
            return []
        }
    }

    private func item(_ table: String, _ key: String) throws -> JSONValue? {
        try call("GetItem", #"{"TableName":"\#(table)","Key":\#(key)}"#)["Item"]
    }

    private let invalid = "One or more parameter values were invalid: "

    // MARK: ComparisonOperators

    func testEachComparisonOperatorSelectsWhatDynamoDBDoes() {
        func filter(_ attribute: String, _ op: String, _ values: String = "") -> String {
            #"{"\#(attribute)":{"ComparisonOperator":"\#(op)"\#(values.isEmpty ? "" : ",\"AttributeValueList\":[\(values)]")}}"#
        }
        let cases: [(String, [String])] = [
            (filter("s", "EQ", #"{"S":"hello"}"#), ["a"]),
            (filter("ss", "EQ", #"{"SS":["y","x"]}"#), ["a"]),                 // sets equal in any order
            (filter("l", "EQ", #"{"L":[{"S":"x"},{"N":"1"}]}"#), ["a"]),        // EQ takes lists too
            (filter("s", "NE", #"{"S":"hello"}"#), ["b", "c"]),                // a missing attribute is not equal
            (filter("n", "NE", #"{"S":"5"}"#), ["a", "b", "c"]),               // nor is another type
            (filter("n", "LE", #"{"N":"5"}"#), ["a"]),
            (filter("n", "LT", #"{"N":"10"}"#), ["a"]),
            (filter("n", "GE", #"{"N":"5"}"#), ["a", "b"]),
            (filter("n", "GT", #"{"N":"5"}"#), ["b"]),
            (filter("s", "GT", #"{"N":"5"}"#), []),                             // other types do not compare
            (filter("s", "NOT_NULL"), ["a", "b"]),
            (filter("s", "NULL"), ["c"]),
            (filter("nul", "NULL"), ["b", "c"]),                               // a NULL value exists
            (filter("nul", "NOT_NULL"), ["a"]),
            (filter("s", "CONTAINS", #"{"S":"ell"}"#), ["a"]),
            (filter("b", "CONTAINS", #"{"B":"aGVyZQ=="}"#), ["a"]),            // binary subsequence "here"
            (filter("ss", "CONTAINS", #"{"S":"x"}"#), ["a"]),
            (filter("ns", "CONTAINS", #"{"N":"2"}"#), ["a"]),
            (filter("l", "CONTAINS", #"{"N":"1"}"#), ["a"]),
            (filter("s", "CONTAINS", #"{"N":"1"}"#), []),
            (filter("s", "NOT_CONTAINS", #"{"S":"ell"}"#), ["b"]),             // false on a missing attribute
            (filter("s", "NOT_CONTAINS", #"{"N":"1"}"#), ["a", "b"]),          // true on another type
            (filter("ss", "NOT_CONTAINS", #"{"S":"z"}"#), ["a"]),
            (filter("s", "BEGINS_WITH", #"{"S":"he"}"#), ["a"]),
            (filter("b", "BEGINS_WITH", #"{"B":"aGk="}"#), ["a"]),
            (filter("n", "BEGINS_WITH", #"{"S":"5"}"#), []),
            (filter("s", "IN", #"{"S":"hello"},{"S":"world"}"#), ["a", "b"]),
            (filter("n", "IN", #"{"N":"10"},{"N":"11"}"#), ["b"]),
            (filter("ns", "IN", #"{"N":"1"},{"N":"2"}"#), []),                 // IN does not look inside sets
            (filter("n", "BETWEEN", #"{"N":"5"},{"N":"9"}"#), ["a"]),
            (filter("s", "BETWEEN", #"{"S":"a"},{"S":"z"}"#), ["a", "b"]),
        ]
        for (filter, expected) in cases {
            XCTAssertEqual(scanKeys(filter), expected, filter)
        }
    }

    func testInTakesMoreThanTheHundredValuesOfAnExpressionIn() {
        let many = (0..<150).map { #"{"N":"\#($0 + 100)"}"# } + [#"{"N":"10"}"#]
        XCTAssertEqual(scanKeys(#"{"n":{"ComparisonOperator":"IN","AttributeValueList":[\#(many.joined(separator: ","))]}}"#), ["b"])
    }

    func testAFilterLongerThanTheExpressionTextLimitStillRuns() {
        // 300 conditions write far more than 4096 bytes of expression text.
        let conditions = (0..<300).map { #""x\#($0)":{"ComparisonOperator":"NULL"}"# }.joined(separator: ",")
        XCTAssertEqual(scanKeys("{\(conditions)}"), ["a", "b", "c"])
    }

    func testConditionalOperatorJoinsFilterConditionsWithAndOrOr() {
        let two = #"{"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"hello"}]},"n":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"10"}]}}"#
        XCTAssertEqual(scanKeys(two), [])
        XCTAssertEqual(scanKeys(two, #","ConditionalOperator":"AND""#), [])
        XCTAssertEqual(scanKeys(two, #","ConditionalOperator":"OR""#), ["a", "b"])
    }

    func testComparisonOperatorArgumentsAreCheckedWithDynamoDBsMessages() {
        let counts: [(String, String)] = [
            ("EQ", ""), ("EQ", #"{"S":"a"},{"S":"a"}"#), ("NE", ""), ("LE", ""), ("LT", ""), ("GE", ""), ("GT", ""),
            ("CONTAINS", ""), ("NOT_CONTAINS", ""), ("BEGINS_WITH", ""), ("IN", ""), ("BETWEEN", #"{"S":"a"}"#),
            ("BETWEEN", #"{"S":"a"},{"S":"b"},{"S":"c"}"#), ("NULL", #"{"S":"a"}"#), ("NOT_NULL", #"{"S":"a"}"#),
        ]
        for (op, list) in counts {
            fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"\#(op)","AttributeValueList":[\#(list)]}}}"#,
                  invalid + "Invalid number of argument(s) for the \(op) ComparisonOperator")
        }
        // An absent AttributeValueList counts as none.
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"EQ"}}}"#,
              invalid + "Invalid number of argument(s) for the EQ ComparisonOperator")
        let types: [(String, String, String)] = [
            ("LT", #"{"BOOL":true}"#, "BOOL"), ("LE", #"{"SS":["a"]}"#, "SS"), ("GT", #"{"L":[]}"#, "L"), ("GE", #"{"M":{}}"#, "M"),
            ("IN", #"{"NULL":true}"#, "NULL"), ("BETWEEN", #"{"NS":["1"]},{"NS":["2"]}"#, "NS"),
            ("BEGINS_WITH", #"{"N":"1"}"#, "N"), ("CONTAINS", #"{"SS":["a"]}"#, "SS"), ("NOT_CONTAINS", #"{"L":[]}"#, "L"),
        ]
        for (op, list, type) in types {
            fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"\#(op)","AttributeValueList":[\#(list)]}}}"#,
                  invalid + "ComparisonOperator \(op) is not valid for \(type) AttributeValue type")
        }
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"IN","AttributeValueList":[{"S":"a"},{"N":"1"}]}}}"#,
              invalid + "AttributeValues inside AttributeValueList must be of same type")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"10"},{"N":"9"}]}}}"#,
              "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"LIKE","AttributeValueList":[{"S":"a"}]}}}"#,
              "1 validation error detected: Value 'LIKE' at 'scanFilter.s.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"AttributeValueList":[{"S":"a"}]}}}"#,
              "1 validation error detected: Value null at 'scanFilter.s.member.comparisonOperator' failed to satisfy constraint: Member must not be null")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"x"}]}}}"#,
              "The parameter cannot be converted to a numeric value: x")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}],"Bogus":1}}}"#,
              "Unknown request member Bogus for scanFilter.s (Ferry refuses members DynamoDB's API does not define)")
    }

    func testConditionalOperatorNeedsTwoOrMoreConditions() {
        fails("Scan", #"{"TableName":"Things","ConditionalOperator":"OR"}"#, "ConditionalOperator cannot be used without Filter or Expected")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{},"ConditionalOperator":"AND"}"#, "ConditionalOperator cannot be used without Filter or Expected")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"NULL"}},"ConditionalOperator":"OR"}"#,
              "ConditionalOperator can only be used when Filter or Expected has two or more elements")
        fails("Scan", #"{"TableName":"Things","ScanFilter":{"s":{"ComparisonOperator":"NULL"},"n":{"ComparisonOperator":"NULL"}},"ConditionalOperator":"XOR"}"#,
              "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]")
        // Checked before the missing key condition, as DynamoDB does.
        fails("Query", #"{"TableName":"Music","ConditionalOperator":"AND"}"#, "ConditionalOperator cannot be used without Filter or Expected")
        fails("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"z"}},"ConditionalOperator":"AND"}"#, "ConditionalOperator cannot be used without Filter or Expected")
        fails("DeleteItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"Expected":{"s":{"Exists":false}},"ConditionalOperator":"AND"}"#,
              "ConditionalOperator can only be used when Filter or Expected has two or more elements")
        fails("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributeUpdates":{"z":{"Value":{"N":"1"}}},"ConditionalOperator":"OR"}"#,
              "ConditionalOperator cannot be used without Filter or Expected")
    }

    // MARK: Expected

    func testExpectedConditionsPutItemOnItsFourForms() throws {
        // Exists: false
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"}},"Expected":{"k":{"Exists":false}}}"#)
        fails("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"}},"Expected":{"k":{"Exists":false}}}"#,
              "The conditional request failed", kind: .conditionalCheckFailed)
        // Value alone, and with Exists: true, is equality.
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"},"v":{"N":"1"}},"Expected":{"k":{"Value":{"S":"new"}}}}"#)
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"},"v":{"N":"2"}},"Expected":{"v":{"Value":{"N":"1"},"Exists":true}}}"#)
        fails("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"}},"Expected":{"v":{"Value":{"N":"1"}}}}"#,
              "The conditional request failed", kind: .conditionalCheckFailed)
        fails("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"}},"Expected":{"missing":{"Value":{"N":"1"}}}}"#,
              "The conditional request failed", kind: .conditionalCheckFailed)
        // A ComparisonOperator takes a Value as its one argument, or an AttributeValueList.
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"},"v":{"N":"3"}},"Expected":{"v":{"ComparisonOperator":"GT","Value":{"N":"1"}}}}"#)
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"},"v":{"N":"4"}},"Expected":{"v":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"3"},{"N":"3"}]}}}"#)
        XCTAssertEqual(try item("Things", #"{"k":{"S":"new"}}"#)?["v"]?["N"]?.stringValue, "4")
        // An empty Expected asks nothing.
        try call("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"new"},"v":{"N":"5"}},"Expected":{}}"#)
    }

    func testExpectedJoinsWithConditionalOperatorOnDeleteAndUpdate() throws {
        let either = #""Expected":{"s":{"Value":{"S":"nope"}},"n":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"6"}]}}"#
        fails("DeleteItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},\#(either)}"#, "The conditional request failed", kind: .conditionalCheckFailed)
        fails("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributeUpdates":{"z":{"Value":{"N":"1"}}},\#(either),"ConditionalOperator":"AND"}"#,
              "The conditional request failed", kind: .conditionalCheckFailed)
        try call("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributeUpdates":{"z":{"Value":{"N":"1"}}},\#(either),"ConditionalOperator":"OR"}"#)
        XCTAssertEqual(try item("Things", #"{"k":{"S":"a"}}"#)?["z"]?["N"]?.stringValue, "1")
        let response = try call("DeleteItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},\#(either),"ConditionalOperator":"OR","ReturnValues":"ALL_OLD"}"#)
        XCTAssertEqual(response["Attributes"]?["s"]?["S"]?.stringValue, "hello")
        XCTAssertNil(try item("Things", #"{"k":{"S":"a"}}"#))
    }

    func testExpectedEntriesAreCheckedWithDynamoDBsMessagesInItsOrder() {
        func put(_ expected: String) -> String { #"{"TableName":"Things","Item":{"k":{"S":"z"}},"Expected":{"a":\#(expected)}}"# }
        let cases: [(String, String)] = [
            (#"{"Exists":true}"#, "Value must be provided when Exists is true for Attribute: a"),
            (#"{}"#, "Value must be provided when Exists is null for Attribute: a"),
            (#"{"Exists":false,"Value":{"S":"x"}}"#, "Value cannot be used when Exists is false for Attribute: a"),
            (#"{"Exists":false,"ComparisonOperator":"NULL"}"#, "Exists and ComparisonOperator cannot be used together for Attribute: a"),
            (#"{"Value":{"S":"x"},"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]}"#, "Value and AttributeValueList cannot be used together for Attribute: a"),
            (#"{"AttributeValueList":[{"S":"x"}]}"#, "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
            (#"{"ComparisonOperator":"LT"}"#, "Value or AttributeValueList must be used with ComparisonOperator: LT for Attribute: a"),
            (#"{"ComparisonOperator":"EQ","AttributeValueList":[]}"#, "Invalid number of argument(s) for the EQ ComparisonOperator"),
            (#"{"ComparisonOperator":"NULL","Value":{"S":"x"}}"#, "Invalid number of argument(s) for the NULL ComparisonOperator"),
            (#"{"ComparisonOperator":"BEGINS_WITH","Value":{"N":"1"}}"#, "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
        ]
        for (expected, message) in cases {
            fails("PutItem", put(expected), invalid + message)
        }
        fails("PutItem", put(#"{"ComparisonOperator":"SOME","Value":{"S":"x"}}"#),
              "1 validation error detected: Value 'SOME' at 'expected.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
        fails("PutItem", put(#"{"Value":{"S":"x","N":"1"}}"#),
              "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
        // The write did not happen.
        XCTAssertNil(try item("Things", #"{"k":{"S":"z"}}"#))
    }

    func testExpectedBesideConditionExpressionGetsDynamoDBsMixingRefusal() {
        fails("PutItem", #"{"TableName":"Things","Item":{"k":{"S":"z"}},"Expected":{"k":{"Exists":false}},"ConditionalOperator":"AND","ConditionExpression":"attribute_not_exists(k)"}"#,
              "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected, ConditionalOperator} Expression parameters: {ConditionExpression}")
        fails("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributeUpdates":{"z":{"Value":{"N":"1"}}},"UpdateExpression":"SET y = :y","ExpressionAttributeValues":{":y":{"N":"1"}}}"#,
              "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}")
        fails("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributeUpdates":{"z":{"Value":{"N":"1"}}},"Expected":{"z":{"Exists":false}},"ConditionalOperator":"AND","ConditionExpression":"attribute_exists(k)"}"#,
              "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected, ConditionalOperator} Expression parameters: {ConditionExpression}")
        fails("GetItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributesToGet":["s"],"ProjectionExpression":"n"}"#,
              "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
        fails("Query", #"{"TableName":"Music","KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}},"KeyConditionExpression":"Artist = :a","ExpressionAttributeValues":{":a":{"S":"Band"}}}"#,
              "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}")
    }

    // MARK: AttributeUpdates

    func testEachAttributeUpdatesActionChangesTheItemAsDynamoDBDoes() throws {
        let response = try call("UpdateItem", """
        {"TableName":"Things","Key":{"k":{"S":"a"}},"ReturnValues":"UPDATED_NEW","AttributeUpdates":{
          "s":{"Value":{"S":"put"}},
          "n":{"Action":"ADD","Value":{"N":"-2"}},
          "count":{"Action":"ADD","Value":{"N":"7"}},
          "ss":{"Action":"ADD","Value":{"SS":["y","z"]}},
          "ns":{"Action":"DELETE","Value":{"NS":["1","2"]}},
          "l":{"Action":"ADD","Value":{"L":[{"S":"more"}]}},
          "fresh":{"Action":"ADD","Value":{"L":[{"N":"1"}]}},
          "m":{"Action":"DELETE"},
          "gone":{"Action":"DELETE"},
          "goneSet":{"Action":"DELETE","Value":{"SS":["q"]}}}}
        """)
        let item = try XCTUnwrap(try item("Things", #"{"k":{"S":"a"}}"#))
        XCTAssertEqual(item["s"]?["S"]?.stringValue, "put")                      // PUT (the default) replaces
        XCTAssertEqual(item["n"]?["N"]?.stringValue, "3")                        // ADD adds to a number
        XCTAssertEqual(item["count"]?["N"]?.stringValue, "7")                    // ... counting a missing one from 0
        XCTAssertEqual(item["ss"]?["SS"]?.arrayValue?.compactMap(\.stringValue).sorted(), ["x", "y", "z"])
        XCTAssertNil(item["ns"])                                                 // DELETE of every member removes the set
        XCTAssertEqual(item["l"]?["L"]?.arrayValue?.count, 3)                    // ADD appends to a list
        XCTAssertEqual(item["fresh"]?["L"]?.arrayValue?.count, 1)                // ... or starts one
        XCTAssertNil(item["m"])                                                  // DELETE without a value removes
        XCTAssertEqual(response["Attributes"]?["s"]?["S"]?.stringValue, "put")
        XCTAssertEqual(response["Attributes"]?["count"]?["N"]?.stringValue, "7")
        XCTAssertNil(response["Attributes"]?["k"])
    }

    func testAttributeUpdatesCreateAnAbsentItem() throws {
        try call("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"made"}},"AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"1"}},"d":{"Action":"DELETE"}}}"#)
        XCTAssertEqual(try item("Things", #"{"k":{"S":"made"}}"#)?["n"]?["N"]?.stringValue, "1")
        // An empty AttributeUpdates changes nothing but makes sure the item exists.
        try call("UpdateItem", #"{"TableName":"Things","Key":{"k":{"S":"bare"}},"AttributeUpdates":{}}"#)
        XCTAssertNotNil(try item("Things", #"{"k":{"S":"bare"}}"#))
    }

    func testAttributeUpdatesAreCheckedWithDynamoDBsMessages() {
        func update(_ updates: String) -> String { #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributeUpdates":\#(updates)}"# }
        fails("UpdateItem", update(#"{"z":{"Action":"MERGE","Value":{"N":"1"}}}"#),
              "1 validation error detected: Value 'MERGE' at 'attributeUpdates.z.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, DELETE, PUT]")
        fails("UpdateItem", update(#"{"z":{"Action":"PUT"}}"#), invalid + "Only DELETE action is allowed when no attribute value is specified")
        fails("UpdateItem", update(#"{"z":{}}"#), invalid + "Only DELETE action is allowed when no attribute value is specified")
        for type in [#"{"S":"x"}"#: "S", #"{"N":"1"}"#: "N", #"{"L":[]}"#: "L", #"{"BOOL":true}"#: "BOOL"] {
            fails("UpdateItem", update(#"{"z":{"Action":"DELETE","Value":\#(type.key)}}"#),
                  invalid + "DELETE action with value is not supported for the type \(type.value)")
        }
        for type in [#"{"S":"x"}"#: "S", #"{"B":"YQ=="}"#: "B", #"{"M":{}}"#: "M", #"{"NULL":true}"#: "NULL"] {
            fails("UpdateItem", update(#"{"z":{"Action":"ADD","Value":\#(type.key)}}"#),
                  invalid + "ADD action is not supported for the type \(type.value)")
        }
        fails("UpdateItem", update(#"{"k":{"Value":{"S":"b"}}}"#), invalid + "Cannot update attribute k. This attribute is part of the key")
        fails("UpdateItem", update(#"{"k":{"Action":"DELETE"}}"#), invalid + "Cannot update attribute k. This attribute is part of the key")
        // Wrong types for the current item, found when the update is applied.
        fails("UpdateItem", update(#"{"s":{"Action":"ADD","Value":{"N":"1"}}}"#), "Type mismatch for attribute to update")
        fails("UpdateItem", update(#"{"ss":{"Action":"DELETE","Value":{"NS":["1"]}}}"#), "Type mismatch for attribute to update")
        fails("UpdateItem", update(#"{"n":{"Action":"ADD","Value":{"L":[{"N":"1"}]}}}"#), "Type mismatch for attribute to update")
        fails("UpdateItem", update(#"{"ns":{"Action":"ADD","Value":{"SS":["1"]}}}"#), "Type mismatch for attribute to update")
        XCTAssertEqual((try? item("Things", #"{"k":{"S":"a"}}"#))??["s"]?["S"]?.stringValue, "hello")
    }

    // MARK: AttributesToGet

    func testAttributesToGetProjectsGetItemBatchGetItemQueryAndScan() throws {
        let got = try XCTUnwrap(try call("GetItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributesToGet":["s","missing","a.b"]}"#)["Item"])
        XCTAssertEqual(got.objectValue?.map(\.key), ["s"])
        let batch = try call("BatchGetItem", #"{"RequestItems":{"Things":{"Keys":[{"k":{"S":"a"}},{"k":{"S":"b"}}],"AttributesToGet":["n"]}}}"#)
        XCTAssertEqual(batch["Responses"]?["Things"]?.arrayValue?.map { $0.objectValue?.map(\.key) ?? [] }, [["n"], ["n"]])
        let scan = try call("Scan", #"{"TableName":"Things","AttributesToGet":["k"],"Select":"SPECIFIC_ATTRIBUTES"}"#)
        XCTAssertEqual(values(scan), ["a", "b", "c"])
        XCTAssertEqual(scan["Items"]?.arrayValue?.allSatisfy { $0.objectValue?.count == 1 }, true)
        let query = try call("Query", #"{"TableName":"Music","KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}},"AttributesToGet":["Year"]}"#)
        XCTAssertEqual(query["Items"]?.arrayValue?.map { $0.objectValue?.map(\.key) ?? [] }, [["Year"], ["Year"], ["Year"], ["Year"]])
    }

    func testAttributesToGetIsCheckedWithDynamoDBsMessages() {
        fails("GetItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributesToGet":["s","s"]}"#, invalid + "Duplicate value in attribute name: s")
        fails("GetItem", #"{"TableName":"Things","Key":{"k":{"S":"a"}},"AttributesToGet":[]}"#,
              "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
        fails("BatchGetItem", #"{"RequestItems":{"Things":{"Keys":[{"k":{"S":"a"}}],"AttributesToGet":[]}}}"#,
              "1 validation error detected: Value '[]' at 'requestItems.Things.member.attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
        fails("Scan", #"{"TableName":"Things","AttributesToGet":["s"],"Select":"COUNT"}"#, "Cannot specify the AttributesToGet when choosing to get only the Count")
        fails("Scan", #"{"TableName":"Things","AttributesToGet":["s"],"Select":"ALL_ATTRIBUTES"}"#, "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
        let key = #""KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}}"#
        fails("Query", #"{"TableName":"Music",\#(key),"AttributesToGet":["Year"],"Select":"ALL_PROJECTED_ATTRIBUTES","IndexName":"ByGenre"}"#,
              "1 validation error detected: Cannot specify the AttributesToGet when choosing to get ALL_PROJECTED_ATTRIBUTES")
        fails("Query", #"{"TableName":"Music",\#(key),"Select":"SPECIFIC_ATTRIBUTES"}"#,
              "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
        fails("Scan", #"{"TableName":"Things","Select":"SPECIFIC_ATTRIBUTES"}"#,
              "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
    }

    // MARK: KeyConditions and QueryFilter

    func testKeyConditionsTakeEachSortKeyOperator() throws {
        func titles(_ sort: String, index: String = "") throws -> [String] {
            let partition = index.isEmpty ? #""Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}"#
                                          : #""Genre":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Rock"}]}"#
            let conditions = sort.isEmpty ? partition : partition + "," + sort
            return values(try call("Query", #"{"TableName":"Music"\#(index),"KeyConditions":{\#(conditions)}}"#), "SongTitle")
        }
        func title(_ op: String, _ list: String) -> String { #""SongTitle":{"ComparisonOperator":"\#(op)","AttributeValueList":[\#(list)]}"# }
        XCTAssertEqual(try titles(""), ["Alpha", "Beta", "Delta", "Gamma"])
        XCTAssertEqual(try titles(title("EQ", #"{"S":"Beta"}"#)), ["Beta"])
        XCTAssertEqual(try titles(title("LT", #"{"S":"Beta"}"#)), ["Alpha"])
        XCTAssertEqual(try titles(title("LE", #"{"S":"Beta"}"#)), ["Alpha", "Beta"])
        XCTAssertEqual(try titles(title("GT", #"{"S":"Delta"}"#)), ["Gamma"])
        XCTAssertEqual(try titles(title("GE", #"{"S":"Delta"}"#)), ["Delta", "Gamma"])
        XCTAssertEqual(try titles(title("BEGINS_WITH", #"{"S":"Ga"}"#)), ["Gamma"])
        XCTAssertEqual(try titles(title("BETWEEN", #"{"S":"B"},{"S":"E"}"#)), ["Beta", "Delta"])
        let year = #""Year":{"ComparisonOperator":"GE","AttributeValueList":[{"N":"2001"}]}"#
        XCTAssertEqual(try titles(year, index: #","IndexName":"ByGenre""#), ["Beta", "Delta"])
        // Descending, with a page limit.
        let page = try call("Query", #"{"TableName":"Music","ScanIndexForward":false,"Limit":1,"KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}}}"#)
        XCTAssertEqual(values(page, "SongTitle"), ["Gamma"])
        XCTAssertNotNil(page["LastEvaluatedKey"])
    }

    func testKeyConditionsAreCheckedAgainstTheKeySchemaWithDynamoDBsMessages() {
        func query(_ conditions: String, table: String = "Music") -> String { #"{"TableName":"\#(table)","KeyConditions":{\#(conditions)}}"# }
        let band = #""Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}"#
        fails("Query", query(""), "Conditions can be of length 1 or 2 only")
        fails("Query", query(band + #","SongTitle":{"ComparisonOperator":"NOT_NULL"},"Year":{"ComparisonOperator":"NULL"}"#),
              "Conditions can be of length 1 or 2 only")
        fails("Query", query(#""k":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]},"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}"#, table: "Things"),
              "Query key condition not supported")
        fails("Query", query(#""k":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"a"}]}"#, table: "Things"),
              "Query key condition not supported")
        fails("Query", query(#""SongTitle":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Beta"}]}"#),
              "Query condition missed key schema element: Artist")
        fails("Query", query(band + #","Genre":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Rock"}]}"#),
              "Query condition missed key schema element: SongTitle")
        for op in [#""ComparisonOperator":"NULL""#, #""ComparisonOperator":"NE","AttributeValueList":[{"S":"a"}]"#,
                   #""ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"a"}]"#, #""ComparisonOperator":"IN","AttributeValueList":[{"S":"a"}]"#] {
            fails("Query", query(band + #","SongTitle":{\#(op)}"#), "Attempted conditional constraint is not an indexable operation")
        }
        fails("Query", query(#""Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]}"#),
              invalid + "Condition parameter type does not match schema type")
        fails("Query", query(#""Artist":{"ComparisonOperator":"EQ"}"#), invalid + "Invalid number of argument(s) for the EQ ComparisonOperator")
        fails("Query", #"{"TableName":"Music","IndexName":"Nope","KeyConditions":{\#(band)}}"#, "The table does not have the specified index: Nope")
        fails("Query", #"{"TableName":"Gone","KeyConditions":{\#(band)}}"#, "Requested resource not found: Table: Gone not found", kind: .resourceNotFound)
    }

    func testQueryFilterFiltersAfterTheKeyConditionsAndRefusesKeyAttributes() throws {
        let band = #""KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}}"#
        let filtered = try call("Query", #"{"TableName":"Music",\#(band),"QueryFilter":{"Genre":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Rock"}]},"Year":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"2000"}]}}}"#)
        XCTAssertEqual(values(filtered, "SongTitle"), ["Beta", "Delta"])
        XCTAssertEqual(filtered["ScannedCount"]?.numberText, "4")
        let either = try call("Query", #"{"TableName":"Music",\#(band),"ConditionalOperator":"OR","QueryFilter":{"Genre":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Jazz"}]},"Year":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"2000"}]}}}"#)
        XCTAssertEqual(values(either, "SongTitle"), ["Alpha", "Gamma"])
        fails("Query", #"{"TableName":"Music",\#(band),"QueryFilter":{"SongTitle":{"ComparisonOperator":"NOT_NULL"},"Artist":{"ComparisonOperator":"NOT_NULL"}}}"#,
              "QueryFilter can only contain non-primary key attributes: Primary key attribute: Artist")
        fails("Query", #"{"TableName":"Music","IndexName":"ByGenre","KeyConditions":{"Genre":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Rock"}]}},"QueryFilter":{"Year":{"ComparisonOperator":"NOT_NULL"}}}"#,
              "QueryFilter can only contain non-primary key attributes: Primary key attribute: Year")
        fails("Query", #"{"TableName":"Music",\#(band),"QueryFilter":{"Genre":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Rock"}]}},"ConditionalOperator":"AND"}"#,
              "ConditionalOperator can only be used when Filter or Expected has two or more elements")
    }

    func testKeyConditionsBesideAFilterExpressionKeepTheirPlaceholdersApart() throws {
        // The caller's :legacy0 and #legacy0 are the caller's own; Ferry's are in another context.
        let response = try call("Query", """
        {"TableName":"Music","KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}},
         "FilterExpression":"#legacy0 = :legacy0","ProjectionExpression":"SongTitle",
         "ExpressionAttributeNames":{"#legacy0":"Genre"},"ExpressionAttributeValues":{":legacy0":{"S":"Jazz"}}}
        """)
        XCTAssertEqual(values(response, "SongTitle"), ["Gamma"])
        fails("Query", """
        {"TableName":"Music","KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Band"}]}},
         "FilterExpression":"Genre = :g","ExpressionAttributeValues":{":g":{"S":"Jazz"},":unused":{"S":"x"}}}
        """, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}")
    }
}
