// Loads the AWS SigV4 test suite copied into fixtures/sigv4 (see fixtures/sigv4/NOTICE).
import FerryAWS
import FerryTestSupport
import Foundation

/// One case of the suite: a folder holding `<name>.req`, `.creq`, `.sts`, `.authz`, `.sreq`.
struct SigV4SuiteCase {
    static let credentials = SigV4Credentials(accessKeyId: "AKIDEXAMPLE",
                                              secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let region = "us-east-1"
    static let service = "service"
    static let date = SigV4Date(iso8601Basic: "20150830T123600Z")!

    /// The folder under fixtures/sigv4, e.g. `normalize-path/get-slash`.
    let folder: String
    var name: String { String(folder.split(separator: "/").last!) }

    func text(_ ext: String) throws -> String {
        String(decoding: try TestSupport.fixtureBytes("sigv4/\(folder)/\(name).\(ext)"), as: UTF8.self)
    }

    func request() throws -> SigV4Request { try Self.parseRequest(text("req")) }
    func signedRequest() throws -> SigV4Request { try Self.parseRequest(text("sreq")) }

    /// Every case folder of the suite, found by walking fixtures/sigv4 for `.req` files.
    static func all() throws -> [SigV4SuiteCase] {
        let root = TestSupport.fixture("sigv4")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var cases: [SigV4SuiteCase] = []
        for case let path as String in walker where path.hasSuffix(".req") {
            cases.append(SigV4SuiteCase(folder: String(path.split(separator: "/").dropLast().joined(separator: "/"))))
        }
        return cases.sorted { $0.folder < $1.folder }
    }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    /// Parses the suite's request files: `METHOD TARGET HTTP/1.1`, then `Name:value`
    /// lines (a line starting with white space continues the previous value; the line
    /// break is kept, for the signer to fold), a blank line, the body. The target may
    /// hold raw spaces and UTF-8 (`/example space/`), so it is what lies between the
    /// first space and the last.
    static func parseRequest(_ text: String) throws -> SigV4Request {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { throw ParseError(description: "empty request") }
        let requestLine = lines.removeFirst()
        guard let firstSpace = requestLine.firstIndex(of: " "), let lastSpace = requestLine.lastIndex(of: " "),
              firstSpace < lastSpace else { throw ParseError(description: "bad request line \(requestLine)") }
        let method = String(requestLine[..<firstSpace])
        let target = String(requestLine[requestLine.index(after: firstSpace)..<lastSpace])
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String]?
        for (n, line) in lines.enumerated() {
            if line.isEmpty {
                bodyLines = Array(lines[(n + 1)...])
                break
            }
            if line.first == " " || line.first == "\t" {
                guard !headers.isEmpty else { throw ParseError(description: "continuation before any header") }
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw ParseError(description: "bad header line \(line)") }
            headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
        }
        let body = Array((bodyLines ?? []).joined(separator: "\n").utf8)
        return SigV4Request(method: method, target: target, headers: headers, body: body)
    }
}

extension SigV4Request {
    /// The same request with the body replaced.
    func withBody(_ body: [UInt8]) -> SigV4Request {
        var copy = self
        copy.payload = .bytes(body)
        return copy
    }

    /// The header fields as (lower-case name, value) pairs, sorted: equal for two
    /// requests with the same fields in any order.
    var normalizedFields: [String] {
        headers.map { "\(SigV4Canonical.lowercased($0.name)):\($0.value)" }.sorted()
    }
}
