// ferry-transform: the middle stage of `ferry-extract | ferry-transform | ferry-load`.
// Reads NDJSON items (typed or plain; gzip detected by magic bytes), checks them against
// DynamoDB's rules and writes them typed (or --plain). Control lines pass unchanged.
import FerryCLI
import FerryIO
import FerryPipeline
import FerryValues

let spec = CommandSpec(
    name: "ferry-transform",
    summary: "Filter and reshape a stream of DynamoDB items, check each one, write it typed or plain.",
    usage: "ferry-transform [<step> ...] [--plain] [--input auto|typed|plain] [--rejects <file>] [--max-errors <n>] [--threads <n>] [<file> ...]",
    arguments: [("<file>", "NDJSON input, gzip or not; '-' or none reads stdin.")],
    options: [
        OptionSpec("--where", value: "<cond>", help: "Keep only items for which the condition holds (ETL expression).", repeatable: true),
        OptionSpec("--set", value: "<assignments>", help: "Set attributes: 'a = expr, b = expr' (ETL expression).", repeatable: true),
        OptionSpec("--remove", value: "<paths>", help: "Remove attributes: 'a, b.c, tags[0]'.", repeatable: true),
        OptionSpec("--rename", value: "<old=new>", help: "Rename a top-level attribute.", repeatable: true),
        OptionSpec("--project", value: "<paths>", help: "Keep only these attributes or paths: 'a, b.c'.", repeatable: true),
        OptionSpec("--values", value: "<json>", help: "Values for :placeholders: '{\":min\": 10}' (plain or typed JSON).", repeatable: true),
        OptionSpec("--names", value: "<json>", help: "Names for #placeholders: '{\"#s\": \"status\"}'.", repeatable: true),
        OptionSpec("--plain", help: "Write plain JSON ({\"id\":\"1\"}) instead of typed ({\"Item\":{\"id\":{\"S\":\"1\"}}})."),
        OptionSpec("--input", value: "<spelling>", help: "How items are spelled: auto (default, per line), typed or plain."),
        OptionSpec("--rejects", value: "<file>", help: "Write rejected records here as ferry:reject lines (default: report on stderr)."),
        OptionSpec("--max-errors", value: "<n>", help: "Stop with status 1 after more than <n> rejected records (default: no limit)."),
        .threads,
        .progress,
    ],
    examples: [
        "ferry-transform items.jsonl.gz > typed.jsonl",
        "ferry-transform --plain < export.json",
        "ferry-transform --rejects bad.jsonl --max-errors 100 a.jsonl b.jsonl",
        "ferry-transform --where 'age >= :adult' --values '{\":adult\": 18}' --set 'email = lower(email), seen = now()' --remove note",
    ],
    notes: ["<step> is --where, --set, --remove, --rename or --project with its text; --values and --names give their placeholders.",
            "Steps (--where, --set, --remove, --rename, --project) run in command-line order on each item, in the expression language's ETL mode (docs/expressions.md): reserved words are plain names, JSON literals and functions such as lower(), to_number(), concat() are allowed.",
            "An item a step fails on (to_number(\"abc\")) is rejected with its position; the rest go on.",
            "Control lines (one-member objects named ferry:barrier, ferry:delete, ferry:backup, ferry:end, ferry:reject, ferry:checkpoint) are copied through unchanged; any other line is an item, whatever its first attribute is called."]
)

CommandLineTool.main(spec) { args in
    let console = Console(tool: spec.name)
    let input = ItemSpelling(rawValue: try args.choice("--input", ItemSpelling.allCases.map(\.rawValue), default: "auto")) ?? .auto
    let maxErrors = args.value("--max-errors") == nil ? nil : try args.int("--max-errors", default: 0)
    let files = args.positionals.isEmpty ? ["-"] : args.positionals
    let threads = try args.threadCount()
    let steps: [TransformStep]
    do { steps = try TransformStep.parse(args.ordered) } catch let error as TransformStepError {
        throw UsageError.other("\(error)")
    }

    let rejectOutput = try args.value("--rejects").map { OutputWriter(sink: try FileSink(path: $0)) }
    let rejects = RejectWriter(output: rejectOutput, limit: maxErrors) { console.note($0) }
    let output = OutputWriter(sink: FileSink.standardOutput())
    let progress = ProgressReporter(label: spec.name, forced: args.flag("--progress"))
    let transcoder = StreamTranscoder(
        output: output, rejects: rejects,
        options: .init(input: input, plainOutput: args.flag("--plain"), threads: threads, steps: steps),
        onProgress: { progress.add(items: $0, bytes: $1) })

    progress.begin()
    defer { progress.finish() }
    for file in files {
        try transcoder.run(try InputDecoding.open(path: file))
    }
    try output.finish()
    try rejects.finish()
    if rejects.count > 0 {
        console.note("\(rejects.count) record(s) rejected")
        return .rejected
    }
    return .ok
}
