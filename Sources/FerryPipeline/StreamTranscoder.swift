import FerryIO
import FerryValues

/// Reads NDJSON records, checks each item against DynamoDB's rules, and writes it in the
/// chosen spelling; control lines (`ferry:...`) pass through byte for byte and in order.
/// Bad records go to the RejectWriter and the stream goes on. Not thread-safe.
public final class StreamTranscoder {
    public struct Options: Sendable {
        public var input: ItemSpelling
        public var plainOutput: Bool
        public init(input: ItemSpelling = .auto, plainOutput: Bool = false) {
            self.input = input
            self.plainOutput = plainOutput
        }
    }

    public private(set) var itemCount = 0
    public private(set) var controlCount = 0
    private let output: OutputWriter
    private let rejects: RejectWriter
    private let decoder: ItemDecoder
    private let options: Options
    private let onProgress: (Int, Int) -> Void

    public init(output: OutputWriter, rejects: RejectWriter, options: Options,
                onProgress: @escaping (_ items: Int, _ bytes: Int) -> Void = { _, _ in }) {
        self.output = output
        self.rejects = rejects
        self.options = options
        self.decoder = ItemDecoder(spelling: options.input)
        self.onProgress = onProgress
    }

    /// Processes every line of `source` (already gunzipped if it was gzip).
    public func run(_ source: ByteSource) throws {
        let reader = LineReader(source: source)
        let out = output.buffer
        var batchItems = 0, batchBytes = 0
        while true {
            let line: UnsafeRawBufferPointer
            do {
                guard let next = try reader.next() else { break }
                line = next
            } catch let IOError.lineTooLong(path, number, limit) {
                try rejects.reject(source: path, line: number, reason: "line is longer than the limit of \(limit) bytes",
                                   record: UnsafeRawBufferPointer(start: nil, count: 0))
                continue
            }
            do {
                switch try decoder.decodeRecord(line) {
                case let .item(item):
                    try ItemRules.checkSize(item)
                    if options.plainOutput { ItemEncoder.writePlain(item, into: out) } else { ItemEncoder.writeTyped(item, into: out) }
                    out.append(UInt8(ascii: "\n"))
                    itemCount += 1
                case .control:
                    out.append(line)
                    out.append(UInt8(ascii: "\n"))
                    controlCount += 1
                }
            } catch let error as JSONError {
                try rejects.reject(source: source.name, line: reader.lineNumber, reason: rejectReason(error), record: line)
            } catch let error as ItemError {
                try rejects.reject(source: source.name, line: reader.lineNumber, reason: rejectReason(error), record: line)
            }
            try output.recordEnded()
            batchItems += 1
            batchBytes += line.count + 1
            if batchItems == 4096 {
                onProgress(batchItems, batchBytes)
                batchItems = 0; batchBytes = 0
            }
        }
        onProgress(batchItems, batchBytes)
    }
}
