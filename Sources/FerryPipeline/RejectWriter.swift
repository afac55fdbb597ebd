import FerryIO
import FerryValues

/// Where rejected records go (docs/stream-format.md): with `--rejects FILE`, one
/// `{"ferry:reject":{...}}` line per record, holding the original line so it can be
/// fixed and fed back; without it, one `source:line: reason` line each on stderr.
/// Not thread-safe.
public final class RejectWriter {
    public private(set) var count = 0
    /// Past this many rejects the run stops (`--max-errors`); nil means no limit.
    public let limit: Int?
    private let output: OutputWriter?
    private let report: (String) -> Void
    /// Called for each reject (progress reports count them).
    public var onReject: () -> Void = {}

    public init(output: OutputWriter?, limit: Int?, report: @escaping (String) -> Void) {
        self.output = output
        self.limit = limit
        self.report = report
    }

    /// Records one reject; throws `PipelineError.tooManyRejects` once past the limit
    /// (unless `checkingLimit` is false: the caller then calls `checkLimit()`).
    public func reject(source: String, line: Int, reason: String, record: UnsafeRawBufferPointer, checkingLimit: Bool = true) throws {
        count += 1
        onReject()
        if let output {
            let out = output.buffer
            out.append("{\"ferry:reject\":{\"source\":")
            JSONWriter.writeString(source, into: out)
            out.append(",\"line\":")
            out.append(decimal: line)
            out.append(",\"reason\":")
            JSONWriter.writeString(reason, into: out)
            out.append(",\"record\":")
            // The line may not be valid UTF-8; invalid bytes become U+FFFD.
            JSONWriter.writeString(String(decoding: record, as: UTF8.self), into: out)
            out.append("}}\n")
            try output.recordEnded()
        } else {
            report("\(source):\(line): \(reason)")
        }
        if checkingLimit { try checkLimit() }
    }

    /// Throws `PipelineError.tooManyRejects` when past the limit.
    public func checkLimit() throws {
        if let limit, count > limit { throw PipelineError.tooManyRejects(limit: limit) }
    }

    public func finish() throws { try output?.finish() }
}

public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case tooManyRejects(limit: Int)

    public var description: String {
        switch self {
        case let .tooManyRejects(limit): return "stopped: more than \(limit) records rejected (--max-errors \(limit))"
        }
    }
}

/// The one-line reason for a rejected record.
public func rejectReason(_ error: Error) -> String {
    if let json = error as? JSONError, json.line == 1 {
        return "invalid JSON at column \(json.column): \(json.reason)"
    }
    return "\(error)"
}
