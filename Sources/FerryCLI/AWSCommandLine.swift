import FerryAWS

/// The options that choose where a tool's data is: the data folder (`--data`) or an
/// endpoint (docs/remote.md, "Where the data is").
extension OptionSpec {
    public static let endpointURL = OptionSpec("--endpoint-url", value: "<url>",
        help: "Talk to this S3 or DynamoDB endpoint (http:// or https://) instead of the data folder; also AWS_ENDPOINT_URL_S3/_DYNAMODB, AWS_ENDPOINT_URL.")
    public static let region = OptionSpec("--region", value: "<region>",
        help: "The region requests are signed for (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1).")
    public static let profile = OptionSpec("--profile", value: "<name>",
        help: "The profile in ~/.aws/credentials and ~/.aws/config (else AWS_PROFILE, default).")
    public static let remote = OptionSpec("--remote",
        help: "Use Amazon's endpoint for the region when no endpoint URL is configured.")
    public static let noSignRequest = OptionSpec("--no-sign-request", help: "Send requests unsigned (public buckets).")

    /// The remote options a tool with both a data folder and an endpoint takes.
    public static let remoteOptions: [OptionSpec] = [.endpointURL, .region, .profile, .remote, .noSignRequest]
}

extension ParsedArguments {
    /// `--endpoint-url`, `--region`, `--profile`, `--remote`, `--no-sign-request`.
    public var awsOptions: AWSOptions {
        AWSOptions(endpointURL: value("--endpoint-url"), region: value("--region"), profile: value("--profile"),
                   remote: flag("--remote"), noSignRequest: flag("--no-sign-request"))
    }

    /// The settings for `service`, or nil when the tool works on the data folder. Giving
    /// `--data` beside an endpoint is a usage error: one of them would be ignored.
    public func remoteSettings(_ service: AWSService, environment: [String: String]? = nil) throws -> AWSSettings? {
        let settings = try AWSSettingsError.usageIfOption {
            try environment.map { try AWSSettings.resolve(service, awsOptions, environment: $0) } ?? AWSSettings.resolve(service, awsOptions)
        }
        guard let source = settings.endpointSource else { return nil }
        if value("--data") != nil {
            throw UsageError.other("--data and the endpoint from \(source) both say where the data is; give one")
        }
        return settings
    }
}

extension AWSSettingsError {
    /// Runs `body`; a bad option value it reports becomes a usage error (status 2).
    public static func usageIfOption<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AWSSettingsError where error.fromOption {
            throw UsageError.other(error.message)
        }
    }
}

extension AWSSettings {
    /// `endpoint http://127.0.0.1:8000 (--endpoint-url), region us-east-1 (default)`.
    public var summary: String {
        "endpoint \(endpointURL ?? "-") (\(endpointSource.map { "\($0)" } ?? "-")), region \(region) (\(regionSource))"
    }
}
