// The AWS shared credentials file (~/.aws/credentials). See ../../docs/sigv4.md.
import Foundation

/// The profiles of an AWS shared credentials file, INI as botocore reads it:
///
/// ```
/// # comment            ; comment
/// [default]
/// aws_access_key_id = AKIDEXAMPLE
/// aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
/// aws_session_token = ...          (optional)
/// region = us-east-1               (other keys are ignored)
/// ```
///
/// Keys are case-insensitive, `=` or `:` separates key and value, white space around
/// both is dropped, and ` #` or ` ;` after a value starts a comment. Every profile with a
/// key id has a secret and the other way round; a repeated section or key, a key outside
/// a section, or one access key id with two secrets is an error naming file and line.
public struct CredentialsFile: Sendable, Equatable {
    public struct Profile: Sendable, Hashable {
        public let name: String
        public let credentials: SigV4Credentials
        /// The line of its `[name]`.
        public let line: Int
    }

    /// Profiles with a key pair, in file order.
    public let profiles: [Profile]

    /// Access key id → secret, over all profiles (the verifier's lookup).
    public var secrets: [String: String] {
        var map: [String: String] = [:]
        for profile in profiles { map[profile.credentials.accessKeyId] = profile.credentials.secretAccessKey }
        return map
    }

    public func profile(named name: String) -> Profile? { profiles.first { $0.name == name } }

    /// Reads and parses the file at `path`; errors are named by its last path component.
    public static func read(path: String) throws(CredentialsFileError) -> CredentialsFile {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CredentialsFileError(file: name, line: nil, message: "cannot read \(path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CredentialsFileError(file: name, line: nil, message: "not UTF-8 text")
        }
        return try parse(text, fileName: name)
    }

    private static let accessKeyIdKey = "aws_access_key_id"
    private static let secretKey = "aws_secret_access_key"
    private static let tokenKey = "aws_session_token"

    /// One `[name]` section of an AWS shared config or credentials file: every key
    /// (lower-cased) with its value and line.
    public struct Section: Sendable, Equatable {
        public let name: String
        public let line: Int
        public var values: [String: String] = [:]
        public var lines: [String: Int] = [:]
    }

    /// Parses the INI text both AWS files use (docs/remote.md, "Credentials"); the
    /// syntax errors name `fileName` and the line. Values of nested settings (an
    /// indented block under `s3 =`) are skipped.
    public static func sections(_ text: String, fileName: String) throws(CredentialsFileError) -> [Section] {
        func fail(_ line: Int?, _ message: String) -> CredentialsFileError {
            CredentialsFileError(file: fileName, line: line, message: message)
        }
        var sections: [Section] = []
        var sectionLines: [String: Int] = [:]
        var lastKey: String?
        var lineNumber = 0
        var body = Substring(text)
        if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
        // "\r\n" is one Character in Swift, so both line ends are named.
        for line in body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let content = line.drop { $0 == " " || $0 == "\t" }
            if content.isEmpty || content.hasPrefix("#") || content.hasPrefix(";") { continue }
            if content.count < line.count {
                // An indented line continues the previous value (botocore's nested
                // settings such as `s3 =` then `  max_concurrent_requests = 20`).
                guard let key = lastKey, !sections.isEmpty else {
                    throw fail(lineNumber, "indented line outside a value")
                }
                if [accessKeyIdKey, secretKey, tokenKey].contains(key) {
                    throw fail(lineNumber, "\(key) continues on an indented line")
                }
                continue
            }
            if content.hasPrefix("[") {
                let inner = stripComment(content.dropFirst())
                guard inner.hasSuffix("]") else { throw fail(lineNumber, "section header without ']'") }
                let name = inner.dropLast().trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else { throw fail(lineNumber, "empty profile name") }
                if let first = sectionLines[name] {
                    throw fail(lineNumber, "profile [\(name)] repeated (first on line \(first))")
                }
                sectionLines[name] = lineNumber
                sections.append(Section(name: name, line: lineNumber))
                lastKey = nil
                continue
            }
            guard let separator = content.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw fail(lineNumber, "expected '[profile]', 'key = value' or a comment")
            }
            let key = content[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = stripComment(content[content.index(after: separator)...]).trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw fail(lineNumber, "key missing before '\(content[separator])'") }
            guard !sections.isEmpty else { throw fail(lineNumber, "\(key) outside a [profile] section") }
            let i = sections.count - 1
            if let first = sections[i].lines[key] {
                throw fail(lineNumber, "\(key) repeated in [\(sections[i].name)] (first on line \(first))")
            }
            sections[i].lines[key] = lineNumber
            lastKey = key
            if [accessKeyIdKey, secretKey, tokenKey].contains(key) && value.isEmpty {
                throw fail(lineNumber, "\(key) is empty")
            }
            sections[i].values[key] = value
        }
        return sections
    }

    /// The key pair a section holds, nil when it has none; a half pair is an error.
    public static func credentials(in section: Section, fileName: String) throws(CredentialsFileError) -> SigV4Credentials? {
        func fail(_ key: String, _ message: String) -> CredentialsFileError {
            CredentialsFileError(file: fileName, line: section.lines[key], message: message)
        }
        let id = section.values[accessKeyIdKey], secret = section.values[secretKey], token = section.values[tokenKey]
        switch (id, secret) {
        case (nil, nil):
            if token != nil { throw fail(tokenKey, "\(tokenKey) without \(accessKeyIdKey)") }
            return nil
        case (nil, _?):
            throw fail(secretKey, "\(secretKey) without \(accessKeyIdKey)")
        case (_?, nil):
            throw fail(accessKeyIdKey, "\(accessKeyIdKey) without \(secretKey)")
        case let (id?, secret?):
            return SigV4Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
        }
    }

    /// Parses the text of a credentials file; `fileName` names it in errors.
    public static func parse(_ text: String, fileName: String) throws(CredentialsFileError) -> CredentialsFile {
        func fail(_ line: Int?, _ message: String) -> CredentialsFileError {
            CredentialsFileError(file: fileName, line: line, message: message)
        }
        let sections = try sections(text, fileName: fileName)
        var profiles: [Profile] = []
        var owners: [String: Profile] = [:]
        for section in sections {
            guard let credentials = try credentials(in: section, fileName: fileName) else { continue }
            let profile = Profile(name: section.name, credentials: credentials, line: section.line)
            let idLine = section.lines[accessKeyIdKey]
            if let other = owners[credentials.accessKeyId], other.credentials.secretAccessKey != credentials.secretAccessKey {
                throw fail(idLine, "\(accessKeyIdKey) \(credentials.accessKeyId) has another secret in [\(other.name)] (line \(other.line))")
            }
            owners[credentials.accessKeyId] = owners[credentials.accessKeyId] ?? profile
            profiles.append(profile)
        }
        guard !profiles.isEmpty else {
            throw fail(nil, "no profile with both \(accessKeyIdKey) and \(secretKey)")
        }
        return CredentialsFile(profiles: profiles)
    }

    /// Drops a comment that starts with `#` or `;` after white space.
    private static func stripComment(_ text: Substring) -> Substring {
        var previousIsSpace = false
        for i in text.indices {
            let c = text[i]
            if (c == "#" || c == ";") && previousIsSpace { return text[..<i] }
            previousIsSpace = c == " " || c == "\t"
        }
        return text
    }
}

/// `credentials.ini:4: aws_secret_access_key without aws_access_key_id`.
public struct CredentialsFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based; nil for the file as a whole.
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
