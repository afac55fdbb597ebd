// ferry-serve: DynamoDB's HTTP API on a data folder's tables, for boto3, the aws CLI
// and every SDK (docs/ferry-serve.md).
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FerryAWS
import FerryCLI
import FerryHTTP
import FerryServe

let spec = CommandSpec(
    name: "ferry-serve",
    summary: "Serve the data folder's tables over DynamoDB's HTTP API (boto3, the aws CLI and SDKs use it as a local DynamoDB).",
    usage: "ferry-serve [--host <addr>] [--port <n>] [--credentials <file>] [--region <r>] [--account-id <n>] [--ttl-interval <s>] [--data <dir>]",
    options: [
        OptionSpec("--host", value: "<addr>", help: "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)."),
        OptionSpec("--port", value: "<n>", help: "Port (default 8000; 0 picks a free one, printed on the ready line)."),
        OptionSpec("--credentials", value: "<file>", help: "AWS credentials file (INI, as ~/.aws/credentials): requests must be SigV4-signed by one of its keys. Default: any request is accepted."),
        OptionSpec("--region", value: "<region>", help: "The region in table ARNs (default AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)."),
        OptionSpec("--ttl-interval", value: "<seconds>", help: "Seconds between sweeps that delete items whose time to live has passed (default 60)."),
        OptionSpec("--account-id", value: "<12 digits>", help: "The account in table ARNs (default FERRY_ACCOUNT_ID, else 000000000000)."),
        .data,
    ],
    examples: [
        "ferry-serve --port 8000 &",
        "aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000",
        "python3 -c \"import boto3; print(boto3.client('dynamodb', endpoint_url='http://127.0.0.1:8000').list_tables())\"",
    ],
    notes: ["When ready it prints one line on stdout: 'ferry-serve: listening on http://127.0.0.1:8000'.",
            "SIGTERM or SIGINT stops it: requests in flight are answered, tables closed, exit status 0.",
            "While it runs it holds every table's writer: ferry-load and ferry-table writes are refused naming it; reads (scan, ferry-export, ferry-backup) work beside it."]
)

func ttlInterval(_ args: ParsedArguments) throws -> Double {
    guard let text = args.value("--ttl-interval") else { return 60 }
    guard let seconds = Double(text), seconds.isFinite, seconds >= 0.05, seconds <= 86_400 else {
        throw UsageError.invalidValue(option: "--ttl-interval", value: text, expected: "seconds from 0.05 to 86400")
    }
    return seconds
}

CommandLineTool.main(spec) { args in
    let console = Console(tool: spec.name)
    let host = args.value("--host") ?? "127.0.0.1"
    let port = try args.int("--port", default: 8000, range: 0...65535)
    var credentials: [String: String]? = nil
    if let path = args.value("--credentials") {
        credentials = try CredentialsFile.read(path: path).secrets
    }
    // Signals are taken by one thread with sigwait, so every other thread (the server's)
    // is created with them blocked.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGTERM)
    sigaddset(&stopSignals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

    let account = args.value("--account-id")
    if let account, account.count != 12 || !account.allSatisfy(\.isASCII) || !account.allSatisfy(\.isNumber) {
        throw UsageError.invalidValue(option: "--account-id", value: account, expected: "12 digits")
    }
    let server = try DynamoDBServer(host: host, port: port, dataFolder: DataFolder.resolve(args), credentials: credentials,
                                    region: args.value("--region"), account: account, ttlInterval: try ttlInterval(args),
                                    log: { console.warning($0) })
    let waitFor = stopSignals
    let watcher = Thread {
        var signal: Int32 = 0
        var set = waitFor
        sigwait(&set, &signal)
        console.note("stopping (signal \(signal)): finishing requests in flight; a second signal stops at once")
        server.shutdown()
        // A second signal does not wait for requests in flight: what was answered is
        // durable already (each answer waited for its commit), so this is as safe as a kill.
        sigwait(&set, &signal)
        console.note("stopping now (signal \(signal)), without waiting for requests in flight")
        exit(ExitCode.failure.rawValue)
    }
    watcher.start()
    try Console.writeStdout("ferry-serve: listening on \(server.url)\n")
    let (failures, commits, requests) = server.run()
    if commits > 0 { console.note("\(requests) write requests in \(commits) commits") }
    for (table, error) in failures { console.error("table '\(table)' did not close cleanly: \(error)") }
    return failures.isEmpty ? .ok : .failure
}
