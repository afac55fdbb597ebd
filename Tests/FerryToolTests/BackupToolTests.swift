import FerryTestSupport
import Foundation
import XCTest

/// ferry-export, ferry-backup and ferry-restore as users run them.
final class BackupToolTests: ToolTestCase {

    /// Music with a GSI and an LSI, loaded from the fixtures.
    private func makeMusic() throws {
        try sh("""
            ferry-table create-table --table-name Music \
              --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S AttributeName=Genre,AttributeType=S AttributeName=Year,AttributeType=N \
              --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
              --global-secondary-indexes 'IndexName=ByGenre,KeySchema=[{AttributeName=Genre,KeyType=HASH},{AttributeName=Year,KeyType=RANGE}],Projection={ProjectionType=ALL}' \
              --local-secondary-indexes 'IndexName=ByYear,KeySchema=[{AttributeName=Artist,KeyType=HASH},{AttributeName=Year,KeyType=RANGE}],Projection={ProjectionType=KEYS_ONLY}' \
              --billing-mode PAY_PER_REQUEST > /dev/null
            ferry-extract fixtures/demo/music.jsonl 2>/dev/null | ferry-load --table Music 2>/dev/null
            """)
    }

    func testBackupRestoreExportEqualsTheOriginalExport() throws {
        try makeMusic()
        try sh("""
            ferry-export --table Music | sort > original.jsonl
            ferry-export --table Music --index ByGenre | sort > original-gsi.jsonl
            ferry-backup --table Music --out 'Music-%Y.gz'
            ferry-backup --verify Music-$(date +%Y).gz
            ferry-restore --in Music-$(date +%Y).gz --table MusicCopy
            ferry-export --table MusicCopy | sort > restored.jsonl
            ferry-export --table MusicCopy --index ByGenre | sort > restored-gsi.jsonl
            cmp original.jsonl restored.jsonl && cmp original-gsi.jsonl restored-gsi.jsonl
            """)
        let described = try sh("ferry-table describe-table --table-name MusicCopy").stdout
        XCTAssertTrue(described.contains("\"IndexName\": \"ByGenre\"") && described.contains("\"IndexName\": \"ByYear\""), described)
        XCTAssertTrue(described.contains("\"ItemCount\": 7"), described)
        // zcat | head is readable; ferry-load takes a backup as input.
        let head = try sh("zcat Music-$(date +%Y).gz | head -n 2").stdout
        XCTAssertTrue(head.hasPrefix("{\"ferry:backup\":{\"version\":2,"), head)
        try sh("ferry-table create-table --table-name Plain --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE --billing-mode PAY_PER_REQUEST >/dev/null && ferry-load --table Plain Music-$(date +%Y).gz")
        // Restoring over an existing name needs --replace.
        let refused = try sh("ferry-restore --in Music-$(date +%Y).gz --table MusicCopy", expect: 1)
        XCTAssertTrue(refused.stderr.contains("table 'MusicCopy' exists; pass --replace"), refused.stderr)
        try sh("ferry-restore --in Music-$(date +%Y).gz --table MusicCopy --replace 2>/dev/null")
    }

    func testAmazonLayoutExportExtractsAndLoadsBackToTheSameTable() throws {
        try makeMusic()
        let summary = try sh("ferry-s3 mb s3://exports >/dev/null && ferry-export --table Music --to s3://exports/nightly --segments 3").stdout
        XCTAssertTrue(summary.contains("\"itemCount\": 7"), summary)
        XCTAssertTrue(summary.contains("\"exportType\": \"FULL_EXPORT\""))
        let id = try XCTUnwrap(summary.range(of: #"/export/[0-9]{14}-[0-9a-f]{8}""#, options: .regularExpression))
        XCTAssertFalse(id.isEmpty)
        let listing = try sh("ferry-s3 ls --recursive s3://exports/nightly/").stdout
        for name in ["_started", "manifest-summary.json", "manifest-summary.md5", "manifest-files.json", "manifest-files.md5"] {
            XCTAssertTrue(listing.contains("/\(name)\n"), name)
        }
        XCTAssertEqual(listing.components(separatedBy: ".json.gz\n").count - 1, 3, listing)
        try sh("""
            ferry-export --table Music | sort > original.jsonl
            ferry-table create-table --table-name Again --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE --billing-mode PAY_PER_REQUEST >/dev/null
            ferry-extract --format aws-export s3://exports/nightly/ | ferry-load --table Again 2>/dev/null
            ferry-export --table Again | sort > again.jsonl
            cmp original.jsonl again.jsonl
            """)
    }

    func testExportFormatsFilterProjectionAndCSV() throws {
        try makeMusic()
        let plain = try sh("ferry-export --table Music --plain --filter 'Price > :p' --values '{\":p\": 1.5}' --projection 'SongTitle, Price' | sort").stdout
        XCTAssertEqual(plain, "{\"SongTitle\":\"Call Me Today\",\"Price\":1.98}\n{\"SongTitle\":\"Howdy\",\"Price\":2.14}\n")
        let csv = try sh("ferry-export --table Music --csv --columns Artist,SongTitle,Tags --filter 'attribute_exists(Tags)'").stdout
        XCTAssertEqual(csv, "Artist,SongTitle,Tags\nFerry Tales,Three A.M.,\"{\"\"L\"\":[{\"\"S\"\":\"\"night\"\"},{\"\"S\"\":\"\"loop\"\"}]}\"\n")
        try sh("ferry-export --table Music --csv --out music.csv && ferry-extract --format csv --types Price:N,Year:N,Awards:N music.csv | grep -c Item")
        try sh("ferry-export --table Music --out music.jsonl.gz && zcat music.jsonl.gz | grep -c Item")
        try sh("ferry-export --table Music --plain --csv", expect: 2)
    }

    func testAnExportIntoAClosedPipeStopsEverySegmentAtOnce() throws {
        try sh(#"seq 1 200000 | sed 's/.*/{"pk":"k&","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}/' | ferry-load --table Big --create pk:S 2>/dev/null"#)
        func seconds(_ script: String) throws -> Double {
            let start = Date()
            try sh(script)
            return Date().timeIntervalSince(start)
        }
        try sh("mkdir segments")
        let whole = try seconds("TMPDIR=$PWD/segments ferry-export --table Big --segments 4 > /dev/null")
        let first = try seconds("TMPDIR=$PWD/segments ferry-export --table Big --segments 4 | head -1 > first.jsonl")
        XCTAssertEqual(try String(contentsOf: work.appendingPathComponent("first.jsonl"), encoding: .utf8).split(separator: "\n").count, 1)
        XCTAssertLessThan(first, whole / 2, "head -1 ends the export long before a whole one (\(first) s, whole \(whole) s)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.path + "/segments"), [], "no segment file is left behind")
    }

    func testTruncatedAndBitFlippedBackupsAreRefusedAndLeaveNoTable() throws {
        try makeMusic()
        try sh("ferry-backup --table Music --out good.gz")
        let size = try FileManager.default.attributesOfItem(atPath: work.path + "/good.gz")[.size] as! Int
        try sh("head -c \(size - 12) good.gz > truncated.gz")
        var bytes = [UInt8](try Data(contentsOf: work.appendingPathComponent("good.gz")))
        bytes[size / 2] ^= 0x10
        try Data(bytes).write(to: work.appendingPathComponent("flipped.gz"))
        // A stream that lost its trailer but is valid gzip, and one whose count is wrong.
        try sh("zcat good.gz | head -n -1 | gzip > notrailer.gz && zcat good.gz | sed 's/\"items\":7/\"items\":8/' | gzip > badcount.gz")
        for (file, reason) in [("truncated.gz", "gzip"), ("flipped.gz", ""), ("notrailer.gz", "no ferry:end trailer after 7 items"),
                               ("badcount.gz", "the trailer says 8 items, the backup holds 7")] {
            let verify = try sh("ferry-backup --verify \(file)", expect: 1)
            XCTAssertTrue(verify.stderr.hasPrefix("ferry-backup: error: "), verify.stderr)
            if !reason.isEmpty { XCTAssertTrue(verify.stderr.contains(reason), "\(file): \(verify.stderr)") }
            let restore = try sh("ferry-restore --in \(file) --table Broken", expect: 1)
            XCTAssertTrue(restore.stderr.contains("error"), restore.stderr)
            let tables = try FileManager.default.contentsOfDirectory(atPath: work.path + "/data/tables")
            XCTAssertEqual(tables.sorted(), ["Music"], "\(file): no table and no partial folder")
        }
    }

    func testBackupDuringALoadIsConsistentAndARestoreKilledLeavesNoTable() throws {
        // 300 groups of one record per key: every commit adds one to each of 1000 counters,
        // so a snapshot between commits has them all equal; a torn batch would not.
        try sh("for r in $(seq 1 300); do seq 1 1000 | sed 's/.*/{\"id\":\"k&\"}/'; done > groups.jsonl")
        try sh("ferry-load --table Counters --create id:S --group 1000 --update 'ADD n :one' --values '{\":one\":1}' groups.jsonl 2>/dev/null & for i in $(seq 1 300); do ferry-table scan --table-name Counters --select COUNT 2>/dev/null | grep -Eq '\"Count\": [1-9]' && break; sleep 0.1; done; ferry-backup --table Counters --out during.gz; wait")
        try sh("ferry-restore --in during.gz --table Snapshot 2>/dev/null")
        let values = Set(try sh("ferry-export --table Snapshot --plain | sed 's/.*\"n\":\\([0-9]*\\).*/\\1/'").stdout.split(separator: "\n"))
        XCTAssertEqual(values.count, 1, "counters in the backup: \(values.sorted())")
        // A restore killed part way (by SIGKILL, after its first commit) leaves no table.
        try sh("seq 1 25000 | sed 's/.*/{\"id\":\"r&\"}/' | ferry-load --table Rows --create id:S 2>/dev/null && ferry-backup --table Rows --out full.gz")
        let killed = try sh("FERRY_TEST_KILL_AFTER_COMMITS=1 ferry-restore --in full.gz --table Killed", expect: nil)
        XCTAssertTrue(killed.status == 9 || killed.status == 128 + 9, "killed by SIGKILL: \(killed.status)")
        let listed = try sh("ferry-table list-tables").stdout
        XCTAssertFalse(listed.contains("Killed"), listed)
        let folders = try FileManager.default.contentsOfDirectory(atPath: work.path + "/data/tables")
        XCTAssertFalse(folders.contains { $0.contains("Killed") }, "stale work folders are removed: \(folders)")
    }

    func testHandWrittenBackupVerifiesAndRestoresWithItsIndex() throws {
        let verify = try sh("ferry-backup --verify fixtures/backup/Music.backup.jsonl")
        XCTAssertEqual(verify.stderr, "ferry-backup: fixtures/backup/Music.backup.jsonl: OK: table Music, 3 items, snapshot 2026-11-23T03:00:00.000Z, 403 bytes of item lines\n")
        try sh("ferry-restore --in fixtures/backup/Music.backup.jsonl --table Restored 2>/dev/null")
        let query = try sh("ferry-table query --table-name Restored --index-name ByGenre --key-condition-expression 'Genre = :g' --expression-attribute-values '{\":g\":{\"S\":\"Country\"}}'").stdout
        XCTAssertTrue(query.contains("\"Count\": 1,"), query)
        XCTAssertTrue(query.contains("\"live\""), query)
        // One changed byte in an item line: the CRC no longer matches.
        try sh("sed 's/Happy Day/Happy Dax/' fixtures/backup/Music.backup.jsonl > edited.jsonl")
        let edited = try sh("ferry-backup --verify edited.jsonl", expect: 1)
        XCTAssertTrue(edited.stderr.contains("CRC-32 of the item lines is"), edited.stderr)
    }

    func testBackupToTheStoreAndVerifyFromIt() throws {
        try makeMusic()
        try sh("ferry-s3 mb s3://backups >/dev/null && ferry-backup --table Music --out 's3://backups/music/%Y/Music.gz'")
        let r = try sh("ferry-backup --verify s3://backups/music/$(date +%Y)/Music.gz")
        XCTAssertTrue(r.stderr.contains("OK: table Music, 7 items"), r.stderr)
        try sh("ferry-restore --in s3://backups/music/$(date +%Y)/Music.gz --table FromStore 2>/dev/null")
    }
}
