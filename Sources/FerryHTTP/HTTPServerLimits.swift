// Every limit the server enforces, each with a safe default and its own answer.
// The table of limits and answers: docs/http.md, "Limits".

/// The server's limits. A value type; the server copies it at init.
public struct HTTPServerLimits: Sendable {
    /// Request line plus header block, in bytes (CR LF included); over it: 431. Also the
    /// bound on a chunked body's trailer section.
    public var maxHeaderBytes = 16 * 1024
    /// Body bytes after de-chunking, and again after inflating a gzip body; over it: 413.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Seconds to receive a whole request head once its first byte arrived (and, on a
    /// new connection, from the accept); over it: 408 and close.
    public var headerTimeout: Double = 10
    /// Seconds to receive a whole body, from the end of its head; over it: 408 and close.
    public var bodyTimeout: Double = 60
    /// Seconds a keep-alive connection may wait for its next request; then it is closed
    /// without an answer.
    public var idleTimeout: Double = 60
    /// Seconds to write one response (a client that does not read); then it is closed.
    public var writeTimeout: Double = 60
    /// Connections served at once; one more gets 503 and is closed.
    public var maxConnections = 512
    /// When true (the default), `Content-Encoding: gzip`/`x-gzip` bodies are inflated into
    /// `HTTPRequest.body` and other codings but `identity` are refused with 415. When
    /// false the server leaves content codings alone (`body` is `wireBody`), as an object
    /// store that keeps a client's gzip bytes as they are wants.
    public var decodeContentEncoding = true
    /// Stack of each connection thread, in bytes (handlers run on it).
    public var connectionStackBytes = 2 * 1024 * 1024

    public init() {}
}
