/// Text that is not valid JSON (RFC 8259). Line and column are 1-based; the column
/// counts bytes. They are computed only when the error is raised.
public struct JSONError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public let offset: Int
    public let line: Int
    public let column: Int

    public init(reason: String, offset: Int, line: Int, column: Int) {
        self.reason = reason
        self.offset = offset
        self.line = line
        self.column = column
    }

    public var description: String { "invalid JSON at line \(line), column \(column): \(reason)" }
}
