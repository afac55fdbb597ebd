// Where a tool's AWS requests go and as whom: endpoint, region and credentials, resolved
// the way the aws CLI resolves them. The order of each chain: docs/remote.md.
import FerryIO
import Foundation

/// The options a tool was given that bear on AWS (each nil when not given).
public struct AWSOptions: Sendable, Equatable {
    public var endpointURL: String?
    public var region: String?
    public var profile: String?
    /// `--remote`: Amazon's own endpoint for the region when no URL is configured.
    public var remote = false
    /// `--no-sign-request`: send requests unsigned (public S3 buckets).
    public var noSignRequest = false

    public init(endpointURL: String? = nil, region: String? = nil, profile: String? = nil,
                remote: Bool = false, noSignRequest: Bool = false) {
        self.endpointURL = endpointURL
        self.region = region
        self.profile = profile
        self.remote = remote
        self.noSignRequest = noSignRequest
    }
}

/// The services Ferry talks to, with the names their settings and signatures use.
public enum AWSService: String, Sendable {
    case dynamodb, s3

    /// SigV4's service name.
    public var signingName: String { rawValue }
    /// `AWS_ENDPOINT_URL_<ID>`.
    public var endpointVariable: String { "AWS_ENDPOINT_URL_" + (self == .s3 ? "S3" : "DYNAMODB") }
    /// Amazon's endpoint in `region`.
    public func amazonEndpoint(region: String) -> String {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return "https://\(rawValue).\(region).\(suffix)"
    }
}

/// Where a setting came from, for the summary line each tool prints.
public enum AWSSettingSource: Sendable, Equatable, CustomStringConvertible {
    case option(String), environment(String), file(String, profile: String), amazonDefault, ferryDefault

    public var description: String {
        switch self {
        case let .option(name): return name
        case let .environment(name): return name
        case let .file(name, profile): return "\(name) [\(profile)]"
        case .amazonDefault: return "--remote (Amazon's endpoint)"
        case .ferryDefault: return "default"
        }
    }
}

/// A failure to settle endpoint, region or credentials: one line, exit 1 (2 for a bad option).
public struct AWSSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// True when a command-line option's value is what is wrong: a usage error (status 2).
    public let fromOption: Bool
    public init(_ message: String, fromOption: Bool = false) {
        self.message = message
        self.fromOption = fromOption
    }
    public var description: String { message }
}

/// Endpoint, region and credentials for one service. A value type.
public struct AWSSettings: Sendable {
    public let service: AWSService
    /// nil: no endpoint was configured, so the tool uses the local data folder.
    public let endpointURL: String?
    public let endpointSource: AWSSettingSource?
    public let region: String
    public let regionSource: AWSSettingSource
    public let profile: String
    /// Credentials are read lazily (`credentials()`), so a local run never needs them.
    private let environment: [String: String]
    private let explicitProfile: Bool
    public let noSignRequest: Bool

    /// Settles where `service` requests go. `environment` is the process's (tests pass their own).
    public static func resolve(_ service: AWSService, _ options: AWSOptions,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(AWSSettingsError) -> AWSSettings {
        let profile = options.profile ?? nonEmpty(environment["AWS_PROFILE"]) ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"]) ?? "default"
        let config = try AWSConfigFiles(environment: environment)
        let profileSettings = try config.configSection(profile)

        let region: String
        let regionSource: AWSSettingSource
        if let r = options.region {
            (region, regionSource) = (r, .option("--region"))
        } else if let r = nonEmpty(environment["AWS_REGION"]) {
            (region, regionSource) = (r, .environment("AWS_REGION"))
        } else if let r = nonEmpty(environment["AWS_DEFAULT_REGION"]) {
            (region, regionSource) = (r, .environment("AWS_DEFAULT_REGION"))
        } else if let r = nonEmpty(profileSettings?.values["region"]) {
            (region, regionSource) = (r, .file(config.configName, profile: profile))
        } else {
            (region, regionSource) = ("us-east-1", .ferryDefault)
        }
        guard !region.isEmpty, region.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            throw AWSSettingsError("region \(region) (from \(regionSource)) is not a region name like us-east-1",
                                   fromOption: regionSource == .option("--region"))
        }

        // The aws CLI's order: the option, the service's variable, the global one, then the profile.
        let ignoreConfigured = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        var endpoint: (String, AWSSettingSource)?
        if let url = options.endpointURL {
            endpoint = (url, .option("--endpoint-url"))
        } else if !ignoreConfigured, let url = nonEmpty(environment[service.endpointVariable]) {
            endpoint = (url, .environment(service.endpointVariable))
        } else if !ignoreConfigured, let url = nonEmpty(environment["AWS_ENDPOINT_URL"]) {
            endpoint = (url, .environment("AWS_ENDPOINT_URL"))
        } else if !ignoreConfigured, let url = nonEmpty(profileSettings?.values["endpoint_url"]) {
            endpoint = (url, .file(config.configName, profile: profile))
        } else if options.remote {
            guard regionSource != .ferryDefault else {
                throw AWSSettingsError("--remote needs a region: give --region, set AWS_REGION or put region in \(config.configName) [\(profile)]")
            }
            endpoint = (service.amazonEndpoint(region: region), .amazonDefault)
        }
        return AWSSettings(service: service, endpointURL: endpoint?.0, endpointSource: endpoint?.1, region: region,
                           regionSource: regionSource, profile: profile, environment: environment,
                           explicitProfile: options.profile != nil, noSignRequest: options.noSignRequest)
    }

    /// The credentials chain: the environment's keys (unless `--profile` named a
    /// profile, as botocore does), then the credentials file, then the config file.
    public func credentials() throws(AWSSettingsError) -> SigV4Credentials? {
        if noSignRequest { return nil }
        if !explicitProfile, let id = Self.nonEmpty(environment["AWS_ACCESS_KEY_ID"]) {
            guard let secret = Self.nonEmpty(environment["AWS_SECRET_ACCESS_KEY"]) else {
                throw AWSSettingsError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
            }
            let token = Self.nonEmpty(environment["AWS_SESSION_TOKEN"]) ?? Self.nonEmpty(environment["AWS_SECURITY_TOKEN"])
            return SigV4Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
        }
        let files = try AWSConfigFiles(environment: environment)
        var found = false
        do {
            if let section = try files.credentialsSection(profile) {
                found = true
                if let c = try CredentialsFile.credentials(in: section, fileName: files.credentialsName) { return c }
            }
            if let section = try files.configSection(profile) {
                found = true
                if let c = try CredentialsFile.credentials(in: section, fileName: files.configName) { return c }
                // Providers Ferry does not implement are named, not skipped in silence.
                for key in ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file", "login_session"]
                where section.values[key] != nil {
                    throw AWSSettingsError("profile \(profile) in \(files.configName) gets its credentials through \(key), which Ferry does not support; give keys (aws_access_key_id, aws_secret_access_key, aws_session_token) in the environment or the credentials file (docs/remote.md)")
                }
            }
        } catch let error as CredentialsFileError {
            throw AWSSettingsError(error.description)
        } catch let error as AWSSettingsError {
            throw error
        } catch {
            throw AWSSettingsError("\(error)")
        }
        if !found && (explicitProfile || profile != "default") {
            throw AWSSettingsError("The config profile (\(profile)) could not be found")
        }
        throw AWSSettingsError("Unable to locate credentials. You can configure credentials by running \"aws configure\".")
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

/// `~/.aws/config` and `~/.aws/credentials` (or AWS_CONFIG_FILE and
/// AWS_SHARED_CREDENTIALS_FILE), each read once; a missing file is an empty one.
struct AWSConfigFiles {
    let configPath: String
    let credentialsPath: String
    private let config: [CredentialsFile.Section]

    var configName: String { configPath }
    var credentialsName: String { credentialsPath }

    init(environment: [String: String]) throws(AWSSettingsError) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        func expand(_ path: String) -> String { path.hasPrefix("~/") ? home + path.dropFirst() : path }
        configPath = expand(AWSSettings.nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "~/.aws/config")
        credentialsPath = expand(AWSSettings.nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "~/.aws/credentials")
        config = try Self.read(configPath)
    }

    static func read(_ path: String) throws(AWSSettingsError) -> [CredentialsFile.Section] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let bytes: [UInt8]
        do {
            // FileSource, not Data(contentsOf:): that refuses /dev/null, which scripts give to mean "none".
            bytes = try FileSource(path: path).readAll(limit: 16 << 20)
        } catch {
            throw AWSSettingsError("\(path): cannot read the file: \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw AWSSettingsError("\(path): not UTF-8 text") }
        do {
            return try CredentialsFile.sections(text, fileName: path)
        } catch {
            throw AWSSettingsError(error.description)
        }
    }

    /// The config file's section for `profile`: `[default]` or `[profile name]` (a bare
    /// `[name]` as the aws CLI also accepts for default only).
    func configSection(_ profile: String) throws(AWSSettingsError) -> CredentialsFile.Section? {
        if profile == "default", let s = config.first(where: { $0.name == "default" || $0.name == "profile default" }) { return s }
        return config.first { section in
            let parts = section.name.split(separator: " ", omittingEmptySubsequences: true)
            return parts.count == 2 && parts[0] == "profile" && parts[1] == profile
        }
    }

    func credentialsSection(_ profile: String) throws(AWSSettingsError) -> CredentialsFile.Section? {
        try Self.read(credentialsPath).first { $0.name == profile }
    }
}
