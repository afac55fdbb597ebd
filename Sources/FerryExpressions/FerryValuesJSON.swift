import FerryValues

/// The JSON pieces the expression parser borrows from FerryValues (ETL literals).
enum FerryValuesJSON {
    enum Literal { case string(String) }

    static func parseString(_ bytes: [UInt8]) throws -> Literal {
        guard case let .string(s) = try JSONValue.parse(bytes) else { throw ExpressionError("not a string") }
        return .string(s)
    }
}
