import FerryAWS
import FerryTestSupport
import Foundation
import XCTest

/// Endpoint, region and credentials chains against the aws CLI's documented order.
final class AWSSettingsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try TestSupport.temporaryFolder() }

    /// An environment with only HOME (the temp folder) and `extra`.
    private func env(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": folder.path].merging(extra) { $1 }
    }

    private func write(_ name: String, _ text: String) throws {
        let aws = folder.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try text.write(to: aws.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    private func resolve(_ service: AWSService = .dynamodb, _ options: AWSOptions = AWSOptions(), _ extra: [String: String] = [:]) throws -> AWSSettings {
        try AWSSettings.resolve(service, options, environment: env(extra))
    }

    private func message(_ body: () throws -> Any?) -> String {
        do { return "no error: \(String(describing: try body()))" } catch { return "\(error)" }
    }

    func testWithNoEndpointConfiguredTheToolStaysLocal() throws {
        let s = try resolve()
        XCTAssertNil(s.endpointURL)
        XCTAssertEqual(s.region, "us-east-1")
        XCTAssertEqual(s.regionSource, .ferryDefault)
    }

    func testTheEndpointOptionBeatsTheServiceVariableWhichBeatsTheGlobalOneWhichBeatsTheProfile() throws {
        try write("config", "[default]\nendpoint_url = http://from-config:1\n")
        let all = ["AWS_ENDPOINT_URL_DYNAMODB": "http://service:2", "AWS_ENDPOINT_URL": "http://global:3"]
        XCTAssertEqual(try resolve(.dynamodb, AWSOptions(endpointURL: "http://option:4"), all).endpointURL, "http://option:4")
        XCTAssertEqual(try resolve(.dynamodb, AWSOptions(), all).endpointURL, "http://service:2")
        XCTAssertEqual(try resolve(.dynamodb, AWSOptions(), all).endpointSource, .environment("AWS_ENDPOINT_URL_DYNAMODB"))
        XCTAssertEqual(try resolve(.s3, AWSOptions(), all).endpointURL, "http://global:3")
        XCTAssertEqual(try resolve(.s3, AWSOptions(), ["AWS_ENDPOINT_URL_S3": "http://s3:5"]).endpointURL, "http://s3:5")
        XCTAssertEqual(try resolve(.s3).endpointURL, "http://from-config:1")
        XCTAssertNil(try resolve(.s3, AWSOptions(), ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]).endpointURL)
        XCTAssertEqual(try resolve(.s3, AWSOptions(endpointURL: "http://o:1"), ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]).endpointURL, "http://o:1")
    }

    func testRemoteMeansAmazonsEndpointAndNeedsARegion() throws {
        XCTAssertEqual(try resolve(.dynamodb, AWSOptions(region: "eu-west-1", remote: true)).endpointURL, "https://dynamodb.eu-west-1.amazonaws.com")
        XCTAssertEqual(try resolve(.s3, AWSOptions(remote: true), ["AWS_REGION": "cn-north-1"]).endpointURL, "https://s3.cn-north-1.amazonaws.com.cn")
        XCTAssertEqual(message { try self.resolve(.s3, AWSOptions(remote: true)) },
                       "--remote needs a region: give --region, set AWS_REGION or put region in \(folder.path)/.aws/config [default]")
    }

    func testRegionComesFromTheOptionThenAwsRegionThenTheDefaultRegionThenTheProfile() throws {
        try write("config", "[default]\nregion = ap-south-1\n[profile other]\nregion = sa-east-1\n")
        XCTAssertEqual(try resolve(.s3, AWSOptions(region: "us-west-2"), ["AWS_REGION": "x-1", "AWS_DEFAULT_REGION": "y-1"]).region, "us-west-2")
        XCTAssertEqual(try resolve(.s3, AWSOptions(), ["AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "y-1"]).region, "eu-north-1")
        XCTAssertEqual(try resolve(.s3, AWSOptions(), ["AWS_DEFAULT_REGION": "eu-central-1"]).region, "eu-central-1")
        XCTAssertEqual(try resolve().region, "ap-south-1")
        XCTAssertEqual(try resolve(.s3, AWSOptions(profile: "other")).region, "sa-east-1")
        XCTAssertEqual(try resolve(.s3, AWSOptions(), ["AWS_PROFILE": "other"]).region, "sa-east-1")
        XCTAssertEqual(message { try self.resolve(.s3, AWSOptions(region: "US East")) },
                       "region US East (from --region) is not a region name like us-east-1")
    }

    func testEnvironmentKeysComeFirstUnlessAProfileIsNamed() throws {
        try write("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n[named]\naws_access_key_id = NAMED\naws_secret_access_key = s\n")
        let keys = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "tok"]
        let fromEnv = try resolve(.dynamodb, AWSOptions(), keys).credentials()
        XCTAssertEqual(fromEnv, SigV4Credentials(accessKeyId: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "tok"))
        // botocore: an explicit --profile skips the environment's keys; AWS_PROFILE does not.
        XCTAssertEqual(try resolve(.dynamodb, AWSOptions(profile: "named"), keys).credentials()?.accessKeyId, "NAMED")
        XCTAssertEqual(try resolve(.dynamodb, AWSOptions(), keys.merging(["AWS_PROFILE": "named"]) { $1 }).credentials()?.accessKeyId, "ENVKEY")
        XCTAssertEqual(try resolve().credentials()?.accessKeyId, "FILEKEY")
        XCTAssertEqual(message { try self.resolve(.s3, AWSOptions(), ["AWS_ACCESS_KEY_ID": "K"]).credentials() },
                       "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
    }

    func testTheConfigFileHoldsKeysUnderProfileSections() throws {
        try write("config", "[profile cfg]\nregion = us-west-1\naws_access_key_id = CFGKEY\naws_secret_access_key = c\n")
        XCTAssertEqual(try resolve(.s3, AWSOptions(profile: "cfg")).credentials()?.accessKeyId, "CFGKEY")
    }

    func testFilesNamedByTheEnvironmentAreUsedAndDevNullIsEmpty() throws {
        let creds = folder.appendingPathComponent("my-creds")
        try "[default]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = e\n".write(to: creds, atomically: true, encoding: .utf8)
        XCTAssertEqual(try resolve(.s3, AWSOptions(), ["AWS_SHARED_CREDENTIALS_FILE": creds.path, "AWS_CONFIG_FILE": "/dev/null"]).credentials()?.accessKeyId, "ELSEWHERE")
    }

    func testMissingCredentialsAndProfilesSayWhatTheAwsCLISays() throws {
        XCTAssertEqual(message { try self.resolve().credentials() },
                       "Unable to locate credentials. You can configure credentials by running \"aws configure\".")
        XCTAssertEqual(message { try self.resolve(.s3, AWSOptions(profile: "nope")).credentials() },
                       "The config profile (nope) could not be found")
        XCTAssertNil(try resolve(.s3, AWSOptions(noSignRequest: true)).credentials())
    }

    func testProvidersFerryDoesNotImplementAreNamed() throws {
        try write("config", "[profile sso]\nsso_session = corp\nregion = us-east-1\n")
        XCTAssertEqual(message { try self.resolve(.s3, AWSOptions(profile: "sso")).credentials() },
                       "profile sso in \(folder.path)/.aws/config gets its credentials through sso_session, which Ferry does not support; give keys (aws_access_key_id, aws_secret_access_key, aws_session_token) in the environment or the credentials file (docs/remote.md)")
    }

    func testABrokenConfigFileIsAnErrorNamingItsLine() throws {
        try write("config", "[default]\nregion = us-east-1\nnot a setting\n")
        XCTAssertEqual(message { try self.resolve() },
                       "\(folder.path)/.aws/config:3: expected '[profile]', 'key = value' or a comment")
    }
}

/// The standard retry mode: what is retried, how long it waits, the quota.
final class AWSRetryStrategyTests: XCTestCase {
    func testThrottlingAndServerFaultsAreRetriedAndClientErrorsAreNot() {
        let r = AWSRetryStrategy()
        XCTAssertNotNil(r.delayBeforeRetry(after: .service(status: 400, code: "ProvisionedThroughputExceededException"), attempt: 1, idempotent: true))
        XCTAssertNotNil(r.delayBeforeRetry(after: .service(status: 400, code: "ThrottlingException"), attempt: 1, idempotent: true))
        XCTAssertNotNil(r.delayBeforeRetry(after: .service(status: 500, code: "InternalServerError"), attempt: 1, idempotent: true))
        XCTAssertNotNil(r.delayBeforeRetry(after: .service(status: 503, code: "SlowDown"), attempt: 1, idempotent: true))
        XCTAssertNotNil(r.delayBeforeRetry(after: .connection(requestSent: true, timeout: false), attempt: 1, idempotent: true))
        XCTAssertNil(r.delayBeforeRetry(after: .service(status: 400, code: "ValidationException"), attempt: 1, idempotent: true))
        XCTAssertNil(r.delayBeforeRetry(after: .service(status: 400, code: "ConditionalCheckFailedException"), attempt: 1, idempotent: true))
        XCTAssertNil(r.delayBeforeRetry(after: .service(status: 403, code: "AccessDenied"), attempt: 1, idempotent: true))
    }

    func testACallThatIsNotIdempotentIsRetriedOnlyWhenTheFailureProvesItWasNotApplied() {
        let r = AWSRetryStrategy()
        XCTAssertNotNil(r.delayBeforeRetry(after: .service(status: 400, code: "ThrottlingException"), attempt: 1, idempotent: false))
        XCTAssertNotNil(r.delayBeforeRetry(after: .connection(requestSent: false, timeout: false), attempt: 1, idempotent: false))
        XCTAssertNil(r.delayBeforeRetry(after: .connection(requestSent: true, timeout: false), attempt: 1, idempotent: false))
        XCTAssertNil(r.delayBeforeRetry(after: .connection(requestSent: true, timeout: true), attempt: 1, idempotent: false))
        XCTAssertNil(r.delayBeforeRetry(after: .service(status: 500, code: "InternalServerError"), attempt: 1, idempotent: false))
    }

    func testWaitsAreFullJitterUnderADoublingCeilingCappedAtTwentySeconds() {
        let r = AWSRetryStrategy(maxAttempts: 10)
        let throttled = AWSAttemptFailure.service(status: 400, code: "ThrottlingException")
        XCTAssertEqual(r.delayBeforeRetry(after: throttled, attempt: 1, idempotent: true, random: { 0.5 }), 0.5)
        XCTAssertEqual(r.delayBeforeRetry(after: throttled, attempt: 3, idempotent: true, random: { 0.5 }), 2)
        XCTAssertEqual(r.delayBeforeRetry(after: throttled, attempt: 9, idempotent: true, random: { 0.999 })!, 19.98, accuracy: 1e-9)
        XCTAssertEqual(r.delayBeforeRetry(after: throttled, attempt: 2, idempotent: true, random: { 0 }), 0)
    }

    func testAttemptsStopAtTheMaximum() {
        let r = AWSRetryStrategy(maxAttempts: 3)
        let throttled = AWSAttemptFailure.service(status: 400, code: "ThrottlingException")
        XCTAssertNotNil(r.delayBeforeRetry(after: throttled, attempt: 2, idempotent: true))
        XCTAssertNil(r.delayBeforeRetry(after: throttled, attempt: 3, idempotent: true))
    }

    func testTheQuotaRunsOutAndSuccessesRefillIt() {
        let r = AWSRetryStrategy(maxAttempts: 1000)
        let timeout = AWSAttemptFailure.connection(requestSent: true, timeout: true)
        var granted = 0
        while r.delayBeforeRetry(after: timeout, attempt: 1, idempotent: true, random: { 0 }) != nil { granted += 1 }
        XCTAssertEqual(granted, AWSRetryStrategy.initialQuota / 10)
        XCTAssertEqual(r.quotaLeft, 0)
        r.recordSuccess(retriedWithCost: 10)
        XCTAssertEqual(r.quotaLeft, 10)
        XCTAssertNotNil(r.delayBeforeRetry(after: timeout, attempt: 1, idempotent: true))
        for _ in 0..<1000 { r.recordSuccess(retriedWithCost: nil) }
        XCTAssertEqual(r.quotaLeft, AWSRetryStrategy.initialQuota)
    }
}
