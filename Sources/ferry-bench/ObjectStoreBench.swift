#if canImport(Glibc)
import Glibc
#endif
import FerryIO
import Foundation

/// Runs `/bin/sh -c command` and returns its wall time and peak RSS in MB (from wait4).
func runMeasured(_ command: String) throws -> (seconds: Double, peakMB: Double) {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for p in argv { free(p) } }
    let start = now()
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
    guard spawned == 0 else { throw BenchError.referenceFailed(command: command, status: spawned) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let elapsed = now() - start
    let exitStatus = (status >> 8) & 0xFF
    guard status & 0x7F == 0, exitStatus == 0 else { throw BenchError.referenceFailed(command: command, status: exitStatus) }
    return (elapsed, Double(usage.ru_maxrss) / 1024)
}

/// `ferry-s3 cp` in and out of the store against `cp` of the same file (both synced),
/// and a paged recursive listing of many keys.
struct ObjectStoreBench {
    let dir: String
    let tool: String      // path of ferry-s3
    let bytes: Int
    let keys: Int
    let runs: Int

    struct Row {
        let stage: String
        let rate: Double          // MB/s or keys/s
        let unit: String
        let reference: String
        let referenceRate: Double
        let peakMB: Double
        let referencePeakMB: Double
    }

    func run() throws -> [Row] {
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
        var rows: [Row] = []
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
        rows.append(Row(stage: "ferry-s3 cp file -> store", rate: mb / median(inOurs), unit: "MB/s", reference: "cp + sync",
                        referenceRate: mb / median(inRef), peakMB: peakIn, referencePeakMB: peakCp))
        rows.append(Row(stage: "ferry-s3 cp store -> file", rate: mb / median(outOurs), unit: "MB/s", reference: "cp + sync",
                        referenceRate: mb / median(outRef), peakMB: peakOut, referencePeakMB: peakCp))
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
        rows.append(Row(stage: "ferry-s3 ls \(keys) keys", rate: Double(keys) / median(listTimes), unit: "keys/s",
                        reference: "find | sort (names only)", referenceRate: Double(keys) / median(findTimes),
                        peakMB: peakList, referencePeakMB: peakFind))
        return rows
    }
}
