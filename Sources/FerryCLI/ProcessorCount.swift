#if canImport(Glibc)
import Glibc
#endif

public enum ProcessorCount {
    /// Cores online (`nproc`); at least 1.
    public static var available: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
