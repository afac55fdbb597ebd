// Writes a response head (status line, headers, Content-Length, Connection) into a
// reused buffer. What the server adds and drops: docs/http.md, "Responses".

/// The head of one response at a time, in a buffer reused across a connection's
/// responses. Not thread-safe: one connection thread owns it.
final class HTTPResponseEncoder {
    private static let initialCapacity = 4096
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0

    init() {
        capacity = HTTPResponseEncoder.initialCapacity
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The bytes of the head last encoded.
    var head: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    static let continueLine: StaticString = "HTTP/1.1 100 Continue\r\n\r\n"

    /// True when the handler's headers carry `Connection: close`.
    static func asksToClose(_ response: HTTPResponse) -> Bool {
        for field in response.headers.fields where HTTPHeaders.sameName(field.name, "Connection") {
            var value = field.value
            let close = value.withUTF8 { v -> Bool in
                var found = false
                HTTPSyntax.forEachListElement(UnsafeRawBufferPointer(v), 0..<v.count) { element in
                    if HTTPSyntax.equalsLowercase(UnsafeRawBufferPointer(v), element, "close") { found = true; return false }
                    return true
                }
                return found
            }
            if close { return true }
        }
        return false
    }

    /// Encodes the head of `response` and says whether its body is to be sent.
    /// - A status outside 200...599 is sent as 500 (a handler cannot send interim answers).
    /// - The handler's Content-Length, Transfer-Encoding and Connection fields are dropped;
    ///   the server writes `Content-Length: <body size>`, except: none for 204; for HEAD
    ///   and 304 the handler's Content-Length is kept (the size a GET would have) or the
    ///   body's size used, and no body is sent.
    /// - Header names that are not tokens are dropped; control bytes in values become spaces.
    /// - `Connection: close` when `closing`; `Connection: keep-alive` for an HTTP/1.0
    ///   client that keeps the connection.
    func encode(_ response: HTTPResponse, headRequest: Bool, http10: Bool, closing: Bool) -> Bool {
        if capacity > 64 * 1024 {
            storage.deallocate()
            capacity = HTTPResponseEncoder.initialCapacity
            storage = .allocate(byteCount: capacity, alignment: 16)
        }
        count = 0
        var status = response.status
        if status < 200 || status > 599 { status = 500 }
        append("HTTP/1.1 ")
        appendDecimal(status)
        appendByte(ASCII.space)
        append(HTTPStatus.reason(status))
        append("\r\n")

        let noContent = status == 204
        let bodyless = headRequest || status == 304
        var handlerLength: Int?
        for field in response.headers.fields {
            var name = field.name
            let skip = name.withUTF8 { n -> Bool in
                let raw = UnsafeRawBufferPointer(n)
                guard !raw.isEmpty, raw.allSatisfy(HTTPSyntax.isToken) else { return true }
                switch raw.count {
                case 10: return HTTPSyntax.equalsLowercase(raw, 0..<10, "connection")
                case 14:
                    guard HTTPSyntax.equalsLowercase(raw, 0..<14, "content-length") else { return false }
                    if bodyless {
                        var value = field.value
                        value.withUTF8 { v in
                            let r = UnsafeRawBufferPointer(v)
                            if case .value(let n) = HTTPSyntax.decimal(r, HTTPSyntax.trim(r, 0..<r.count)) { handlerLength = n }
                        }
                    }
                    return true
                case 17: return HTTPSyntax.equalsLowercase(raw, 0..<17, "transfer-encoding")
                default: return false
                }
            }
            if skip { continue }
            name.withUTF8 { append($0) }
            append(": ")
            var value = field.value
            value.withUTF8 { appendFieldValue($0) }
            append("\r\n")
        }
        if !noContent {
            append("Content-Length: ")
            appendDecimal(bodyless ? (handlerLength ?? response.body.count) : response.body.count)
            append("\r\n")
        }
        if closing {
            append("Connection: close\r\n")
        } else if http10 {
            append("Connection: keep-alive\r\n")
        }
        append("\r\n")
        return !noContent && !bodyless
    }

    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < count + extra { newCapacity *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        bigger.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = bigger
        capacity = newCapacity
    }

    @inline(__always)
    private func appendByte(_ b: UInt8) {
        reserve(1)
        storage.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    private func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + count).copyMemory(from: base, byteCount: bytes.count)
        count += bytes.count
    }

    private func appendFieldValue(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        var i = count
        for b in bytes {
            storage.storeBytes(of: HTTPSyntax.isFieldValueByte(b) ? b : ASCII.space, toByteOffset: i, as: UInt8.self)
            i += 1
        }
        count = i
    }

    private func appendDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for any Int
        var v = value < 0 ? 0 : value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[23 - n] = UInt8(v % 10) + ASCII.zero
                v /= 10
                n += 1
            } while v > 0
            guard let base = d.baseAddress else { return }
            append(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + 24 - n, count: n))
        }
    }
}
