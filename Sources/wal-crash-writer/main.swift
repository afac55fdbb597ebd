// Test helper for the kill -9 test of the write-ahead log: commits "record-<n>-..." for
// n = 0, 1, 2, ... to the log at argv[1] and writes "acked <n>" to stdout after each
// durable commit, until killed.
#if canImport(Glibc)
import Glibc
#endif
import FerryTable

/// Unbuffered, so an acknowledgement is out before the next commit starts.
func say(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
}

guard CommandLine.arguments.count == 2 else {
    say(2, "usage: wal-crash-writer <log>\n")
    exit(2)
}
do {
    let (log, recovered) = try WriteAheadLog.open(path: CommandLine.arguments[1], policy: .always)
    var n = recovered.records.count
    while true {
        // Payloads of varying size, so kills land in headers and payloads alike.
        let payload = Array("record-\(n)-".utf8) + [UInt8](repeating: UInt8(n % 251), count: (n * 7919) % 3000)
        try log.commit(payload)
        say(1, "acked \(n)\n")
        n += 1
    }
} catch {
    say(2, "wal-crash-writer: \(error)\n")
    exit(1)
}
