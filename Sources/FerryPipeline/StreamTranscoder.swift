import FerryIO
import FerryValues

/// Reads NDJSON records, checks each item against DynamoDB's rules, and writes it in the
/// chosen spelling; control lines (`ferry:...`) pass through byte for byte and in order.
/// Bad records go to the RejectWriter and the stream goes on.
///
/// Decoding, checking and encoding run on `threads` worker threads
/// (ParallelLineProcessor); output and rejects keep the input's order. The transcoder
/// itself is used from one thread.
public final class StreamTranscoder {
    public struct Options: Sendable {
        public var input: ItemSpelling
        public var plainOutput: Bool
        public var threads: Int
        /// Applied to each item in order (ferry-transform's --where, --set, ...).
        public var steps: [TransformStep]
        public init(input: ItemSpelling = .auto, plainOutput: Bool = false, threads: Int = 1, steps: [TransformStep] = []) {
            self.input = input
            self.plainOutput = plainOutput
            self.threads = threads
            self.steps = steps
        }
    }

    public private(set) var itemCount = 0
    /// Items a --where step dropped.
    public private(set) var droppedCount = 0
    public private(set) var controlCount = 0
    private let output: OutputWriter
    private let rejects: RejectWriter
    private let options: Options
    private let onProgress: (Int, Int) -> Void

    public init(output: OutputWriter, rejects: RejectWriter, options: Options,
                onProgress: @escaping (_ items: Int, _ bytes: Int) -> Void = { _, _ in }) {
        self.output = output
        self.rejects = rejects
        self.options = options
        self.onProgress = onProgress
    }

    /// What one worker made of one block.
    struct Block: Sendable {
        var bytes: [UInt8] = []
        var rejects: [Reject] = []
        var items = 0
        var dropped = 0
        var controls = 0
        var inputBytes = 0
    }

    struct Reject: Sendable {
        let line: Int
        let reason: String
        let record: [UInt8]
    }

    /// Processes every line of `source` (already gunzipped if it was gzip).
    public func run(_ source: ByteSource) throws {
        let options = self.options
        let name = source.name
        try ParallelLineProcessor.run(
            source: source, threads: options.threads,
            makeWorker: {
                let decoder = ItemDecoder(spelling: options.input)
                let out = ByteBuffer(capacity: 2 << 20)
                return { block in Self.transcode(block, decoder: decoder, out: out, plain: options.plainOutput, steps: options.steps) }
            },
            consume: { (block: Block) in
                for reject in block.rejects {
                    try reject.record.withUnsafeBytes {
                        try rejects.reject(source: name, line: reject.line, reason: reject.reason, record: $0)
                    }
                }
                output.buffer.append(block.bytes)
                try output.recordEnded()
                itemCount += block.items
                droppedCount += block.dropped
                controlCount += block.controls
                onProgress(block.items, block.inputBytes)
            })
    }

    /// One block on a worker thread.
    static func transcode(_ block: LineBlock, decoder: ItemDecoder, out: ByteBuffer, plain: Bool, steps: [TransformStep]) -> Block {
        var result = Block()
        if let line = block.overlongLine {
            result.rejects.append(Reject(line: line, reason: "line is longer than the limit of \(LineReader.defaultMaxLineLength) bytes", record: []))
            return result
        }
        out.removeAll()
        block.forEachLine { line, number in
            let mark = out.count
            do {
                switch try decoder.decodeRecord(line) {
                case var .item(item):
                    var kept = true
                    for step in steps where kept { kept = try step.apply(&item) }
                    guard kept else {
                        result.dropped += 1
                        return
                    }
                    if !steps.isEmpty { try ItemRules.validate(item) }
                    try ItemRules.checkSize(item)
                    if plain { ItemEncoder.writePlain(item, into: out) } else { ItemEncoder.writeTyped(item, into: out) }
                    out.append(UInt8(ascii: "\n"))
                    result.items += 1
                case .control:
                    out.append(line)
                    out.append(UInt8(ascii: "\n"))
                    result.controls += 1
                }
            } catch {
                out.truncate(to: mark)
                result.rejects.append(Reject(line: number, reason: rejectReason(error), record: Array(line)))
            }
        }
        result.bytes = out.array
        result.inputBytes = block.bytes.count
        return result
    }
}
