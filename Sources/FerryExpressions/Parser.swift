import FerryValues

/// Recursive-descent parser over the tokens of one expression. Records which
/// placeholders it used, so a request can report unused ones as DynamoDB does.
struct Parser {
    let kind: ExpressionKind
    let context: ExpressionContext
    let tokens: [Token]
    let source: [UInt8]
    var position = 0
    var usedNames: Set<String> = []
    var usedValues: Set<String> = []
    /// The top-level attribute of every path read (a query's filter may not name keys).
    var topLevelNames: Set<String> = []
    /// DynamoDB's limit on a document path's depth (`a.b[0]` is 3 levels).
    static let maxPathDepth = 32

    /// DynamoDB's limit on an expression's length, in UTF-8 bytes.
    static let maxExpressionBytes = 4096
    /// Ferry's limits on an expression's tree, in both modes (docs/expressions.md),
    /// checked before each step down, so hostile input cannot overflow the stack:
    /// nesting (each parenthesis, NOT, function's arguments and ETL literal is a level;
    /// boto3's condition builder puts every AND in parentheses, so its 200-term filters
    /// nest 200 deep) and the terms of one AND, OR or `+`/`-` chain (evaluated by
    /// recursion, at little stack per term). The deepest allowed expression needs about
    /// 2 MiB of stack in a debug build and far less in release; Ferry's threads that
    /// parse expressions have 8 MiB.
    static let maxNesting = 256
    static let maxChainTerms = 4096

    var depth = 0
    var chainTerms = 0

    /// One more term of an AND, OR or arithmetic chain; throws past `maxChainTerms`.
    mutating func addTerm() throws {
        chainTerms += 1
        if chainTerms > Self.maxChainTerms {
            throw ExpressionError.invalid(kind, "The expression has more than \(Self.maxChainTerms) terms joined by AND, OR, + or -")
        }
    }

    init(_ expression: String, kind: ExpressionKind, context: ExpressionContext) throws {
        self.kind = kind
        self.context = context
        source = Array(expression.utf8)
        if context.mode == .strict && context.limitsLength && source.count > Self.maxExpressionBytes {
            throw ExpressionError.invalid(kind, "Expression size has exceeded the maximum allowed size; expression size: \(source.count)")
        }
        tokens = try Lexer.tokens(expression, kind: kind, etl: context.mode == .etl)
    }

    /// Steps one level down the grammar; throws past `maxNesting`. Pair with `ascend()`.
    mutating func descend() throws {
        depth += 1
        if depth > Self.maxNesting {
            throw ExpressionError.invalid(kind, "The expression is nested more than \(Self.maxNesting) levels deep (parentheses, NOT, function arguments)")
        }
    }

    mutating func ascend() { depth -= 1 }

    var etl: Bool { context.mode == .etl }
    var current: Token { tokens[position] }
    func peek(_ offset: Int = 1) -> Token { tokens[min(position + offset, tokens.count - 1)] }
    mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    /// DynamoDB's syntax error at the current token: `token: "x", near: "<prev> x"`.
    func syntaxError() -> ExpressionError {
        let token = current
        let nearStart = position > 0 ? tokens[position - 1].start : token.start
        let near = String(decoding: source[nearStart..<token.end], as: UTF8.self)
        return .syntax(kind, token: token.kind == .end ? "<EOF>" : String(decoding: source[token.start..<token.end], as: UTF8.self),
                       near: near)
    }

    mutating func expectSymbol(_ s: String) throws {
        guard current.isSymbol(s) else { throw syntaxError() }
        advance()
    }

    mutating func expectEnd() throws {
        guard current.kind == .end else { throw syntaxError() }
    }

    /// Grammar keywords that cannot be bare names, in either mode.
    static let grammarKeywords: Set<String> = ["AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"]

    // MARK: Paths

    /// One path element name: a bare name (reserved words refused in strict mode) or a
    /// #placeholder.
    mutating func pathName() throws -> String {
        switch current.kind {
        case .name:
            let name = current.text
            if Parser.grammarKeywords.contains(name.uppercased()) { throw syntaxError() }
            if !etl && ReservedWords.contains(name) { throw ExpressionError.reserved(kind, name) }
            advance()
            return name
        case .namePlaceholder:
            let placeholder = current.text
            guard let name = context.names[placeholder] else { throw ExpressionError.undefinedName(kind, placeholder) }
            usedNames.insert(placeholder)
            advance()
            return name
        default:
            throw syntaxError()
        }
    }

    mutating func path() throws -> DocumentPath {
        var elements: [DocumentPath.Element] = [.name(try pathName())]
        while true {
            if current.isSymbol(".") {
                advance()
                elements.append(.name(try pathName()))
            } else if current.isSymbol("[") {
                advance()
                guard current.kind == .number, let index = Int(current.text) else { throw syntaxError() }
                advance()
                try expectSymbol("]")
                elements.append(.index(index))
            } else {
                if case let .name(top) = elements[0] { topLevelNames.insert(top) }
                return DocumentPath(elements)
            }
            if elements.count > Self.maxPathDepth {
                throw ExpressionError.invalid(kind, "The document path has too many nesting levels; nesting levels: \(elements.count)")
            }
        }
    }

    // MARK: Operands

    mutating func valuePlaceholder() throws -> AttributeValue {
        let placeholder = current.text
        guard let value = context.values[placeholder] else { throw ExpressionError.undefinedValue(kind, placeholder) }
        usedValues.insert(placeholder)
        advance()
        return value
    }

    /// An operand of a comparison or function: path, :value, size(...), and in ETL mode
    /// literals and Ferry's functions. `arithmetic` allows `+`/`-` (update SET values,
    /// ETL expressions).
    mutating func operand(arithmetic: Bool = false) throws -> Operand {
        var left = try simpleOperand(arithmetic: arithmetic)
        while arithmetic && (current.isSymbol("+") || current.isSymbol("-")) {
            let plus = current.isSymbol("+")
            advance()
            try addTerm()
            let right = try simpleOperand(arithmetic: arithmetic)
            left = plus ? .plus(left, right) : .minus(left, right)
        }
        return left
    }

    mutating func simpleOperand(arithmetic: Bool) throws -> Operand {
        switch current.kind {
        case .valuePlaceholder:
            return .value(try valuePlaceholder())
        case .namePlaceholder:
            return .path(try path())
        case .name where peek().isSymbol("("):
            return try functionOperand(arithmetic: arithmetic)
        case .name where etl && ["true", "false", "null"].contains(current.text):
            let word = current.text
            advance()
            return .value(word == "null" ? .null : .bool(word == "true"))
        case .name:
            return .path(try path())
        case .number where etl:
            let text = current.text
            advance()
            do { return .value(.n(try DynamoNumber(text))) } catch { throw ExpressionError.invalid(kind, "\(error)") }
        case .string where etl:
            let text = current.text
            advance()
            return .value(.s(text))
        case .symbol where etl && current.isSymbol("-") && peek().kind == .number:
            advance()
            let text = "-" + current.text
            advance()
            do { return .value(.n(try DynamoNumber(text))) } catch { throw ExpressionError.invalid(kind, "\(error)") }
        case .symbol where etl && (current.isSymbol("[") || current.isSymbol("{")):
            return .value(try literalCollection())
        default:
            throw syntaxError()
        }
    }

    /// `[1, "a", [true]]` or `{"k": 1}` in ETL mode.
    mutating func literalCollection() throws -> AttributeValue {
        try descend()
        defer { ascend() }
        if current.isSymbol("[") {
            advance()
            var items: [AttributeValue] = []
            if !current.isSymbol("]") {
                repeat {
                    if current.isSymbol(",") { advance() }
                    guard case let .value(v) = try simpleOperand(arithmetic: false) else { throw syntaxError() }
                    items.append(v)
                } while current.isSymbol(",")
            }
            try expectSymbol("]")
            return .l(items)
        }
        try expectSymbol("{")
        var map = AttributeMap()
        if !current.isSymbol("}") {
            repeat {
                if current.isSymbol(",") { advance() }
                guard current.kind == .string else { throw syntaxError() }
                let key = current.text
                advance()
                try expectSymbol(":")
                guard case let .value(v) = try simpleOperand(arithmetic: false) else { throw syntaxError() }
                map[key] = v
            } while current.isSymbol(",")
        }
        try expectSymbol("}")
        return .m(map)
    }

    mutating func arguments(arithmetic: Bool) throws -> [Operand] {
        try descend()
        defer { ascend() }
        try expectSymbol("(")
        var args: [Operand] = []
        if !current.isSymbol(")") {
            args.append(try operand(arithmetic: arithmetic))
            while current.isSymbol(",") {
                advance()
                args.append(try operand(arithmetic: arithmetic))
            }
        }
        try expectSymbol(")")
        return args
    }

    mutating func functionOperand(arithmetic: Bool) throws -> Operand {
        let name = current.text
        advance()
        switch name {
        case "size":
            let args = try arguments(arithmetic: false)
            guard args.count == 1 else { throw ExpressionError.operandCount(kind, "size", args.count) }
            if !etl, case .path = args[0] {} else if !etl { throw ExpressionError.operandType(kind, "size", "operand") }
            return .size(args[0])
        case "if_not_exists" where kind == .update || etl:
            let args = try arguments(arithmetic: false)
            guard args.count == 2 else { throw ExpressionError.operandCount(kind, "if_not_exists", args.count) }
            guard case let .path(p) = args[0] else { throw ExpressionError.operandType(kind, "if_not_exists", "operand") }
            return .ifNotExists(p, args[1])
        case "list_append" where kind == .update || etl:
            let args = try arguments(arithmetic: false)
            guard args.count == 2 else { throw ExpressionError.operandCount(kind, "list_append", args.count) }
            return .listAppend(args[0], args[1])
        default:
            if etl, let function = ETLFunction(rawValue: name) {
                return .etl(function, try arguments(arithmetic: true))
            }
            if ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"].contains(name) {
                // A condition function where a value is needed.
                throw ExpressionError.invalid(kind, "The function is not allowed to be used this way in an expression; function: \(name)")
            }
            throw ExpressionError.invalid(kind, "Invalid function name; function: \(name)")
        }
    }

    // MARK: Conditions

    mutating func condition() throws -> Condition {
        var left = try conjunction()
        while current.isKeyword("OR") {
            advance()
            try addTerm()
            left = .or(left, try conjunction())
        }
        return left
    }

    mutating func conjunction() throws -> Condition {
        var left = try negation()
        while current.isKeyword("AND") {
            advance()
            try addTerm()
            left = .and(left, try negation())
        }
        return left
    }

    mutating func negation() throws -> Condition {
        if current.isKeyword("NOT") {
            advance()
            try descend()
            defer { ascend() }
            return .not(try negation())
        }
        return try primaryCondition()
    }

    mutating func primaryCondition() throws -> Condition {
        if current.isSymbol("(") {
            advance()
            try descend()
            defer { ascend() }
            let inner = try condition()
            try expectSymbol(")")
            return inner
        }
        if current.kind == .name, peek().isSymbol("("),
           let c = try conditionFunction() {
            return c
        }
        let left = try operand(arithmetic: etl)
        if let comparator = Comparator(rawValue: current.kind == .symbol ? current.text : "") {
            advance()
            return .compare(left, comparator, try operand(arithmetic: etl))
        }
        if current.isKeyword("BETWEEN") {
            advance()
            let low = try operand(arithmetic: etl)
            guard current.isKeyword("AND") else { throw syntaxError() }
            advance()
            return .between(left, low, try operand(arithmetic: etl))
        }
        if current.isKeyword("IN") {
            advance()
            let options = try arguments(arithmetic: etl)
            guard !options.isEmpty else { throw syntaxError() }
            if options.count > 100 { throw ExpressionError.invalid(kind, "The IN operator is provided with too many operands; number of operands: \(options.count)") }
            return .isIn(left, options)
        }
        throw syntaxError()
    }

    /// attribute_exists, attribute_not_exists, attribute_type, begins_with, contains;
    /// nil when the name is another function (an operand, such as size).
    mutating func conditionFunction() throws -> Condition? {
        let name = current.text
        switch name {
        case "attribute_exists", "attribute_not_exists":
            advance()
            let args = try arguments(arithmetic: false)
            guard args.count == 1 else { throw ExpressionError.operandCount(kind, name, args.count) }
            guard case let .path(p) = args[0] else { throw ExpressionError.operandType(kind, name, "operand") }
            return name == "attribute_exists" ? .exists(p) : .notExists(p)
        case "attribute_type":
            advance()
            let args = try arguments(arithmetic: false)
            guard args.count == 2 else { throw ExpressionError.operandCount(kind, name, args.count) }
            guard case let .path(p) = args[0] else { throw ExpressionError.operandType(kind, name, "operand") }
            if case let .value(v) = args[1] {
                let valid = ["B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"]
                guard case let .s(t) = v else { throw ExpressionError.operandType(kind, name, v.typeName) }
                guard valid.contains(t) else {
                    throw ExpressionError.invalid(kind, "Invalid attribute type name found; type: \(t), valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
                }
            }
            return .type(p, args[1])
        case "begins_with", "contains":
            advance()
            let args = try arguments(arithmetic: false)
            guard args.count == 2 else { throw ExpressionError.operandCount(kind, name, args.count) }
            return name == "begins_with" ? .beginsWith(args[0], args[1]) : .contains(args[0], args[1])
        default:
            return nil
        }
    }
}
