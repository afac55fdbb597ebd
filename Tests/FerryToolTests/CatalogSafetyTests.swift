import FerryTestSupport
import Foundation
import XCTest

/// The catalog of tables and the data folder: work folders of dead processes end in a
/// whole table, long names work, and commands that only read create nothing.
final class CatalogSafetyTests: ToolTestCase {

    private func tableFolders() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: work.path + "/data/tables").sorted()
    }

    private func makeTable(_ name: String = "Tab", items: Int) throws {
        try sh("""
            ferry-table create-table --table-name \(name) --attribute-definitions AttributeName=pk,AttributeType=S \
                --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
            seq 1 \(items) | sed 's/.*/{"pk":"k&"}/' | ferry-load --table \(name) 2>/dev/null
            """)
    }

    private func count(_ name: String = "Tab") throws -> String {
        try sh("ferry-table scan --table-name \(name) --select COUNT | grep '\"Count\"' | tr -dc 0-9").stdout
    }

    /// A pid that is certainly not running: a child that has exited.
    private func deadPid() throws -> String {
        try sh("sh -c 'echo $$'").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testAReplaceCutShortByAnEarlierFerryIsRolledBackToTheOldTable() throws {
        // The state ferry-restore --replace left when killed between its two renames:
        // the old table moved aside as ~deleting-<name>-…, the new one still hidden.
        try makeTable(items: 7)
        try makeTable("New", items: 3)
        let pid = try deadPid()
        try sh("mv data/tables/Tab data/tables/~deleting-Tab-\(pid)-1 && mv data/tables/New data/tables/~restoring-Tab-\(pid)-2")
        XCTAssertEqual(try count(), "7", "the old table is back")
        XCTAssertEqual(try tableFolders(), ["Tab"], "and the hidden new one is gone")
    }

    func testReplacedAndWorkFoldersOfDeadProcessesEndInOneWholeTable() throws {
        let pid = try deadPid()
        // Moved aside, the new one not yet in place: the old table comes back.
        try makeTable(items: 5)
        try makeTable("New", items: 2)
        try sh("mv data/tables/Tab data/tables/~replaced-\(pid)-a && mv data/tables/New data/tables/~restoring-\(pid)-b")
        XCTAssertEqual(try count(), "5")
        XCTAssertEqual(try tableFolders(), ["Tab"])
        // The new one in place (the old one says it was replaced by it): the old one is removed.
        try sh("cp -r data/tables/Tab data/tables/~replaced-\(pid)-c && grep -o '\"TableId\": \"[^\"]*' data/tables/Tab/table.json | cut -d'\"' -f4 > data/tables/~replaced-\(pid)-c/REPLACED-BY")
        XCTAssertEqual(try count(), "5")
        XCTAssertEqual(try tableFolders(), ["Tab"])
        // Its removal begun (table.json gone): removed, whoever has the name.
        try makeTable("Old", items: 4)
        try sh("rm data/tables/Old/table.json && mv data/tables/Old data/tables/~replaced-\(pid)-d")
        XCTAssertEqual(try count(), "5")
        XCTAssertEqual(try tableFolders(), ["Tab"])
        try sh("cp -r data/tables/Tab data/tables/~replaced-\(pid)-e && rm data/tables/~replaced-\(pid)-e/table.json")
        XCTAssertEqual(try count(), "5")
        XCTAssertEqual(try tableFolders(), ["Tab"])
        // A live process's work folder is left alone.
        try sh("mkdir data/tables/~restoring-\(ProcessInfo.processInfo.processIdentifier)-f")
        try sh("ferry-table list-tables > /dev/null")
        XCTAssertEqual(try tableFolders().count, 2)
    }

    func testAReplacedTableIsRemovedOnlyWhenTheTableThatReplacedItHasTheName() throws {
        let pid = try deadPid()
        try makeTable(items: 5)
        let id = { (folder: String) -> String in
            let json = try? JSONSerialization.jsonObject(with: Data(contentsOf: self.work.appendingPathComponent("data/tables/\(folder)/table.json"))) as? [String: Any]
            return json?["TableId"] as? String ?? ""
        }
        // Another table took the name in the moment it was free: the old one is kept.
        try sh("cp -r data/tables/Tab data/tables/~replaced-\(pid)-a && echo not-\(id("Tab")) > data/tables/~replaced-\(pid)-a/REPLACED-BY")
        try sh("ferry-table list-tables > /dev/null")
        XCTAssertEqual(try tableFolders(), ["Tab", "~replaced-\(pid)-a"], "kept for a person: its successor does not have the name")
        // The successor has the name: the swap was done, the old one goes.
        try sh("echo \(id("Tab")) > data/tables/~replaced-\(pid)-a/REPLACED-BY && ferry-table list-tables > /dev/null")
        XCTAssertEqual(try tableFolders(), ["Tab"])
        // An old-style replaced folder whose table.json is damaged is left for a person.
        try makeTable("New", items: 1)
        try sh("cp -r data/tables/Tab data/tables/~deleting-Tab-\(pid)-1 && echo '{' > data/tables/~deleting-Tab-\(pid)-1/table.json && mv data/tables/New data/tables/~restoring-Tab-\(pid)-2 && ferry-table list-tables > /dev/null")
        XCTAssertEqual(try tableFolders(), ["Tab", "~deleting-Tab-\(pid)-1"])
    }

    func testARestoredTableIsSyncedBeforeItIsPublished() throws {
        try makeTable(items: 50)
        try sh("ferry-backup --table Tab --out b.gz 2>/dev/null && FERRY_TEST_FAULT=count=$PWD/calls ferry-restore --in b.gz --table Copy 2>/dev/null")
        let calls = try String(contentsOf: work.appendingPathComponent("calls"), encoding: .utf8).split(separator: "\n").map(String.init)
        guard let note = calls.first(where: { $0.hasPrefix("# fd=") && $0.hasSuffix("/log-1.wal") }) else { return XCTFail("no log in \(calls)") }
        let fd = String(note.dropFirst("# fd=".count).prefix { $0 != " " })
        let counted = calls.filter { !$0.hasPrefix("#") }
        guard let lastWrite = counted.lastIndex(of: "write fd=\(fd)"), let publish = counted.lastIndex(of: "rename Copy") else {
            return XCTFail("no log write or publish in \(counted)")
        }
        XCTAssertNotNil(counted[lastWrite..<publish].firstIndex(of: "fsync fd=\(fd)"), "the log's last write is synced before the table appears: \(counted)")
    }

    func testTableNamesUpTo255CharactersWorkEverywhere() throws {
        let name = String(repeating: "n", count: 250) + "-_.ab"
        XCTAssertEqual(name.utf8.count, 255)
        try makeTable(name, items: 3)
        try sh("ferry-backup --table \(name) --out b.gz 2>/dev/null && ferry-restore --in b.gz --table \(name) --replace 2>/dev/null")
        XCTAssertEqual(try count(name), "3")
        try sh("ferry-restore --in b.gz --table \(String(name.dropLast())) 2>/dev/null && ferry-table delete-table --table-name \(name) > /dev/null")
        XCTAssertEqual(try tableFolders(), [String(name.dropLast())])
        let long = try sh("ferry-table create-table --table-name \(name)x --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH", expect: 1)
        XCTAssertTrue(long.stderr.contains("Member must have length less than or equal to 255"), long.stderr)
    }

    func testCommandsThatOnlyReadNeverCreateTheDataFolder() throws {
        let missing = work.path + "/dta"
        for command in ["ferry-table list-tables", "ferry-table describe-table --table-name T", "ferry-table scan --table-name T",
                        "ferry-table verify --table-name T", "ferry-s3 ls", "ferry-s3 ls s3://bkt/", "ferry-export --table T",
                        "ferry-backup --table T --out x.gz", "ferry-extract s3://bkt/k", "ferry-s3 cp s3://bkt/k out"] {
            let r = try sh(command, expect: 1, env: ["FERRY_DATA": missing])
            XCTAssertTrue(r.stderr.contains("no data folder at \(missing) (check --data or FERRY_DATA; a command that writes creates it)"), "\(command): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "\(command) made \(missing)")
        }
        // An existing data folder without tables or buckets reads as empty, and stays so.
        try sh("mkdir empty")
        XCTAssertEqual(try sh("ferry-table list-tables", env: ["FERRY_DATA": work.path + "/empty"]).stdout, "{\n    \"TableNames\": []\n}\n")
        XCTAssertEqual(try sh("ferry-s3 ls", env: ["FERRY_DATA": work.path + "/empty"]).stdout, "")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.path + "/empty"), [])
        // A command that writes makes it.
        try sh("ferry-s3 mb s3://bkt", env: ["FERRY_DATA": missing])
        XCTAssertTrue(FileManager.default.fileExists(atPath: missing + "/s3/bkt"))
    }
}
