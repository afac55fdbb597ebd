import FerryValues

/// Tokens of DynamoDB's expression language, plus Ferry's ETL literals.
struct Token: Equatable {
    enum Kind: Equatable {
        case name            // attribute name or function name
        case namePlaceholder // #n
        case valuePlaceholder // :v
        case number          // ETL literal
        case string          // ETL literal, JSON syntax; text holds the decoded string
        case symbol          // ( ) [ ] { } , . = <> < <= > >= + - :
        case end
    }
    var kind: Kind
    var text: String
    /// Byte offsets in the expression, for "near" in syntax errors.
    var start: Int
    var end: Int

    func isSymbol(_ s: String) -> Bool { kind == .symbol && text == s }
    /// Grammar keywords compare case-insensitively, as in DynamoDB.
    func isKeyword(_ s: String) -> Bool { kind == .name && text.uppercased() == s }
}

enum Lexer {
    static func tokens(_ expression: String, kind: ExpressionKind, etl: Bool) throws -> [Token] {
        let bytes = Array(expression.utf8)
        var out: [Token] = []
        var i = 0
        func isNameStart(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
        }
        func isNamePart(_ c: UInt8) -> Bool { isNameStart(c) || (c >= 0x30 && c <= 0x39) }
        func text(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<b], as: UTF8.self) }
        func syntaxError(at start: Int, _ end: Int) -> ExpressionError {
            let previous = out.last.map { text($0.start, end) } ?? text(start, end)
            return .syntax(kind, token: text(start, end), near: previous)
        }
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            let start = i
            if isNameStart(c) {
                while i < bytes.count && isNamePart(bytes[i]) { i += 1 }
                out.append(Token(kind: .name, text: text(start, i), start: start, end: i))
            } else if c == UInt8(ascii: "#") || (c == UInt8(ascii: ":") && i + 1 < bytes.count && isNamePart(bytes[i + 1])) {
                i += 1
                while i < bytes.count && isNamePart(bytes[i]) { i += 1 }
                if i == start + 1 { throw syntaxError(at: start, i) }
                out.append(Token(kind: c == UInt8(ascii: "#") ? .namePlaceholder : .valuePlaceholder, text: text(start, i), start: start, end: i))
            } else if c >= 0x30 && c <= 0x39 {
                // Digits: a list index in a path; in ETL mode also a number literal.
                while i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
                if etl {
                    if i + 1 < bytes.count && bytes[i] == UInt8(ascii: ".") && bytes[i + 1] >= 0x30 && bytes[i + 1] <= 0x39 {
                        i += 1
                        while i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
                    }
                    if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
                        var j = i + 1
                        if j < bytes.count && (bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-")) { j += 1 }
                        if j < bytes.count && bytes[j] >= 0x30 && bytes[j] <= 0x39 {
                            i = j
                            while i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
                        }
                    }
                }
                out.append(Token(kind: .number, text: text(start, i), start: start, end: i))
            } else if c == UInt8(ascii: "\"") && etl {
                i += 1
                var escaped = false
                while i < bytes.count {
                    if escaped { escaped = false } else if bytes[i] == UInt8(ascii: "\\") { escaped = true } else if bytes[i] == UInt8(ascii: "\"") { break }
                    i += 1
                }
                guard i < bytes.count else { throw ExpressionError.invalid(kind, "unterminated string literal starting at \(text(start, bytes.count))") }
                i += 1
                guard case let .string(decoded)? = try? JSONValue.parse(Array(bytes[start..<i])) else {
                    throw ExpressionError.invalid(kind, "invalid string literal \(text(start, i))")
                }
                out.append(Token(kind: .string, text: decoded, start: start, end: i))
            } else {
                let two = i + 1 < bytes.count ? text(i, i + 2) : ""
                if two == "<>" || two == "<=" || two == ">=" {
                    i += 2
                } else if "()[]{},.=<>+-:".utf8.contains(c) {
                    i += 1
                } else {
                    i += 1
                    while i < bytes.count && bytes[i] & 0xC0 == 0x80 { i += 1 }   // whole UTF-8 character
                    throw syntaxError(at: start, i)
                }
                out.append(Token(kind: .symbol, text: text(start, i), start: start, end: i))
            }
        }
        out.append(Token(kind: .end, text: "<EOF>", start: bytes.count, end: bytes.count))
        return out
    }
}
