import FerryValues

/// The aws CLI's shorthand syntax for structured parameters
/// (`AttributeName=Artist,KeyType=HASH`, `Projection={ProjectionType=ALL}`,
/// `NonKeyAttributes=[a,b]`), parsed to JSON with every scalar a string, as the aws
/// CLI's parser does before it applies the parameter's model.
///
/// ```
/// parameter  := keyval ("," keyval)*
/// keyval     := key "=" values
/// values     := list | hash | value ("," value)*      (a bare list: `a=1,2,3`)
/// list       := "[" (values ("," values)*)? "]"
/// hash       := "{" keyval ("," keyval)* "}"
/// value      := quoted ('...' or "...") | characters up to , ] } (backslash escapes)
/// ```
public enum AWSShorthand {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var p = ShorthandParser(Array(text.unicodeScalars))
        let members = try p.keyvals(closing: nil)
        return .object(members)
    }

    /// A list element that is a bare scalar (`--attributes-to-get a b`, or `a,b,c`).
    public static func parseScalars(_ text: String) throws -> [JSONValue] {
        var p = ShorthandParser(Array(text.unicodeScalars))
        var out: [JSONValue] = []
        repeat {
            out.append(.string(try p.scalar()))
        } while p.consume(",")
        guard p.atEnd else { throw p.error("unexpected character") }
        return out
    }
}

struct ShorthandParser {
    let chars: [Unicode.Scalar]
    var pos = 0

    init(_ chars: [Unicode.Scalar]) { self.chars = chars }

    var atEnd: Bool { pos >= chars.count }
    func peek() -> Unicode.Scalar? { pos < chars.count ? chars[pos] : nil }

    mutating func consume(_ c: Unicode.Scalar) -> Bool {
        skipSpaces()
        if peek() == c { pos += 1; return true }
        return false
    }

    mutating func skipSpaces() { while let c = peek(), c == " " || c == "\n" || c == "\t" { pos += 1 } }

    func error(_ what: String) -> AWSShorthand.ParseError {
        AWSShorthand.ParseError(message: "Error parsing parameter: \(what) at character \(pos + 1) of \"\(String(String.UnicodeScalarView(chars)))\"")
    }

    /// keyval ("," keyval)* up to `closing` (or the end).
    mutating func keyvals(closing: Unicode.Scalar?) throws -> [JSONMember] {
        var members: [JSONMember] = []
        while true {
            skipSpaces()
            if let closing, peek() == closing { break }
            let key = try self.key()
            guard consume("=") else { throw error("expected '=' after \(key)") }
            members.append(JSONMember(key, try values()))
            skipSpaces()
            if consume(",") { continue }
            break
        }
        if let closing {
            guard consume(closing) else { throw error("expected '\(closing)'") }
        } else {
            skipSpaces()
            guard atEnd else { throw error("unexpected character '\(peek()!)'") }
        }
        return members
    }

    mutating func key() throws -> String {
        skipSpaces()
        var out = ""
        while let c = peek(), c != "=" && c != "," && c != "}" && c != "]" {
            out.unicodeScalars.append(c)
            pos += 1
        }
        let trimmed = out.trimmingSpaces
        guard !trimmed.isEmpty else { throw error("expected a key") }
        return trimmed
    }

    /// After `key=`: a list, a hash, or one or more comma-separated values (a bare list
    /// when more than one; the next `name=` ends it).
    mutating func values() throws -> JSONValue {
        skipSpaces()
        if peek() == "[" {
            pos += 1
            return .array(try listBody())
        }
        if peek() == "{" {
            pos += 1
            return .object(try keyvals(closing: "}"))
        }
        var items: [JSONValue] = [.string(try scalar())]
        while peek() == ",", !nextIsKey() {
            pos += 1
            items.append(.string(try scalar()))
        }
        return items.count == 1 ? items[0] : .array(items)
    }

    /// True when the text after the comma at `pos` is `name=` (a new key, not a value).
    func nextIsKey() -> Bool {
        var p = pos + 1
        while p < chars.count {
            let c = chars[p]
            if c == "=" { return true }
            if c == "," || c == "[" || c == "]" || c == "{" || c == "}" || c == "'" || c == "\"" { return false }
            p += 1
        }
        return false
    }

    mutating func listBody() throws -> [JSONValue] {
        var items: [JSONValue] = []
        skipSpaces()
        if consume("]") { return items }
        while true {
            skipSpaces()
            if peek() == "{" {
                pos += 1
                items.append(.object(try keyvals(closing: "}")))
            } else if peek() == "[" {
                pos += 1
                items.append(.array(try listBody()))
            } else {
                items.append(.string(try scalar()))
            }
            if consume(",") { continue }
            guard consume("]") else { throw error("expected ']'") }
            return items
        }
    }

    mutating func scalar() throws -> String {
        skipSpaces()
        if let q = peek(), q == "'" || q == "\"" {
            pos += 1
            var out = ""
            while let c = peek(), c != q {
                if c == "\\", pos + 1 < chars.count { pos += 1 }
                out.unicodeScalars.append(chars[pos])
                pos += 1
            }
            guard peek() == q else { throw error("unterminated quote") }
            pos += 1
            skipSpaces()
            return out
        }
        var out = ""
        while let c = peek(), c != "," && c != "]" && c != "}" {
            if c == "\\", pos + 1 < chars.count { pos += 1 }
            out.unicodeScalars.append(chars[pos])
            pos += 1
        }
        return out.trimmingSpaces
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
