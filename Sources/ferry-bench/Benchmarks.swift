#if canImport(Glibc)
import Glibc
#endif
import FerryCLI
import FerryExpressions
import FerryIO
import FerryPipeline
import FerryValues
import Foundation

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// When the bench began, for the elapsed seconds on its progress lines.
let benchStarted = now()   // lazy like every global: main touches it first

/// One progress line on stderr, with the seconds since the bench began, so a reader
/// sees where the time of a run goes.
func progress(_ message: String) {
    Console.writeStderr("ferry-bench: [\(Int(now() - benchStarted)) s] \(message)\n")
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Peak resident memory of this process so far, in MB.
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func fileSize(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : 0
}

/// Runs a shell command with stdout to /dev/null; returns its wall time and leaves its
/// peak RSS in `lastChildPeakMB`.
func timeShell(_ command: String) throws -> Double {
    let measured = try runMeasured(command)
    lastChildPeakMB = measured.peakMB
    return measured.seconds
}

enum BenchError: Error, CustomStringConvertible {
    case referenceFailed(command: String, status: Int32)
    case countMismatch(stage: String, expected: Int, got: Int)

    var description: String {
        switch self {
        case let .referenceFailed(command, status): return "reference command failed with status \(status): \(command)"
        case let .countMismatch(stage, expected, got): return "\(stage): expected \(expected) items, saw \(got)"
        }
    }
}

/// Our stages, each reading real files as a user's run would (page cache warm).
enum Stages {
    /// Parse every line of an NDJSON file into items on `threads` workers, as
    /// ferry-transform and ferry-load do; returns the item count.
    static func parse(path: String, spelling: ItemSpelling, threads: Int) throws -> Int {
        var count = 0
        try ParallelLineProcessor.run(
            source: try FileSource(path: path), threads: threads,
            makeWorker: {
                let decoder = ItemDecoder(spelling: spelling)
                return { (block: LineBlock) -> Int in
                    var items = 0
                    block.forEachLine { line, _ in
                        if case .item = try? decoder.decodeRecord(line) { items += 1 }
                    }
                    return items
                }
            },
            consume: { count += $0 })
        return count
    }

    /// ferry-transform with two steps (keep adults, lower-case the email) from the plain
    /// file to /dev/null, plain out, as `jq -c 'select(.age >= 18) | .email |= ascii_downcase'`.
    static func transformTwoSteps(path: String, threads: Int) throws -> Int {
        let steps = try TransformStep.parse([("--where", "age >= :adult"), ("--values", #"{":adult": 18}"#),
                                             ("--set", "email = lower(email)")])
        let output = OutputWriter(sink: try FileSink(path: "/dev/null"))
        let rejects = RejectWriter(output: nil, limit: nil) { _ in }
        let transcoder = StreamTranscoder(output: output, rejects: rejects,
                                          options: .init(input: .plain, plainOutput: true, threads: threads, steps: steps))
        try transcoder.run(try FileSource(path: path))
        try output.finish()
        return transcoder.itemCount + transcoder.droppedCount
    }

    /// The expressions of the expression stage, compiled once.
    static func benchExpressions() throws -> (ConditionExpression, UpdateExpression) {
        let context = ExpressionContext(values: [
            ":a": .n(DynamoNumber(30)), ":s": .n(DynamoNumber(900)), ":t": .bool(true),
            ":one": .n(DynamoNumber(1)), ":d": .n(try DynamoNumber("0.5")),
        ])
        return (try ConditionExpression("age >= :a AND score < :s AND active = :t", context: context),
                try UpdateExpression("SET age = age + :one, score = score - :d", context: context))
    }

    /// `age >= :a AND score < :s AND active = :t` on every item; returns the matches.
    static func evaluateCondition(_ items: [Item], _ condition: ConditionExpression) throws -> Int {
        var matches = 0
        for item in items where try condition.evaluate(item) { matches += 1 }
        return matches
    }

    /// `SET age = age + :one, score = score - :d` on every item, in place, as the loader
    /// and the table apply updates to items they own; returns how many were updated.
    static func applyUpdate(_ items: inout [Item], _ update: UpdateExpression) throws -> Int {
        for i in items.indices { try update.apply(updating: &items[i]) }
        return items.count
    }

    static func loadItems(path: String) throws -> [Item] {
        let reader = LineReader(source: try FileSource(path: path))
        let decoder = ItemDecoder(spelling: .plain)
        var items: [Item] = []
        while let line = try reader.next() { items.append(try decoder.decodeItem(line)) }
        return items
    }

    /// Write items as typed NDJSON to /dev/null; returns bytes written.
    static func writeTyped(_ items: [Item]) throws -> Int {
        let out = OutputWriter(sink: try FileSink(path: "/dev/null"))
        var bytes = 0
        for item in items {
            ItemEncoder.writeTyped(item, into: out.buffer)
            out.buffer.append(UInt8(ascii: "\n"))
            if out.buffer.count >= 1 << 20 { bytes += out.buffer.count }
            try out.recordEnded()
        }
        bytes += out.buffer.count
        try out.finish()
        return bytes
    }

    /// Inflate a .gz file, discarding the output; returns uncompressed bytes.
    static func gunzip(path: String) throws -> Int {
        try GzipSource(FileSource(path: path)).forEachChunk { _ in }
    }

    /// Deflate a file at level 6 to /dev/null; returns uncompressed bytes.
    static func gzip(path: String) throws -> Int {
        let sink = try GzipSink(FileSink(path: "/dev/null"), level: 6)
        let total = try FileSource(path: path).forEachChunk { try sink.write($0) }
        try sink.finish()
        return total
    }
}
