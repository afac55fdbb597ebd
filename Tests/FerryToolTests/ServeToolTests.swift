import FerryTestSupport
import Foundation
import XCTest

/// ferry-serve with real clients: boto3, the aws CLI and raw HTTP, each against a server
/// the test starts on a free loopback port and stops (fixtures/serve/server.sh bounds
/// start and stop at 20 s; every client call has its own timeout).
final class ServeToolTests: ToolTestCase {
    /// The clients (python3 with boto3, aws) come from the caller's environment (PATH
    /// after the built tools; HOME and the like, which pyenv's shims need).
    private var clientPath: [String: String] { callerEnvironment(workspace) }

    @discardableResult
    override func sh(_ script: String, expect status: Int32? = 0, env: [String: String] = [:],
                     file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try super.sh(script, expect: status, env: clientPath.merging(env) { $1 }, file: file, line: line)
    }

    func testBoto3SeedWalkthroughRunsUnchanged() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/music-walkthrough.py")
        XCTAssertEqual(r.stdout, """
        status ACTIVE
        throughput 10 10
        index GenreAndPriceIndex ACTIVE
        by genre ['Call Me Today']
        {"TableNames": ["Music"]}
        {"TableNames": []}

        """)
    }

    func testBoto3ResourceAPIPutsUpdatesAndDeletesAnItem() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/resource-walkthrough.py")
        XCTAssertEqual(r.stdout, "items 0\nupdated Ada 37\nafter delete False\nbefore 2010 [1999, 2003]\nhits [2003, 2011]\n")
    }

    func testAwsCLICreatesPutsQueriesPagesAndDeletes() throws {
        let r = try withServer("bash fixtures/serve/aws-cli.sh")
        XCTAssertEqual(r.stdout, """
        5
        page 1: 2 items, next token: True
        page 2: 2 items
        6
        "DELETING"
        {
            "TableNames": []
        }

        """)
    }

    func testConcurrentUpdatesOnSharedKeysLeaveEveryCounterExact() throws {
        let r = try withServer("timeout 300 python3 fixtures/serve/counters.py")
        XCTAssertEqual(r.stdout, "keys 50 total 4000 exact True\n")
    }

    func testKillNineDuringWritesKeepsEveryAcknowledgedWrite() throws {
        let r = try sh("""
        set -e
        . fixtures/serve/server.sh
        start_server
        timeout 60 python3 fixtures/serve/acknowledged-writes.py create
        timeout 60 python3 fixtures/serve/acknowledged-writes.py & writer=$!
        sleep 3
        kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        wait $writer || true
        start_server
        timeout 60 python3 - <<'EOF'
        import boto3, os
        client = boto3.client("dynamodb", endpoint_url=os.environ["URL"])
        keys, start = set(), {}
        while True:
            page = client.scan(TableName="Acks", **start)
            keys.update(i["k"]["S"] for i in page["Items"])
            if "LastEvaluatedKey" not in page: break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        acked = [line.strip() for line in open("acked.txt") if line.strip()]
        missing = [k for k in acked if k not in keys]
        print("acknowledged", "many" if len(acked) > 100 else len(acked), "missing", len(missing))
        EOF
        stop_server
        ferry-table verify --table-name Acks
        """)
        XCTAssertTrue(r.stdout.hasPrefix("acknowledged many missing 0\n"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("every checksum matches"), r.stdout)
    }

    func testBadRequestsGetDynamoDBsAnswersWhileOtherClientsAreServed() throws {
        let r = try withServer("timeout 120 python3 fixtures/serve/bad-requests.py")
        XCTAssertTrue(r.stdout.hasSuffix("failures 0\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
    }

    func testCLIWritersAreRefusedNamingTheServerWhileReadersWork() throws {
        try sh("ferry-table create-table --table-name Music --attribute-definitions AttributeName=Artist,AttributeType=S --key-schema AttributeName=Artist,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null && ferry-table put-item --table-name Music --item '{\"Artist\": {\"S\": \"A\"}}'")
        let r = try withServer("""
        ferry-table put-item --table-name Music --item '{"Artist": {"S": "B"}}' 2> put.err && echo "put succeeded?"
        sed "s/pid [0-9]*/pid N/; s/$PORT/PORT/g" put.err
        status=0; echo '{"Artist": "C"}' | ferry-load --table Music 2> load.err || status=$?; echo "load exit $status"
        sed "s/pid [0-9]*/pid N/; s/$PORT/PORT/g" load.err
        ferry-table scan --table-name Music | grep -c Artist
        ferry-backup --table Music --out music.gz 2>/dev/null && echo "backup ok"
        ferry-export --table Music --out - 2>/dev/null | wc -l
        """)
        let held = "table 'Music' is held by ferry-serve at http://127.0.0.1:PORT (pid N): send writes to that endpoint (aws dynamodb --endpoint-url http://127.0.0.1:PORT ...), or stop the server first"
        XCTAssertEqual(r.stdout, """
        ferry-table: \(held)
        load exit 1
        ferry-load: error: \(held)
        1
        backup ok
        1

        """)
    }

    func testCredentialsFileRequiresAValidSignature() throws {
        try Data("""
        [default]
        aws_access_key_id = AKIDFERRYGOOD
        aws_secret_access_key = good-secret

        """.utf8).write(to: work.appendingPathComponent("credentials"))
        let r = try withServer("""
        timeout 60 python3 - <<'EOF'
        import boto3, os, http.client, json
        from botocore.config import Config
        def client(key, secret):
            return boto3.client("dynamodb", endpoint_url=os.environ["URL"], aws_access_key_id=key,
                                aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
        print("good:", client("AKIDFERRYGOOD", "good-secret").list_tables()["TableNames"])
        for key, secret in [("AKIDFERRYGOOD", "wrong-secret"), ("AKIDUNKNOWN", "good-secret")]:
            try:
                client(key, secret).list_tables()
            except Exception as e:
                print(e.response["Error"]["Code"] + ":", e.response["Error"]["Message"])
        c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]), timeout=10)
        c.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                                                     "Content-Type": "application/x-amz-json-1.0"})
        r = c.getresponse()
        print(r.status, json.loads(r.read()))
        EOF
        """, options: "--credentials credentials")
        XCTAssertEqual(r.stdout, """
        good: []
        InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.
        UnrecognizedClientException: The security token included in the request is invalid.
        400 {'__type': 'com.amazon.coral.service#MissingAuthenticationTokenException', 'message': 'Request is missing Authentication Token'}

        """)
    }

    func testBadCredentialsFileIsRefusedBeforeListening() throws {
        try Data("[default]\naws_secret_access_key = s\n".utf8).write(to: work.appendingPathComponent("bad.ini"))
        try Data().write(to: work.appendingPathComponent("empty.ini"))
        let bad = try sh("ferry-serve --port 0 --credentials bad.ini", expect: 1)
        XCTAssertEqual(bad.stderr, "ferry-serve: error: bad.ini:2: aws_secret_access_key without aws_access_key_id\n")
        XCTAssertEqual(bad.stdout, "")
        let empty = try sh("ferry-serve --port 0 --credentials empty.ini", expect: 1)
        XCTAssertEqual(empty.stderr, "ferry-serve: error: empty.ini: no profile with both aws_access_key_id and aws_secret_access_key\n")
        let port = try sh("ferry-serve --port 99999", expect: 2)
        XCTAssertTrue(port.stderr.hasPrefix("ferry-serve: error: invalid value '99999' for '--port': expected an integer from 0 to 65535\nUSAGE: ferry-serve "), port.stderr)
    }

    func testSIGTERMWaitsForARequestInFlightAndASecondSignalStopsAtOnce() throws {
        let r = try sh("""
        . fixtures/serve/server.sh
        start_server
        # A request half sent: the server waits for it (up to its 10 s header timeout).
        python3 -c 'import socket, time, os; s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"]))); s.sendall(b"POST / HTTP/1.1\\r\\nHost: x\\r\\n"); time.sleep(30)' & client=$!
        sleep 0.5
        kill -TERM "$SERVER_PID"; sleep 1
        kill -0 "$SERVER_PID" && echo "still serving the request in flight"
        kill -INT "$SERVER_PID"
        status=0; timeout 5 tail --pid="$SERVER_PID" -f /dev/null || status=$?
        echo "stopped: $status"
        wait "$SERVER_PID" || echo "exit $?"
        SERVER_PID=
        kill "$client"
        """)
        XCTAssertEqual(r.stdout, "still serving the request in flight\nstopped: 0\nexit 1\n", r.stderr)
    }

    func testPortInUseIsOneLineError() throws {
        let r = try withServer("status=0; ferry-serve --port $PORT 2> taken.err || status=$?; echo \"exit $status\"; sed \"s/$PORT/PORT/\" taken.err")
        XCTAssertTrue(r.stdout.hasSuffix("exit 1\nferry-serve: error: cannot listen on 127.0.0.1:PORT: Address already in use\n"), r.stdout)
    }
}

/// The README's "Use Ferry from boto3 and the aws CLI" block, run as it is, on a free
/// port instead of 8000 (8000 may be taken on a test machine).
final class ServeReadmeTests: ToolTestCase {
    func testReadmeWalkthroughRunsAsWritten() throws {
        let readme = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        guard let marker = lines.firstIndex(where: { $0.hasPrefix("<!-- serve-walkthrough") }),
              lines.indices.contains(marker + 1), lines[marker + 1] == "```sh",
              let end = lines[(marker + 2)...].firstIndex(of: "```") else {
            return XCTFail("README.md: no serve-walkthrough block")
        }
        let block = lines[(marker + 2)..<end].joined(separator: "\n")
        XCTAssertTrue(block.contains("http://127.0.0.1:8000"))
        let port = try sh(#"python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'"#, env: callerEnvironment(workspace))
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Data(block.replacingOccurrences(of: "8000", with: port).utf8).write(to: work.appendingPathComponent("walkthrough.sh"))
        let r = try sh("set -e; timeout 120 bash -e walkthrough.sh", env: callerEnvironment(workspace))
        XCTAssertEqual(r.stdout, """
        "ACTIVE"
        {'Artist': 'No One You Know', 'SongTitle': 'Call Me Today', 'Year': Decimal('2024'), 'Plays': Decimal('1')}

        """)
    }
}

extension ToolTestCase {
    /// Runs `script` between start_server and stop_server (which must exit 0: SIGTERM
    /// stops the server cleanly), with the caller's clients on PATH.
    @discardableResult
    func withServer(_ script: String, options: String = "", expect status: Int32 = 0, env: [String: String] = [:],
                    file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try sh("""
        set -e
        . fixtures/serve/server.sh
        start_server \(options)
        \(script)
        stop_server
        """, expect: status, env: callerEnvironment(workspace).merging(env) { $1 }, file: file, line: line)
    }
}

/// The caller's environment (HOME, pyenv's variables) with the workspace's, and the
/// built tools first on PATH, for tests that run python3, boto3 and the aws CLI.
func callerEnvironment(_ workspace: ToolWorkspace) -> [String: String] {
    let caller = ProcessInfo.processInfo.environment
    return caller.merging(workspace.environment) { $1 }
        .merging(["PATH": TestSupport.productsFolder.path + ":" + (caller["PATH"] ?? "/usr/bin:/bin")]) { $1 }
}
