#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a directory, held through its `LOCK` file with `flock(LOCK_EX | LOCK_NB)`: a second process
/// that asks for it is refused at once, and the kernel releases it when the process exits, however it exits.
public struct DirectoryLock: Sendable {
    /// The locked directory.
    public let path: String
    private let fd: Int32

    /// Creates the directory if needed and locks it; throws ``JournalError/Code-swift.struct/directoryUnavailable``
    /// when it cannot be created or opened, or another process holds the lock.
    public init(directory path: String) throws(JournalError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw JournalError.systemCall(
                .directoryUnavailable,
                "cannot create the data directory",
                call: "mkdir",
                path: path
            )
        }
        let lockPath = path + "/LOCK"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw JournalError.systemCall(
                .directoryUnavailable,
                "cannot open the lock file",
                call: "open",
                path: lockPath
            )
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = JournalError.systemCall(
                .directoryUnavailable,
                "another process uses this data directory",
                call: "flock",
                path: lockPath
            )
            close(fd)
            throw error
        }
        self.path = path
        self.fd = fd
    }

    /// Releases the lock. Call it once, when nothing writes to the directory any more.
    public func release() {
        close(fd)
    }
}
