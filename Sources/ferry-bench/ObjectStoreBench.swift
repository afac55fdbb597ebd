#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import Foundation

/// Runs `/bin/sh -c command` with stdout to /dev/null and returns its wall time and peak
/// RSS in MB. Linux starts a spawned child's peak at its parent's (the mm it shared until
/// exec), and this bench holds a million items at times, so the command is run by a
/// fresh, small ferry-bench (`--measure-child`) whose own child's peak is the command's.
func runMeasured(_ command: String) throws -> (seconds: Double, peakMB: Double) {
    let report = "\(NSTemporaryDirectory())/ferry-bench-\(getpid()).measure"
    defer { unlink(report) }
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).path
    let status = try spawnAndWait([exe, "--measure-child", report, command]).status
    let fields = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: " ").compactMap { Double($0) }
    guard status == 0, fields.count == 2 else { throw BenchError.referenceFailed(command: command, status: status) }
    return (fields[0], fields[1])
}

/// The child side of `runMeasured`: runs the command, writes "seconds peakMB" to `report`
/// and returns the command's exit status.
func measureChild(report: String, command: String) -> Int32 {
    guard let result = try? spawnAndWait(["/bin/sh", "-c", command]) else { return 127 }
    try? "\(result.seconds) \(Double(result.usage.ru_maxrss) / 1024)".write(toFile: report, atomically: false, encoding: .utf8)
    return result.status
}

/// posix_spawn with stdout to /dev/null, then wait4. wait4's peak is the largest of the
/// process and every process it waited for, so a pipeline reports its largest stage.
func spawnAndWait(_ arguments: [String]) throws -> (seconds: Double, status: Int32, usage: rusage) {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let start = now()
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
    guard spawned == 0 else { throw BenchError.referenceFailed(command: arguments.joined(separator: " "), status: spawned) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let elapsed = now() - start
    let exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (elapsed, exitStatus, usage)
}

/// `ferry-s3 cp` in and out of the store against `cp` of the same file (both synced),
/// and a paged recursive listing of many keys.
struct ObjectStoreBench {
    let dir: String
    let tool: String      // path of ferry-s3
    let bytes: Int
    let keys: Int
    let runs: Int

    func run() throws -> [ReportRow] {
        let data = dir + "/s3-data"
        let big = dir + "/big-\(bytes).bin"
        if fileSize(big) != bytes {
            // Incompressible-looking bytes, written once.
            let sink = try FileSink(path: big)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var written = 0
            while written < bytes {
                for i in stride(from: 0, to: chunk.count, by: 8) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    withUnsafeBytes(of: state.bigEndian) { raw in for j in 0..<8 { chunk[i + j] = raw[j] } }
                }
                let n = min(chunk.count, bytes - written)
                try chunk[..<n].withUnsafeBytes { try sink.write($0) }
                written += n
            }
            try sink.finish()
        }
        let env = "FERRY_DATA='\(data)'"
        _ = try? runMeasured("\(env) '\(tool)' rb s3://bench --force >/dev/null 2>&1; \(env) '\(tool)' mb s3://bench >/dev/null")
        var rows: [ReportRow] = []
        var inOurs: [Double] = [], inRef: [Double] = [], outOurs: [Double] = [], outRef: [Double] = []
        var peakIn = 0.0, peakOut = 0.0, peakCp = 0.0
        for _ in 0..<runs {
            let a = try runMeasured("\(env) '\(tool)' cp '\(big)' s3://bench/big.bin >/dev/null")
            inOurs.append(a.seconds); peakIn = max(peakIn, a.peakMB)
            let b = try runMeasured("cp '\(big)' '\(dir)/copy.bin' && sync '\(dir)/copy.bin'")
            inRef.append(b.seconds); peakCp = max(peakCp, b.peakMB)
            let c = try runMeasured("\(env) '\(tool)' cp s3://bench/big.bin '\(dir)/out.bin' >/dev/null")
            outOurs.append(c.seconds); peakOut = max(peakOut, c.peakMB)
            let d = try runMeasured("cp '\(data)/s3/bench/big.bin' '\(dir)/copy2.bin' && sync '\(dir)/copy2.bin'")
            outRef.append(d.seconds)
        }
        let mb = Double(bytes) / 1e6
        func copyRow(_ stage: String, _ ours: [Double], _ reference: [Double], _ peak: Double) -> ReportRow {
            ReportRow(section: "object store", stage: stage, mbPerSecond: mb / median(ours), peakMB: peak,
                      references: [ReferenceResult(name: "cp + sync", itemsPerSecond: nil, mbPerSecond: mb / median(reference),
                                                   ratio: median(reference) / median(ours), peakMB: peakCp)])
        }
        rows.append(copyRow("ferry-s3 cp file -> store", inOurs, inRef, peakIn))
        rows.append(copyRow("ferry-s3 cp store -> file", outOurs, outRef, peakOut))
        for name in ["copy.bin", "copy2.bin", "out.bin"] { unlink(dir + "/" + name) }

        // Many keys under one prefix, dropped in as files; the first listing builds the sidecars.
        let keyFolder = data + "/s3/bench/keys"
        if (try? FileManager.default.contentsOfDirectory(atPath: keyFolder).count) != keys {
            try? FileManager.default.removeItem(atPath: keyFolder)
            try FileManager.default.createDirectory(atPath: keyFolder, withIntermediateDirectories: true)
            for i in 0..<keys {
                let fd = open(keyFolder + "/k\(i)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                _ = "\(i)\n".withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        }
        let list = "\(env) '\(tool)' ls s3://bench/keys/ --recursive > /dev/null"
        _ = try runMeasured(list)   // warm: sidecars
        var listTimes: [Double] = [], findTimes: [Double] = []
        var peakList = 0.0, peakFind = 0.0
        for _ in 0..<runs {
            let l = try runMeasured(list)
            listTimes.append(l.seconds); peakList = max(peakList, l.peakMB)
            let f = try runMeasured("find '\(keyFolder)' -type f | LC_ALL=C sort > /dev/null")
            findTimes.append(f.seconds); peakFind = max(peakFind, f.peakMB)
        }
        rows.append(ReportRow(section: "object store", stage: "ferry-s3 ls, \(keys) keys (keys/s)", itemsPerSecond: Double(keys) / median(listTimes),
                              peakMB: peakList,
                              references: [ReferenceResult(name: "find | sort (names only)", itemsPerSecond: Double(keys) / median(findTimes),
                                                           mbPerSecond: nil, ratio: median(findTimes) / median(listTimes), peakMB: peakFind)]))
        return rows
    }
}
