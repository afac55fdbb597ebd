// Test helper for the table engine's kill -9 test: in table "Crash" of the data folder
// argv[1] (created with a GSI on "batch" if missing), commits batch after batch, each
// one commit of 10 new items "b<n>-<j>" plus overwrites of "shared-<j>" with batch n,
// and writes "acked <n>" to stdout after each commit returns, until killed. A small
// flush threshold makes flushes and compactions happen while it runs.
#if canImport(Glibc)
import Glibc
#endif
import FerryTable
import FerryValues

func say(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
}

guard CommandLine.arguments.count == 3, let first = Int(CommandLine.arguments[2]) else {
    say(2, "usage: table-crash-writer <data folder> <first batch number>\n")
    exit(2)
}
do {
    let catalog = try TableCatalog(dataFolder: CommandLine.arguments[1])
    catalog.flushThreshold = 48 << 10
    if (try? catalog.description(of: "Crash")) == nil {
        let pk = KeyAttribute(name: "pk", type: .s), batch = KeyAttribute(name: "batch", type: .n)
        try catalog.create(TableDescription(
            name: "Crash", keySchema: KeySchema(partition: pk), attributeDefinitions: [pk, batch], billingMode: .payPerRequest,
            throughput: .init(read: 0, write: 0),
            indexes: [.init(name: "ByBatch", isGlobal: true, keySchema: KeySchema(partition: batch), projection: .init(kind: .keysOnly), throughput: nil, keyspace: 1)],
            created: 0, tableId: "crash"))
    }
    let table = try catalog.openForWriting("Crash", program: "table-crash-writer")
    var n = first
    let pad = AttributeValue.s(String(repeating: "p", count: 200))
    while true {
        var operations: [WriteOperation] = []
        for j in 0..<10 {
            operations.append(.put(Item([("pk", .s("b\(n)-\(j)")), ("batch", .n(DynamoNumber(n))), ("pad", pad)]), condition: nil))
            operations.append(.put(Item([("pk", .s("shared-\(j)")), ("batch", .n(DynamoNumber(n)))]), condition: nil))
        }
        for outcome in try table.write(operations) {
            if case let .rejected(error) = outcome { throw error }
        }
        say(1, "acked \(n)\n")
        n += 1
    }
} catch {
    say(2, "table-crash-writer: \(error)\n")
    exit(1)
}
