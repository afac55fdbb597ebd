import FerryTestSupport
import Foundation
import XCTest

/// Every crash point, not random ones (docs/faults.md, "The crash-point sweep"): each
/// command runs once with FERRY_TEST_FAULT=count to list its mutating system calls, then
/// once per call number with the process killed just before that call (and with ENOSPC
/// from that call on, and EIO on that call alone). After each fault the scenario's
/// invariant must hold; then the finishing command must succeed and leave exactly the
/// state a clean run leaves. `make test-faults` sweeps every call; `make test` a sample.
final class CrashPointSweepTests: XCTestCase {
    private var workspace: ToolWorkspace!
    private var work: URL { workspace.folder }
    private var full: Bool { ProcessInfo.processInfo.environment["FERRY_FAULTS"] == "full" }

    override func setUpWithError() throws { workspace = try ToolWorkspace() }

    struct Scenario {
        var name: String
        /// Makes the starting state in the current folder (`run`, data in `./data`).
        var setup: String
        /// The command under test; `$FAULT` goes to the process it is about, as
        /// `FERRY_TEST_FAULT="$FAULT" ferry-…`.
        var command: String
        /// Exits 0 when the state after a fault is one the command promises (prints why not).
        var invariant: String
        /// Brings the state to what a clean run makes.
        var finish: String
        /// Prints the state compared with a clean run's.
        var state: String
        var environment: [String: String] = [:]
    }

    private func sh(_ script: String, env: [String: String] = [:]) throws -> TestSupport.Result {
        try workspace.bash("cd run && export FERRY_DATA=$PWD/data && " + script, env: env)
    }

    /// Runs the sweep; returns the number of crash points (call numbers) it covered.
    @discardableResult
    private func sweep(_ s: Scenario) throws -> Int {
        try workspace.sh("rm -rf run base && mkdir run")
        let made = try sh(s.setup, env: s.environment)
        XCTAssertEqual(made.status, 0, "\(s.name) setup: \(made.stderr)")
        guard made.status == 0 else { return 0 }
        try workspace.sh("cp -a run base")
        // The clean run: its calls, and the state every faulted run must end in.
        let counted = try sh(s.command, env: s.environment.merging(["FAULT": "count=\(work.path)/calls"]) { $1 })
        XCTAssertEqual(counted.status, 0, "\(s.name) clean run: \(counted.stderr)")
        let reference = try sh(s.state, env: s.environment)
        XCTAssertEqual(reference.status, 0, "\(s.name) state: \(reference.stderr)")
        let calls = try String(contentsOf: work.appendingPathComponent("calls"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
        let total = calls.count
        XCTAssertGreaterThan(total, 0, "\(s.name): no mutating calls counted")
        // Every call with a kill in full; about 12 spread over the run otherwise, always
        // the first and the last few (where commits, renames and cleanups are).
        var points = Array(1...max(1, total))
        if !full {
            let step = max(1, total / 10)
            points = Array(Set(stride(from: 1, through: total, by: step)).union([1, max(1, total - 2), max(1, total - 1), total])).sorted()
        }
        var faults: [String] = points.map { "kill@\($0)" }
        let errnoPoints = full ? points : Array(points.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        faults += errnoPoints.map { "ENOSPC@\($0)+" } + errnoPoints.map { "EIO@\($0)" }
        for fault in faults {
            try workspace.sh("rm -rf run && cp -a base run")
            let faulted = try sh(s.command, env: s.environment.merging(["FAULT": fault]) { $1 })
            let context = "\(s.name), \(fault) (\(calls[(Int(fault.split(separator: "@")[1].filter(\.isNumber)) ?? 1) - 1])): exit \(faulted.status)"
            let invariant = try sh(s.invariant, env: s.environment)
            XCTAssertEqual(invariant.status, 0, "\(context): invariant: \(invariant.stdout)\(invariant.stderr)\ncommand said: \(faulted.stderr)")
            let finished = try sh(s.finish, env: s.environment)
            XCTAssertEqual(finished.status, 0, "\(context): finish: \(finished.stderr)")
            let state = try sh(s.state, env: s.environment)
            XCTAssertEqual(state.stdout, reference.stdout, "\(context): the state after finishing differs from a clean run's")
            if invariant.status != 0 || finished.status != 0 || state.stdout != reference.stdout { break }
        }
        print("crash-point sweep: \(s.name): \(total) mutating calls, \(points.count) kill points, \(errnoPoints.count * 2) errno faults")
        return total
    }

    private static let makeTable = """
        ferry-table create-table --table-name Tab --attribute-definitions AttributeName=pk,AttributeType=S \
            --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
        """
    private static let lines = "python3 -c \"import sys\nfor i in range(3000): print('{\\\"pk\\\":\\\"k%05d\\\",\\\"n\\\":1}' % i)\" > in.jsonl"
    /// Counters: every item has c = 1, and the items are whole groups of 1000 from the start.
    private static let countersAreAPrefix = """
        ferry-export --table Tab --plain | python3 -c "
        import sys, json
        items = [json.loads(l) for l in sys.stdin]
        bad = [i for i in items if i.get('c') != 1]
        keys = sorted(i['pk'] for i in items)
        ok = not bad and len(keys) % GROUP == 0 and keys == ['k%05d' % n for n in range(len(keys))]
        print('ok' if ok else 'counters %s, %d items' % (bad[:3], len(keys)))
        sys.exit(0 if ok else 1)"
        """

    func testAKilledOrFailingLoadWithACheckpointLeavesWholeGroupsAndReruns() throws {
        let load = "FERRY_TEST_FAULT=\"$FAULT\" ferry-load --table Tab --group 1000 --update 'ADD c :n' --checkpoint ck.json in.jsonl 2>/dev/null"
        try sweep(Scenario(name: "ferry-load --checkpoint", setup: Self.makeTable + "\n" + Self.lines, command: load,
                           invariant: Self.countersAreAPrefix.replacingOccurrences(of: "GROUP", with: "1000"),
                           finish: "ferry-load --table Tab --group 1000 --update 'ADD c :n' --checkpoint ck.json in.jsonl 2>/dev/null",
                           state: "ferry-export --table Tab --plain | sort"))
    }

    func testAKilledOrFailingPipelineResumesExactlyOnce() throws {
        let setup = Self.makeTable + "\n" + Self.lines + """

            head -n 1500 in.jsonl > a.jsonl && tail -n 1500 in.jsonl > b.jsonl
            ferry-s3 mb s3://bkt > /dev/null && ferry-s3 cp a.jsonl s3://bkt/in/a.jsonl > /dev/null && ferry-s3 cp b.jsonl s3://bkt/in/b.jsonl > /dev/null
            """
        let pipe = "ferry-extract --barrier-every 500 --resume ck.json s3://bkt/in/ 2>/dev/null | FERRY_TEST_FAULT=\"$FAULT\" ferry-load --table Tab --group 500 --update 'ADD c :n' --checkpoint ck.json 2>/dev/null"
        // Whole groups of 500, each object in order; every counter at 1.
        let invariant = """
            ferry-export --table Tab --plain | python3 -c "
            import sys, json
            items = [json.loads(l) for l in sys.stdin]
            bad = [i for i in items if i.get('c') != 1]
            n = sorted(int(i['pk'][1:]) for i in items)
            a = [k for k in n if k < 1500]; b = [k for k in n if k >= 1500]
            ok = not bad and a == list(range(len(a))) and b == list(range(1500, 1500 + len(b))) and len(a) % 500 == 0 and len(b) % 500 == 0
            print('ok' if ok else 'counters %s, %d + %d items' % (bad[:3], len(a), len(b)))
            sys.exit(0 if ok else 1)"
            """
        try sweep(Scenario(name: "ferry-extract | ferry-load", setup: setup, command: pipe, invariant: invariant,
                           finish: pipe.replacingOccurrences(of: "FERRY_TEST_FAULT=\"$FAULT\" ", with: ""),
                           state: "ferry-export --table Tab --plain | sort"))
    }

    func testASmallTableFlushingAndCompactingUnderFaultsKeepsEveryCommit() throws {
        let load = "FERRY_TEST_FAULT=\"$FAULT\" ferry-load --table Tab --group 100 --update 'ADD c :n' --checkpoint ck.json in.jsonl 2>/dev/null"
        try sweep(Scenario(name: "flush and compaction (8 KiB memtables)", setup: Self.makeTable + "\n" + Self.lines.replacingOccurrences(of: "range(3000)", with: "range(1000)"), command: load,
                           invariant: Self.countersAreAPrefix.replacingOccurrences(of: "GROUP", with: "100") + " && ferry-table verify --table-name Tab > /dev/null",
                           finish: "ferry-load --table Tab --group 100 --update 'ADD c :n' --checkpoint ck.json in.jsonl 2>/dev/null && ferry-table verify --table-name Tab > /dev/null",
                           state: "ferry-export --table Tab --plain | sort; ferry-table describe-table --table-name Tab | grep ItemCount",
                           environment: ["FERRY_TEST_FLUSH_BYTES": "8192"]))
    }

    /// A bulk load (groups as sorted runs, no log) into a table with a GSI, five groups so
    /// the background compaction merges runs while the load adds more.
    func testAKilledOrFailingBulkLoadLeavesWholeGroupsIndexedAndReruns() throws {
        let setup = """
            ferry-table create-table --table-name Tab --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=g,AttributeType=S \
                --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST \
                --global-secondary-indexes '[{"IndexName":"ByG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]' > /dev/null
            python3 -c "
            for i in range(5000): print('{\\"pk\\":\\"k%05d\\",\\"g\\":\\"g%d\\",\\"c\\":1}' % (i, i % 7))" > in.jsonl
            """
        let load = "ferry-load --table Tab --group 1000 --bulk always --checkpoint ck.json in.jsonl 2>/dev/null"
        // Whole groups from the start, the index and the counts in step with the items.
        let invariant = Self.countersAreAPrefix.replacingOccurrences(of: "GROUP", with: "1000") + """
             && ferry-table verify --table-name Tab > /dev/null && python3 -c "
            import json, subprocess
            t = json.loads(subprocess.check_output(['ferry-table', 'describe-table', '--table-name', 'Tab']))['Table']
            items = len(subprocess.check_output(['ferry-export', '--table', 'Tab']).splitlines())
            entries = len(subprocess.check_output(['ferry-export', '--table', 'Tab', '--index', 'ByG']).splitlines())
            ok = t['ItemCount'] == items == entries == t['GlobalSecondaryIndexes'][0]['ItemCount']
            print('ok' if ok else 'ItemCount %s, %d items, %d index entries, index ItemCount %s' % (t['ItemCount'], items, entries, t['GlobalSecondaryIndexes'][0]['ItemCount']))
            exit(0 if ok else 1)"
            """
        try sweep(Scenario(name: "ferry-load --bulk always --checkpoint", setup: setup, command: "FERRY_TEST_FAULT=\"$FAULT\" " + load,
                           invariant: invariant, finish: load,
                           state: "ferry-export --table Tab --plain | sort; ferry-export --table Tab --index ByG | sort; ferry-table describe-table --table-name Tab | grep -E 'ItemCount|TableSizeBytes|IndexSizeBytes'",
                           environment: ["FERRY_TEST_FLUSH_BYTES": "8192"]))
    }

    private static let sourceTable = """
        ferry-table create-table --table-name Src --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=g,AttributeType=S \
            --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST \
            --global-secondary-indexes '[{"IndexName":"ByG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]' > /dev/null
        seq 1 500 | sed 's/.*/{"pk":"k&","g":"g&","v":"new"}/' | ferry-load --table Src 2>/dev/null
        ferry-backup --table Src --out new.gz 2>/dev/null
        ferry-export --table Src | sort > new.txt && ferry-export --table Src --index ByG | sort > new-index.txt
        """
    /// No work folder is left once a command has opened the data folder.
    private static let noWorkFolders = "{ ferry-table list-tables > /dev/null 2>&1 || [ ! -d data/tables ]; } && ! ls data/tables 2>/dev/null | grep -q '^~'"

    func testAKilledOrFailingRestoreLeavesNoTableOrAWholeOne() throws {
        let invariant = Self.noWorkFolders + """

            if ferry-table describe-table --table-name Copy > /dev/null 2>&1; then
                ferry-export --table Copy | sort | cmp - new.txt && ferry-export --table Copy --index ByG | sort | cmp - new-index.txt
            fi
            """
        try sweep(Scenario(name: "ferry-restore", setup: Self.sourceTable,
                           command: "FERRY_TEST_FAULT=\"$FAULT\" ferry-restore --in new.gz --table Copy 2>/dev/null",
                           invariant: invariant,
                           finish: "ferry-table describe-table --table-name Copy > /dev/null 2>&1 || ferry-restore --in new.gz --table Copy 2>/dev/null",
                           state: "ferry-export --table Copy | sort; ferry-export --table Copy --index ByG | sort"))
    }

    private func replaceScenario(fallback: Bool) -> Scenario {
        let setup = Self.sourceTable + "\n" + """
            ferry-restore --in new.gz --table Tab 2>/dev/null
            seq 1 300 | sed 's/.*/{"pk":"k&","g":"g&","v":"old"}/' | ferry-load --table Tab --mode update 2>/dev/null
            ferry-export --table Tab | sort > old.txt
            """
        let invariant = Self.noWorkFolders + """

            ferry-export --table Tab | sort > now.txt && { cmp -s now.txt old.txt || cmp -s now.txt new.txt; } || { echo "Tab is neither the old table nor the new one"; exit 1; }
            """
        return Scenario(name: fallback ? "ferry-restore --replace (rename fallback)" : "ferry-restore --replace (RENAME_EXCHANGE)",
                        setup: setup,
                        command: "FERRY_TEST_FAULT=\"$FAULT\" ferry-restore --in new.gz --table Tab --replace 2>/dev/null",
                        invariant: invariant,
                        finish: "ferry-restore --in new.gz --table Tab --replace 2>/dev/null",
                        state: "ferry-export --table Tab | sort; ferry-export --table Tab --index ByG | sort",
                        environment: fallback ? ["FERRY_TEST_NO_RENAME_EXCHANGE": "1"] : [:])
    }

    func testAKilledOrFailingReplaceLeavesTheOldTableOrTheNewOne() throws {
        try sweep(replaceScenario(fallback: false))
    }

    func testAKilledOrFailingReplaceWithoutRenameExchangeLeavesTheOldTableOrTheNewOne() throws {
        try sweep(replaceScenario(fallback: true))
    }

    func testAKilledOrFailingBackupLeavesNoFileOrAWholeOne() throws {
        let setup = Self.makeTable + "\n" + Self.lines + "\nferry-load --table Tab in.jsonl 2>/dev/null && mkdir out"
        try sweep(Scenario(name: "ferry-backup", setup: setup,
                           command: "FERRY_TEST_FAULT=\"$FAULT\" ferry-backup --table Tab --out out/b.gz 2>/dev/null",
                           invariant: "[ -z \"$(ls out)\" ] || { [ \"$(ls out)\" = b.gz ] && ferry-backup --verify out/b.gz > /dev/null 2>&1; }",
                           finish: "ferry-backup --table Tab --out out/b.gz 2>/dev/null && ferry-backup --verify out/b.gz > /dev/null 2>&1",
                           state: "zcat out/b.gz | grep '^{\"Item\"'; ls out"))
    }

    func testAKilledOrFailingExportToTheStoreLeavesNoExportOrAWholeOne() throws {
        let setup = Self.makeTable + "\n" + Self.lines + "\nferry-load --table Tab in.jsonl 2>/dev/null && ferry-s3 mb s3://bkt > /dev/null"
        // Each export folder is unfinished (refused by ferry-extract) or whole. A kill
        // before its first object leaves an empty directory: in S3 terms no prefix at
        // all, and ferry-extract refuses it as empty.
        let invariant = """
            for id in $(ls data/s3/bkt/exp/AWSDynamoDB 2>/dev/null); do
                if [ -e data/s3/bkt/exp/AWSDynamoDB/$id/manifest-summary.json ]; then
                    [ "$(ferry-extract s3://bkt/exp/AWSDynamoDB/$id/ | grep -c Item)" = 3000 ] || { echo "export $id is not whole"; exit 1; }
                else
                    ferry-extract s3://bkt/exp/AWSDynamoDB/$id/ 2>&1 >/dev/null | grep -Eq 'the export is unfinished|/: no objects or files found$' || { echo "export $id is read though unfinished"; exit 1; }
                fi
            done
            """
        let newest = "ferry-extract s3://bkt/exp/AWSDynamoDB/$(ls data/s3/bkt/exp/AWSDynamoDB | sort | tail -1)/ | grep Item | sort"
        try sweep(Scenario(name: "ferry-export --to s3://", setup: setup,
                           command: "FERRY_TEST_FAULT=\"$FAULT\" ferry-export --table Tab --to s3://bkt/exp --segments 2 > /dev/null 2>&1",
                           invariant: invariant,
                           finish: "sleep 0.002; ferry-export --table Tab --to s3://bkt/exp --segments 2 > /dev/null 2>&1",
                           state: newest))
    }

    func testAKilledOrFailingCopyLeavesTheOldObjectOrTheNewOne() throws {
        let setup = "head -c 1000000 /dev/urandom > old.bin && head -c 3000000 /dev/urandom > new.bin && ferry-s3 mb s3://bkt > /dev/null && ferry-s3 cp old.bin s3://bkt/k > /dev/null"
        let invariant = """
            ferry-s3 cp s3://bkt/k got.bin > /dev/null && { cmp -s got.bin old.bin || cmp -s got.bin new.bin; } || { echo "the object is neither the old nor the new content"; exit 1; }
            [ "$(ferry-s3 ls s3://bkt/ | wc -l)" = 1 ] || { echo "not one key"; exit 1; }
            """
        try sweep(Scenario(name: "ferry-s3 cp", setup: setup,
                           command: "FERRY_TEST_FAULT=\"$FAULT\" ferry-s3 cp new.bin s3://bkt/k > /dev/null 2>&1",
                           invariant: invariant,
                           finish: "ferry-s3 cp new.bin s3://bkt/k > /dev/null",
                           state: "ferry-s3 cp s3://bkt/k - | md5sum; ferry-s3 ls s3://bkt/ | awk '{print $3, $4}'"))
    }

    func testAKilledOrFailingCreateOrDeleteLeavesTheTableWholeOrAbsent() throws {
        let create = "ferry-table create-table --table-name Tab --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null 2>&1"
        try sweep(Scenario(name: "ferry-table create-table", setup: "true",
                           command: "FERRY_TEST_FAULT=\"$FAULT\" " + create,
                           invariant: Self.noWorkFolders + "\nferry-table describe-table --table-name Tab > /dev/null 2>&1 || ! ferry-table list-tables | grep -q '\"Tab\"'",
                           finish: "ferry-table describe-table --table-name Tab > /dev/null 2>&1 || " + create,
                           state: "ferry-table describe-table --table-name Tab | grep -v -e CreationDateTime -e TableId -e LastUpdate"))
        try sweep(Scenario(name: "ferry-table delete-table", setup: Self.makeTable + "\nseq 1 200 | sed 's/.*/{\"pk\":\"k&\"}/' | ferry-load --table Tab 2>/dev/null",
                           command: "FERRY_TEST_FAULT=\"$FAULT\" ferry-table delete-table --table-name Tab > /dev/null 2>&1",
                           invariant: Self.noWorkFolders + "\n! ferry-table describe-table --table-name Tab > /dev/null 2>&1 || [ \"$(ferry-export --table Tab | wc -l)\" = 200 ]",
                           finish: "! ferry-table describe-table --table-name Tab > /dev/null 2>&1 || ferry-table delete-table --table-name Tab > /dev/null",
                           state: "ferry-table list-tables"))
    }

    /// A transaction across two tables, each with its own log: after a kill or a failed
    /// write at any call, the next command sees all of it or none of it (the intent is
    /// the commit point, docs/transactions.md), with item and index counts exact.
    func testAKilledOrFailingTransactionAcrossTablesLeavesAllOrNothing() throws {
        let setup = """
            for t in Accounts Ledger; do
              ferry-table create-table --table-name $t --attribute-definitions AttributeName=id,AttributeType=S AttributeName=kind,AttributeType=S \
                --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
                --global-secondary-indexes '[{"IndexName":"byKind","KeySchema":[{"AttributeName":"kind","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]' > /dev/null
            done
            ferry-table put-item --table-name Accounts --item '{"id":{"S":"a"},"balance":{"N":"100"},"kind":{"S":"acct"}}'
            cat > tx.json <<'JSON'
            [{"Update":{"TableName":"Accounts","Key":{"id":{"S":"a"}},"UpdateExpression":"SET balance = balance - :amt","ConditionExpression":"balance >= :amt","ExpressionAttributeValues":{":amt":{"N":"30"}}}},
             {"Put":{"TableName":"Ledger","Item":{"id":{"S":"t1"},"amount":{"N":"30"},"kind":{"S":"transfer"}},"ConditionExpression":"attribute_not_exists(id)"}}]
            JSON
            """
        let command = "FERRY_TEST_FAULT=\"$FAULT\" ferry-table transact-write-items --transact-items file://tx.json > /dev/null 2>&1"
        // balance, ledger items, ledger index entries, exported lines: before or after, never between.
        let state = """
            b=$(ferry-table get-item --table-name Accounts --key '{"id":{"S":"a"}}' --projection-expression balance | tr -d ' \\n')
            l=$(ferry-table describe-table --table-name Ledger | python3 -c 'import sys,json; t=json.load(sys.stdin)["Table"]; print(t["ItemCount"], t["GlobalSecondaryIndexes"][0]["ItemCount"])')
            echo "$b $l $(ferry-export --table Ledger | wc -l)"
            """
        let invariant = """
            s=$(bash ../state.sh)
            if [ "$s" != '{"Item":{"balance":{"N":"70"}}} 1 1 1' ] && [ "$s" != '{"Item":{"balance":{"N":"100"}}} 0 0 0' ]; then
              echo "half a transaction: $s"; exit 1
            fi
            if ls data/transactions 2>/dev/null | grep -q '[.]txn$'; then echo "an intent is left: $(ls data/transactions)"; exit 1; fi
            """
        try workspace.sh("cat > state.sh <<'SH'\n\(state)\nSH")
        try sweep(Scenario(name: "ferry-table transact-write-items (two tables)", setup: setup, command: command, invariant: invariant,
                           finish: "ferry-export --table Ledger | grep -q t1 || ferry-table transact-write-items --transact-items file://tx.json",
                           state: "bash ../state.sh"))
    }
}
