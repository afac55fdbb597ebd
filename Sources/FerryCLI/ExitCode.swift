/// Exit statuses shared by every ferry-* executable (docs/cli.md).
/// DO NOT CHANGE THE VALUES: scripts depend on them.
public enum ExitCode: Int32, Sendable {
    /// Everything done.
    case ok = 0
    /// Failed: nothing more was done after the error; what was committed stays committed.
    case failure = 1
    /// Bad command line: nothing was done.
    case usage = 2
    /// Finished, but some records were rejected (see --rejects).
    case rejected = 3
}

/// The version every executable prints for --version.
public enum FerryVersion {
    public static let string = "0.1.0"
}
