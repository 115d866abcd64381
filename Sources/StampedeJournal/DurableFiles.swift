#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers that make changes to files reach the disk.
public enum DurableFiles {
    /// Makes the directory's entries (files created, renamed or removed in it) durable.
    public static func syncDirectory(atPath path: String) throws(SystemCallError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemCallError(call: "fsync", path: path, errno: errno) }
    }
}
