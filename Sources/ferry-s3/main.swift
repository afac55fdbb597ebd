// ferry-s3: the local object store, shaped like `aws s3` and `aws s3api`.
import FerryCLI
import FerryIO
import FerryObjectStore
import FerryValues

/// The store; commands that only read never create the data folder (a mistyped one is
/// an error, not an empty store).
func openStore(_ args: ParsedArguments, writing: Bool) throws -> ObjectStore {
    try ObjectStore(dataFolder: DataFolder.resolve(args), create: writing)
}

func s3Location(_ text: String, _ what: String) throws -> (bucket: String, key: String) {
    guard case let .s3(bucket, key) = Location(text) else {
        throw UsageError.invalidValue(option: what, value: text, expected: "an s3://bucket[/key] location")
    }
    return (bucket, key)
}

func printLine(_ text: String) throws { try Console.writeStdout(text + "\n") }

func transfer(_ args: ParsedArguments, removeSource: Bool) throws -> ExitCode {
    guard args.positionals.count == 2 else { throw UsageError.missingArgument("<source> <destination>") }
    var writes = removeSource
    if case .s3 = Location(args.positionals[1]) { writes = true }
    let mover = Transfer(store: try openStore(args, writing: writes)) { line in try? printLine(line) }
    try mover.copy(Location(args.positionals[0]), Location(args.positionals[1]),
                   .init(recursive: args.flag("--recursive"), contentType: args.value("--content-type"), removeSource: removeSource))
    return .ok
}

let recursive = OptionSpec("--recursive", help: "Act on every object under the prefix (or every file under the folder).")
let examplesNote = "Locations: s3://bucket/key, a local path, or '-' for stdin/stdout. The store is <data>/s3."

let group = CommandGroup(
    name: "ferry-s3",
    summary: "A local S3-style object store: buckets are folders, objects are files (see docs/ferry-s3.md).",
    subcommands: [
        .init(CommandSpec(name: "ferry-s3 mb", summary: "Make a bucket.", usage: "ferry-s3 mb s3://<bucket> [--data <dir>]",
                          options: [.data], examples: ["ferry-s3 mb s3://logs"])) { args in
            guard args.positionals.count == 1 else { throw UsageError.missingArgument("s3://<bucket>") }
            let (bucket, _) = try s3Location(args.positionals[0], "<bucket>")
            try openStore(args, writing: true).createBucket(bucket)
            try printLine("make_bucket: \(bucket)")
            return .ok
        },
        .init(CommandSpec(name: "ferry-s3 rb", summary: "Remove a bucket (--force: and its objects).",
                          usage: "ferry-s3 rb s3://<bucket> [--force] [--data <dir>]",
                          options: [OptionSpec("--force", help: "Delete the bucket's objects first."), .data],
                          examples: ["ferry-s3 rb s3://old-logs --force"])) { args in
            guard args.positionals.count == 1 else { throw UsageError.missingArgument("s3://<bucket>") }
            let (bucket, _) = try s3Location(args.positionals[0], "<bucket>")
            try openStore(args, writing: true).deleteBucket(bucket, force: args.flag("--force"))
            try printLine("remove_bucket: \(bucket)")
            return .ok
        },
        .init(CommandSpec(name: "ferry-s3 ls", summary: "List buckets, or objects and common prefixes under a prefix.",
                          usage: "ferry-s3 ls [s3://<bucket>[/<prefix>]] [--recursive] [--data <dir>]",
                          options: [recursive, .data],
                          examples: ["ferry-s3 ls", "ferry-s3 ls s3://logs/2026/", "ferry-s3 ls s3://logs --recursive"])) { args in
            let store = try openStore(args, writing: false)
            guard let target = args.positionals.first else {
                for bucket in try store.listBuckets() { try printLine(S3Output.lsBucketRow(bucket)) }
                return .ok
            }
            let (bucket, prefix) = try s3Location(target, "<location>")
            let isRecursive = args.flag("--recursive")
            var request = ListRequest(prefix: prefix, delimiter: isRecursive ? nil : "/")
            request.includeChecksums = false   // ls shows sizes and times only
            var shown = 0
            while true {
                let page = try store.list(bucket: bucket, request)
                for common in page.commonPrefixes { try printLine(S3Output.lsPrefixRow(common)) }
                for info in page.contents {
                    let name = isRecursive ? info.key : String(info.key.split(separator: "/").last ?? "")
                    try printLine(S3Output.lsObjectRow(info, name: name))
                }
                shown += page.keyCount
                guard page.isTruncated, let token = page.nextContinuationToken else { break }
                request.continuationToken = token
            }
            // As `aws s3 ls`: a prefix that matches nothing is a failure.
            return !prefix.isEmpty && shown == 0 ? .failure : .ok
        },
        .init(CommandSpec(name: "ferry-s3 cp", summary: "Copy files and objects: local <-> store, store -> store, stdin/stdout.",
                          usage: "ferry-s3 cp <source> <destination> [--recursive] [--content-type <type>] [--data <dir>]",
                          arguments: [("<source>", "s3://bucket/key, a local path, or '-' (stdin)"),
                                      ("<destination>", "s3://bucket/key, a local path, or '-' (stdout)")],
                          options: [recursive, OptionSpec("--content-type", value: "<type>", help: "Content type to store (default: from the file name)."), .data],
                          examples: ["ferry-s3 cp export.json.gz s3://imports/2026/11/23/", "zcat x.gz | ferry-s3 cp - s3://b/x.json",
                                     "ferry-s3 cp s3://imports/ ./local --recursive"],
                          notes: [examplesNote])) { args in
            try transfer(args, removeSource: false)
        },
        .init(CommandSpec(name: "ferry-s3 mv", summary: "Move: copy, then remove the source.",
                          usage: "ferry-s3 mv <source> <destination> [--recursive] [--data <dir>]",
                          arguments: [("<source>", "s3://bucket/key or a local path"), ("<destination>", "s3://bucket/key or a local path")],
                          options: [recursive, OptionSpec("--content-type", value: "<type>", help: "Content type to store."), .data],
                          examples: ["ferry-s3 mv s3://inbox/a.json s3://done/a.json"], notes: [examplesNote])) { args in
            try transfer(args, removeSource: true)
        },
        .init(CommandSpec(name: "ferry-s3 rm", summary: "Delete an object, or with --recursive every object under a prefix.",
                          usage: "ferry-s3 rm s3://<bucket>/<key> [--recursive] [--data <dir>]",
                          options: [recursive, .data], examples: ["ferry-s3 rm s3://logs/2025/ --recursive"])) { args in
            guard args.positionals.count == 1 else { throw UsageError.missingArgument("s3://<bucket>/<key>") }
            let store = try openStore(args, writing: true)
            try Transfer(store: store) { line in try? printLine(line) }.remove(Location(args.positionals[0]), recursive: args.flag("--recursive"))
            return .ok
        },
        .init(CommandSpec(name: "ferry-s3 head-object", summary: "Print an object's metadata as `aws s3api head-object` does.",
                          usage: "ferry-s3 head-object --bucket <bucket> --key <key> [--checksum-mode ENABLED] [--data <dir>]",
                          options: [OptionSpec("--bucket", value: "<bucket>", help: "Bucket name."),
                                    OptionSpec("--key", value: "<key>", help: "Object key."),
                                    OptionSpec("--checksum-mode", value: "ENABLED", help: "Include ChecksumCRC32."), .data],
                          examples: ["ferry-s3 head-object --bucket logs --key 2026/11/23/a.json.gz"])) { args in
            let (bucket, key) = (try args.required("--bucket"), try args.required("--key"))
            let info = try openStore(args, writing: false).head(bucket: bucket, key: key)
            let checksum = try args.choice("--checksum-mode", ["ENABLED", "DISABLED"], default: "DISABLED") == "ENABLED"
            try printLine(S3Output.headObject(info, checksum: checksum).prettyText())
            return .ok
        },
        .init(CommandSpec(name: "ferry-s3 get-object", summary: "Write an object (or --range of it) to a file, as `aws s3api get-object`.",
                          usage: "ferry-s3 get-object --bucket <bucket> --key <key> [--range bytes=<a>-<b>] <outfile> [--data <dir>]",
                          arguments: [("<outfile>", "Where the bytes go; '-' for stdout (the JSON then goes to stderr).")],
                          options: [OptionSpec("--bucket", value: "<bucket>", help: "Bucket name."),
                                    OptionSpec("--key", value: "<key>", help: "Object key."),
                                    OptionSpec("--range", value: "bytes=<a>-<b>", help: "Only these bytes: bytes=0-99, bytes=100-, bytes=-100."), .data],
                          examples: ["ferry-s3 get-object --bucket logs --key a.json --range bytes=0-1023 head.json"])) { args in
            guard args.positionals.count == 1 else { throw UsageError.missingArgument("<outfile>") }
            var range: ByteRange? = nil
            if let text = args.value("--range") {
                guard let parsed = ByteRange(text) else { throw UsageError.invalidValue(option: "--range", value: text, expected: "bytes=<first>-<last>") }
                range = parsed
            }
            let (bucket, key) = (try args.required("--bucket"), try args.required("--key"))
            let store = try openStore(args, writing: false)
            let sink = try FileSink(path: args.positionals[0])
            let (info, sent) = try store.get(bucket: bucket, key: key, range: range, into: sink)
            try sink.finish()
            let json = S3Output.headObject(info, range: range == nil ? nil : sent).prettyText() + "\n"
            if args.positionals[0] == "-" { Console.writeStderr(json) } else { try Console.writeStdout(json) }
            return .ok
        },
        .init(CommandSpec(name: "ferry-s3 list-objects-v2", summary: "Print one page of a listing as `aws s3api list-objects-v2` does.",
                          usage: "ferry-s3 list-objects-v2 --bucket <bucket> [--prefix <p>] [--delimiter <d>] [--max-keys <n>] [--start-after <key>] [--continuation-token <t>] [--data <dir>]",
                          options: [OptionSpec("--bucket", value: "<bucket>", help: "Bucket name."),
                                    OptionSpec("--prefix", value: "<p>", help: "Only keys starting with this."),
                                    OptionSpec("--delimiter", value: "<d>", help: "Roll keys up to common prefixes at this string (usually /)."),
                                    OptionSpec("--max-keys", value: "<n>", help: "Keys and prefixes per page, at most 1000 (default 1000)."),
                                    OptionSpec("--start-after", value: "<key>", help: "Only keys after this one."),
                                    OptionSpec("--continuation-token", value: "<t>", help: "Resume where a truncated page ended (its NextContinuationToken)."),
                                    .data],
                          examples: ["ferry-s3 list-objects-v2 --bucket logs --prefix 2026/ --delimiter /"])) { args in
            let bucket = try args.required("--bucket")
            let request = ListRequest(prefix: args.value("--prefix") ?? "", delimiter: args.value("--delimiter"),
                                      startAfter: args.value("--start-after"), continuationToken: args.value("--continuation-token"),
                                      maxKeys: try args.int("--max-keys", default: 1000, range: 0...Int.max))
            let page = try openStore(args, writing: false).list(bucket: bucket, request)
            try printLine(S3Output.listObjectsV2(page, bucket: bucket, request: request).prettyText())
            return .ok
        },
    ],
    notes: [examplesNote, "Every command takes --data <dir> (default: $FERRY_DATA, else ./ferry-data)."])

CommandLineTool.main(group)
