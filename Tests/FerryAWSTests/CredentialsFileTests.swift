// The AWS shared credentials file: what is read, and each refusal with file and line.
import FerryAWS
import FerryTestSupport
import Foundation
import XCTest

final class CredentialsFileTests: XCTestCase {
    private func parse(_ text: String) throws -> CredentialsFile {
        try CredentialsFile.parse(text, fileName: "credentials.ini")
    }

    private func assertRefused(_ text: String, _ description: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
            XCTAssertEqual((error as? CredentialsFileError)?.description, description, file: file, line: line)
        }
    }

    func testEveryProfileWithAKeyPairIsRead() throws {
        let file = try parse("""
            # Shared credentials, as `aws configure` writes them.
            ; semicolons comment too
            [default]
            aws_access_key_id = AKIDEXAMPLE
            aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

            [ci]
            AWS_ACCESS_KEY_ID=AKIDCI   # inline comment after white space
            aws_secret_access_key:abc/def+ghi==
            aws_session_token = FwoGZXIvYXdzEXAMPLE
            region = eu-west-1
            s3 =
              max_concurrent_requests = 20

            [empty]
            region = us-east-1
            """)
        XCTAssertEqual(file.profiles.map(\.name), ["default", "ci"])
        XCTAssertEqual(file.profile(named: "default")?.credentials,
                       SigV4Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
        XCTAssertEqual(file.profile(named: "ci")?.credentials,
                       SigV4Credentials(accessKeyId: "AKIDCI", secretAccessKey: "abc/def+ghi==", sessionToken: "FwoGZXIvYXdzEXAMPLE"))
        XCTAssertEqual(file.profile(named: "ci")?.line, 7)
        XCTAssertEqual(file.secrets, ["AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AKIDCI": "abc/def+ghi=="])
        XCTAssertNil(file.profile(named: "empty"))
    }

    func testWindowsLineEndingsAndAByteOrderMarkAreAccepted() throws {
        let file = try parse("\u{FEFF}[default]\r\naws_access_key_id = A\r\naws_secret_access_key = S\r\n")
        XCTAssertEqual(file.secrets, ["A": "S"])
    }

    func testTheSameKeyInTwoProfilesWithOneSecretIsAccepted() throws {
        let file = try parse("[a]\naws_access_key_id=A\naws_secret_access_key=S\n[b]\naws_access_key_id=A\naws_secret_access_key=S\n")
        XCTAssertEqual(file.profiles.count, 2)
        XCTAssertEqual(file.secrets, ["A": "S"])
    }

    func testSecretWithoutKeyIdNamesFileAndLine() {
        assertRefused("[default]\naws_access_key_id = A\naws_secret_access_key = S\n[other]\naws_secret_access_key = T\n",
                      "credentials.ini:5: aws_secret_access_key without aws_access_key_id")
        assertRefused("# one\n\n[x]\naws_secret_access_key = T\n", "credentials.ini:4: aws_secret_access_key without aws_access_key_id")
    }

    func testKeyIdWithoutSecretAndTokenWithoutPairAreRefused() {
        assertRefused("[default]\naws_access_key_id = A\n", "credentials.ini:2: aws_access_key_id without aws_secret_access_key")
        assertRefused("[a]\naws_access_key_id=A\naws_secret_access_key=S\n[b]\naws_session_token = T\n",
                      "credentials.ini:5: aws_session_token without aws_access_key_id")
    }

    func testMalformedLinesAreRefusedWithTheirLine() {
        assertRefused("aws_access_key_id = A\n", "credentials.ini:1: aws_access_key_id outside a [profile] section")
        assertRefused("[default\n", "credentials.ini:1: section header without ']'")
        assertRefused("[ ]\n", "credentials.ini:1: empty profile name")
        assertRefused("[default]\njust some words\n", "credentials.ini:2: expected '[profile]', 'key = value' or a comment")
        assertRefused("[default]\n= value\n", "credentials.ini:2: key missing before '='")
        assertRefused("[default]\naws_access_key_id =\n", "credentials.ini:2: aws_access_key_id is empty")
        assertRefused("[default]\naws_access_key_id = A\n  continued\n", "credentials.ini:3: aws_access_key_id continues on an indented line")
        assertRefused("  indented = first\n", "credentials.ini:1: indented line outside a value")
    }

    func testRepeatsAreRefused() {
        assertRefused("[default]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID = B\n",
                      "credentials.ini:3: aws_access_key_id repeated in [default] (first on line 2)")
        assertRefused("[a]\n[b]\n[a]\n", "credentials.ini:3: profile [a] repeated (first on line 1)")
        assertRefused("[a]\naws_access_key_id=A\naws_secret_access_key=S\n[b]\naws_access_key_id=A\naws_secret_access_key=T\n",
                      "credentials.ini:5: aws_access_key_id A has another secret in [a] (line 1)")
    }

    func testAFileWithoutAnyPairIsRefused() {
        assertRefused("", "credentials.ini: no profile with both aws_access_key_id and aws_secret_access_key")
        assertRefused("# nothing\n[default]\nregion = us-east-1\n",
                      "credentials.ini: no profile with both aws_access_key_id and aws_secret_access_key")
    }

    func testReadNamesTheFileAndFeedsTheVerifier() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("credentials").path
        try Data("[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let file = try CredentialsFile.read(path: path)
        let verifier = SigV4Verifier(secrets: file.secrets, keyCache: SigV4SigningKeyCache())
        let testCase = SigV4SuiteCase(folder: "get-vanilla")
        XCTAssertEqual(try verifier.verify(testCase.signedRequest(), now: SigV4SuiteCase.date).accessKeyId, "AKIDEXAMPLE")

        try Data("[default]\naws_secret_access_key = x\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CredentialsFile.read(path: path)) { error in
            XCTAssertEqual("\(error)", "credentials:2: aws_secret_access_key without aws_access_key_id")
        }
        XCTAssertThrowsError(try CredentialsFile.read(path: folder.appendingPathComponent("missing.ini").path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("missing.ini: cannot read "), "\(error)")
        }
    }
}
