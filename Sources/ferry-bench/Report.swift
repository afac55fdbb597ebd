#if canImport(Glibc)
import Glibc
#endif
import FerryValues
import Foundation

/// One reference command measured beside a stage, on the same data in the same run.
struct ReferenceResult {
    let name: String
    let itemsPerSecond: Double?
    let mbPerSecond: Double?
    let ratio: Double          // reference time / Ferry time: above 1, Ferry is faster
    let peakMB: Double?
}

/// One line of the report: a stage's medians, its peak RSS and its references.
struct ReportRow {
    let section: String
    let stage: String
    var itemsPerSecond: Double?
    var mbPerSecond: Double?
    var peakMB: Double?
    var p50: Double? = nil       // microseconds per call
    var p99: Double? = nil
    var references: [ReferenceResult] = []
}

/// Peak RSS of the last command run by `runMeasured` (its largest process), in MB.
nonisolated(unsafe) var lastChildPeakMB: Double? = nil

/// RSS when the current in-process stage began, in MB.
nonisolated(unsafe) var peakBaselineMB = 0.0

/// A field of /proc/self/status in MB ("VmHWM", "VmRSS").
func procStatusMB(_ field: String) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
          let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
    return kb / 1024
}

/// Writes back every dirty page before a timed run (untimed): on two cores the kernel's
/// writeback of the stage before (gigabytes of exports, backups, tables) otherwise takes
/// CPU from whichever run comes next, Ferry's or the reference's.
func settle() {
    sync()
}

/// Starts a new peak for this process (Linux resets VmHWM to the current RSS on "5")
/// and remembers the RSS the stage starts from.
func resetPeakRSS() {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    if fd >= 0 {
        _ = "5".withCString { write(fd, $0, 1) }
        close(fd)
    }
    peakBaselineMB = procStatusMB("VmRSS") ?? 0
}

/// Memory an in-process stage added above what the bench held when it began, in MB
/// (the bench's own copy of the items is not the stage's cost).
func inProcessPeakMB() -> Double {
    max(0, (procStatusMB("VmHWM") ?? peakRSSMegabytes()) - peakBaselineMB)
}

enum Report {
    static func f(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }
    static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        s.count >= n ? s : (left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
    static func rate(_ x: Double?) -> String { x.map { $0 >= 100 ? String(Int($0.rounded())) : f($0) } ?? "" }

    /// The table printed on stdout: one line per (stage, reference), grouped in sections.
    static func text(_ rows: [ReportRow], items: Int, runs: Int, notes: [String]) -> String {
        var out = ""
        var section = ""
        for row in rows {
            if row.section != section {
                section = row.section
                out += "\n" + pad(section, 34) + pad("items/s", 11, left: true) + pad("MB/s", 8, left: true)
                    + pad("RSS MB", 8, left: true) + pad("p50/p99 us", 13, left: true) + "   " + pad("reference", 30)
                    + pad("items/s", 11, left: true) + pad("MB/s", 8, left: true) + pad("RSS MB", 8, left: true)
                    + pad("ratio", 8, left: true) + "\n"
            }
            let latency = row.p50.map { "\(f($0, 0))/\(f(row.p99 ?? $0, 0))" } ?? ""
            let ours = pad("  " + row.stage, 34) + pad(rate(row.itemsPerSecond), 11, left: true) + pad(row.mbPerSecond.map { f($0) } ?? "", 8, left: true)
                + pad(row.peakMB.map { f($0, 0) } ?? "", 8, left: true) + pad(latency, 13, left: true)
            if row.references.isEmpty { out += ours + "\n" }
            for (i, r) in row.references.enumerated() {
                out += (i == 0 ? ours : pad("", 74)) + "   " + pad(r.name, 30) + pad(rate(r.itemsPerSecond), 11, left: true)
                    + pad(r.mbPerSecond.map { f($0) } ?? "", 8, left: true) + pad(r.peakMB.map { f($0, 0) } ?? "", 8, left: true)
                    + pad(f(r.ratio, 2) + "x", 8, left: true) + "\n"
            }
        }
        out += "\n"
        for note in notes { out += note + "\n" }
        out += "items \(items), \(runs) runs each (medians); ratio = reference time / Ferry time (above 1: Ferry is faster);\n"
        out += "RSS = peak resident memory of the stage's largest process; MB = uncompressed input bytes\n"
        return out
    }

    /// The same rows as JSON (`BENCH_OUT`); docs/performance.md describes the fields.
    static func json(_ rows: [ReportRow], items: Int, runs: Int, machine: [String: String], notes: [String]) -> String {
        func number(_ x: Double?, _ decimals: Int = 1) -> JSONValue { x.map { .number(f($0, decimals)) } ?? .null }
        let value = JSONValue.object([
            JSONMember("items", .number(String(items))),
            JSONMember("runs", .number(String(runs))),
            JSONMember("machine", .object(machine.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })),
            JSONMember("notes", .array(notes.map { .string($0) })),
            JSONMember("stages", .array(rows.map { row in
                .object([
                    JSONMember("section", .string(row.section)),
                    JSONMember("stage", .string(row.stage)),
                    JSONMember("items_per_s", number(row.itemsPerSecond, 0)),
                    JSONMember("mb_per_s", number(row.mbPerSecond)),
                    JSONMember("peak_rss_mb", number(row.peakMB, 0)),
                    JSONMember("p50_us", number(row.p50, 0)),
                    JSONMember("p99_us", number(row.p99, 0)),
                    JSONMember("references", .array(row.references.map { r in
                        .object([JSONMember("name", .string(r.name)), JSONMember("items_per_s", number(r.itemsPerSecond, 0)),
                                 JSONMember("mb_per_s", number(r.mbPerSecond)), JSONMember("peak_rss_mb", number(r.peakMB, 0)),
                                 JSONMember("ratio", number(r.ratio, 2))])
                    })),
                ])
            })),
        ])
        return value.jsonText + "\n"
    }

    /// What the report was measured on: printed with it and kept in the JSON.
    static func machine() -> [String: String] {
        var facts: [String: String] = [:]
        var name = utsname()
        uname(&name)
        func field<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        facts["kernel"] = field(name.sysname) + " " + field(name.release)
        facts["arch"] = field(name.machine)
        facts["cores"] = String(ProcessInfo.processInfo.activeProcessorCount)
        facts["memory_gib"] = f(Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30), 0)
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            facts["cpu"] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        facts["date"] = formatter.string(from: Date())
        return facts
    }
}
