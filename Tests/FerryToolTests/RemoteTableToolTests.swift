import FerryTestSupport
import Foundation
import XCTest

/// ferry-table against remote endpoints: ferry-serve (signed requests checked) and
/// moto_server (the stand-in for AWS), each started on a free loopback port and stopped.
final class RemoteTableToolTests: ToolTestCase {
    /// Creates a table, writes, reads back a page at a time, and deletes, against `$EP`.
    private let roundTrip = """
    ferry-table create-table --endpoint-url "$EP" --table-name Music \\
        --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=Song,AttributeType=S \\
        --key-schema AttributeName=Artist,KeyType=HASH AttributeName=Song,KeyType=RANGE --billing-mode PAY_PER_REQUEST > /dev/null
    for i in 1 2 3 4 5; do
        ferry-table put-item --endpoint-url "$EP" --table-name Music --item "{\\"Artist\\":{\\"S\\":\\"A\\"},\\"Song\\":{\\"S\\":\\"s$i\\"},\\"n\\":{\\"N\\":\\"$i\\"}}"
    done
    ferry-table update-item --endpoint-url "$EP" --table-name Music --key '{"Artist":{"S":"A"},"Song":{"S":"s1"}}' \\
        --update-expression 'ADD n :d' --expression-attribute-values '{":d":{"N":"10"}}' --return-values UPDATED_NEW | grep -o '"N": "11"'
    ferry-table query --endpoint-url "$EP" --table-name Music --key-condition-expression 'Artist = :a' \\
        --expression-attribute-values '{":a":{"S":"A"}}' --page-size 2 --projection-expression Song | grep -c '"S"'
    ferry-table delete-table --endpoint-url "$EP" --table-name Music | grep -c TableDescription
    ferry-table list-tables --endpoint-url "$EP"
    """

    private let roundTripOutput = """
    "N": "11"
    5
    1
    {
        "TableNames": []
    }

    """

    func testTheAwsCLICommandsRoundTripAgainstFerryServeWithSignaturesChecked() throws {
        try "[default]\naws_access_key_id = AKIDREMOTE\naws_secret_access_key = remote-secret\n"
            .write(to: work.appendingPathComponent("keys.ini"), atomically: true, encoding: .utf8)
        let r = try remoteScript("""
        start_server --data served --credentials keys.ini
        export AWS_ACCESS_KEY_ID=AKIDREMOTE AWS_SECRET_ACCESS_KEY=remote-secret
        EP=$URL
        \(roundTrip)
        stop_server
        """)
        XCTAssertEqual(r.stdout, roundTripOutput)
        // Nothing went to the local data folder.
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("data").path))
    }

    func testTheAwsCLICommandsRoundTripAgainstMoto() throws {
        let r = try remoteScript("""
        start_moto
        EP=$MOTO_URL
        \(roundTrip)
        stop_moto
        """)
        XCTAssertEqual(r.stdout, roundTripOutput)
    }

    func testTheEnvironmentsEndpointIsUsedAndDataBesideItIsRefused() throws {
        let r = try remoteScript("""
        start_server --data served
        AWS_ENDPOINT_URL_DYNAMODB=$URL ferry-table list-tables
        AWS_ENDPOINT_URL=$URL ferry-table list-tables --data elsewhere 2>&1 && exit 9 || echo "status $?"
        stop_server
        """)
        XCTAssertEqual(r.stdout, """
        {
            "TableNames": []
        }
        ferry-table: error: --data and the endpoint from AWS_ENDPOINT_URL both say where the data is; give one
        USAGE: ferry-table list-tables [--exclusive-start-table-name <value>] [--limit <value>]
        See 'ferry-table list-tables --help' for more information.
        status 2

        """)
    }

    func testWrongKeysAnExpiredTokenAndUnreachableEndpointsAreOneLineNamingTheEndpoint() throws {
        try "[default]\naws_access_key_id = AKIDREMOTE\naws_secret_access_key = remote-secret\n"
            .write(to: work.appendingPathComponent("keys.ini"), atomically: true, encoding: .utf8)
        let r = try remoteScript("""
        start_server --data served --credentials keys.ini
        AWS_ACCESS_KEY_ID=AKIDOTHER ferry-table list-tables --endpoint-url $URL 2>&1 && exit 9 || echo "status $?"
        AWS_ACCESS_KEY_ID=AKIDREMOTE AWS_SECRET_ACCESS_KEY=wrong ferry-table list-tables --endpoint-url $URL 2>&1 | sed 's/Signature expected.*/.../' || true
        AWS_MAX_ATTEMPTS=1 ferry-table list-tables --endpoint-url http://127.0.0.1:1 2>&1 && exit 9 || echo "status $?"
        ferry-table list-tables --endpoint-url http://no-such-host.invalid 2>&1 && exit 9 || echo "status $?"
        ferry-table list-tables --endpoint-url localhost:8000 2>&1 | head -n 1; AWS_ENDPOINT_URL=localhost:8000 ferry-table list-tables 2>&1 && exit 9 || echo "status $?"
        stop_server
        """)
        let port = r.stdout.components(separatedBy: "http://127.0.0.1:").dropFirst().first?.prefix { $0.isNumber } ?? ""
        XCTAssertEqual(r.stdout.replacingOccurrences(of: "127.0.0.1:\(port):", with: "127.0.0.1:PORT:"), """
        ferry-table: error: An error occurred (UnrecognizedClientException) when calling the ListTables operation on http://127.0.0.1:PORT: The security token included in the request is invalid.
        status 1
        ferry-table: error: An error occurred (InvalidSignatureException) when calling the ListTables operation on http://127.0.0.1:PORT: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.
        ferry-table: error: Could not call ListTables on http://127.0.0.1:1: cannot connect: 127.0.0.1 port 1: Connection refused
        status 1
        ferry-table: error: Could not call ListTables on http://no-such-host.invalid: cannot resolve host no-such-host.invalid: Name or service not known
        status 1
        ferry-table: error: invalid endpoint localhost:8000: expected http://host[:port] or https://host[:port] (from --endpoint-url)
        ferry-table: error: invalid endpoint localhost:8000: expected http://host[:port] or https://host[:port] (from AWS_ENDPOINT_URL)
        status 1

        """)
    }

    func testHTTPSGoesThroughURLSessionAndAnUntrustedCertificateIsRefused() throws {
        let r = try remoteScript("""
        openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost \
            -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2> /dev/null
        start_server --data served
        python3 fixtures/remote/tls-proxy.py cert.pem key.pem "$PORT" > proxy.out & proxy=$!
        for i in $(seq 1 100); do [ -s proxy.out ] && break; sleep 0.1; done
        TLS_PORT=$(awk '{print $3}' proxy.out)
        ferry-table list-tables --endpoint-url "https://localhost:$TLS_PORT" 2>&1 | sed "s/:$TLS_PORT/:TLS/" || true
        kill $proxy
        stop_server
        """)
        // FoundationNetworking verifies the peer against the system's CA store (it offers no
        // way to add one), so a self-signed certificate is refused, once, not retried.
        XCTAssertEqual(r.stdout, "ferry-table: error: Could not call ListTables on https://localhost:TLS: SSL certificate problem: self-signed certificate (URLSession error -1)\n")
    }
}
